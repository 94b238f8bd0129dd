/*
 * A test NF for the meter service (nf.h, nfp_meter_*). Config `{"use": "<how>"}`:
 *   own         meters packet i on meter i % 4 of its own set of 4 (CIR 1000 B/s, CBS 1000 B)
 *   bad-handle  names a meter set it never created
 *   bad-index   names meter 4 of its set of 4
 * Green passes; anything else drops with reason 0.
 */
#include <stdint.h>
#include <string.h>

#include "nfp/nf.h"
#include "cfg.h"

struct meter_state {
	char use[16];
	int32_t meters;
};

static int meter_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct meter_state *s = state;
	if (cfg_word(config, "use", s->use, sizeof(s->use)) < 0)
		strcpy(s->use, "own");
	s->meters = nfp_meter_create(ctx, 1000, 1000, 0, 4);
	return s->meters < 0 ? s->meters : 0;
}

static void meter_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct meter_state *s = state;
	int32_t handle = strcmp(s->use, "bad-handle") == 0 ? s->meters + 3 : s->meters;
	for (uint32_t i = 0; i < b->count; i++) {
		uint32_t index = strcmp(s->use, "bad-index") == 0 ? 4 : i % 4;
		int32_t c = nfp_meter_color(ctx, handle, index, b->pkts[i].len);
		b->verdicts[i] = c == NFP_METER_GREEN ? NFP_VERDICT_PASS : NFP_VERDICT_DROP;
		b->drop_reasons[i] = 0;
	}
}

const struct nfp_nf_descriptor nfp_nf_v1 = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "meter",
		.version = "1.0.0",
		.reads = NFP_REGION_L2,
		.state_bytes = sizeof(struct meter_state),
	},
	.init = meter_init,
	.process = meter_process,
};
