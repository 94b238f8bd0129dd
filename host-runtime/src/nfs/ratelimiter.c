/*
 * ratelimiter: token bucket through rte_meter's srTCM (RFC 2697, colour-blind) with CIR =
 * rateBps / 8 bytes per second and CBS = burstBytes; red packets drop with reason `meter-red` (as on the NIC).
 * `perFlow: true` keeps one meter per 5-tuple in a runtime table, else one aggregate meter.
 * Time is the runtime's per-batch clock (nfp_now_ns), converted to TSC cycles for rte_meter.
 *
 * Counters: 0 passed, 1 exceeded.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_meter.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

#define RL_FLOWS 0u

enum { RL_EXCEEDED = NFP_N_COMMON_DROP_REASONS, RL_TABLE_FULL };

struct rl_state {
	struct rte_meter_srtcm_profile profile;
	struct rte_meter_srtcm aggregate;
	uint32_t per_flow;
	double cycles_per_ns;
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
	struct rte_meter_srtcm_params p = {.cir = (uint64_t)(rate / 8), .cbs = burst, .ebs = 0};
	if (rte_meter_srtcm_profile_config(&s->profile, &p) != 0 ||
	    rte_meter_srtcm_config(&s->aggregate, &s->profile) != 0) {
		rc = nfp_cfg_error(&c, "rateBps", "rte_meter rejected the rate/burst");
		goto out;
	}
	s->per_flow = (uint32_t)per_flow;
	s->cycles_per_ns = (double)rte_get_tsc_hz() / 1e9;
out:
	nfp_cfg_free(&c);
	return rc;
}

static void rl_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct rl_state *s = state;
	uint64_t now = (uint64_t)((double)nfp_now_ns(ctx) * s->cycles_per_ns);
	uint64_t passed = 0, exceeded = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_ipv4_view v;
		int f = nfp_ipv4_view(&b->pkts[i], &v);
		if (f != NFP_PKT_OK) {
			nfp_drop(b, i, (uint32_t)f);
			continue;
		}
		struct rte_meter_srtcm *m = &s->aggregate;
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
				m = nfp_table_value(ctx, RL_FLOWS, slot);
				rte_meter_srtcm_config(m, &s->profile);
				m->time = now; /* a new flow starts with a full bucket, now */
			} else {
				m = nfp_table_value(ctx, RL_FLOWS, slot);
			}
		}
		/* Bytes on the wire as the tenant sent them: the inner frame. */
		if (rte_meter_srtcm_color_blind_check(m, &s->profile, now, b->pkts[i].len) == RTE_COLOR_GREEN) {
			b->verdicts[i] = NFP_VERDICT_PASS;
			passed++;
		} else {
			nfp_drop(b, i, RL_EXCEEDED);
			exceeded++;
		}
	}
	nfp_counter_add(ctx, 0, passed);
	nfp_counter_add(ctx, 1, exceeded);
}

NFP_BUILTIN_DESCRIPTOR(ratelimiter) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "ratelimiter",
		.version = "1.0.0",
		.reads = NFP_REGION_L2 | NFP_REGION_L3 | NFP_REGION_L4,
		.writes = 0,
		.state_bytes = sizeof(struct rl_state),
		.n_tables = 1,
		.tables = {{.name = "meters", .key_bytes = sizeof(struct nfp_flow_key),
			    .value_bytes = sizeof(struct rte_meter_srtcm), .max_entries = 65536}},
		.n_drop_reasons = 7,
		.drop_reasons = {NFP_COMMON_DROP_REASONS, "meter-red", "table-full"},
	},
	.init = rl_init,
	.process = rl_process,
	.fini = NULL,
};
