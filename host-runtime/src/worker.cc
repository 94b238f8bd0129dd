// The run-to-completion worker: rx burst -> group by NSH SPI -> each path's host NFs over the
// whole batch, verdicts applied between NFs (dynamic branches split the batch) -> tx.
// No allocation, locks or exceptions here; all working memory is the worker's Scratch.
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "log.h"
#include "nsh.h"
#include "pkt_parse.h"
#include "runtime.h"

namespace nfp {

// A sub-batch whose packets all sit on one path, about to run hop `hop`.
struct Item {
	uint16_t path;
	uint16_t hop;
	uint32_t count;
	struct rte_mbuf *mb[kMaxBurst];
	struct nfp_pkt pk[kMaxBurst];
};

// Items in use never exceed the burst's packets plus the one running item (which may have
// handed all its packets to branch sub-batches), hence kMaxItems.
constexpr uint32_t kMaxItems = kMaxBurst + 1;

struct Scratch {
	Item items[kMaxItems];
	uint32_t free_items[kMaxItems];
	uint32_t n_free;
	uint32_t stack[kMaxItems];
	uint32_t n_stack;
	uint8_t verdicts[kMaxBurst];
	uint8_t reasons[kMaxBurst];
	struct rte_mbuf *tx[kMaxBurst];
	uint32_t n_tx;
	struct rte_mbuf *dropped[kMaxBurst];
	uint32_t n_dropped;
};

Scratch *scratch_create(uint32_t burst, int socket)
{
	auto *s = (Scratch *)rte_zmalloc_socket("nfp_scratch", sizeof(Scratch), 64, socket);
	return s;
}

void scratch_free(Scratch *s) { rte_free(s); }

static inline MbufPriv *priv_of(struct rte_mbuf *m) { return (MbufPriv *)rte_mbuf_to_priv(m); }

static inline void drop_pkt(Worker *w, Scratch *s, struct rte_mbuf *m, uint16_t reason)
{
	w->drops[reason]++;
	priv_of(m)->reason = reason;
	s->dropped[s->n_dropped++] = m;
}

static inline uint32_t item_alloc(Scratch *s) { return s->free_items[--s->n_free]; }
static inline void item_release(Scratch *s, uint32_t i) { s->free_items[s->n_free++] = i; }

// Front adjustment (nf.h): a packet an NF grew or shrank at its front takes its mbuf along.
static inline bool front_in_place(struct rte_mbuf *m, const struct nfp_pkt *pk)
{
	return pk->data == rte_pktmbuf_mtod(m, uint8_t *) + NFP_NSH_SHIFT &&
	       pk->len == rte_pktmbuf_data_len(m) - NFP_NSH_SHIFT;
}

// Every NF call finds at least NFP_PKT_HEADROOM bytes in front of the inner frame beyond the
// NSH_SHIFT bytes the exit re-encapsulation needs: moves the frame into the tailroom when a
// push used them up. False when the mbuf has no room left.
static inline bool keep_headroom(struct rte_mbuf *m)
{
	if (likely(rte_pktmbuf_headroom(m) >= NFP_PKT_HEADROOM))
		return true;
	uint16_t shift = (uint16_t)(NFP_PKT_HEADROOM - rte_pktmbuf_headroom(m));
	if (rte_pktmbuf_tailroom(m) < shift)
		return false;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	memmove(frame + shift, frame, rte_pktmbuf_data_len(m));
	m->data_off = (uint16_t)(m->data_off + shift);
	return true;
}

// The slow path: checks the NF kept to the rules (the end stays, `data` stays in the buffer
// with room for the NSH), moves the mbuf's start, and shifts the header offsets for the next NF.
static bool follow_front(struct rte_mbuf *m, struct nfp_pkt *pk)
{
	uint8_t *inner = rte_pktmbuf_mtod(m, uint8_t *) + NFP_NSH_SHIFT;
	uint8_t *end = inner + (rte_pktmbuf_data_len(m) - NFP_NSH_SHIFT);
	if (pk->data < (uint8_t *)m->buf_addr + NFP_NSH_SHIFT || pk->data > end || pk->data + pk->len != end)
		return false;
	int32_t grow = (int32_t)(inner - pk->data);
	m->data_off = (uint16_t)(m->data_off - grow);
	m->data_len = (uint16_t)(m->data_len + grow);
	m->pkt_len = (uint32_t)(m->pkt_len + grow);
	nfp_pkt_shift_offsets(pk, grow);
	if (!keep_headroom(m))
		return false;
	pk->data = rte_pktmbuf_mtod(m, uint8_t *) + NFP_NSH_SHIFT;
	return true;
}

// Keeps why a tenant was quarantined (the first fault since; once per tenant, not per packet)
// and says so on the runtime's log.
static void record_fault(Runtime *rt, const Nf *nf, const struct nfp_domain *d)
{
	Runtime::TenantFault &f = rt->tenant_fault[nf->tenant];
	if (f.claimed.exchange(1, std::memory_order_acq_rel) != 0)
		return;
	const char *why = d->ops->fault != NULL ? d->ops->fault(d) : "";
	if (why[0] != '\0')
		snprintf(f.text, sizeof(f.text), "%s", why);
	else
		snprintf(f.text, sizeof(f.text), "%s: fault in its %s domain", nf->name.c_str(), d->ops->name);
	f.ready.store(1, std::memory_order_release);
	fprintf(nfp_log_stream(), "nfp tenant %u quarantined: %s\n", nf->tenant, f.text);
}

// Runs item `it` along its path until the path leaves the host or no packet is left.
static void run_item(Worker *w, Scratch *s, uint32_t idx, uint64_t now_ns)
{
	Runtime *rt = w->rt;
	Item *it = &s->items[idx];
	const Path *path = &rt->paths[it->path];
	uint32_t h = path->next_host[it->hop];
	while (h < path->n_hops && it->count > 0) {
		const Hop *hop = &path->hops[h];
		const Nf *nf = &rt->nfs[hop->nf];
		const NfInstance *ins = &w->inst[hop->nf];
		if (rt->quarantined[nf->tenant].load(std::memory_order_relaxed)) {
			for (uint32_t i = 0; i < it->count; i++)
				drop_pkt(w, s, it->mb[i], kQuarantined);
			it->count = 0;
			break;
		}
		// Host hops h, h+1, ... entered once as a chain where the load found they can be.
		uint32_t run_n = w->chain_run[(size_t)it->path * kMaxHops + h];
		struct nfp_batch batch = {it->count, it->pk, s->verdicts, s->reasons};
		// An NF that leaves a verdict unwritten drops that packet as `bad-verdict`, never
		// reusing the previous batch's verdict.
		memset(s->verdicts, 0xff, kMaxBurst); // a fixed size: two stores, no library call
		uint8_t decided[kMaxBurst]; // in a chain: which of its NFs decided each packet
		uint64_t c0 = rte_rdtsc();
		int rc = -EINVAL;
		if (run_n > 1) {
			uint32_t slots[NFP_DOMAIN_MAX_CHAIN];
			for (uint32_t j = 0; j < run_n; j++)
				slots[j] = w->inst[path->hops[h + j].nf].slot;
			rc = ins->domain->ops->process_chain(ins->domain, slots, run_n, &batch, now_ns, decided);
		}
		if (rc == -EINVAL) { // no chain here: one entry for this NF
			run_n = 1;
			rc = ins->domain->ops->process(ins->domain, ins->slot, &batch, now_ns);
		}
		uint64_t cyc = rte_rdtsc() - c0;
		PathStats *ps = &w->path_stats[it->path];
		ps->cycles += cyc;
		if (run_n == 1) {
			NfStats *ns = &w->nf_stats[hop->nf];
			ns->calls++;
			ns->packets += it->count;
			ns->cycles += cyc;
			ps->hop_packets[h] += it->count;
			ps->hop_cycles[h] += cyc;
		} else {
			// Each NF of the chain is billed the packets it saw and its share of the cycles.
			uint32_t reached[NFP_DOMAIN_MAX_CHAIN + 1] = {0}, seen = 0;
			for (uint32_t i = 0; i < it->count; i++)
				reached[decided[i] < run_n ? decided[i] : run_n - 1]++;
			for (uint32_t j = run_n - 1; j > 0; j--)
				reached[j - 1] += reached[j];
			for (uint32_t j = 0; j < run_n; j++)
				seen += reached[j];
			for (uint32_t j = 0; j < run_n && rc >= 0; j++) {
				uint64_t share = seen ? cyc * reached[j] / seen : 0;
				NfStats *ns = &w->nf_stats[path->hops[h + j].nf];
				ns->calls += reached[j] > 0;
				ns->packets += reached[j];
				ns->cycles += share;
				ps->hop_packets[h + j] += reached[j];
				ps->hop_cycles[h + j] += share;
			}
		}
		if (rc < 0) {
			// A fault costs only its tenant: quarantine it and drop what it held.
			record_fault(rt, nf, ins->domain);
			rt->quarantined[nf->tenant].store(1, std::memory_order_relaxed);
			rt->faults[nf->tenant].fetch_add(1, std::memory_order_relaxed);
			for (uint32_t i = 0; i < it->count; i++)
				drop_pkt(w, s, it->mb[i], kQuarantined);
			it->count = 0;
			break;
		}
		uint32_t sub[NFP_NF_MAX_VERDICTS];
		uint32_t n_sub = 0;
		int8_t sub_of[NFP_NF_MAX_VERDICTS];
		memset(sub_of, -1, sizeof(sub_of));
		uint32_t keep = 0;
		for (uint32_t i = 0; i < it->count; i++) {
			uint8_t v = s->verdicts[i];
			// The hop whose NF decided the packet (in a chain, the one that did not pass it).
			uint32_t dh = h + (run_n == 1 ? 0 : decided[i] < run_n ? decided[i] : run_n - 1);
			const Hop *by = &path->hops[dh];
			const Nf *by_nf = &rt->nfs[by->nf];
			if (unlikely(!front_in_place(it->mb[i], &it->pk[i])) && v != NFP_VERDICT_DROP &&
			    !follow_front(it->mb[i], &it->pk[i])) {
				// Out of the rules, or (never with an MTU frame) out of mbuf room.
				drop_pkt(w, s, it->mb[i], kBadVerdict);
				continue;
			}
			if (likely(v == NFP_VERDICT_PASS)) {
				if (keep != i) {
					it->mb[keep] = it->mb[i];
					it->pk[keep] = it->pk[i];
				}
				keep++;
			} else if (v == NFP_VERDICT_DROP) {
				uint8_t r = s->reasons[i];
				drop_pkt(w, s, it->mb[i], r < by_nf->n_drop_reasons ? by_nf->reason_base + r : kBadVerdict);
			} else if (v >= NFP_VERDICT_BRANCH && v - NFP_VERDICT_BRANCH < (int)by_nf->n_verdicts) {
				uint32_t vi = v - NFP_VERDICT_BRANCH;
				int16_t to = by->branch[vi];
				if (to < 0) { // no branch planned for this verdict: continue on this path
					it->mb[keep] = it->mb[i];
					it->pk[keep++] = it->pk[i];
					continue;
				}
				if (sub_of[vi] < 0) {
					uint32_t ni = item_alloc(s);
					Item *n = &s->items[ni];
					n->path = (uint16_t)to;
					n->hop = (uint16_t)(dh + 1);
					n->count = 0;
					sub_of[vi] = (int8_t)n_sub;
					sub[n_sub++] = ni;
				}
				Item *n = &s->items[sub[sub_of[vi]]];
				n->mb[n->count] = it->mb[i];
				n->pk[n->count] = it->pk[i];
				n->pk[n->count++].path = (uint16_t)rt->paths[to].id;
				priv_of(it->mb[i])->path = (uint16_t)rt->paths[to].id;
			} else {
				drop_pkt(w, s, it->mb[i], kBadVerdict);
			}
		}
		it->count = keep;
		for (uint32_t k = 0; k < n_sub; k++) {
			w->path_stats[s->items[sub[k]].path].packets += s->items[sub[k]].count;
			s->stack[s->n_stack++] = sub[k];
		}
		h = path->next_host[h + run_n];
	}
	// Leaves the host: the NSH now names the path the packet ended on and its remaining SI.
	if (it->count > 0) {
		uint8_t header[16];
		nfp_nsh_header(header, path->id, path->si_from[h], path->tenant);
		uint32_t n_tx = s->n_tx;
		for (uint32_t i = 0; i < it->count; i++) {
			struct rte_mbuf *m = it->mb[i];
			nfp_nsh_encap_with(rte_pktmbuf_mtod(m, uint8_t *), header);
			s->tx[n_tx++] = m;
		}
		s->n_tx = n_tx;
	}
	item_release(s, idx);
}

// Not a drop reason: the packet's path has no host hop left, so it leaves as it came.
constexpr int kNothingToRun = -2;

// The bytes a packet is classified by: its EtherType and its NSH (frame[12..30)). Two frames of
// at least NFP_NSH_MIN_FRAME bytes in one segment with equal keys classify alike, so a burst
// validates and looks up its NSH once per run of equal keys (one run when the NIC pre-sorted it).
struct NshKey {
	uint64_t a, b;
	uint16_t c;
};

static inline NshKey nsh_key(const uint8_t *frame)
{
	NshKey k;
	memcpy(&k.a, frame + 12, 8);
	memcpy(&k.b, frame + 20, 8);
	memcpy(&k.c, frame + 28, 2);
	return k;
}

static inline bool nsh_key_eq(const NshKey &x, const NshKey &y)
{
	return ((x.a ^ y.a) | (x.b ^ y.b) | (uint64_t)(x.c ^ y.c)) == 0;
}

// Validates one NSH and looks its SPI up: a drop reason, -1 (run the path from `*hop`), or
// kNothingToRun. Depends only on the key bytes, on len >= NFP_NSH_MIN_FRAME, on nb_segs == 1 and
// on `owner`: the tenant whose memory the queue's packets live in (-1: the runtime's), whose paths
// alone they may enter (its NFs could have rewritten a queued packet's NSH).
static inline int classify_nsh(Runtime *rt, const uint8_t *frame, uint32_t len, uint16_t nb_segs, int32_t owner,
			       uint16_t *path_idx, uint16_t *hop)
{
	struct nfp_nsh_fields f;
	int rc = nb_segs == 1 ? nfp_nsh_parse(frame, len, &f) : -2;
	if (rc == -1)
		return kNoNsh;
	if (rc < 0)
		return kBadNsh;
	if (f.spi >= rt->spi_to_path.size() || rt->spi_to_path[f.spi] < 0)
		return kUnknownPath;
	uint16_t pi = (uint16_t)rt->spi_to_path[f.spi];
	const Path *p = &rt->paths[pi];
	if (f.tenant != p->tenant || (owner >= 0 && p->tenant != owner))
		return kTenantMismatch;
	if (f.si > p->host_hops)
		return kBadSi;
	uint32_t k = p->host_hops - f.si;
	*path_idx = pi;
	if (k >= p->host_hops)
		return kNothingToRun; // SI 0: every host hop already ran (or the path has none)
	*hop = p->host_idx[k];
	return -1;
}

// A packet classified to run its path: strips the NSH and fills the NFs' view of it. False when
// the mbuf has no room for the headroom NFs are promised.
static inline bool enter_path(struct rte_mbuf *m, const Path *p, struct nfp_pkt *pk)
{
	if (unlikely(!keep_headroom(m)))
		return false;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	priv_of(m)->path = (uint16_t)p->id;
	nfp_nsh_decap(frame);
	nfp_pkt_fill(pk, frame + NFP_NSH_SHIFT, rte_pktmbuf_data_len(m) - NFP_NSH_SHIFT, p->tenant,
		     (uint16_t)p->id);
	return true;
}

static inline void restore(struct rte_mbuf *m)
{
	MbufPriv *pv = priv_of(m);
	if (unlikely(m->data_off != RTE_PKTMBUF_HEADROOM || m->data_len != pv->wire_len)) {
		// An NF grew or shrank it at the front: back to the injected layout.
		m->data_off = RTE_PKTMBUF_HEADROOM;
		m->data_len = pv->wire_len;
		m->pkt_len = pv->wire_len;
	}
	rte_memcpy(rte_pktmbuf_mtod(m, uint8_t *), pv->orig, pv->orig_len);
}

// A packet in a tenant's memory leaves as two segments: its outer header (MACs and NSH, what the
// NIC trusts to tell tenants and paths apart) copied into a runtime mbuf, then the rest in place.
// Until the NIC has read it, the tenant's next batch could rewrite its own buffer; the NSH it
// could forge is then no longer there. False when no header mbuf is left (counted as tx-full).
static inline bool detach_header(Runtime *rt, struct rte_mbuf **pm)
{
	struct rte_mbuf *m = *pm;
	struct rte_mbuf *h = rte_pktmbuf_alloc(rt->pool);
	if (unlikely(h == nullptr))
		return false;
	uint16_t n = rte_pktmbuf_data_len(m) < NFP_NSH_MIN_FRAME ? rte_pktmbuf_data_len(m) : NFP_NSH_MIN_FRAME;
	rte_memcpy(rte_pktmbuf_mtod(h, uint8_t *), rte_pktmbuf_mtod(m, const uint8_t *), n);
	*priv_of(h) = *priv_of(m);
	rte_pktmbuf_adj(m, n);
	h->data_len = n;
	h->pkt_len = n + m->pkt_len;
	h->nb_segs = (uint16_t)(1 + m->nb_segs);
	h->next = m;
	*pm = h;
	return true;
}

static void flush(Worker *w, Scratch *s, uint16_t queue, uint32_t n_rx)
{
	Runtime *rt = w->rt;
	if (rt->cfg.loopback) {
		for (uint32_t i = 0; i < s->n_tx; i++)
			restore(s->tx[i]);
	} else if (rt->queue_pool_tenant[queue] >= 0) {
		uint32_t keep = 0;
		for (uint32_t i = 0; i < s->n_tx; i++) {
			if (likely(detach_header(rt, &s->tx[i])))
				s->tx[keep++] = s->tx[i];
			else
				drop_pkt(w, s, s->tx[i], kTxFull);
		}
		s->n_tx = keep;
	}
	if (unlikely(rt->tx_stage != nullptr) && s->n_tx)
		s->n_tx = rt->tx_stage(rt->tx_stage_ctx, queue, s->tx, (uint16_t)s->n_tx);
	uint16_t sent = s->n_tx ? rte_eth_tx_burst(rt->queue_port[queue], rt->queue_hwq[queue], s->tx, (uint16_t)s->n_tx) : 0;
	for (uint32_t i = sent; i < s->n_tx; i++)
		drop_pkt(w, s, s->tx[i], kTxFull);
	if (s->n_dropped) {
		if (rt->cfg.loopback) {
			// Benchmarks keep the packet population constant: a dropped packet goes round again.
			for (uint32_t i = 0; i < s->n_dropped; i++)
				restore(s->dropped[i]);
			uint32_t q = rte_ring_enqueue_burst(rt->rx_rings[queue], (void **)s->dropped, s->n_dropped, NULL);
			if (q < s->n_dropped)
				rte_pktmbuf_free_bulk(s->dropped + q, s->n_dropped - q);
		} else if (rt->cfg.capture_drops) {
			uint32_t q = rte_ring_enqueue_burst(rt->drop_rings[queue], (void **)s->dropped, s->n_dropped, NULL);
			if (q < s->n_dropped) {
				w->stats.capture_lost += s->n_dropped - q;
				rte_pktmbuf_free_bulk(s->dropped + q, s->n_dropped - q);
			}
		} else {
			rte_pktmbuf_free_bulk(s->dropped, s->n_dropped);
		}
	}
	w->stats.tx += sent;
	w->stats.dropped += s->n_dropped;
	w->stats.bursts++;
	// rx last: a reader that sees rx sees this burst fully accounted for.
	__atomic_store_n(&w->stats.rx, w->stats.rx + n_rx, __ATOMIC_RELEASE);
	s->n_tx = 0;
	s->n_dropped = 0;
}

// True when every packet of the burst is one segment long enough for an NSH and carries the
// first packet's NSH bytes (its key, into *k0): the burst then classifies as its first packet.
// Stops at the first packet that differs, so a mixed burst pays for about one comparison.
static inline bool burst_uniform(struct rte_mbuf **pkts, uint32_t n, NshKey *k0)
{
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (unlikely(m->nb_segs != 1 || rte_pktmbuf_data_len(m) < NFP_NSH_MIN_FRAME))
			return false;
		NshKey k = nsh_key(rte_pktmbuf_mtod(m, const uint8_t *));
		if (i == 0)
			*k0 = k;
		else if (unlikely(!nsh_key_eq(k, *k0)))
			return false;
	}
	return true;
}

