/*
 * nat: source NAT with a port pool. Outbound TCP/UDP flows get publicIp and a pool port
 * (endpoint-independent mapping); inbound packets to publicIp are translated back through the
 * mapping. Checksums are updated incrementally (RFC 1624), never recomputed.
 *
 * Counters: 0 translated outbound, 1 translated inbound, 2 mappings created, 3 pool exhausted.
 */
#include <errno.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

#define NAT_FWD 0u /* inside endpoint -> public port */
#define NAT_REV 1u /* public port -> inside endpoint */
#define NAT_MAX_FLOWS 65536u

enum { NAT_NO_PORT = NFP_N_COMMON_DROP_REASONS, NAT_NO_MAPPING, NAT_UNSUPPORTED };

struct nat_fwd_key {
	uint32_t addr; /* network order */
	uint16_t port; /* network order */
	uint8_t proto;
	uint8_t pad;
};
struct nat_fwd_val {
	uint16_t public_port; /* host order */
};
struct nat_rev_key {
	uint16_t port; /* host order */
	uint8_t proto;
	uint8_t pad;
};
struct nat_rev_val {
	uint32_t addr; /* host order */
	uint16_t port; /* host order */
};

struct nat_state {
	uint32_t public_ip; /* host order */
	uint16_t lo, hi;
	uint32_t max_flows, flows;
};

static int nat_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct nat_state *s = state;
	struct nfp_cfg c;
	int rc = nfp_cfg_parse(&c, ctx, "nat", config, len);
	if (rc < 0)
		return rc;
	uint32_t lo, hi;
	int pr = nfp_json_get(&c.json, 0, "portRange");
	if ((rc = nfp_cfg_ipv4(&c, 0, "publicIp", &s->public_ip)) < 0 || (rc = nfp_cfg_uint(&c, pr, "lo", 1, 65535, &lo)) < 0 ||
	    (rc = nfp_cfg_uint(&c, pr, "hi", 1, 65535, &hi)) < 0 ||
	    (rc = nfp_cfg_uint(&c, 0, "maxFlows", 1, NAT_MAX_FLOWS, &s->max_flows)) < 0)
		goto out;
	if (lo > hi) {
		rc = nfp_cfg_error(&c, "portRange", "lo is greater than hi");
		goto out;
	}
	s->lo = (uint16_t)lo;
	s->hi = (uint16_t)hi;
out:
	nfp_cfg_free(&c);
	return rc;
}

/* Finds or creates the mapping of an outbound endpoint; returns the public port or -1. */
static int nat_map(nfp_ctx *ctx, struct nat_state *s, const struct nfp_ipv4_view *v, uint32_t flow_hash)
{
	struct nat_fwd_key fk = {v->src, v->sport, v->proto, 0};
	int32_t slot = nfp_table_lookup(ctx, NAT_FWD, &fk);
	if (slot >= 0)
		return ((struct nat_fwd_val *)nfp_table_value(ctx, NAT_FWD, slot))->public_port;
	if (s->flows >= s->max_flows)
		return -1;
	uint32_t pool = (uint32_t)s->hi - s->lo + 1;
	/*
	 * The first port tried comes from the flow hash, so a mapping does not depend on the order in
	 * which flows arrive; probing is bounded by the pool and happens once per new flow.
	 */
	for (uint32_t tries = 0; tries < pool; tries++) {
		uint16_t port = (uint16_t)(s->lo + (flow_hash + tries) % pool);
		struct nat_rev_key rk = {port, v->proto, 0};
		if (nfp_table_lookup(ctx, NAT_REV, &rk) >= 0)
			continue;
		int32_t rs = nfp_table_add(ctx, NAT_REV, &rk);
		if (rs < 0)
			return -1;
		int32_t fs = nfp_table_add(ctx, NAT_FWD, &fk);
		if (fs < 0) {
			nfp_table_del(ctx, NAT_REV, &rk);
			return -1;
		}
		struct nat_rev_val *rv = nfp_table_value(ctx, NAT_REV, rs);
		rv->addr = nfp_rd32((const uint8_t *)&v->src);
		rv->port = nfp_rd16((const uint8_t *)&v->sport);
		((struct nat_fwd_val *)nfp_table_value(ctx, NAT_FWD, fs))->public_port = port;
		s->flows++;
		nfp_counter_add(ctx, 2, 1);
		return port;
	}
	return -1;
}

