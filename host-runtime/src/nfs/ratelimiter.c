/*
 * ratelimiter: token bucket through the runtime's meter service (nfp_meter_*, nf.h: DPDK's
 * rte_meter srTCM, RFC 2697, colour-blind) with CIR = rateBps / 8 bytes per second, CBS =
 * burstBytes and no excess bucket; red packets drop with reason `meter-red` (as on the NIC).
 * `perFlow: true` keeps one meter per 5-tuple: the flow's slot in a runtime table indexes a meter
 * set as large as the table; else one aggregate meter. The meters live in the runtime, so this NF
 * builds for every isolation backend, sfi included; time is the runtime's per-batch clock.
 *
 * Counters: 0 passed, 1 exceeded. A flow's table value counts its packets passed and exceeded.
 */
#include <errno.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

#define RL_FLOWS 0u
#define RL_MAX_FLOWS 65536u

enum { RL_EXCEEDED = NFP_N_COMMON_DROP_REASONS, RL_TABLE_FULL };

struct rl_state {
	int32_t aggregate; /* meter handle: one meter */
	int32_t flows;     /* meter handle: one meter per table slot (per flow), -1 when aggregate */
	uint32_t per_flow;
};

struct rl_flow {
	uint32_t passed;
	uint32_t exceeded;
};

static int rl_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct rl_state *s = state;
	struct nfp_cfg c;
	int rc = nfp_cfg_parse(&c, ctx, "ratelimiter", config, len);
	if (rc < 0)
		return rc;
	uint32_t burst;
	double rate;
	int per_flow;
	if (nfp_json_number(&c.json, nfp_json_get(&c.json, 0, "rateBps"), &rate) < 0 || rate < 8 || rate > 1e12) {
		rc = nfp_cfg_error(&c, "rateBps", "expected a number of bits per second in 8..1e12");
		goto out;
	}
	if ((rc = nfp_cfg_uint(&c, 0, "burstBytes", 64, 1u << 30, &burst)) < 0 ||
	    (rc = nfp_cfg_bool(&c, 0, "perFlow", 0, &per_flow)) < 0)
		goto out;
	uint64_t cir = (uint64_t)(rate / 8);
	s->per_flow = (uint32_t)per_flow;
	s->flows = -1;
	s->aggregate = nfp_meter_create(ctx, cir, burst, 0, 1);
	/* Table slots run up to max_entries (one spare, see the runtime's tables). */
	if (s->aggregate >= 0 && per_flow)
		s->flows = nfp_meter_create(ctx, cir, burst, 0, RL_MAX_FLOWS + 1);
	if (s->aggregate < 0 || (per_flow && s->flows < 0)) {
		rc = nfp_cfg_error(&c, "rateBps", "the runtime's meter rejected the rate/burst");
		goto out;
	}
out:
	nfp_cfg_free(&c);
	return rc;
}

static void rl_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct rl_state *s = state;
	uint64_t passed = 0, exceeded = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_ipv4_view v;
		int f = nfp_ipv4_view(&b->pkts[i], &v);
		if (f != NFP_PKT_OK) {
			nfp_drop(b, i, (uint32_t)f);
			continue;
		}
		int32_t meter = s->aggregate;
		uint32_t index = 0;
		struct rl_flow *flow = NULL;
		if (s->per_flow) {
			struct nfp_flow_key k;
			nfp_flow_key_of(&v, &k);
			int32_t slot = nfp_table_lookup(ctx, RL_FLOWS, &k);
			if (slot < 0) {
				slot = nfp_table_add(ctx, RL_FLOWS, &k);
				if (slot < 0) {
					nfp_drop(b, i, RL_TABLE_FULL);
					continue;
				}
				nfp_meter_reset(ctx, s->flows, (uint32_t)slot); /* a new flow starts with a full bucket */
			}
			meter = s->flows;
			index = (uint32_t)slot;
			flow = nfp_table_value(ctx, RL_FLOWS, slot);
		}
		/* Bytes on the wire as the tenant sent them: the inner frame. */
		if (nfp_meter_color(ctx, meter, index, b->pkts[i].len) == NFP_METER_GREEN) {
			b->verdicts[i] = NFP_VERDICT_PASS;
			passed++;
			if (flow != NULL)
				flow->passed++;
		} else {
			nfp_drop(b, i, RL_EXCEEDED);
			exceeded++;
			if (flow != NULL)
				flow->exceeded++;
		}
	}
	nfp_counter_add(ctx, 0, passed);
	nfp_counter_add(ctx, 1, exceeded);
}

NFP_BUILTIN_DESCRIPTOR(ratelimiter) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "ratelimiter",
		.version = "1.1.0",
		.reads = NFP_REGION_L2 | NFP_REGION_L3 | NFP_REGION_L4,
		.writes = 0,
		.state_bytes = sizeof(struct rl_state),
		.n_tables = 1,
		.tables = {{.name = "flows", .key_bytes = sizeof(struct nfp_flow_key),
			    .value_bytes = sizeof(struct rl_flow), .max_entries = RL_MAX_FLOWS}},
		.n_drop_reasons = 7,
		.drop_reasons = {NFP_COMMON_DROP_REASONS, "meter-red", "table-full"},
	},
	.init = rl_init,
	.process = rl_process,
	.fini = NULL,
};
