/*
 * Isolation backends (`sfi`, `mpk`, `process`) behind the runtime's domain seam (../domain.h),
 * and what they share: the fault report, the per-batch cycle budget (watchdog) and access to an
 * NF's state for snapshots.
 */
#ifndef NFP_ISO_H
#define NFP_ISO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "domain.h"
#include "services.h"
#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const struct nfp_domain_ops nfp_domain_sfi_ops;
extern const struct nfp_domain_ops nfp_domain_mpk_ops;
extern const struct nfp_domain_ops nfp_domain_process_ops;

/* Default watchdog budget for one call into a domain: far above any sane NF, far below a hang. */
#define NFP_ISO_DEFAULT_BUDGET_CYCLES 500000000ull

/* The head of every isolation backend's domain (base.priv points at it). */
struct nfp_iso_domain {
	struct nfp_domain base;
	uint64_t budget_cycles; /* per process call; 0 = unlimited */
	char fault[192];        /* why the last failing call failed */
};

/* True when `d` belongs to one of the isolation backends in this folder. */
int nfp_iso_is_ours(const struct nfp_domain *d);

/* The last fault of `d`, or "" (any backend; "" for those without a report). */
const char *nfp_iso_fault(const struct nfp_domain *d);

/* Sets the per-call watchdog budget in cycles (our backends; ignored by others). */
void nfp_iso_set_budget(struct nfp_domain *d, uint64_t cycles);

/* An NF's runtime context and private state, for snapshot/restore. */
struct nfp_iso_nf_state {
	struct nfp_ctx *ctx;
	uint8_t *state;
	uint32_t state_bytes;
	const struct nfp_nf_manifest *manifest;
};

/* Fills `out` for slot `nf_slot` of an sfi or mpk domain. Returns 0, or -ENOTSUP / -EINVAL. */
int nfp_iso_nf_state(struct nfp_domain *d, uint32_t nf_slot, struct nfp_iso_nf_state *out);

int nfp_mpk_nf_state(struct nfp_domain *d, uint32_t nf_slot, struct nfp_iso_nf_state *out);

/*
 * sfi, mpk and process: runs the NF slots `slots[0..n-1]` of `d` as a chain on `batch` with one
 * entry into the domain (sfi: NFs of one module instance; process: one round trip). `hop[i]` receives the index within the chain of
 * the NF that decided packet i (n when all passed). Returns 0, < 0 on a fault (-EFAULT, -EACCES),
 * -EINVAL for slots that cannot run as one chain, -ENOTSUP for another backend.
 */
int nfp_iso_process_chain(struct nfp_domain *d, const uint32_t *slots, uint32_t n, struct nfp_batch *batch,
			  uint64_t now_ns, uint8_t *hop);
int nfp_sfi_process_chain(struct nfp_domain *d, const uint32_t *slots, uint32_t n, struct nfp_batch *batch,
			  uint64_t now_ns, uint8_t *hop);
int nfp_mpk_process_chain(struct nfp_domain *d, const uint32_t *slots, uint32_t n, struct nfp_batch *batch,
			  uint64_t now_ns, uint8_t *hop);
int nfp_proc_process_chain(struct nfp_domain *d, const uint32_t *slots, uint32_t n, struct nfp_batch *batch,
			   uint64_t now_ns, uint8_t *hop);

/* The services table handed to modules: nf.h's functions over struct nfp_ctx. */
extern const struct nfp_iso_services nfp_iso_services_native;

/* PKU support: 1 when usable; otherwise 0 and a reason in `why`. */
int nfp_mpk_supported(char *why, size_t whylen);

#ifdef __cplusplus
}
#endif

/*
 * A verdict read back from a domain: packet decided by NF k of an n-NF chain (k == n: every NF
 * passed it) with verdict v and drop reason r, checked against NF k's manifest `m`.
 */
static inline int nfp_iso_verdict_ok(const struct nfp_nf_manifest *m, uint32_t k, uint32_t n, uint8_t v, uint8_t r)
{
	return k <= n && (v == NFP_VERDICT_PASS) == (k == n) &&
	       (v == NFP_VERDICT_PASS || (v == NFP_VERDICT_DROP && (r < m->n_drop_reasons || r == 0)) ||
		(v >= NFP_VERDICT_BRANCH && v < NFP_VERDICT_BRANCH + m->n_verdicts));
}

