/*
 * nfp host link API, version 2 (2 added nfp_host_done.path; a frame longer than an mbuf is
 * dropped as `oversize` instead of refusing the batch).
 *
 * How a NIC model in the same process (the softnic engine, targets/softnic/engine) hands packets
 * to a loaded host plan and takes back what the host finished with. It is to NIC code what nf.h
 * is to an NF: the only part of the host runtime it may include. The runtime stays private
 * (host-runtime/src); a NIC model reaches one loaded plan through an explicit handle, never a
 * global.
 *
 * Handles: every load of a host plan gets a new handle number (the TypeScript binding returns it
 * as `LoadedHostPlan.handle`); nfp_host_get turns it into a `struct nfp_host *`, which is valid
 * until that plan is unloaded. A handle of an unloaded plan resolves to NULL, never to another
 * plan. All calls below run on the control thread (the one that loaded the plan) unless said
 * otherwise; none may be called from a worker lcore.
 */
#ifndef NFP_HOST_H
#define NFP_HOST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NFP_HOST_API_VERSION 2u

/* A loaded host plan: its host queues and the workers behind them. Opaque. */
struct nfp_host;

/* One frame handed to a host queue. The runtime copies it; the caller keeps ownership. */
struct nfp_host_frame {
	const uint8_t *data;
	uint32_t len;
};

/* One frame the host finished with: transmitted back towards the NIC, or dropped. */
struct nfp_host_done {
	uint32_t seq;       /* as numbered by nfp_host_inject */
	uint16_t queue;     /* the host queue it was injected on */
	uint16_t transmitted; /* 1: transmitted (data/len hold the frame); 0: dropped for `reason` */
	const char *reason; /* dropped: the drop reason's name (e.g. `acme.fw:acl-deny`) */
	const uint8_t *data;
	uint32_t len;
	int32_t path;       /* the plan path id it left the host on (entered or branched to); -1: none */
};

/* Whether the DPDK EAL is up in this process (the host runtime starts it, once per process). */
int nfp_host_eal_ready(void);

/*
 * The loaded plan with this handle, or NULL when no plan with it is loaded now.
 * Thread-safety: control thread.
 */
struct nfp_host *nfp_host_get(uint64_t handle);

/* Number of host queues of the plan (valid queue numbers are 0 .. count-1). */
uint32_t nfp_host_queue_count(const struct nfp_host *h);

/*
 * Copies `n` frames into host queue `queue`, numbering them from *first_seq on (consecutive).
 * Returns how many the bounded queue accepted (the first ones; the rest were not taken), or:
 *   -EINVAL  queue out of range;
 * A frame longer than one mbuf's data room is taken and dropped at once (`oversize`, collected
 * like other drops).
 *   -ENOTSUP the plan's host queues are not in-memory rings (its port is a real device).
 * Thread-safety: control thread; one caller at a time.
 */
int32_t nfp_host_inject(struct nfp_host *h, uint16_t queue, const struct nfp_host_frame *frames, uint32_t n,
			uint32_t *first_seq);

/*
 * Fills `out` with up to `max` frames the host finished with since the last call (transmitted,
 * and dropped ones when the plan was loaded with captureDrops), and returns how many. `data` and
 * `reason` stay valid until the next nfp_host_collect on this plan or its unload.
 * Thread-safety: control thread; one caller at a time.
 */
uint32_t nfp_host_collect(struct nfp_host *h, struct nfp_host_done *out, uint32_t max);

#ifdef __cplusplus
}
#endif

#endif