static void nat_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct nat_state *s = state;
	struct nfp_ipv4_view v[NFP_NF_MAX_BATCH];
	struct nat_fwd_key fk[NFP_NF_MAX_BATCH];
	struct nat_rev_key rk[NFP_NF_MAX_BATCH];
	const void *fkp[NFP_NF_MAX_BATCH], *rkp[NFP_NF_MAX_BATCH];
	uint32_t fidx[NFP_NF_MAX_BATCH], ridx[NFP_NF_MAX_BATCH];
	int32_t fslot[NFP_NF_MAX_BATCH], rslot[NFP_NF_MAX_BATCH];
	uint32_t nf = 0, nr = 0;
	/* Pass 1: check, classify the direction, build keys. */
	for (uint32_t i = 0; i < b->count; i++) {
		int f = nfp_ipv4_view(&b->pkts[i], &v[i]);
		if (f != NFP_PKT_OK) {
			nfp_drop(b, i, (uint32_t)f);
			continue;
		}
		if (v[i].proto != NFP_IPPROTO_TCP && v[i].proto != NFP_IPPROTO_UDP) {
			nfp_drop(b, i, NAT_UNSUPPORTED);
			continue;
		}
		if (nfp_rd32((const uint8_t *)&v[i].dst) == s->public_ip) {
			rk[nr] = (struct nat_rev_key){nfp_rd16((const uint8_t *)&v[i].dport), v[i].proto, 0};
			rkp[nr] = &rk[nr];
			ridx[nr++] = i;
		} else {
			fk[nf] = (struct nat_fwd_key){v[i].src, v[i].sport, v[i].proto, 0};
			fkp[nf] = &fk[nf];
			fidx[nf++] = i;
		}
	}
	/* Pass 2: one bulk lookup per direction; misses take the single-key path. */
	if (nf > 0)
		nfp_table_lookup_bulk(ctx, NAT_FWD, fkp, nf, fslot);
	if (nr > 0)
		nfp_table_lookup_bulk(ctx, NAT_REV, rkp, nr, rslot);
	uint64_t out = 0, in = 0;
	for (uint32_t j = 0; j < nf; j++) {
		uint32_t i = fidx[j];
		int port = fslot[j] >= 0 ? ((struct nat_fwd_val *)nfp_table_value(ctx, NAT_FWD, fslot[j]))->public_port
					 : nat_map(ctx, s, &v[i], b->pkts[i].flow_hash);
		if (port < 0) {
			nfp_drop(b, i, NAT_NO_PORT);
			nfp_counter_add(ctx, 3, 1);
			continue;
		}
		nfp_rewrite_endpoint(&v[i], 0, s->public_ip, (uint16_t)port);
		b->verdicts[i] = NFP_VERDICT_PASS;
		out++;
	}
	nfp_counter_add(ctx, 0, out);
	for (uint32_t j = 0; j < nr; j++) {
		uint32_t i = ridx[j];
		int32_t slot = rslot[j] >= 0 ? rslot[j] : nfp_table_lookup(ctx, NAT_REV, &rk[j]);
		if (slot < 0) {
			nfp_drop(b, i, NAT_NO_MAPPING);
			continue;
		}
		const struct nat_rev_val *rv = nfp_table_value(ctx, NAT_REV, slot);
		nfp_rewrite_endpoint(&v[i], 1, rv->addr, rv->port);
		b->verdicts[i] = NFP_VERDICT_PASS;
		in++;
	}
	nfp_counter_add(ctx, 1, in);
}

NFP_BUILTIN_DESCRIPTOR(nat) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "nat",
		.version = "1.0.0",
		.reads = NFP_REGION_L2 | NFP_REGION_L3 | NFP_REGION_L4,
		.writes = NFP_REGION_L3 | NFP_REGION_L4,
		.state_bytes = sizeof(struct nat_state),
		.n_tables = 2,
		.tables = {
			{.name = "fwd", .key_bytes = sizeof(struct nat_fwd_key), .value_bytes = sizeof(struct nat_fwd_val),
			 .max_entries = NAT_MAX_FLOWS},
			{.name = "rev", .key_bytes = sizeof(struct nat_rev_key), .value_bytes = sizeof(struct nat_rev_val),
			 .max_entries = NAT_MAX_FLOWS},
		},
		.n_drop_reasons = 8,
		.drop_reasons = {NFP_COMMON_DROP_REASONS, "no-port", "no-mapping", "unsupported"},
	},
	.init = nat_init,
	.process = nat_process,
	.fini = NULL,
};
