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

#include <stddef.h>
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
	uint64_t head_kept;         /* in place: bit b set when head byte b may not change */
	struct nfp_iso_win w;       /* a window: region spans at the call's start */
	uint16_t len;               /* the packet's length at the call's start (clipped to a window) */
	uint8_t in_place;
	uint8_t all_writable;
	uint8_t tail; /* in place: bytes past the head the NF may not change were saved too */
};

/* 16-byte chunks of a head block. */
#define NFP_ISO_CHUNK 16u
#define NFP_ISO_CHUNKS (NFP_ISO_HEAD / NFP_ISO_CHUNK)

/*
 * A batch from before a call to after it, outside the domain. The common batch is uniform: its
 * first `uniform` packets lie in place with one header layout and nothing kept past the head, so
 * they share one mask (`keep`, and as bytes in `keep_bytes`) and only the chunks of their head
 * blocks that hold kept bytes (`chunks`) are saved and compared per packet; the rest have their
 * own row in `pk` and their whole head block saved.
 */
struct nfp_iso_guard {
	uint8_t heads[NFP_NF_MAX_BATCH][NFP_ISO_HEAD] __attribute__((aligned(64))); /* in place: as it was */
	uint8_t keep_bytes[NFP_ISO_HEAD]; /* 0xff for each head byte no NF of the chain may change */
	uint64_t keep;                    /* the same as bits (keep_bytes is rebuilt when it changes) */
	uint32_t uniform;
	uint8_t all_writable;
	uint8_t chunks; /* bit c: chunk c of `keep` holds a kept byte (uniform prefix) */
	/* The first packet's layout and rights `keep` was worked out for, valid when `keep_known`
	 * (a layout with nothing kept past the head): batches after the first mostly repeat them. */
	uint8_t keep_known;
	uint32_t keep_writable;
	uint64_t keep_layout;
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
 * packet i and its length; `mirror` (may be NULL), a copy of each descriptor with that `data` and
 * `len`, for a backend that hands NFs descriptors of the runtime's own layout. With a mirror,
 * at[] and len[] are left unwritten for the uniform prefix (g->uniform): those packets lie in
 * place, at their own `data`.
 */
void nfp_iso_batch_in(const struct nfp_iso_area *area, int shared, const struct nfp_pkt *pkts, uint32_t n,
		      uint32_t readable, uint32_t writable, uint8_t *wins, uint8_t (*saved)[NFP_ISO_WIN],
		      struct nfp_iso_guard *g, uint8_t **at, uint16_t *len, struct nfp_pkt *mirror);

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
		return g->all_writable || !nfp_iso_head_changed_bytes(g->heads[i], pkt->data, g->keep_bytes)
			       ? 0
			       : NFP_ISO_BAD_WRITE;
	return nfp_iso_pkt_out_all(pkt, shared, readable, writable, win, saved, front, len, g, i);
}

#ifdef __cplusplus
#if defined(__SSE2__)
/* The kept-byte masks of the chunks in C (zero for the others). */
template <unsigned C> static inline void nfp_iso_keep_vectors(const struct nfp_iso_guard *g, __m128i *k)
{
	for (unsigned c = 0; c < NFP_ISO_CHUNKS; c++)
		k[c] = (C >> c) & 1 ? _mm_loadu_si128((const __m128i *)(g->keep_bytes + NFP_ISO_CHUNK * c))
				    : _mm_setzero_si128();
}

/* `acc` or'd with the kept bits that differ between saved head `a` and packet `b`, chunks in C. */
template <unsigned C>
static inline __m128i nfp_iso_head_diff(__m128i acc, const uint8_t *a, const uint8_t *b, const __m128i *k)
{
	for (unsigned c = 0; c < NFP_ISO_CHUNKS; c++)
		if ((C >> c) & 1) {
			__m128i x = _mm_load_si128((const __m128i *)(a + NFP_ISO_CHUNK * c));
			__m128i y = _mm_loadu_si128((const __m128i *)(b + NFP_ISO_CHUNK * c));
			acc = _mm_or_si128(acc, _mm_and_si128(_mm_xor_si128(x, y), k[c]));
		}
	return acc;
}

/* Whether any bit of `acc` is set. */
static inline int nfp_iso_any(__m128i acc)
{
	return _mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) != 0xffff;
}
#endif

/*
 * The uniform prefix after a call (nfp_iso_batch_out): packets that did not move, whose kept
 * head bytes lie in the chunks C. Returns where it stopped: at `uniform`, at a packet that moved
 * (the caller checks it in full) or, with `*bad` set, at one whose kept bytes changed.
 */
