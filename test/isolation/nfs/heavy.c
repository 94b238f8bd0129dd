/* A CPU-heavy NF for the fairness test: `iters` rounds of mixing per packet (config). */
#include <stdint.h>

#include "nfp/nf.h"
#include "cfg.h"

struct heavy_state {
	uint32_t iters;
	uint32_t sink;
};

static int heavy_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct heavy_state *s = state;
	s->iters = (uint32_t)cfg_int(config, "iters", 2000);
	return 0;
}

static void heavy_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct heavy_state *s = state;
	for (uint32_t i = 0; i < b->count; i++) {
		uint32_t h = b->pkts[i].flow_hash | 1u;
		for (uint32_t k = 0; k < s->iters; k++)
			h = h * 2654435761u + (h >> 13);
		s->sink += h;
		b->verdicts[i] = NFP_VERDICT_PASS;
	}
}

const struct nfp_nf_descriptor nfp_nf_v1 = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "heavy",
		.version = "1.0.0",
		.reads = NFP_REGION_L2,
		.state_bytes = sizeof(struct heavy_state),
	},
	.init = heavy_init,
	.process = heavy_process,
};