static void run_stack(Worker *w, Scratch *s, uint64_t now_ns)
{
	while (s->n_stack > 0)
		run_item(w, s, s->stack[--s->n_stack], now_ns);
}

// A burst whose packets all carry one valid NSH (the pre-sorted case): validated and looked up
// once, then one batch. False (nothing done) when the burst is not uniform or its NSH is invalid.
static bool uniform_burst(Worker *w, Scratch *s, uint16_t queue, struct rte_mbuf **pkts, uint32_t n,
			  uint64_t now_ns)
{
	Runtime *rt = w->rt;
	NshKey k0;
	uint16_t pi, hop;
	if (n == 0 || !burst_uniform(pkts, n, &k0))
		return false;
	int r = classify_nsh(rt, rte_pktmbuf_mtod(pkts[0], const uint8_t *), rte_pktmbuf_data_len(pkts[0]), 1,
			     rt->queue_pool_tenant[queue], &pi, &hop);
	if (r >= 0)
		return false; // every packet is dropped with this reason: the per-packet loop does it
	if (r == kNothingToRun) { // no host NF left on its path: forwarded untouched
		memcpy(s->tx + s->n_tx, pkts, n * sizeof(*pkts));
		s->n_tx += n;
		w->path_stats[pi].packets += n;
	} else {
		uint32_t gi = item_alloc(s);
		Item *g = &s->items[gi];
		const Path *p = &rt->paths[pi];
		g->path = pi;
		g->hop = hop;
		g->count = 0;
		for (uint32_t i = 0; i < n; i++) {
			if (i + 4 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
			if (unlikely(!enter_path(pkts[i], p, &g->pk[g->count]))) {
				drop_pkt(w, s, pkts[i], kBadVerdict);
				continue;
			}
			g->mb[g->count++] = pkts[i];
		}
		w->path_stats[pi].packets += g->count;
		s->stack[s->n_stack++] = gi;
		run_stack(w, s, now_ns);
	}
	flush(w, s, queue, n);
	return true;
}

static void process_burst(Worker *w, Scratch *s, uint16_t queue, struct rte_mbuf **pkts, uint32_t n,
			  uint64_t now_ns)
{
	Runtime *rt = w->rt;
	if (likely(uniform_burst(w, s, queue, pkts, n, now_ns)))
		return;
	// Batch first, packet by packet after: where each frame is (the mbuf headers' loads are
	// independent, so their misses overlap), then every frame prefetched before any is read.
	const uint8_t *frames[kMaxBurst];
	uint32_t lens[kMaxBurst];
	uint8_t keyed[kMaxBurst]; // one segment, long enough for an NSH: classified by its key
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		frames[i] = rte_pktmbuf_mtod(m, const uint8_t *);
		lens[i] = rte_pktmbuf_data_len(m);
		keyed[i] = (m->nb_segs == 1) & (lens[i] >= NFP_NSH_MIN_FRAME);
	}
	for (uint32_t i = 0; i < n; i++)
		rte_prefetch0(frames[i]);
	// Group by (path, hop): when the NIC pre-sorted the queue this is one group.
	uint32_t groups[kMaxBurst];
	uint32_t n_groups = 0, last = UINT32_MAX;
	// The last key that classified to a path, its outcome, and the packets forwarded untouched
	// on that path not yet counted in path_stats.
	NshKey key = {};
	bool have_key = false;
	int key_r = 0;
	uint16_t key_pi = 0, key_hop = 0;
	uint32_t fwd = 0;
	uint32_t n_tx = s->n_tx;
	for (uint32_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int r;
		uint16_t pi, hop;
		NshKey k = {};
		if (likely(keyed[i]))
			k = nsh_key(frames[i]);
		if (likely(keyed[i] && have_key && nsh_key_eq(k, key))) {
			// The same NSH bytes as a packet already validated: the same outcome.
			r = key_r;
			pi = key_pi;
			hop = key_hop;
		} else {
			r = classify_nsh(rt, frames[i], lens[i], m->nb_segs, rt->queue_pool_tenant[queue], &pi, &hop);
			if (r >= 0) {
				drop_pkt(w, s, m, (uint16_t)r);
				continue;
			}
			if (have_key && fwd) {
				w->path_stats[key_pi].packets += fwd;
				fwd = 0;
			}
			have_key = keyed[i]; // a valid NSH is always keyed
			key = k;
			key_r = r;
			key_pi = pi;
			key_hop = hop;
		}
		if (r == kNothingToRun) { // no host NF left on its path: forwarded untouched
			fwd++;
			s->tx[n_tx++] = m;
			continue;
		}
		Item *g = last != UINT32_MAX ? &s->items[last] : NULL;
		if (g == NULL || g->path != pi || g->hop != hop) {
			g = NULL;
			for (uint32_t c = 0; c < n_groups; c++) {
				Item *cand = &s->items[groups[c]];
				if (cand->path == pi && cand->hop == hop) {
					g = cand;
					last = groups[c];
					break;
				}
			}
			if (g == NULL) {
				last = item_alloc(s);
				g = &s->items[last];
				g->path = pi;
				g->hop = hop;
				g->count = 0;
				groups[n_groups++] = last;
			}
		}
		if (unlikely(!enter_path(m, &rt->paths[pi], &g->pk[g->count]))) {
			drop_pkt(w, s, m, kBadVerdict);
			continue;
		}
		g->mb[g->count++] = m;
	}
	s->n_tx = n_tx;
	if (fwd)
		w->path_stats[key_pi].packets += fwd;
	for (uint32_t k = n_groups; k-- > 0;) {
		w->path_stats[s->items[groups[k]].path].packets += s->items[groups[k]].count;
		s->stack[s->n_stack++] = groups[k];
	}
	run_stack(w, s, now_ns);
	flush(w, s, queue, n);
}

