/*
 * firewall: first-match ACL over the IPv4 5-tuple through rte_acl, with stateful connection
 * tracking: once a connection is allowed, packets of both directions pass without the ACL.
 * Rules that match DSCP or VLAN (which rte_acl's 5-tuple layout does not carry) switch the NF to
 * an equivalent linear first-match scan.
 *
 * Counters: 0 allowed by rule/default, 1 passed as established, 2 denied, 3 malformed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_acl.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

#define FW_MAX_RULES 1024u
#define FW_CONNTRACK 0u

enum { FW_DENIED = NFP_N_COMMON_DROP_REASONS, FW_TABLE_FULL };

struct fw_rule {
	struct nfp_match m;
	uint8_t allow;
};

/* The bytes rte_acl classifies, network order; the first field is one byte, as rte_acl requires. */
struct fw_acl_key {
	uint8_t proto;
	uint8_t pad[3];
	uint32_t src, dst;
	uint16_t sport, dport;
};

enum { F_PROTO, F_SRC, F_DST, F_SPORT, F_DPORT, F_NUM };

RTE_ACL_RULE_DEF(fw_acl_rule, F_NUM);

static const struct rte_acl_field_def fw_fields[F_NUM] = {
	{.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1, .field_index = F_PROTO, .input_index = 0,
	 .offset = offsetof(struct fw_acl_key, proto)},
	{.type = RTE_ACL_FIELD_TYPE_MASK, .size = 4, .field_index = F_SRC, .input_index = 1,
	 .offset = offsetof(struct fw_acl_key, src)},
	{.type = RTE_ACL_FIELD_TYPE_MASK, .size = 4, .field_index = F_DST, .input_index = 2,
	 .offset = offsetof(struct fw_acl_key, dst)},
	{.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = F_SPORT, .input_index = 3,
	 .offset = offsetof(struct fw_acl_key, sport)},
	{.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = F_DPORT, .input_index = 3,
	 .offset = offsetof(struct fw_acl_key, dport)},
};

struct fw_state {
	struct rte_acl_ctx *acl; /* NULL: no rules, or linear scan */
	uint32_t n_rules;
	uint8_t deflt_allow, stateful, linear;
	struct fw_rule rules[FW_MAX_RULES];
};

static int fw_rule_matches(const struct nfp_match *m, const struct nfp_pkt *p, const struct nfp_ipv4_view *v)
{
	if (m->never)
		return 0;
	if (m->proto >= 0 && m->proto != v->proto)
		return 0;
	uint32_t src = nfp_rd32(v->ip + 12), dst = nfp_rd32(v->ip + 16);
	if (m->src_len && (src >> (32 - m->src_len)) != (m->src >> (32 - m->src_len)))
		return 0;
	if (m->dst_len && (dst >> (32 - m->dst_len)) != (m->dst >> (32 - m->dst_len)))
		return 0;
	uint16_t sp = nfp_rd16((const uint8_t *)&v->sport), dp = nfp_rd16((const uint8_t *)&v->dport);
	if (sp < m->sport_lo || sp > m->sport_hi || dp < m->dport_lo || dp > m->dport_hi)
		return 0;
	if (m->dscp >= 0 && (v->ip[1] >> 2) != m->dscp)
		return 0;
	if (m->vlan >= 0 && (nfp_rd16(p->data + 12) != 0x8100 || (nfp_rd16(p->data + 14) & 0x0fff) != m->vlan))
		return 0;
	return 1;
}

