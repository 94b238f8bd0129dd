/*
 * marker: sets the DSCP of IPv4 and IPv6 packets (the ECN bits are kept), as the NIC pipeline's
 * set_dscp does, and recomputes the IPv4 header checksum over the whole header. One 802.1Q tag
 * may precede the IP header. Frames that are not IP (by EtherType and version) pass unchanged.
 *
 * Drops: `truncated` (shorter than the Ethernet header, the tag or the IP header), `bad-ihl`
 * (an IPv4 header length under 20 bytes).
 * Counters: 0 IPv4 packets marked, 1 IPv6 packets marked, 2 frames passed unchanged (not IP).
 */
#include <errno.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

struct marker_state {
	uint32_t dscp;
};

static int marker_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct marker_state *s = state;
	struct nfp_cfg c;
	int rc = nfp_cfg_parse(&c, ctx, "marker", config, len);
	if (rc < 0)
		return rc;
	rc = nfp_cfg_uint(&c, 0, "dscp", 0, 63, &s->dscp);
	nfp_cfg_free(&c);
	return rc;
}

/* The IPv4 header checksum (RFC 791) of `hdr_len` bytes, its own field counted as zero. */
static uint16_t marker_ipv4_csum(const uint8_t *ip, uint32_t hdr_len)
{
	uint32_t sum = 0;
	for (uint32_t k = 0; k < hdr_len; k += 2)
		if (k != 10)
			sum += nfp_rd16(ip + k);
	return (uint16_t)~nfp_csum_fold(sum);
}

static void marker_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	const struct marker_state *s = state;
	uint64_t v4 = 0, v6 = 0, other = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_pkt *p = &b->pkts[i];
		uint32_t len = p->len, off = 14;
		if (len < 14) {
			nfp_drop(b, i, NFP_PKT_TRUNCATED);
			continue;
		}
		uint16_t type = nfp_rd16(p->data + 12);
		if (type == 0x8100) {
			if (len < 18) {
				nfp_drop(b, i, NFP_PKT_TRUNCATED);
				continue;
			}
			type = nfp_rd16(p->data + 16);
			off = 18;
		}
		uint8_t *ip = p->data + off;
		uint32_t need = type == 0x0800 ? 20 : type == 0x86dd ? 40 : 0;
		if (len < off + need) {
			nfp_drop(b, i, NFP_PKT_TRUNCATED);
			continue;
		}
		if (type == 0x0800 && ip[0] >> 4 == 4) {
			uint32_t hdr = (uint32_t)(ip[0] & 0x0f) * 4;
			if (hdr < 20) {
				nfp_drop(b, i, NFP_PKT_BAD_IHL);
				continue;
			}
			if (len < off + hdr) {
				nfp_drop(b, i, NFP_PKT_TRUNCATED);
				continue;
			}
			ip[1] = (uint8_t)(s->dscp << 2 | (ip[1] & 0x03u));
			nfp_wr16(ip + 10, marker_ipv4_csum(ip, hdr));
			v4++;
		} else if (type == 0x86dd && ip[0] >> 4 == 6) {
			/* Traffic class: the low nibble of byte 0 and the high nibble of byte 1. */
			uint32_t tc = (uint32_t)s->dscp << 2 | (ip[1] >> 4 & 0x03u);
			ip[0] = (uint8_t)((ip[0] & 0xf0u) | tc >> 4);
			ip[1] = (uint8_t)((ip[1] & 0x0fu) | (tc & 0x0fu) << 4);
			v6++;
		} else {
			other++;
		}
		b->verdicts[i] = NFP_VERDICT_PASS;
	}
	nfp_counter_add(ctx, 0, v4);
	nfp_counter_add(ctx, 1, v6);
	nfp_counter_add(ctx, 2, other);
}

NFP_BUILTIN_DESCRIPTOR(marker) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "marker",
		.version = "1.0.0",
		.reads = NFP_REGION_L2 | NFP_REGION_L3,
		.writes = NFP_REGION_L3,
		.state_bytes = sizeof(struct marker_state),
		.n_drop_reasons = 2,
		.drop_reasons = {"truncated", "bad-ihl"},
	},
	.init = marker_init,
	.process = marker_process,
	.fini = NULL,
};
