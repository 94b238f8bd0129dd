/* macswap: swaps the Ethernet source and destination addresses; the cheapest NF, for benchmarks. */
#include <string.h>

#include "builtin.h"
#include "nf_util.h"

static int macswap_init(nfp_ctx *ctx, void *state, const char *config, uint32_t config_len)
{
	return 0;
}

static void macswap_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_pkt *p = &b->pkts[i];
		if (p->len < 14) {
			nfp_drop(b, i, NFP_PKT_TRUNCATED);
			continue;
		}
		uint8_t tmp[6];
		memcpy(tmp, p->data, 6);
		memcpy(p->data, p->data + 6, 6);
		memcpy(p->data + 6, tmp, 6);
		b->verdicts[i] = NFP_VERDICT_PASS;
	}
}

NFP_BUILTIN_DESCRIPTOR(macswap) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "macswap",
		.version = "1.0.0",
		.reads = NFP_REGION_L2,
		.writes = NFP_REGION_L2,
		.n_drop_reasons = 1,
		.drop_reasons = {"truncated"},
	},
	.init = macswap_init,
	.process = macswap_process,
	.fini = NULL,
};
