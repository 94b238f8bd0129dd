/*
 * Access-control probe: declares L2 only (read and write). It copies the first 4 bytes of the
 * L3 header, of the L4 header and of the payload into the destination MAC, so the test sees what
 * the NF could read of regions it did not declare (zeros under sfi).
 */
#include <stdint.h>
#include <string.h>

#include "nfp/nf.h"

static void peek_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_pkt *p = &b->pkts[i];
		b->verdicts[i] = NFP_VERDICT_PASS;
		if (p->len < 54)
			continue;
		uint8_t seen = 0;
		for (uint32_t k = 14; k < p->len; k++)
			seen |= p->data[k];
		p->data[0] = seen; /* any non-zero byte beyond L2 */
		memcpy(p->data + 1, p->data + 14, 4);
		p->data[5] = 0;
	}
}

const struct nfp_nf_descriptor nfp_nf_v1 = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "peek",
		.version = "1.0.0",
		.reads = NFP_REGION_L2,
		.writes = NFP_REGION_L2,
	},
	.process = peek_process,
};