template <unsigned C, typename Where>
static inline uint32_t nfp_iso_out_uniform(const struct nfp_pkt *pkts, uint32_t uniform, const struct nfp_iso_guard *g,
					   Where &where, int *bad)
{
	uint32_t i = 0;
	int64_t front;
	uint32_t len;
#if defined(__SSE2__)
	__m128i k[NFP_ISO_CHUNKS];
	nfp_iso_keep_vectors<C>(g, k);
#endif
	for (; i < uniform; i++) {
		where(i, &front, &len);
		if (front != 0 || len != pkts[i].len)
			return i; // moved: the full check
		if (C == 0)
			continue;
#if defined(__SSE2__)
		if (nfp_iso_any(nfp_iso_head_diff<C>(_mm_setzero_si128(), g->heads[i], pkts[i].data, k))) {
#else
		if (nfp_iso_head_changed_bytes(g->heads[i], pkts[i].data, g->keep_bytes)) {
#endif
			*bad = 1;
			return i;
		}
	}
	return i;
}

#if defined(__SSE2__)
/*
 * nfp_iso_out_uniform for a backend whose NFs get copies of the runtime's descriptors (`mirror`,
 * mpk): a packet that did not move has the same `data` and `len` in both, so one masked compare
 * of the two descriptors' first 10 bytes and of the kept chunks checks a packet. Returns where it
 * stopped: at `uniform`, or at the first packet with any difference (the caller judges it).
 */
template <unsigned C>
static inline uint32_t nfp_iso_out_uniform_mirror(const struct nfp_pkt *pkts, const struct nfp_pkt *mirror,
						  uint32_t uniform, const struct nfp_iso_guard *g)
{
	static_assert(offsetof(struct nfp_pkt, len) == 8 && sizeof(struct nfp_pkt) >= 16,
		      "data and len are the descriptor's first 10 bytes");
	__m128i k[NFP_ISO_CHUNKS];
	nfp_iso_keep_vectors<C>(g, k);
	const __m128i dmask = _mm_set_epi16(0, 0, 0, -1, -1, -1, -1, -1);
	uint32_t i = 0;
	for (; i < uniform; i++) {
		__m128i acc = _mm_and_si128(_mm_xor_si128(_mm_loadu_si128((const __m128i *)&pkts[i]),
							  _mm_loadu_si128((const __m128i *)&mirror[i])),
					    dmask);
		if (nfp_iso_any(nfp_iso_head_diff<C>(acc, g->heads[i], pkts[i].data, k)))
			break;
	}
	return i;
}
#endif

/*
 * After the call, the whole batch: `where(i, &front, &len)` says where the NF left packet i (as
 * for nfp_iso_pkt_out, from its descriptor, never dereferenced). Checks and moves every packet as
 * nfp_iso_pkt_out does, the uniform prefix in one tight loop. `mirror`: the descriptors the NFs
 * were handed, when they are copies of `pkts` with the same `data` (mpk); the uniform prefix is
 * then checked straight from them. Returns -1, or the first packet with a violation and its code
 * in `*rc`.
 */
template <typename Where>
static inline int32_t nfp_iso_batch_out(struct nfp_pkt *pkts, uint32_t n, int shared, uint32_t readable,
					uint32_t writable, uint8_t *const *at, const uint8_t (*saved)[NFP_ISO_WIN],
					const struct nfp_iso_guard *g, Where where, int *rc,
					const struct nfp_pkt *mirror = nullptr)
{
	const uint32_t uniform = g->uniform < n ? g->uniform : n;
	int bad = 0;
	uint32_t i;
#if defined(__SSE2__)
#define NFP_ISO_OUT_CALL(c)                                                                                            \
	(mirror != nullptr ? nfp_iso_out_uniform_mirror<c>(pkts, mirror, uniform, g)                                   \
			   : nfp_iso_out_uniform<c>(pkts, uniform, g, where, &bad))
#else
#define NFP_ISO_OUT_CALL(c) nfp_iso_out_uniform<c>(pkts, uniform, g, where, &bad)
#endif
	switch (g->all_writable ? 0 : g->chunks) {
#define NFP_ISO_OUT_CASE(c)                                                                                            \
	case c:                                                                                                        \
		i = NFP_ISO_OUT_CALL(c);                                                                               \
		break;
		NFP_ISO_OUT_CASE(0)
		NFP_ISO_OUT_CASE(1)
		NFP_ISO_OUT_CASE(2)
		NFP_ISO_OUT_CASE(3)
		NFP_ISO_OUT_CASE(4)
		NFP_ISO_OUT_CASE(5)
		NFP_ISO_OUT_CASE(6)
		NFP_ISO_OUT_CASE(7)
		NFP_ISO_OUT_CASE(8)
		NFP_ISO_OUT_CASE(9)
		NFP_ISO_OUT_CASE(10)
		NFP_ISO_OUT_CASE(11)
		NFP_ISO_OUT_CASE(12)
		NFP_ISO_OUT_CASE(13)
		NFP_ISO_OUT_CASE(14)
	default:
		i = NFP_ISO_OUT_CALL(15);
		break;
#undef NFP_ISO_OUT_CASE
#undef NFP_ISO_OUT_CALL
	}
	if (bad) {
		*rc = NFP_ISO_BAD_WRITE;
		return (int32_t)i;
	}
	int64_t front;
	uint32_t len;
	for (; i < n; i++) {
		where(i, &front, &len);
		// (With a mirror, at[] holds nothing for the uniform prefix: those packets lie in place.)
		const uint8_t *win = mirror != nullptr && i < uniform ? nullptr : at[i];
		int r = nfp_iso_pkt_out(&pkts[i], shared, readable, writable, win, saved[i], front, len, g, i);
		if (r < 0) {
			*rc = r;
			return (int32_t)i;
		}
	}
	return -1;
}
#endif

#endif
