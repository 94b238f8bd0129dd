/*
 * vlan: pushes or pops one 802.1Q tag, as the NIC pipeline does (p4/lower/stages.ts):
 *   - push onto an untagged frame inserts a tag (PCP 0, DEI 0, the configured VID) after the MAC
 *     addresses; onto a tagged frame it rewrites the VID of that tag (one tag only, no QinQ);
 *   - pop removes the tag of a tagged frame and passes an untagged one unchanged.
 * Only EtherType 0x8100 counts as a tag. The frame grows or shrinks at its front (nf.h, front
 * adjustment). A frame too short for its Ethernet header or its tag is dropped as `truncated`.
 *
 * Counters: 0 tags pushed, 1 tags rewritten, 2 tags popped, 3 frames passed unchanged.
 */
#include <errno.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

#define VLAN_TPID 0x8100u
#define VLAN_TAG_BYTES 4u

struct vlan_state {
	uint32_t push; /* 1: push (or retag), 0: pop */
	uint32_t vid;
};

static int vlan_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct vlan_state *s = state;
	struct nfp_cfg c;
	int rc = nfp_cfg_parse(&c, ctx, "vlan", config, len);
	if (rc < 0)
		return rc;
	char op[8];
	if (nfp_json_string(&c.json, nfp_json_get(&c.json, 0, "op"), op, sizeof(op)) < 0 ||
	    (strcmp(op, "push") != 0 && strcmp(op, "pop") != 0)) {
		rc = nfp_cfg_error(&c, "op", "expected \"push\" or \"pop\"");
	} else {
		s->push = strcmp(op, "push") == 0;
		if (s->push)
			rc = nfp_cfg_uint(&c, 0, "vid", 1, 4094, &s->vid);
	}
	nfp_cfg_free(&c);
	return rc;
}

static void vlan_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	const struct vlan_state *s = state;
	uint64_t pushed = 0, retagged = 0, popped = 0, unchanged = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_pkt *p = &b->pkts[i];
		if (p->len < 14) {
			nfp_drop(b, i, NFP_PKT_TRUNCATED);
			continue;
		}
		int tagged = nfp_rd16(p->data + 12) == VLAN_TPID;
		if (tagged && p->len < 14 + VLAN_TAG_BYTES) {
			nfp_drop(b, i, NFP_PKT_TRUNCATED);
			continue;
		}
		b->verdicts[i] = NFP_VERDICT_PASS;
		if (s->push && tagged) {
			uint16_t tci = nfp_rd16(p->data + 14);
			nfp_wr16(p->data + 14, (uint16_t)((tci & 0xf000u) | s->vid));
			retagged++;
		} else if (s->push) {
			/* The MACs move 4 bytes to the front; the old EtherType becomes the tag's. */
			uint8_t *d = p->data - VLAN_TAG_BYTES;
			memmove(d, p->data, 12);
			nfp_wr16(d + 12, VLAN_TPID);
			nfp_wr16(d + 14, (uint16_t)s->vid);
			p->data = d;
			p->len = (uint16_t)(p->len + VLAN_TAG_BYTES);
			pushed++;
		} else if (tagged) {
			/* The MACs move 4 bytes back, onto the tag; the tag's EtherType is the frame's now. */
			uint8_t *d = p->data + VLAN_TAG_BYTES;
			memmove(d, p->data, 12);
			p->data = d;
			p->len = (uint16_t)(p->len - VLAN_TAG_BYTES);
			popped++;
		} else {
			unchanged++;
		}
	}
	nfp_counter_add(ctx, 0, pushed);
	nfp_counter_add(ctx, 1, retagged);
	nfp_counter_add(ctx, 2, popped);
	nfp_counter_add(ctx, 3, unchanged);
}

NFP_BUILTIN_DESCRIPTOR(vlan) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "vlan",
		.version = "1.0.0",
		.reads = NFP_REGION_L2,
		.writes = NFP_REGION_L2,
		.state_bytes = sizeof(struct vlan_state),
		.n_drop_reasons = 1,
		.drop_reasons = {"truncated"},
	},
	.init = vlan_init,
	.process = vlan_process,
	.fini = NULL,
};
