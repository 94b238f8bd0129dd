// How sandboxed NFs reach packets: in place or through windows; see windows.h.
#include "windows.h"

#include <stddef.h>
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

// The front-adjustment rules of nf.h: the end stays, the front moves within the headroom and the
// L2 region, and only an NF that may write L2 moves it.
static inline bool front_ok(uint32_t writable, int64_t front, uint32_t len, uint32_t old_len, int64_t l2_end)
{
	if (front == 0 && len == old_len)
		return true;
	return (writable & NFP_REGION_L2) && front >= -(int64_t)NFP_PKT_HEADROOM && front <= l2_end &&
	       front + (int64_t)len == (int64_t)old_len;
}

// Region spans straight from the offsets when they are in order, as the runtime fills them (an
// absent header, NFP_OFF_NONE, is never <= len); else worked out by nfp_iso_regions.
static inline void regions(const struct nfp_pkt *pkt, struct nfp_iso_win *w)
{
	uint16_t len = pkt->len, a = pkt->l3_off, b = pkt->l4_off, c = pkt->payload_off;
	if (a <= b && b <= c && c <= len && len <= NFP_ISO_WIN) {
		w->len = len;
		w->s[0] = {0, a};
		w->s[1] = {a, b};
		w->s[2] = {b, c};
		w->s[3] = {c, len};
		return;
	}
	nfp_iso_regions(pkt, w);
}

// Copies and compares past the head block: 8-byte words, the last one overlapping; library calls
// for long spans.
static inline void copy_span(uint8_t *d, const uint8_t *s, uint32_t n)
{
	if (n < 8 || n > 64) {
		memcpy(d, s, n);
		return;
	}
	uint64_t w;
	for (uint32_t i = 0; i + 8 < n; i += 8) {
		memcpy(&w, s + i, 8);
		memcpy(d + i, &w, 8);
	}
	memcpy(&w, s + n - 8, 8);
	memcpy(d + n - 8, &w, 8);
}

static inline bool same_span(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	if (n < 8 || n > 64)
		return memcmp(a, b, n) == 0;
	uint64_t x, y, diff = 0;
	for (uint32_t i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		diff |= x ^ y;
	}
	memcpy(&x, a + n - 8, 8);
	memcpy(&y, b + n - 8, 8);
	return (diff | (x ^ y)) == 0;
}

// The head block: copied whole, compared into a bit mask of the bytes that differ.
static inline void copy_head(uint8_t *d, const uint8_t *s)
{
#if defined(__SSE2__)
	for (int k = 0; k < 4; k++)
		_mm_storeu_si128((__m128i *)(d + 16 * k), _mm_loadu_si128((const __m128i *)(s + 16 * k)));
#else
	memcpy(d, s, NFP_ISO_HEAD);
#endif
}

// Bit mask of the head bytes in [lo, hi).
static inline uint64_t head_bits(uint32_t lo, uint32_t hi)
{
	lo = lo < NFP_ISO_HEAD ? lo : NFP_ISO_HEAD;
	hi = hi < NFP_ISO_HEAD ? hi : NFP_ISO_HEAD;
	if (lo >= hi)
		return 0;
	uint64_t upto_hi = hi == NFP_ISO_HEAD ? ~0ull : (1ull << hi) - 1;
	return upto_hi & ~((1ull << lo) - 1);
}

// Which head bytes of a packet with these region spans an NF may not change, and whether any
// byte past the head is one of them.
static inline uint64_t head_kept(const struct nfp_iso_win *w, uint32_t writable, bool *tail)
{
	uint64_t keep = 0;
	*tail = false;
	for (int r = 0; r < 4; r++)
		if (!(writable & (1u << r))) {
			keep |= head_bits(w->s[r].lo, w->s[r].hi);
			*tail |= w->s[r].hi > NFP_ISO_HEAD;
		}
	return keep;
}

// A packet's header layout as one word: its length and the three offsets.
static inline uint64_t layout(const struct nfp_pkt *pkt)
{
	static_assert(offsetof(struct nfp_pkt, l3_off) == offsetof(struct nfp_pkt, len) + 2 &&
			      offsetof(struct nfp_pkt, payload_off) == offsetof(struct nfp_pkt, len) + 6,
		      "the layout word reads len and the three offsets together");
	uint64_t w;
	memcpy(&w, &pkt->len, sizeof(w));
	return w;
}

// Header offsets in order, as the runtime fills them: the regions follow from the layout alone.
static inline bool ordered(const struct nfp_pkt *pkt)
{
	return pkt->l3_off <= pkt->l4_off && pkt->l4_off <= pkt->payload_off && pkt->payload_off <= pkt->len &&
	       pkt->len <= NFP_ISO_WIN;
}

