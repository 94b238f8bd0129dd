/*
 * monitor: counts packets and bytes, per path (the counters) and, with `perFlow: true`, per
 * 5-tuple in a runtime table. It never drops a well-formed packet: a full flow table is counted.
 *
 * Counters: 0 packets, 1 bytes, 2 flows seen, 3 flows not tracked (table full).
 */
#include <errno.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

#define MON_FLOWS 0u

struct mon_flow_val {
	uint64_t packets, bytes;
};

struct mon_state {
	uint32_t per_flow;
};

static int mon_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct mon_state *s = state;
	struct nfp_cfg c;
	int rc = nfp_cfg_parse(&c, ctx, "monitor", config, len);
	if (rc < 0)
		return rc;
	int per_flow;
	if ((rc = nfp_cfg_bool(&c, 0, "perFlow", 0, &per_flow)) == 0)
		s->per_flow = (uint32_t)per_flow;
	nfp_cfg_free(&c);
	return rc;
}

static void mon_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	const struct mon_state *s = state;
	struct nfp_flow_key k[NFP_NF_MAX_BATCH];
	const void *kp[NFP_NF_MAX_BATCH];
	uint32_t idx[NFP_NF_MAX_BATCH];
	int32_t slots[NFP_NF_MAX_BATCH];
	uint64_t packets = 0, bytes = 0, flows = 0, untracked = 0;
	uint32_t n = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_ipv4_view v;
		int f = nfp_ipv4_view(&b->pkts[i], &v);
		if (f != NFP_PKT_OK) {
			nfp_drop(b, i, (uint32_t)f);
			continue;
		}
		b->verdicts[i] = NFP_VERDICT_PASS;
		packets++;
		bytes += b->pkts[i].len;
		if (s->per_flow) {
			nfp_flow_key_of(&v, &k[n]);
			kp[n] = &k[n];
			idx[n++] = i;
		}
	}
	if (n > 0)
		nfp_table_lookup_bulk(ctx, MON_FLOWS, kp, n, slots);
	for (uint32_t j = 0; j < n; j++) {
		int32_t slot = slots[j];
		if (slot < 0) {
			slot = nfp_table_add(ctx, MON_FLOWS, &k[j]); /* finds a flow added earlier in this batch */
			if (slot < 0) {
				untracked++;
				continue;
			}
			struct mon_flow_val *fv = nfp_table_value(ctx, MON_FLOWS, slot);
			flows += fv->packets == 0;
		}
		struct mon_flow_val *fv = nfp_table_value(ctx, MON_FLOWS, slot);
		fv->packets++;
		fv->bytes += b->pkts[idx[j]].len;
	}
	nfp_counter_add(ctx, 0, packets);
	nfp_counter_add(ctx, 1, bytes);
	nfp_counter_add(ctx, 2, flows);
	nfp_counter_add(ctx, 3, untracked);
}

NFP_BUILTIN_DESCRIPTOR(monitor) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "monitor",
		.version = "1.0.0",
		.reads = NFP_REGION_L2 | NFP_REGION_L3 | NFP_REGION_L4,
		.writes = 0,
		.state_bytes = sizeof(struct mon_state),
		.n_tables = 1,
		.tables = {{.name = "flows", .key_bytes = sizeof(struct nfp_flow_key),
			    .value_bytes = sizeof(struct mon_flow_val), .max_entries = 65536}},
		.n_drop_reasons = 5,
		.drop_reasons = {NFP_COMMON_DROP_REASONS},
	},
	.init = mon_init,
	.process = mon_process,
	.fini = NULL,
};
