/*
 * A tenant's NF chain run on one batch inside its domain, with one entry: the sfi guest
 * (nf-build/sfi_guest.c, compiled to wasm32) and the mpk backend use it. Verdicts apply between
 * NFs: only the packets every earlier NF passed go on. While every packet passes, each NF gets the
 * batch itself (no copy); once one leaves, the rest go on as a compacted copy of their
 * descriptors, whose moved fronts (nf.h, front adjustment) are written back to the batch.
 *
 * Plain C (it builds for wasm32 too); no allocation: the scratch comes from the caller.
 */
#ifndef NFP_ISO_CHAIN_H
#define NFP_ISO_CHAIN_H

#include <stdint.h>
#include <string.h>

#include "nfp/nf.h"

struct nfp_chain_scratch {
	struct nfp_pkt pkts[NFP_NF_MAX_BATCH];
	uint8_t verdicts[NFP_NF_MAX_BATCH];
	uint8_t reasons[NFP_NF_MAX_BATCH];
	uint16_t index[NFP_NF_MAX_BATCH];
	uintptr_t front[NFP_NF_MAX_BATCH];
};

/* Runs NF k of the chain on `sub` (k < n). */
typedef void (*nfp_chain_nf_fn)(void *arg, uint32_t k, struct nfp_batch *sub);

/* The header offsets of a packet whose front moved by `grow` bytes (later NFs find them there). */
static inline void nfp_chain_follow_front(struct nfp_pkt *p, int32_t grow)
{
	uint16_t *offs[3] = {&p->l3_off, &p->l4_off, &p->payload_off};
	for (int o = 0; o < 3; o++) {
		int32_t v = *offs[o] == NFP_OFF_NONE ? -1 : (int32_t)*offs[o] + grow;
		*offs[o] = v < 0 || v > (int32_t)p->len ? (uint16_t)NFP_OFF_NONE : (uint16_t)v;
	}
}

/* Whether any of the n verdicts is not PASS (0): eight at a time, the common batch passes whole. */
static inline int nfp_chain_any_decided(const uint8_t *v, uint32_t n)
{
	uint64_t acc = 0;
	uint32_t j = 0;
	for (; j + 8 <= n; j += 8) {
		uint64_t w;
		memcpy(&w, v + j, sizeof(w));
		acc |= w;
	}
	for (; j < n; j++)
		acc |= v[j];
	return acc != 0;
}

/*
 * Runs the n NFs on `b` (b->count <= NFP_NF_MAX_BATCH). `moves_l2` bit k: NF k may write L2, so
 * it may move a front. Leaves each packet's final verdict and reason in `b`, and in `hop[i]` the
 * NF that decided packet i (n when every NF passed it).
 */
static inline void nfp_chain_run(struct nfp_batch *b, uint32_t n, uint32_t moves_l2, nfp_chain_nf_fn call, void *arg,
				 uint8_t *hop, struct nfp_chain_scratch *sc)
{
	uint32_t count = b->count;
	memset(b->verdicts, NFP_VERDICT_PASS, count);
	memset(b->drop_reasons, 0, count);
	memset(hop, (int)n, count);
	struct nfp_pkt *cur = b->pkts;
	uint8_t *verdicts = b->verdicts, *reasons = b->drop_reasons;
	int compact = 0;
	uint32_t live = count;
	for (uint32_t k = 0; k < n && live > 0; k++) {
		int moves = (moves_l2 >> k) & 1;
		if (moves)
			for (uint32_t j = 0; j < live; j++)
				sc->front[j] = (uintptr_t)cur[j].data;
		struct nfp_batch sub = {live, cur, verdicts, reasons};
		call(arg, k, &sub);
		if (moves)
			for (uint32_t j = 0; j < live; j++) {
				int32_t grow = (int32_t)(sc->front[j] - (uintptr_t)cur[j].data);
				if (grow != 0)
					nfp_chain_follow_front(&cur[j], grow);
				if (compact) {
					b->pkts[sc->index[j]].data = cur[j].data;
					b->pkts[sc->index[j]].len = cur[j].len;
				}
			}
		uint32_t kept = 0;
		if (!compact) {
			if (!nfp_chain_any_decided(verdicts, live))
				continue;
			for (uint32_t j = 0; j < live; j++)
				if (verdicts[j] != NFP_VERDICT_PASS)
					hop[j] = (uint8_t)k;
			if (k + 1 == n)
				continue;
			for (uint32_t j = 0; j < live; j++)
				if (verdicts[j] == NFP_VERDICT_PASS) {
					sc->pkts[kept] = b->pkts[j];
					sc->index[kept++] = (uint16_t)j;
				}
			compact = 1;
			cur = sc->pkts;
			verdicts = sc->verdicts;
			reasons = sc->reasons;
		} else {
			for (uint32_t j = 0; j < live; j++) {
				if (verdicts[j] == NFP_VERDICT_PASS) {
					sc->pkts[kept] = sc->pkts[j];
					sc->index[kept++] = sc->index[j];
					continue;
				}
				uint16_t i = sc->index[j];
				b->verdicts[i] = verdicts[j];
				b->drop_reasons[i] = reasons[j];
				hop[i] = (uint8_t)k;
			}
		}
		live = kept;
		memset(verdicts, NFP_VERDICT_PASS, live);
		memset(reasons, 0, live);
	}
}

#endif
