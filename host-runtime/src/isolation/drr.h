/*
 * Weighted deficit round robin over measured cycles: each visit adds `quantum * weight` cycles of
 * credit to a backlogged tenant, each burst it runs is charged the cycles it actually took, and a
 * tenant runs while its credit is positive. Idle tenants keep no credit, so they cannot bank
 * cycles and burst later. Not thread-safe: one scheduler per worker.
 */
#ifndef NFP_ISO_DRR_H
#define NFP_ISO_DRR_H

#include <stdint.h>

#define NFP_DRR_MAX_TENANTS 64u

struct nfp_drr_tenant {
	uint32_t weight;
	int64_t deficit;
	uint64_t cycles; /* charged so far */
	uint64_t bursts;
};

struct nfp_drr {
	uint32_t n;
	uint64_t quantum; /* cycles per unit of weight per round */
	struct nfp_drr_tenant t[NFP_DRR_MAX_TENANTS];
};

/* Returns 0, or -22 (EINVAL) for n > NFP_DRR_MAX_TENANTS, a zero quantum or a zero weight. */
int nfp_drr_init(struct nfp_drr *d, uint32_t n, const uint32_t *weights, uint64_t quantum);

/* Starts tenant i's turn in a round: credits it when backlogged, forgets its credit when idle. */
static inline void nfp_drr_visit(struct nfp_drr *d, uint32_t i, int backlogged)
{
	if (backlogged)
		d->t[i].deficit += (int64_t)(d->quantum * d->t[i].weight);
	else
		d->t[i].deficit = 0;
}

/* True while tenant i may run another burst in this turn. */
static inline int nfp_drr_may_run(const struct nfp_drr *d, uint32_t i) { return d->t[i].deficit > 0; }

/* Charges tenant i the cycles its burst took. */
static inline void nfp_drr_charge(struct nfp_drr *d, uint32_t i, uint64_t cycles)
{
	d->t[i].deficit -= (int64_t)cycles;
	d->t[i].cycles += cycles;
	d->t[i].bursts++;
}

#endif
