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

struct rte_mbuf;

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

/* One DPDK port the plan's host queues live on (port kinds `ports`, `vdevs`, `vdev`, `ethdev`). */
struct nfp_host_port {
	uint16_t port_id;     /* the ethdev port */
	uint16_t queues;      /* hardware queues of the plan on it: 0 .. queues-1 */
	int32_t isolate_rc;   /* rte_flow_isolate's answer when asked (0 or a negative errno); 1: not asked */
};

/*
 * Number of DPDK ports the plan's host queues live on, in the order they were given (0 for
 * in-memory rings), and the port at `index` (0 on success, -EINVAL for an index out of range).
 * Thread-safety: any thread; the answer is fixed while the plan is loaded.
 */
uint32_t nfp_host_port_count(const struct nfp_host *h);
int nfp_host_port_get(const struct nfp_host *h, uint32_t index, struct nfp_host_port *out);

/*
 * A NIC stage run inline by the host runtime's workers: the NIC half in software, on the lcore
 * that receives a burst (before the host NFs see it) and on the lcore that transmits one.
 * Both hooks work on whole bursts and follow DPDK's ownership rule: every packet of pkts[0..n)
 * either stays in pkts[0..returned) (rewritten in place or not) or is owned by the stage from
 * then on (freed, or sent elsewhere). No allocation or lock per packet.
 */
struct nfp_host_stage {
	void *ctx;
	/* After a burst was received from port `port_index` (as in nfp_host_port_get), hardware
	 * queue `hwq`. Called on every poll, with n == 0 too, so it may also send what it holds.
	 * `max` is the room in pkts. Returns the packets left for the host NFs. Worker lcore. */
	uint16_t (*rx)(void *ctx, uint16_t port_index, uint16_t hwq, struct rte_mbuf **pkts, uint16_t n,
		       uint16_t max);
	/* Before a burst the host NFs finished is sent on `port_index`/`hwq`. Returns the packets
	 * to send there. Worker lcore. */
	uint16_t (*tx)(void *ctx, uint16_t port_index, uint16_t hwq, struct rte_mbuf **pkts, uint16_t n);
	/* Once the workers stopped (the plan is being unloaded), before its ports close: the stage
	 * may send nothing more. Control thread. */
	void (*release)(void *ctx);
};

/*
 * Runs `stage` on every burst of the plan's DPDK ports from now until the plan is unloaded.
 * The struct is copied. Returns 0, or:
 *   -ENOTSUP the plan's queues are in-memory rings (no DPDK port to run on);
 *   -EBUSY   a stage is attached already;
 *   -EIO     DPDK refused a receive callback (rte_eth_add_rx_callback; rte_errno says why); the
 *            stage then stays registered but passes every packet through, and `release` is
 *            still called when the plan is unloaded.
 * On success, and on -EIO, `release` is called once when the plan is unloaded.
 * Thread-safety: control thread.
 */
int nfp_host_stage_attach(struct nfp_host *h, const struct nfp_host_stage *stage);

/*
 * Calls fn(ctx) once, when the plan is unloaded: after its workers stopped and before its ports
 * close (what lives on the ports, such as rte_flow rules, goes then). Callbacks run in the order
 * they were added, after the stage's `release`. Returns 0, or -ENOMEM.
 * Thread-safety: control thread.
 */
int nfp_host_on_stop(struct nfp_host *h, void (*fn)(void *ctx), void *ctx);

#ifdef __cplusplus
}
#endif

#endif
