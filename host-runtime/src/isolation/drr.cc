// Weighted DRR on cycles; see drr.h.
#include "drr.h"

#include <string.h>

int nfp_drr_init(struct nfp_drr *d, uint32_t n, const uint32_t *weights, uint64_t quantum)
{
	if (n > NFP_DRR_MAX_TENANTS || quantum == 0)
		return -22;
	memset(d, 0, sizeof(*d));
	for (uint32_t i = 0; i < n; i++) {
		if (weights[i] == 0)
			return -22;
		d->t[i].weight = weights[i];
	}
	d->n = n;
	d->quantum = quantum;
	return 0;
}