static int fw_build_acl(nfp_ctx *ctx, struct fw_state *s)
{
	char name[RTE_ACL_NAMESIZE];
	snprintf(name, sizeof(name), "nfp_fw_%p", (void *)s);
	struct rte_acl_param prm = {
		.name = name,
		.socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(F_NUM),
		.max_rule_num = s->n_rules,
	};
	s->acl = rte_acl_create(&prm);
	if (s->acl == NULL) {
		nfp_log(ctx, NFP_LOG_ERR, "firewall: cannot create the ACL context");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < s->n_rules; i++) {
		const struct nfp_match *m = &s->rules[i].m;
		if (m->never)
			continue;
		struct fw_acl_rule r;
		memset(&r, 0, sizeof(r));
		r.data.category_mask = 1;
		r.data.priority = (int32_t)(FW_MAX_RULES - i); /* first match wins */
		r.data.userdata = i + 1;                       /* 0 means "no match" to rte_acl */
		r.field[F_PROTO].value.u8 = m->proto >= 0 ? (uint8_t)m->proto : 0;
		r.field[F_PROTO].mask_range.u8 = m->proto >= 0 ? 0xff : 0;
		r.field[F_SRC].value.u32 = m->src;
		r.field[F_SRC].mask_range.u32 = m->src_len;
		r.field[F_DST].value.u32 = m->dst;
		r.field[F_DST].mask_range.u32 = m->dst_len;
		r.field[F_SPORT].value.u16 = m->sport_lo;
		r.field[F_SPORT].mask_range.u16 = m->sport_hi;
		r.field[F_DPORT].value.u16 = m->dport_lo;
		r.field[F_DPORT].mask_range.u16 = m->dport_hi;
		if (rte_acl_add_rules(s->acl, (const struct rte_acl_rule *)&r, 1) < 0) {
			nfp_log(ctx, NFP_LOG_ERR, "firewall: cannot add an ACL rule");
			return -EINVAL;
		}
	}
	struct rte_acl_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.num_categories = 1;
	cfg.num_fields = F_NUM;
	memcpy(cfg.defs, fw_fields, sizeof(fw_fields));
	if (rte_acl_build(s->acl, &cfg) != 0) {
		nfp_log(ctx, NFP_LOG_ERR, "firewall: cannot build the ACL");
		return -EINVAL;
	}
	return 0;
}

static int fw_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct fw_state *s = state;
	struct nfp_cfg c;
	int rc = nfp_cfg_parse(&c, ctx, "firewall", config, len);
	if (rc < 0)
		return rc;
	char buf[16];
	int t = nfp_json_get(&c.json, 0, "default");
	if (nfp_json_string(&c.json, t, buf, sizeof(buf)) < 0 || (strcmp(buf, "allow") && strcmp(buf, "deny"))) {
		rc = nfp_cfg_error(&c, "default", "expected \"allow\" or \"deny\"");
		goto out;
	}
	s->deflt_allow = strcmp(buf, "allow") == 0;
	int stateful;
	if ((rc = nfp_cfg_bool(&c, 0, "stateful", 0, &stateful)) < 0)
		goto out;
	s->stateful = (uint8_t)stateful;
	int rules = nfp_json_get(&c.json, 0, "rules");
	if (rules < 0 || c.json.toks[rules].type != NFP_JSON_ARRAY) {
		rc = nfp_cfg_error(&c, "rules", "expected an array");
		goto out;
	}
	if (c.json.toks[rules].size > FW_MAX_RULES) {
		rc = nfp_cfg_error(&c, "rules", "more than 1024 rules");
		goto out;
	}
	for (uint32_t i = 0; i < c.json.toks[rules].size; i++) {
		int r = nfp_json_at(&c.json, rules, i);
		struct fw_rule *fr = &s->rules[i];
		if (nfp_json_string(&c.json, nfp_json_get(&c.json, r, "action"), buf, sizeof(buf)) < 0 ||
		    (strcmp(buf, "allow") && strcmp(buf, "deny"))) {
			rc = nfp_cfg_error(&c, "rules[].action", "expected \"allow\" or \"deny\"");
			goto out;
		}
		fr->allow = strcmp(buf, "allow") == 0;
		if ((rc = nfp_cfg_match(&c, r, "match", &fr->m)) < 0)
			goto out;
		if (fr->m.dscp >= 0 || fr->m.vlan >= 0)
			s->linear = 1;
		s->n_rules = i + 1;
	}
	if (s->n_rules > 0 && !s->linear)
		rc = fw_build_acl(ctx, s);
out:
	nfp_cfg_free(&c);
	return rc;
}

static void fw_fini(nfp_ctx *ctx, void *state)
{
	struct fw_state *s = state;
	if (s->acl != NULL)
		rte_acl_free(s->acl);
	s->acl = NULL;
}