// The uniform prefix of a batch (nfp_iso_batch_in): packets in place with `first`'s layout, of
// whose head blocks only the chunks in C hold bytes the NF may not change; those are saved. The
// layout word holds the length, so one span check places every packet in the area.
template <unsigned C>
static uint32_t save_uniform(const struct nfp_iso_area *area, const struct nfp_pkt *__restrict pkts, uint32_t n,
			     uint64_t first, struct nfp_iso_guard *__restrict g, uint8_t **__restrict at,
			     uint16_t *__restrict len, struct nfp_pkt *__restrict mirror)
{
	const uint16_t plen = pkts[0].len; // (the caller saw at least one packet)
	const uintptr_t span = plen > NFP_ISO_HEAD ? plen : NFP_ISO_HEAD;
	const uintptr_t lo = (uintptr_t)area->lo + NFP_PKT_HEADROOM, hi = (uintptr_t)area->hi;
	if (hi < lo + span)
		return 0;
	const uintptr_t room = hi - span - lo; // data - lo must not exceed it
	uint32_t i = 0;
	for (; i < n; i++) {
		const struct nfp_pkt *pkt = &pkts[i];
		const uint8_t *data = pkt->data;
		if (layout(pkt) != first || (uintptr_t)data - lo > room)
			break;
		// With a mirror the NFs' descriptors say where they are (at/len stay unwritten).
		if (mirror != nullptr) {
			mirror[i] = *pkt;
		} else {
			at[i] = (uint8_t *)data;
			len[i] = plen;
		}
#if defined(__SSE2__)
		for (unsigned c = 0; c < NFP_ISO_CHUNKS; c++)
			if ((C >> c) & 1)
				_mm_store_si128((__m128i *)(g->heads[i] + NFP_ISO_CHUNK * c),
						_mm_loadu_si128((const __m128i *)(data + NFP_ISO_CHUNK * c)));
#else
		for (unsigned c = 0; c < NFP_ISO_CHUNKS; c++)
			if ((C >> c) & 1)
				memcpy(g->heads[i] + NFP_ISO_CHUNK * c, data + NFP_ISO_CHUNK * c, NFP_ISO_CHUNK);
#endif
	}
	return i;
}

typedef uint32_t (*save_uniform_fn)(const struct nfp_iso_area *, const struct nfp_pkt *, uint32_t, uint64_t,
				    struct nfp_iso_guard *, uint8_t **, uint16_t *, struct nfp_pkt *);
static const save_uniform_fn k_save_uniform[16] = {
	save_uniform<0>, save_uniform<1>,  save_uniform<2>,  save_uniform<3>,  save_uniform<4>,  save_uniform<5>,
	save_uniform<6>, save_uniform<7>,  save_uniform<8>,  save_uniform<9>,  save_uniform<10>, save_uniform<11>,
	save_uniform<12>, save_uniform<13>, save_uniform<14>, save_uniform<15>,
};

// Bit c set when chunk c of a head mask holds a kept byte.
static inline uint8_t kept_chunks(uint64_t keep)
{
	uint8_t c = 0;
	for (unsigned k = 0; k < NFP_ISO_CHUNKS; k++)
		if ((keep >> (NFP_ISO_CHUNK * k)) & 0xffffull)
			c |= (uint8_t)(1u << k);
	return c;
}

