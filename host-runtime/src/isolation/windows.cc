// Packet windows for the sandboxed backends; see windows.h.
#include "windows.h"

#include <string.h>

void nfp_iso_regions(const struct nfp_pkt *pkt, struct nfp_iso_win *w)
{
	uint16_t len = pkt->len < NFP_ISO_WIN ? pkt->len : (uint16_t)NFP_ISO_WIN;
	uint16_t start[4] = {0, pkt->l3_off, pkt->l4_off, pkt->payload_off};
	// The runtime found no usable L3 header: what follows the Ethernet header (and one VLAN tag)
	// is L3 when the EtherType says IP (a malformed header is still the NF's to judge), else payload.
	if (start[1] == NFP_OFF_NONE && start[2] == NFP_OFF_NONE && start[3] == NFP_OFF_NONE) {
		uint16_t l2 = 14, type = len >= 14 ? (uint16_t)(pkt->data[12] << 8 | pkt->data[13]) : 0;
		if (type == 0x8100 && len >= 18) {
			l2 = 18;
			type = (uint16_t)(pkt->data[16] << 8 | pkt->data[17]);
		}
		if (l2 > len)
			l2 = len;
		start[type == 0x0800 || type == 0x86dd ? 1 : 3] = l2;
	}
	w->len = len;
	for (int r = 0; r < 4; r++) {
		if (start[r] == NFP_OFF_NONE || start[r] > len) {
			w->s[r].lo = w->s[r].hi = 0;
			continue;
		}
		uint16_t end = len;
		for (int n = r + 1; n < 4; n++)
			if (start[n] != NFP_OFF_NONE && start[n] >= start[r] && start[n] <= len) {
				end = start[n];
				break;
			}
		w->s[r].lo = start[r];
		w->s[r].hi = end;
	}
}

uint16_t nfp_iso_window_in(const struct nfp_pkt *pkt, uint32_t readable, uint32_t writable, uint8_t *win,
			   struct nfp_iso_win *w)
{
	if ((readable & NFP_ISO_ALL_REGIONS) == NFP_ISO_ALL_REGIONS) {
		// Regions matter again at copy-out unless everything is writable.
		if ((writable & NFP_ISO_ALL_REGIONS) != NFP_ISO_ALL_REGIONS)
			nfp_iso_regions(pkt, w);
		else
			w->len = pkt->len < NFP_ISO_WIN ? pkt->len : (uint16_t)NFP_ISO_WIN;
		memcpy(win, pkt->data, w->len);
		return w->len;
	}
	nfp_iso_regions(pkt, w);
	// Zero first: bytes in no declared region (and gaps) never reach the NF.
	memset(win, 0, w->len);
	for (int r = 0; r < 4; r++)
		if ((readable & (1u << r)) && w->s[r].hi > w->s[r].lo)
			memcpy(win + w->s[r].lo, pkt->data + w->s[r].lo, w->s[r].hi - w->s[r].lo);
	return w->len;
}

int nfp_iso_window_out(struct nfp_pkt *pkt, uint32_t readable, uint32_t writable, const uint8_t *win,
		       int32_t front, uint32_t len, const struct nfp_iso_win *w)
{
	writable &= NFP_ISO_ALL_REGIONS;
	bool all = writable == NFP_ISO_ALL_REGIONS;
	if (front != 0 || len != w->len) {
		// Regions are not computed when everything is writable: then all of it is L2's to move.
		int32_t l2_end = all ? (int32_t)w->len : (int32_t)w->s[0].hi;
		if (!(writable & NFP_REGION_L2) || front < -(int32_t)NFP_PKT_HEADROOM || front > l2_end ||
		    (int64_t)front + len != w->len)
			return -1;
	}
	if (all) {
		memcpy(pkt->data + front, win + front, (size_t)((int32_t)w->len - front));
	} else {
		uint32_t read_only = readable & ~writable;
		for (int r = 0; r < 4; r++)
			if ((read_only & (1u << r)) && w->s[r].hi > w->s[r].lo &&
			    memcmp(win + w->s[r].lo, pkt->data + w->s[r].lo, w->s[r].hi - w->s[r].lo) != 0)
				return -1;
		for (int r = 0; r < 4; r++) {
			// L2 copies from the moved front: [front, hi) of the window's coordinates.
			int32_t lo = r == 0 ? front : (int32_t)w->s[r].lo;
			if ((writable & (1u << r)) && (int32_t)w->s[r].hi > lo)
				memcpy(pkt->data + lo, win + lo, (size_t)((int32_t)w->s[r].hi - lo));
		}
	}
	// The header offsets stay: the caller shifts them before the next NF (pkt_parse.h).
	pkt->data += front;
	pkt->len = (uint16_t)(pkt->len - front);
	return 0;
}
