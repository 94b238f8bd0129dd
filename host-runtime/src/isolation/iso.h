/*
 * Isolation backends (`sfi`, `mpk`, `process`) behind the runtime's domain seam (../domain.h),
 * and what they share: the fault report, the per-batch cycle budget (watchdog) and access to an
 * NF's state for snapshots.
 */
#ifndef NFP_ISO_H
#define NFP_ISO_H

#include <stddef.h>
#include <stdint.h>

#include "domain.h"
#include "services.h"

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
 * sfi only: runs slots first..first+n-1 (all NFs of one chain module, loaded in module order)
 * as a chain inside the sandbox with one crossing. `hop[i]` receives the index within the chain
 * of the NF that decided packet i (n when all passed). Returns 0 or < 0 on a fault.
 */
int nfp_sfi_process_chain(struct nfp_domain *d, uint32_t first, uint32_t n, struct nfp_batch *batch,
			  uint64_t now_ns, uint8_t *hop);

/* The services table handed to modules: nf.h's functions over struct nfp_ctx. */
extern const struct nfp_iso_services nfp_iso_services_native;

/* PKU support: 1 when usable; otherwise 0 and a reason in `why`. */
int nfp_mpk_supported(char *why, size_t whylen);

#ifdef __cplusplus
}
#endif

/* Cycle counter (TSC on x86). */
static inline uint64_t nfp_iso_cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

#endif
