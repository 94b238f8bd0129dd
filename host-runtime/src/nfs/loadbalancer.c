/*
 * loadbalancer: Maglev consistent hashing (Eisenbud et al., NSDI 2016) over the backends, with
 * per-flow affinity: a flow to the VIP keeps its backend once chosen, even if the table changes.
 * Packets to the VIP get the backend as destination; replies from a backend of a tracked flow
 * get the VIP back as source. Checksums are updated incrementally.
 *
 * Counters: 0 new flows, 1 to-backend packets, 2 from-backend packets.
 */
#include <errno.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

#define LB_MAX_BACKENDS 64u
#define LB_MAX_TABLE 65537u
#define LB_FLOWS 0u

enum { LB_TABLE_FULL = NFP_N_COMMON_DROP_REASONS };

struct lb_flow_val {
	uint32_t backend; /* index */
};

struct lb_state {
	uint32_t vip; /* host order */
	uint32_t n_backends;
	uint32_t backends[LB_MAX_BACKENDS]; /* host order */
	uint32_t size;                      /* Maglev table size M, prime */
	uint8_t table[LB_MAX_TABLE];        /* entry -> backend index */
	uint32_t next[LB_MAX_BACKENDS];     /* init-time scratch */
};

static uint32_t lb_fnv(const char *s, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

static int lb_is_prime(uint32_t n)
{
	if (n < 2)
		return 0;
	for (uint32_t d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

/* Maglev population: backends take turns claiming their next preferred empty entry. */
static void lb_populate(struct lb_state *s, const uint32_t *offset, const uint32_t *skip)
{
	uint32_t m = s->size, filled = 0;
	memset(s->table, 0xff, m);
	memset(s->next, 0, sizeof(s->next));
	for (;;) {
		for (uint32_t i = 0; i < s->n_backends; i++) {
			uint32_t c = (uint32_t)(((uint64_t)offset[i] + (uint64_t)s->next[i] * skip[i]) % m);
			while (s->table[c] != 0xff) {
				s->next[i]++;
				c = (uint32_t)(((uint64_t)offset[i] + (uint64_t)s->next[i] * skip[i]) % m);
			}
			s->table[c] = (uint8_t)i;
			s->next[i]++;
			if (++filled == m)
				return;
		}
	}
}

static int lb_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct lb_state *s = state;
	struct nfp_cfg c;
	int rc = nfp_cfg_parse(&c, ctx, "loadbalancer", config, len);
	if (rc < 0)
		return rc;
	uint32_t offset[LB_MAX_BACKENDS], skip[LB_MAX_BACKENDS], max_flows;
	if ((rc = nfp_cfg_ipv4(&c, 0, "vip", &s->vip)) < 0 ||
	    (rc = nfp_cfg_uint(&c, 0, "tableSize", 2, LB_MAX_TABLE, &s->size)) < 0 ||
	    (rc = nfp_cfg_uint(&c, 0, "maxFlows", 1, 1u << 20, &max_flows)) < 0)
		goto out;
	if (!lb_is_prime(s->size)) {
		rc = nfp_cfg_error(&c, "tableSize", "must be a prime (Maglev), e.g. 65537 or 251");
		goto out;
	}
	int arr = nfp_json_get(&c.json, 0, "backends");
	if (arr < 0 || c.json.toks[arr].type != NFP_JSON_ARRAY || c.json.toks[arr].size == 0 ||
	    c.json.toks[arr].size > LB_MAX_BACKENDS) {
		rc = nfp_cfg_error(&c, "backends", "expected 1..64 IPv4 address strings");
		goto out;
	}
	s->n_backends = c.json.toks[arr].size;
	if (s->n_backends > s->size) {
		rc = nfp_cfg_error(&c, "tableSize", "must be at least the number of backends");
		goto out;
	}
	for (uint32_t i = 0; i < s->n_backends; i++) {
		char buf[64];
		if (nfp_json_string(&c.json, nfp_json_at(&c.json, arr, i), buf, sizeof(buf)) < 0 ||
		    nfp_parse_ipv4(buf, &s->backends[i]) < 0) {
			rc = nfp_cfg_error(&c, "backends[]", "not an IPv4 address (a.b.c.d)");
			goto out;
		}
		offset[i] = lb_fnv(buf, 0x9e3779b9u) % s->size;
		skip[i] = lb_fnv(buf, 0x85ebca6bu) % (s->size - 1) + 1;
	}
	lb_populate(s, offset, skip);
out:
	nfp_cfg_free(&c);
	return rc;
}

static void lb_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct lb_state *s = state;
	struct nfp_ipv4_view v[NFP_NF_MAX_BATCH];
	struct nfp_flow_key k[NFP_NF_MAX_BATCH];
	const void *kp[NFP_NF_MAX_BATCH];
	uint32_t idx[NFP_NF_MAX_BATCH];
	uint8_t to_vip[NFP_NF_MAX_BATCH];
	int32_t slots[NFP_NF_MAX_BATCH];
	uint32_t n = 0, vip_n;
	nfp_wr32((uint8_t *)&vip_n, s->vip);
	/* Pass 1: check; key a VIP-bound packet by its flow, a reply by the flow it answers. */
	for (uint32_t i = 0; i < b->count; i++) {
		int f = nfp_ipv4_view(&b->pkts[i], &v[i]);
		if (f != NFP_PKT_OK) {
			nfp_drop(b, i, (uint32_t)f);
			continue;
		}
		b->verdicts[i] = NFP_VERDICT_PASS;
		to_vip[n] = v[i].dst == vip_n;
		if (to_vip[n]) {
			nfp_flow_key_of(&v[i], &k[n]);
		} else {
			memset(&k[n], 0, sizeof(k[n]));
			k[n].src = v[i].dst;
			k[n].dst = vip_n;
			k[n].sport = v[i].dport;
			k[n].dport = v[i].sport;
			k[n].proto = v[i].proto;
		}
		kp[n] = &k[n];
		idx[n++] = i;
	}
	if (n == 0)
		return;
	nfp_table_lookup_bulk(ctx, LB_FLOWS, kp, n, slots);
	uint64_t fresh = 0, fwd = 0, rev = 0;
	for (uint32_t j = 0; j < n; j++) {
		uint32_t i = idx[j];
		int32_t slot = slots[j];
		if (to_vip[j]) {
			if (slot < 0) {
				/* New flow (or a second packet of one added in this batch): pick by Maglev. */
				slot = nfp_table_lookup(ctx, LB_FLOWS, &k[j]);
				if (slot < 0) {
					slot = nfp_table_add(ctx, LB_FLOWS, &k[j]);
					if (slot < 0) {
						nfp_drop(b, i, LB_TABLE_FULL);
						continue;
					}
					((struct lb_flow_val *)nfp_table_value(ctx, LB_FLOWS, slot))->backend =
						s->table[b->pkts[i].flow_hash % s->size];
					fresh++;
				}
			}
			const struct lb_flow_val *fv = nfp_table_value(ctx, LB_FLOWS, slot);
			nfp_rewrite_endpoint(&v[i], 1, s->backends[fv->backend], nfp_rd16((const uint8_t *)&v[i].dport));
			fwd++;
			continue;
		}
		if (slot < 0)
			continue; /* not a reply of a tracked flow: passes unchanged */
		const struct lb_flow_val *fv = nfp_table_value(ctx, LB_FLOWS, slot);
		if (s->backends[fv->backend] != nfp_rd32((const uint8_t *)&v[i].src))
			continue;
		nfp_rewrite_endpoint(&v[i], 0, s->vip, nfp_rd16((const uint8_t *)&v[i].sport));
		rev++;
	}
	nfp_counter_add(ctx, 0, fresh);
	nfp_counter_add(ctx, 1, fwd);
	nfp_counter_add(ctx, 2, rev);
}

NFP_BUILTIN_DESCRIPTOR(loadbalancer) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "loadbalancer",
		.version = "1.0.0",
		.reads = NFP_REGION_L2 | NFP_REGION_L3 | NFP_REGION_L4,
		.writes = NFP_REGION_L3 | NFP_REGION_L4,
		.state_bytes = sizeof(struct lb_state),
		.n_tables = 1,
		.tables = {{.name = "flows", .key_bytes = sizeof(struct nfp_flow_key),
			    .value_bytes = sizeof(struct lb_flow_val), .max_entries = 65536}},
		.n_drop_reasons = 6,
		.drop_reasons = {NFP_COMMON_DROP_REASONS, "table-full"},
	},
	.init = lb_init,
	.process = lb_process,
	.fini = NULL,
};
