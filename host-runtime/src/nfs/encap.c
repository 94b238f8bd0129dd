/*
 * encap: rewrites the outer Ethernet source and destination addresses (v1 of partitioner's
 * EncapConfig), as the NIC pipeline's rewrite_macs does. A frame shorter than an Ethernet header
 * is dropped as `truncated`.
 *
 * Counters: 0 frames rewritten.
 */
#include <errno.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

struct encap_state {
	uint8_t dst[6], src[6]; /* in header order */
};

static int encap_mac(struct nfp_cfg *c, const char *key, uint8_t out[6])
{
	char buf[32];
	if (nfp_json_string(&c->json, nfp_json_get(&c->json, 0, key), buf, sizeof(buf)) < 0 ||
	    nfp_parse_mac(buf, out) < 0)
		return nfp_cfg_error(c, key, "expected a MAC address string (aa:bb:cc:dd:ee:ff)");
	return 0;
}

static int encap_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct encap_state *s = state;
	struct nfp_cfg c;
	int rc = nfp_cfg_parse(&c, ctx, "encap", config, len);
	if (rc < 0)
		return rc;
	if ((rc = encap_mac(&c, "srcMac", s->src)) == 0)
		rc = encap_mac(&c, "dstMac", s->dst);
	nfp_cfg_free(&c);
	return rc;
}

static void encap_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	const struct encap_state *s = state;
	uint64_t rewritten = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_pkt *p = &b->pkts[i];
		if (p->len < 14) {
			nfp_drop(b, i, NFP_PKT_TRUNCATED);
			continue;
		}
		memcpy(p->data, s->dst, 12);
		b->verdicts[i] = NFP_VERDICT_PASS;
		rewritten++;
	}
	nfp_counter_add(ctx, 0, rewritten);
}

NFP_BUILTIN_DESCRIPTOR(encap) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "encap",
		.version = "1.0.0",
		.reads = NFP_REGION_L2,
		.writes = NFP_REGION_L2,
		.state_bytes = sizeof(struct encap_state),
		.n_drop_reasons = 1,
		.drop_reasons = {"truncated"},
	},
	.init = encap_init,
	.process = encap_process,
	.fini = NULL,
};