/*
 * Takes an n-NF chain's verdicts out of a domain: `count` hops, verdicts and reasons are copied
 * into the runtime's arrays first (each read once: what a domain writes later is never looked
 * at), then checked there, NF k's against its manifest `m[k]`; a batch that passed every NF
 * needs no check per packet (the copy notes whether it did, 16 packets at a time). Returns -1,
 * or the first packet whose verdict is invalid.
 */
static inline int32_t nfp_iso_take_verdicts(const uint8_t *dom_hop, const uint8_t *dom_verdicts,
					    const uint8_t *dom_reasons, uint32_t count, uint32_t n,
					    const struct nfp_nf_manifest *const *m, uint8_t *hop, uint8_t *verdicts,
					    uint8_t *reasons)
{
	uint32_t i = 0, other = 0;
#if defined(__SSE2__)
	const __m128i hn = _mm_set1_epi8((char)n);
	__m128i acc = _mm_setzero_si128();
	for (; i + 16 <= count; i += 16) {
		__m128i h = _mm_loadu_si128((const __m128i *)(dom_hop + i));
		__m128i v = _mm_loadu_si128((const __m128i *)(dom_verdicts + i));
		_mm_storeu_si128((__m128i *)(hop + i), h);
		_mm_storeu_si128((__m128i *)(verdicts + i), v);
		_mm_storeu_si128((__m128i *)(reasons + i), _mm_loadu_si128((const __m128i *)(dom_reasons + i)));
		acc = _mm_or_si128(acc, _mm_or_si128(_mm_xor_si128(h, hn), v));
	}
	other = _mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) != 0xffff;
#endif
	for (; i < count; i++) {
		hop[i] = dom_hop[i];
		verdicts[i] = dom_verdicts[i];
		reasons[i] = dom_reasons[i];
		other |= (uint32_t)(hop[i] ^ (uint8_t)n) | verdicts[i];
	}
	if (other == 0)
		return -1;
	for (i = 0; i < count; i++)
		if (!nfp_iso_verdict_ok(m[hop[i] < n ? hop[i] : 0], hop[i], n, verdicts[i], reasons[i]))
			return (int32_t)i;
	return -1;
}

/* Cycle counter (TSC on x86). */
static inline uint64_t nfp_iso_cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

#ifdef __cplusplus
#include <errno.h>
#include <stdio.h>

/*
 * After a call into a domain, for every backend: takes the chain's verdicts out
 * (nfp_iso_take_verdicts), then checks and moves every packet (nfp_iso_batch_out; `where` and
 * `mirror` as there). `m[k]` is NF k's manifest, `hop` receives the deciding NF per packet (may be
 * NULL). Returns 0, or -EFAULT (an invalid verdict) / -EACCES (an access violation) with the
 * reason, naming the NF, in `iso->fault`.
 */
template <typename Where>
static inline int nfp_iso_after_call(struct nfp_iso_domain *iso, const uint8_t *dom_hop, const uint8_t *dom_verdicts,
				     const uint8_t *dom_reasons, uint32_t n, const struct nfp_nf_manifest *const *m,
				     uint8_t *hop, struct nfp_batch *batch, uint32_t count, int shared, uint32_t readable,
				     uint32_t writable, uint8_t *const *at, const uint8_t (*saved)[NFP_ISO_WIN],
				     const struct nfp_iso_guard *g, Where where, const struct nfp_pkt *mirror = nullptr)
{
	uint8_t own_hop[NFP_NF_MAX_BATCH];
	uint8_t *h = hop != nullptr ? hop : own_hop;
	int32_t bad = nfp_iso_take_verdicts(dom_hop, dom_verdicts, dom_reasons, count, n, m, h, batch->verdicts,
					    batch->drop_reasons);
	if (bad >= 0) {
		snprintf(iso->fault, sizeof(iso->fault), "%s: invalid verdict %u for packet %d",
			 m[h[bad] < n ? h[bad] : 0]->name, batch->verdicts[bad], bad);
		return -EFAULT;
	}
	// Where the NF left each packet (nf.h, front adjustment); compared, never dereferenced.
	int rc = 0;
	bad = nfp_iso_batch_out(batch->pkts, count, shared, readable, writable, at, saved, g, where, &rc, mirror);
	if (bad >= 0) {
		snprintf(iso->fault, sizeof(iso->fault), "%s: %s (packet %d)", m[h[bad] < n ? h[bad] : 0]->name,
			 nfp_iso_violation(rc), bad);
		return -EACCES;
	}
	return 0;
}
#endif

#endif