void nfp_iso_batch_in(const struct nfp_iso_area *area, int shared, const struct nfp_pkt *pkts, uint32_t n,
		      uint32_t readable, uint32_t writable, uint8_t *wins, uint8_t (*saved)[NFP_ISO_WIN],
		      struct nfp_iso_guard *g, uint8_t **at, uint16_t *len, struct nfp_pkt *mirror)
{
	writable &= NFP_ISO_ALL_REGIONS;
	const uint8_t all = writable == NFP_ISO_ALL_REGIONS;
	g->all_writable = all;
	uint32_t i = 0;
	bool tail = false;
	uint64_t keep = 0;
	if (shared && n > 0 && nfp_iso_in_area(area, &pkts[0]) && ordered(&pkts[0])) {
		// The uniform prefix: in place, the first packet's layout, nothing kept past the head.
		if (!all) {
			// The mask follows from the layout word and the rights alone (ordered offsets).
			const uint64_t lay = layout(&pkts[0]);
			if (g->keep_known && g->keep_layout == lay && g->keep_writable == writable) {
				keep = g->keep; // (known only for a layout with nothing kept past the head)
			} else {
				struct nfp_iso_win w;
				regions(&pkts[0], &w);
				keep = head_kept(&w, writable, &tail);
				g->keep_known = !tail;
				g->keep_layout = lay;
				g->keep_writable = writable;
			}
		}
		if (!tail) {
			if (keep != g->keep) { // (a zeroed guard holds keep 0 as bytes)
				for (uint32_t b = 0; b < NFP_ISO_HEAD; b++)
					g->keep_bytes[b] = (keep >> b) & 1 ? 0xff : 0;
				g->keep = keep;
				g->chunks = kept_chunks(keep);
			}
			i = k_save_uniform[all ? 0 : g->chunks](area, pkts, n, layout(&pkts[0]), g, at, len, mirror);
		}
	}
	g->uniform = i;
	// The rest one by one. Packets of one batch mostly share their layout: the last one's mask
	// is reused, and a packet's regions are worked out only for a new one.
	uint64_t shape = ~0ull;
	for (; i < n; i++) {
		const struct nfp_pkt *pkt = &pkts[i];
		struct nfp_iso_pkt *s = &g->pk[i];
		s->all_writable = all;
		s->tail = 0;
		s->in_place = shared && nfp_iso_in_area(area, pkt);
		if (s->in_place) {
			at[i] = pkt->data;
			len[i] = s->len = pkt->len;
			if (all)
				continue;
			// (A layout out of order has regions that depend on the bytes: worked out each time.)
			uint64_t sh = ordered(pkt) ? layout(pkt) : ~0ull;
			if (sh != shape || sh == ~0ull) {
				struct nfp_iso_win w;
				regions(pkt, &w);
				keep = head_kept(&w, writable, &tail);
				shape = sh;
			}
			s->head_kept = keep;
			copy_head(g->heads[i], pkt->data);
			if (!tail)
				continue;
			// Past the head, the bytes the NF may not change are saved as well.
			s->tail = 1;
			struct nfp_iso_win w;
			regions(pkt, &w);
			uint32_t o = 0;
			for (int r = 0; r < 4; r++) {
				const struct nfp_iso_span sp = w.s[r];
				if ((writable & (1u << r)) || sp.hi <= NFP_ISO_HEAD)
					continue;
				uint32_t lo = sp.lo > NFP_ISO_HEAD ? sp.lo : NFP_ISO_HEAD;
				if (o + (sp.hi - lo) > NFP_ISO_WIN) { // odd overlapping offsets: copy it instead
					s->in_place = 0;
					break;
				}
				copy_span(saved[i] + o, pkt->data + lo, (uint32_t)(sp.hi - lo));
				o += (uint32_t)(sp.hi - lo);
			}
			if (s->in_place)
				continue;
		}
		at[i] = wins + (size_t)i * NFP_ISO_SLOT + NFP_PKT_HEADROOM;
		len[i] = s->len = nfp_iso_window_in(pkt, shared ? NFP_ISO_ALL_REGIONS : readable, writable, at[i], &s->w);
	}
	for (i = g->uniform; mirror != nullptr && i < n; i++) {
		mirror[i] = pkts[i];
		mirror[i].data = at[i];
		mirror[i].len = len[i];
	}
}

int nfp_iso_pkt_out_all(struct nfp_pkt *pkt, int shared, uint32_t readable, uint32_t writable, const uint8_t *win,
			const uint8_t *saved, int64_t front, uint32_t len, const struct nfp_iso_guard *g, uint32_t i)
{
	writable &= NFP_ISO_ALL_REGIONS;
	const struct nfp_iso_pkt *st = &g->pk[i];
	// A packet of the uniform prefix has only its head in its row: the rest is the batch's.
	const bool uniform = i < g->uniform;
	const bool in_place = uniform || st->in_place, all = uniform ? g->all_writable : st->all_writable;
	const bool tail = !uniform && st->tail;
	const uint32_t old_len = uniform ? pkt->len : st->len;
	const uint64_t kept = uniform ? g->keep : st->head_kept;
	// A packet in place: its regions again from the runtime's own descriptor (unchanged since the
	// call began); a window's were kept.
	struct nfp_iso_win w;
	if (in_place && !all)
		regions(pkt, &w);
	const struct nfp_iso_win *ws = in_place ? &w : &st->w;
	int64_t l2_end = all ? (int64_t)old_len : (int64_t)ws->s[0].hi;
	if (!front_ok(writable, front, len, old_len, l2_end))
		return NFP_ISO_BAD_FRONT;
	if (!in_place)
		return nfp_iso_window_out(pkt, shared ? NFP_ISO_ALL_REGIONS : readable, writable, win, (int32_t)front, len,
					  &st->w) < 0
			       ? NFP_ISO_BAD_WRITE
			       : 0;
	if (!all) {
		// The saved bytes sit where they were: a front move needs L2 writable, and L3 on never moves.
		if (nfp_iso_head_changed(g->heads[i], pkt->data, kept))
			return NFP_ISO_BAD_WRITE;
		uint32_t o = 0;
		for (int r = 0; tail && r < 4; r++) {
			const struct nfp_iso_span sp = ws->s[r];
			if ((writable & (1u << r)) || sp.hi <= NFP_ISO_HEAD)
				continue;
			uint32_t lo = sp.lo > NFP_ISO_HEAD ? sp.lo : NFP_ISO_HEAD;
			if (!same_span(saved + o, pkt->data + lo, (uint32_t)(sp.hi - lo)))
				return NFP_ISO_BAD_WRITE;
			o += (uint32_t)(sp.hi - lo);
		}
	}
	// The header offsets stay: the caller shifts them before the next NF (pkt_parse.h).
	pkt->data += front;
	pkt->len = (uint16_t)len;
	return 0;
}
