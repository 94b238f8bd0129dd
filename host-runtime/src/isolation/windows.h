/*
 * How an NF reaches a packet for one call into its domain (domain.h, enum nfp_packet_access):
 *   - in place: the packet already lies in the domain's packet memory (shared access). Before the
 *     call the bytes outside the NF's writable regions are saved, outside the domain; after it
 *     they are compared, and the packet's length and front are re-validated: the runtime trusts
 *     nothing the NF could have written.
 *   - a window: the packet is copied into memory the NF can reach and copied back after the call.
 *     Only the regions the NF may read go in (every region under shared access; under windows
 *     access the ones its manifest declares, the rest of the window zeroed); only the writable
 *     ones come back; a change to any other byte is an access violation. The packet itself is
 *     out of the NF's reach during the call, so it is the reference the window is checked against.
 */
#ifndef NFP_ISO_WINDOWS_H
#define NFP_ISO_WINDOWS_H

#include <stdint.h>

#include "nfp/nf.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* A tenant's packet memory inside its domain (shared access); empty (lo == hi) when it has none. */
struct nfp_iso_area {
	const uint8_t *lo, *hi;
};

/* Bytes of a packet in place compared as one block (the headers of most packets, all of a small one). */
#define NFP_ISO_HEAD 64u

/*
 * True when `pkt` lies inside `a` with the headroom nf.h promises in front and NFP_ISO_HEAD bytes
 * from its start (the head block is read whole, whatever the packet's length).
 */
static inline int nfp_iso_in_area(const struct nfp_iso_area *a, const struct nfp_pkt *pkt)
{
	uintptr_t d = (uintptr_t)pkt->data;
	uint32_t span = pkt->len > NFP_ISO_HEAD ? pkt->len : NFP_ISO_HEAD;
	return d - NFP_PKT_HEADROOM >= (uintptr_t)a->lo && d + span <= (uintptr_t)a->hi && pkt->len <= NFP_ISO_WIN;
}

/* One packet from before a call to after it. */
struct nfp_iso_pkt {
	uint8_t head[NFP_ISO_HEAD]; /* in place: the head block as it was (kept here, rows 96 bytes apart) */
	uint64_t head_kept;         /* in place: bit b set when head byte b may not change */
	struct nfp_iso_win w;       /* a window: region spans at the call's start */
	uint16_t len;               /* the packet's length at the call's start (clipped to a window) */
	uint8_t in_place;
	uint8_t all_writable;
	uint8_t tail; /* in place: bytes past the head the NF may not change were saved too */
};

/*
 * A batch from before a call to after it, outside the domain. The common batch is uniform: its
 * first `uniform` packets lie in place with one header layout and nothing kept past the head, so
 * they share one mask (`keep`, and as bytes in `keep_bytes`) and only their head blocks are saved
 * per packet; the rest have their own row in `pk`.
 */
struct nfp_iso_guard {
	uint8_t keep_bytes[NFP_ISO_HEAD]; /* 0xff for each head byte no NF of the chain may change */
	uint64_t keep;                    /* the same as bits (keep_bytes is rebuilt when it changes) */
	uint32_t uniform;
	uint8_t all_writable;
	struct nfp_iso_pkt pk[NFP_NF_MAX_BATCH];
};

/* Violations nfp_iso_pkt_out reports. */
#define NFP_ISO_BAD_WRITE (-1) /* a byte outside the writable regions changed */
#define NFP_ISO_BAD_FRONT (-2) /* `data` or `len` moved against the rules of nf.h */

/* What a violation is, for the fault report. */
static inline const char *nfp_iso_violation(int rc)
{
	return rc == NFP_ISO_BAD_FRONT ? "moved a packet's data or length against the rules (nf.h, front adjustment)"
				       : "wrote a packet region its manifest does not declare writable";
}

/*
 * Before a call: makes the `n` packets of a batch reachable for an NF with rights (readable,
 * writable); `shared` is the domain's access. A packet that lies in `area` (shared only) stays in
 * place: its head block is saved in its `st` row and the bytes past the head that the NF may not
 * write into its row of `saved` (both outside the domain). Any other is copied into its window
 * `wins + i * NFP_ISO_SLOT + NFP_PKT_HEADROOM` (domain memory): every region under shared access,
 * those in `readable` under windows access. `at[i]` and `len[i]` receive where the NF finds
 * packet i and its length.
 */
void nfp_iso_batch_in(const struct nfp_iso_area *area, int shared, const struct nfp_pkt *pkts, uint32_t n,
		      uint32_t readable, uint32_t writable, uint8_t *wins, uint8_t (*saved)[NFP_ISO_WIN],
		      struct nfp_iso_guard *g, uint8_t **at, uint16_t *len);

/*
 * After the call, for packet i of the batch (`g` as nfp_iso_batch_in left it): `front` and `len` are where the NF left it, relative
 * to at[i] (the backend computes `front` from the NF's pointer or offset without dereferencing
 * it). Checks the front-adjustment rules of nf.h and that no byte outside the writable regions
 * changed, copies a window's writable regions back, and moves pkt->data and pkt->len. Returns 0,
 * or NFP_ISO_BAD_WRITE / NFP_ISO_BAD_FRONT on a violation (a window is then not copied back; a
 * packet in place keeps what the NF wrote: the caller drops it).
 */
