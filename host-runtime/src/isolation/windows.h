/*
 * Packet windows: the part of each packet an NF may see, copied into memory the NF can reach and
 * copied back after the call. Only the regions its manifest declares readable go in (the rest of
 * the window is zeroed); only the writable ones come back; a change to a region that is readable
 * but not writable is an access violation. The packet itself is out of the NF's reach during the
 * call, so it is the reference the window is checked against.
 */
#ifndef NFP_ISO_WINDOWS_H
#define NFP_ISO_WINDOWS_H

#include <stdint.h>

#include "nfp/nf.h"

/* Bytes of each packet a window holds; longer packets expose only their first NFP_ISO_WIN bytes. */
#define NFP_ISO_WIN 2048u

#define NFP_ISO_ALL_REGIONS 0xfu

/*
 * A window slot: NFP_PKT_HEADROOM bytes, where an NF may grow the packet at its front (nf.h),
 * then the window itself. Backends lay their windows out in slots: window = slot + headroom.
 */
#define NFP_ISO_SLOT (NFP_PKT_HEADROOM + NFP_ISO_WIN)

struct nfp_iso_span {
	uint16_t lo, hi; /* [lo, hi) */
};

/* Where one packet's regions lie, remembered from copy-in to copy-out. */
struct nfp_iso_win {
	struct nfp_iso_span s[4]; /* enum nfp_region order: L2, L3, L4, payload */
	uint16_t len;
};

/* The byte ranges of `pkt`'s four regions, clipped to the window. */
void nfp_iso_regions(const struct nfp_pkt *pkt, struct nfp_iso_win *w);

/* Fills `win` (NFP_ISO_WIN bytes) from `pkt` and `w` for the copy-out. Returns the window length. */
uint16_t nfp_iso_window_in(const struct nfp_pkt *pkt, uint32_t readable, uint32_t writable, uint8_t *win,
			   struct nfp_iso_win *w);

/*
 * Checks that no readable-but-not-writable byte changed, then copies the writable regions of
 * `win` back into `pkt`. `front` and `len` are where the NF left the packet: its `data` minus
 * `win` (negative after a push) and its `len`; a moved front must keep to the rules of nf.h (L2
 * writable, within the headroom and the L2 region, the end unmoved) and moves `pkt`'s front
 * alike (the caller guarantees `pkt` the headroom, and shifts its header offsets). Returns 0, or
 * -1 (nothing copied) on a violation.
 */
int nfp_iso_window_out(struct nfp_pkt *pkt, uint32_t readable, uint32_t writable, const uint8_t *win,
		       int32_t front, uint32_t len, const struct nfp_iso_win *w);

#endif