static void raw_burst(Worker *w, Scratch *s, uint16_t queue, struct rte_mbuf **pkts, uint32_t n, uint64_t)
{
	for (uint32_t i = 0; i < n; i++)
		s->tx[s->n_tx++] = pkts[i];
	flush(w, s, queue, n);
}

uint64_t worker_cpu_ns(Worker *w)
{
	if (!w->thread_known.load(std::memory_order_acquire))
		return 0;
	clockid_t cid;
	struct timespec ts;
	if (pthread_getcpuclockid(w->thread, &cid) != 0 || clock_gettime(cid, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef void (*BurstFn)(Worker *, Scratch *, uint16_t, struct rte_mbuf **, uint32_t, uint64_t);

// Every queue in turn, one burst each.
static void poll_loop(Worker *w, BurstFn burst_fn)
{
	Runtime *rt = w->rt;
	Scratch *s = w->scratch;
	const uint32_t burst = rt->cfg.burst;
	const double ns_per_cycle = 1e9 / (double)rte_get_tsc_hz();
	const uint32_t idle_sleep_us = rt->cfg.idle_sleep_us;
	uint32_t idle_rounds = 0;
	struct rte_mbuf *pkts[kMaxBurst];
	while (!rt->quit.load(std::memory_order_relaxed)) {
		// On a shared machine an idle worker yields its core; a busy one never sleeps.
		if (idle_sleep_us > 0 && ++idle_rounds > 1024)
			rte_delay_us_sleep(idle_sleep_us);
		for (uint16_t q : w->queues) {
			// Busy cycles include the receive call of every burst that brought packets.
			uint64_t t0 = rte_rdtsc();
			uint16_t n = rte_eth_rx_burst(rt->queue_port[q], rt->queue_hwq[q], pkts, (uint16_t)burst);
			if (n == 0)
				continue;
			idle_rounds = 0;
			uint64_t now_ns = (uint64_t)((double)t0 * ns_per_cycle);
			burst_fn(w, s, q, pkts, n, now_ns);
			w->stats.busy_cycles += rte_rdtsc() - t0;
		}
	}
}

static inline uint64_t thread_cpu_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// Weighted deficit round robin over the worker's tenants (drr.h): each round credits a tenant
// `quantum * weight` cycles, and it receives and runs bursts from its own queues while its credit
// lasts; a tenant found idle keeps no credit. Each burst is charged what it cost, by `kClock`:
//  - Tsc: its TSC span: free to read, and CPU time on a dedicated core, but on a shared core it
//    also bills the time another process had the core;
//  - Cpu: the CPU time the worker's thread used since the previous burst ended (one clock read,
//    a system call, per burst; the polls in between cost tens of cycles);
//  - Auto: the TSC span, except that a burst longer than `long_burst` (where a descheduling
//    hides) is re-measured on the thread's CPU clock: the CPU time used since the last clock read,
//    less what the bursts in between were charged, capped by its span. The clock is re-read at
//    least every `resync` cycles so that little else lands in that difference. Short bursts
//    never pay for a clock read, and long ones pay a fraction of a percent.
template <FairClock kClock> static void fair_loop(Worker *w, BurstFn burst_fn)
{
	Runtime *rt = w->rt;
	Scratch *s = w->scratch;
	struct nfp_drr *drr = &w->drr;
	const uint32_t burst = rt->cfg.burst;
	const uint64_t hz = rte_get_tsc_hz();
	const double ns_per_cycle = 1e9 / (double)hz;
	const double cycles_per_ns = (double)hz / 1e9;
	const uint64_t long_burst = hz / 20000; // 50 us: shorter than any scheduler time slice
	const uint64_t resync = hz / 1000;      // 1 ms
	const uint32_t idle_sleep_us = rt->cfg.idle_sleep_us;
	const uint32_t n_classes = (uint32_t)w->classes.size();
	uint32_t idle_rounds = 0;
	uint64_t cpu_last = kClock != FairClock::Tsc ? thread_cpu_ns() : 0;
	uint64_t tsc_last = rte_rdtsc(), charged_since = 0; // Auto: since the last clock read
	struct rte_mbuf *pkts[kMaxBurst];
	while (!rt->quit.load(std::memory_order_relaxed)) {
		if (idle_sleep_us > 0 && ++idle_rounds > 1024)
			rte_delay_us_sleep(idle_sleep_us); // sleeping uses no CPU time: nothing to bill
		if (kClock == FairClock::Auto && rte_rdtsc() - tsc_last > resync) {
			cpu_last = thread_cpu_ns();
			tsc_last = rte_rdtsc();
			charged_since = 0;
		}
		for (uint32_t c = 0; c < n_classes; c++) {
			SchedClass *sc = &w->classes[c];
			const uint32_t nq = (uint32_t)sc->queues.size();
			nfp_drr_visit(drr, c, 1); // credited now; forgotten below if all its queues are empty
			uint32_t empty = 0;
			while (nfp_drr_may_run(drr, c)) {
				uint16_t q = sc->queues[sc->next];
				if (++sc->next == nq)
					sc->next = 0;
				uint64_t t0 = rte_rdtsc();
				uint16_t n = rte_eth_rx_burst(rt->queue_port[q], rt->queue_hwq[q], pkts, (uint16_t)burst);
				if (n == 0) {
					if (++empty == nq)
						break;
					continue;
				}
				empty = 0;
				idle_rounds = 0;
				burst_fn(w, s, q, pkts, n, (uint64_t)((double)t0 * ns_per_cycle));
				uint64_t t1 = rte_rdtsc();
				uint64_t cost = t1 - t0;
				if (kClock == FairClock::Cpu) {
					uint64_t cpu = thread_cpu_ns();
					cost = (uint64_t)((double)(cpu - cpu_last) * cycles_per_ns);
					cpu_last = cpu;
					t1 = rte_rdtsc(); // the clock read is part of the cost of scheduling
				} else if (kClock == FairClock::Auto && cost > long_burst) {
					uint64_t cpu = thread_cpu_ns();
					uint64_t used = (uint64_t)((double)(cpu - cpu_last) * cycles_per_ns);
					used = used > charged_since ? used - charged_since : 0;
					cost = used < cost ? used : cost;
					cpu_last = cpu;
					charged_since = 0;
					t1 = rte_rdtsc();
					tsc_last = t1;
				} else if (kClock == FairClock::Auto) {
					charged_since += cost;
				}
				nfp_drr_charge(drr, c, cost);
				w->stats.busy_cycles += t1 - t0;
			}
			if (empty == nq)
				nfp_drr_visit(drr, c, 0);
		}
	}
}

int worker_main(void *arg)
{
	auto *w = (Worker *)arg;
	w->thread = pthread_self();
	w->thread_known.store(true, std::memory_order_release);
	Runtime *rt = w->rt;
	Scratch *s = w->scratch;
	// This thread classifies and transmits packets that live in its tenants' domains.
	for (struct nfp_domain *d : w->domains)
		if (d->ops->attach_thread != nullptr)
			d->ops->attach_thread(d);
	s->n_free = kMaxItems;
	for (uint32_t i = 0; i < kMaxItems; i++)
		s->free_items[i] = kMaxItems - 1 - i;
	// The mode and the scheduler are chosen once, outside the loop.
	BurstFn burst_fn = rt->cfg.mode == Mode::Raw ? raw_burst : process_burst;
	if (w->fair && rt->cfg.fair_clock == FairClock::Auto)
		fair_loop<FairClock::Auto>(w, burst_fn);
	else if (w->fair && rt->cfg.fair_clock == FairClock::Cpu)
		fair_loop<FairClock::Cpu>(w, burst_fn);
	else if (w->fair)
		fair_loop<FairClock::Tsc>(w, burst_fn);
	else
		poll_loop(w, burst_fn);
	return 0;
}

} // namespace nfp