int nfp_iso_pkt_out_all(struct nfp_pkt *pkt, int shared, uint32_t readable, uint32_t writable, const uint8_t *win,
			const uint8_t *saved, int64_t front, uint32_t len, const struct nfp_iso_guard *g, uint32_t i);

/* Whether a head byte the NF may not change (bit b of `kept`) differs between `a` and `b`. */
static inline int nfp_iso_head_changed(const uint8_t *a, const uint8_t *b, uint64_t kept)
{
	uint64_t m = 0;
	for (uint32_t k = 0; k < NFP_ISO_HEAD; k++)
		m |= (uint64_t)(a[k] != b[k]) << k;
	return (m & kept) != 0;
}

/* The same with the mask as bytes (0xff: kept): a few wide compares. */
static inline int nfp_iso_head_changed_bytes(const uint8_t *a, const uint8_t *b, const uint8_t *keep_bytes)
{
#if defined(__SSE2__)
	__m128i acc = _mm_setzero_si128();
	for (int k = 0; k < 4; k++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(a + 16 * k));
		__m128i y = _mm_loadu_si128((const __m128i *)(b + 16 * k));
		__m128i m = _mm_loadu_si128((const __m128i *)(keep_bytes + 16 * k));
		acc = _mm_or_si128(acc, _mm_and_si128(_mm_xor_si128(x, y), m));
	}
	return _mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) != 0xffff;
#else
	uint8_t acc = 0;
	for (uint32_t k = 0; k < NFP_ISO_HEAD; k++)
		acc |= (uint8_t)((a[k] ^ b[k]) & keep_bytes[k]);
	return acc != 0;
#endif
}

/* nfp_iso_pkt_out_all, the common case inline: a packet of the uniform prefix that did not move. */
static inline int nfp_iso_pkt_out(struct nfp_pkt *pkt, int shared, uint32_t readable, uint32_t writable,
				  const uint8_t *win, const uint8_t *saved, int64_t front, uint32_t len,
				  const struct nfp_iso_guard *g, uint32_t i)
{
	if (i < g->uniform && front == 0 && len == pkt->len)
		return g->all_writable || !nfp_iso_head_changed_bytes(g->pk[i].head, pkt->data, g->keep_bytes)
			       ? 0
			       : NFP_ISO_BAD_WRITE;
	return nfp_iso_pkt_out_all(pkt, shared, readable, writable, win, saved, front, len, g, i);
}

#ifdef __cplusplus
/*
 * After the call, the whole batch: `where(i, &front, &len)` says where the NF left packet i (as
 * for nfp_iso_pkt_out, from its descriptor, never dereferenced). Checks and moves every packet as
 * nfp_iso_pkt_out does, the uniform prefix in one tight loop. Returns -1, or the first packet
 * with a violation and its code in `*rc`.
 */
template <typename Where>
static inline int32_t nfp_iso_batch_out(struct nfp_pkt *pkts, uint32_t n, int shared, uint32_t readable,
					uint32_t writable, uint8_t *const *at, const uint8_t (*saved)[NFP_ISO_WIN],
					const struct nfp_iso_guard *g, Where where, int *rc)
{
	uint32_t i = 0;
	const uint32_t uniform = g->uniform < n ? g->uniform : n;
	int64_t front;
	uint32_t len;
	if (g->all_writable) {
		for (; i < uniform; i++) {
			where(i, &front, &len);
			if (front != 0 || len != pkts[i].len)
				break; // moved: the full check below
		}
	} else {
#if defined(__SSE2__)
		const __m128i k0 = _mm_loadu_si128((const __m128i *)g->keep_bytes);
		const __m128i k1 = _mm_loadu_si128((const __m128i *)(g->keep_bytes + 16));
		const __m128i k2 = _mm_loadu_si128((const __m128i *)(g->keep_bytes + 32));
		const __m128i k3 = _mm_loadu_si128((const __m128i *)(g->keep_bytes + 48));
#endif
		for (; i < uniform; i++) {
			where(i, &front, &len);
			if (front != 0 || len != pkts[i].len)
				break;
#if defined(__SSE2__)
			const uint8_t *a = g->pk[i].head, *b = pkts[i].data;
			__m128i d0 = _mm_and_si128(_mm_xor_si128(_mm_loadu_si128((const __m128i *)a),
								 _mm_loadu_si128((const __m128i *)b)),
						   k0);
			__m128i d1 = _mm_and_si128(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(a + 16)),
								 _mm_loadu_si128((const __m128i *)(b + 16))),
						   k1);
			__m128i d2 = _mm_and_si128(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(a + 32)),
								 _mm_loadu_si128((const __m128i *)(b + 32))),
						   k2);
			__m128i d3 = _mm_and_si128(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(a + 48)),
								 _mm_loadu_si128((const __m128i *)(b + 48))),
						   k3);
			__m128i acc = _mm_or_si128(_mm_or_si128(d0, d1), _mm_or_si128(d2, d3));
			if (_mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) != 0xffff) {
#else
			if (nfp_iso_head_changed_bytes(g->pk[i].head, pkts[i].data, g->keep_bytes)) {
#endif
				*rc = NFP_ISO_BAD_WRITE;
				return (int32_t)i;
			}
		}
	}
	for (; i < n; i++) {
		where(i, &front, &len);
		int r = nfp_iso_pkt_out(&pkts[i], shared, readable, writable, at[i], saved[i], front, len, g, i);
		if (r < 0) {
			*rc = r;
			return (int32_t)i;
		}
	}
	return -1;
}
#endif

#endif