/* Applies the rule decision for packet i; tracks the connection when it is allowed. */
static inline void fw_decide(nfp_ctx *ctx, struct fw_state *s, struct nfp_batch *b, uint32_t i, int allow,
			     const struct nfp_flow_key *k, uint64_t *counts)
{
	if (!allow) {
		nfp_drop(b, i, FW_DENIED);
		counts[2]++;
		return;
	}
	if (s->stateful && nfp_table_add(ctx, FW_CONNTRACK, k) < 0) {
		nfp_drop(b, i, FW_TABLE_FULL);
		return;
	}
	b->verdicts[i] = NFP_VERDICT_PASS;
	counts[0]++;
}

static void fw_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct fw_state *s = state;
	struct fw_acl_key keys[NFP_NF_MAX_BATCH];
	struct nfp_flow_key fk[NFP_NF_MAX_BATCH];
	const void *fkp[NFP_NF_MAX_BATCH];
	const uint8_t *data[NFP_NF_MAX_BATCH];
	uint32_t idx[NFP_NF_MAX_BATCH], results[NFP_NF_MAX_BATCH];
	int32_t slots[NFP_NF_MAX_BATCH];
	uint64_t counts[4] = {0, 0, 0, 0}; /* the NF's counters 0..3, added once per batch */
	uint32_t m = 0;
	/* Pass 1: check every packet and build its keys. */
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_ipv4_view v;
		int f = nfp_ipv4_view(&b->pkts[i], &v);
		if (f != NFP_PKT_OK) {
			nfp_drop(b, i, (uint32_t)f);
			counts[3]++;
			continue;
		}
		struct fw_acl_key *k = &keys[m];
		memset(k, 0, sizeof(*k));
		k->proto = v.proto;
		k->src = v.src;
		k->dst = v.dst;
		k->sport = v.sport;
		k->dport = v.dport;
		nfp_flow_key_symmetric(&v, &fk[m]);
		fkp[m] = &fk[m];
		idx[m++] = i;
	}
	if (m == 0)
		goto out;
	/* Pass 2: established connections pass; the rest go to the ACL (one bulk lookup). */
	if (s->stateful)
		nfp_table_lookup_bulk(ctx, FW_CONNTRACK, fkp, m, slots);
	uint32_t n = 0;
	for (uint32_t j = 0; j < m; j++) {
		uint32_t i = idx[j];
		if (s->stateful && slots[j] >= 0) {
			b->verdicts[i] = NFP_VERDICT_PASS;
			counts[1]++;
			continue;
		}
		if (s->acl == NULL) {
			struct nfp_ipv4_view v;
			memset(&v, 0, sizeof(v));
			nfp_ipv4_view(&b->pkts[i], &v); /* checked in pass 1 */
			int allow = s->deflt_allow;
			for (uint32_t r = 0; r < s->n_rules; r++)
				if (fw_rule_matches(&s->rules[r].m, &b->pkts[i], &v)) {
					allow = s->rules[r].allow;
					break;
				}
			fw_decide(ctx, s, b, i, allow, &fk[j], counts);
			continue;
		}
		data[n] = (const uint8_t *)&keys[j];
		idx[n] = i;
		fkp[n++] = &fk[j];
	}
	if (n > 0) {
		rte_acl_classify(s->acl, data, results, n, 1);
		for (uint32_t j = 0; j < n; j++) {
			int allow = results[j] ? s->rules[results[j] - 1].allow : s->deflt_allow;
			fw_decide(ctx, s, b, idx[j], allow, (const struct nfp_flow_key *)fkp[j], counts);
		}
	}
out:
	for (uint32_t c = 0; c < 4; c++)
		if (counts[c])
			nfp_counter_add(ctx, c, counts[c]);
}

NFP_BUILTIN_DESCRIPTOR(firewall) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "firewall",
		.version = "1.0.0",
		.reads = NFP_REGION_L2 | NFP_REGION_L3 | NFP_REGION_L4,
		.writes = 0,
		.state_bytes = sizeof(struct fw_state),
		.n_tables = 1,
		.tables = {{.name = "conntrack", .key_bytes = sizeof(struct nfp_flow_key), .value_bytes = 8,
			    .max_entries = 65536}},
		.n_drop_reasons = 7,
		.drop_reasons = {NFP_COMMON_DROP_REASONS, "acl-deny", "table-full"},
	},
	.init = fw_init,
	.process = fw_process,
	.fini = fw_fini,
};
