// The host runtime: a loaded host plan, its DPDK port and the run-to-completion workers.
// Control-thread API (load/stop/inject/collect/stats) here; the per-packet loop is in worker.cc.
#ifndef NFP_RUNTIME_H
#define NFP_RUNTIME_H

#include <stdint.h>

#include <pthread.h>

#include <atomic>
#include <string>
#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "domain.h"
#include "isolation/drr.h"
#include "nfp/nf.h"

namespace nfp {

constexpr uint32_t kMaxBurst = 64;
constexpr uint32_t kMaxHops = 32;
constexpr uint32_t kMaxWorkers = 16;
constexpr uint32_t kMaxPaths = 4096;

// Reasons the runtime itself drops a packet; NF reasons follow at `nf.reason_base`.
enum RuntimeReason : uint16_t {
	kNoNsh,
	kBadNsh,
	kUnknownPath,
	kBadSi,
	kTenantMismatch,
	kQuarantined,
	kTxFull,
	kBadVerdict,
	kRxOverflow,
	kOversize,
	kRuntimeReasons,
};

// Per-mbuf private area: bookkeeping for tests and the in-memory benchmark loop.
struct MbufPriv {
	uint32_t seq;
	uint16_t reason; // 0xffff: transmitted
	uint16_t queue;
	uint16_t orig_len;
	uint16_t wire_len; // the injected length (an NF may grow or shrink a packet at its front)
	uint16_t path;     // the plan path id the packet is on (entered or branched to); 0xffff: none yet
	uint8_t pad[2];
	uint8_t orig[112]; // the packet as injected, restored by the benchmark's loopback
};
static_assert(sizeof(MbufPriv) == 128, "mbuf private area is 128 bytes");

struct Hop {
	uint16_t nf;
	uint8_t host;
	int16_t branch[NFP_NF_MAX_VERDICTS]; // path index per dynamic verdict, -1: stay on this path
};

struct Path {
	uint32_t id;
	uint16_t tenant;
	uint16_t n_hops;
	uint16_t host_hops;
	Hop hops[kMaxHops];
	uint8_t host_idx[kMaxHops];    // k-th host hop -> hop index
	uint8_t next_host[kMaxHops + 1]; // first host hop at index >= h, or n_hops
	uint8_t si_from[kMaxHops + 1];   // host hops at index >= h: the SI of a packet about to run hop h
	int32_t queue;                   // host queue a root path arrives on; -1: none (a branch, or unknown)
};

struct Nf {
	uint32_t id;
	uint16_t tenant;
	std::string name, type, backend, artifact;
	std::vector<std::string> configs; // one per worker
	uint16_t reason_base;
	uint32_t n_drop_reasons, n_verdicts;
	std::vector<std::string> verdict_names;
};

struct NfInstance {
	struct nfp_domain *domain;
	uint32_t slot;
	bool moves_front; // its manifest writes L2: it may grow or shrink a packet at its front (nf.h)
};

struct alignas(64) NfStats {
	uint64_t calls, packets, cycles;
};

// Per path: packets that entered it and cycles spent on it; per hop of it, what its NF took
// while the packet was on this path (the report's per-path NF figures).
struct alignas(64) PathStats {
	uint64_t packets, cycles;
	uint64_t hop_packets[kMaxHops], hop_cycles[kMaxHops];
};

struct alignas(64) WorkerStats {
	uint64_t rx, tx, dropped, bursts, busy_cycles, capture_lost;
};

struct Runtime;

// One tenant's share of a worker under the fair scheduler: the worker queues only it arrives on.
struct SchedClass {
	uint16_t tenant;
	uint32_t next; // the queue polled next, round robin within the tenant
	std::vector<uint16_t> queues;
};

struct Worker {
	Runtime *rt;
	uint32_t index;
	uint32_t lcore;
	std::vector<uint16_t> queues;
	std::vector<NfInstance> inst; // by NF index
	// By path * kMaxHops + host hop: how many host hops from there run as one chain in their
	// domain (process_chain; 1: the hop alone). Worked out at load (plan_chains).
	std::vector<uint8_t> chain_run;
	std::vector<struct nfp_domain *> domains;
	WorkerStats stats;
	std::vector<uint64_t> drops; // by reason
	std::vector<NfStats> nf_stats;
	std::vector<PathStats> path_stats;
	struct Scratch *scratch; // per-burst working memory, allocated at load
	pthread_t thread;        // the lcore's thread, for its CPU-time clock
	std::atomic<bool> thread_known{false};
	// Weighted DRR over tenants (classes[i] is DRR tenant i); unused when `fair` is false.
	bool fair = false;
	std::vector<SchedClass> classes;
	struct nfp_drr drr;
};

// CPU time the worker's thread has consumed (excludes time other processes had the core).
uint64_t worker_cpu_ns(Worker *w);

enum class Mode { Presorted, Mixed, Raw };

// auto: fair when a worker serves queues of two or more tenants and each queue carries one tenant;
// fair: as auto, but a worker whose queues mix tenants is an error; poll: every queue in turn.
enum class Scheduler { Auto, Fair, Poll };

// What a burst is charged under the fair scheduler: its TSC span re-measured on the thread's CPU
// clock when long (auto), thread CPU time (one clock system call per burst) or its TSC span (free;
// equal to CPU time on a dedicated core). See fair_loop in worker.cc.
enum class FairClock { Auto, Cpu, Tsc };

struct PortConfig {
	// "ring" (in-memory), "vdev" (pcap, af_packet, ...), "ethdev" (probed NIC), "vdevs" (one vdev per
	// host queue), "ports" (several ports, the host queues on each: see open_port_list)
	std::string kind = "ring";
	std::string devargs;  // vdev: "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"; ethdev: its name
	bool isolate = false; // ask each port for flow isolation (rte_flow_isolate) before configuring it
};

struct Config {
	uint32_t workers = 1;
	Mode mode = Mode::Presorted;
	uint32_t burst = 32;
	uint32_t queue_size = 1024;
	uint32_t mbufs = 16384;
	bool capture_drops = false;
	bool loopback = false; // benchmark: TX feeds the same queue again, packets restored
	uint32_t idle_sleep_us = 20; // after many empty polls, sleep this long (0: pure busy polling)
	Scheduler scheduler = Scheduler::Auto;
	uint32_t fair_quantum_us = 20; // DRR credit per round per unit of weight, in CPU microseconds
	FairClock fair_clock = FairClock::Auto;
	PortConfig port;
};

struct Collected {
	uint32_t seq;
	uint16_t queue;
	int32_t path; // the plan path id it left the host on, -1 when it never entered one
	bool transmitted;
	std::string reason;
	std::vector<uint8_t> data;
};

struct Runtime {
	Config cfg;
	std::vector<Path> paths;
	std::vector<int16_t> spi_to_path;
	std::vector<Nf> nfs;
	std::vector<std::string> reasons;
	uint32_t n_queues = 0;
	std::vector<Worker *> workers;
	std::vector<std::atomic<uint8_t>> quarantined; // by tenant id
	std::vector<std::atomic<uint64_t>> faults;     // by tenant id
	// By tenant id: why it was quarantined (its first fault since); `text` is written once, by the
	// worker that claims it, and read only after `ready`.
	struct TenantFault {
		std::atomic<uint8_t> claimed{0}, ready{0};
		char text[200];
	};
	std::vector<TenantFault> tenant_fault;
	std::vector<uint16_t> tenant_ids;
	std::vector<uint32_t> tenant_weight;   // by tenant id (from the plan; default 1)
	std::vector<uint8_t> tenant_access;    // by tenant id: enum nfp_packet_access (default shared)
	std::vector<uint64_t> tenant_overload; // by tenant id: packets its full queue turned away
	std::atomic<bool> quit{false};
	bool running = false;

	struct rte_mempool *pool = nullptr;
	// Where each host queue's packets live: `pool`, or (shared packet access, a queue carrying one
	// tenant's paths) a pool whose data buffers lie in that tenant's domain on the queue's worker.
	std::vector<struct rte_mempool *> queue_pool;
	std::vector<int32_t> queue_pool_tenant; // the tenant owning queue_pool[q], or -1
	std::vector<struct rte_mempool *> tenant_pools;
	uint16_t port_id = 0;
	bool port_open = false;
	std::string vdev_name;
	// Where each host queue lives: usually queue q of port_id; with one vdev per queue (`vdevs`,
	// e.g. a net_af_packet per host-facing veth) queue 0 of that queue's own port.
	std::vector<uint16_t> queue_port, queue_hwq;
	std::vector<std::string> extra_vdevs;
	// `ports`: each port, whether this runtime created it (a vdev: closed at destroy), and what
	// rte_flow_isolate answered (0, or a negative errno; 1 when not asked).
	std::vector<uint16_t> list_ports;
	std::vector<std::string> list_vdevs; // "" for a probed device
	std::vector<int> isolate_rc;
	// A NIC stage the host link attached (host_link.cc, include/nfp/host.h): run by a worker on
	// each burst before it is transmitted on `queue`; returns how many packets remain to send
	// (the stage owns the others). `on_stop` runs once the workers stopped, before the ports close.
	uint16_t (*tx_stage)(void *ctx, uint16_t queue, struct rte_mbuf **pkts, uint16_t n) = nullptr;
	void *tx_stage_ctx = nullptr;
	void (*on_stop)(Runtime *rt) = nullptr;
	std::vector<struct rte_ring *> rx_rings, tx_rings, drop_rings;

	uint32_t next_seq = 0;
	uint64_t injected = 0, inject_overflow = 0, inject_oversize = 0;
	// Frames inject() took but no mbuf can hold: dropped as `oversize`, collected from here.
	std::vector<Collected> inject_refused;
	uint64_t tsc_hz = 0;
};

// Throws std::runtime_error with a user-facing message on failure.
Runtime *runtime_create(const Config &cfg);
// Creates workers, domains and NF instances (NF init runs here; manifests become known).
void runtime_launch_prepare(Runtime *rt);
// Opens the port and launches the workers on their lcores.
void runtime_launch_start(Runtime *rt);
// Stops workers and frees everything; the pointer is invalid afterwards.
void runtime_destroy(Runtime *rt);

// Test/bench I/O on in-memory ports. inject returns accepted count; first seq through *first_seq.
uint32_t runtime_inject(Runtime *rt, uint16_t queue, const std::vector<std::pair<const uint8_t *, size_t>> &pkts,
			uint32_t *first_seq);
std::vector<Collected> runtime_collect(Runtime *rt);

// The worker entry for rte_eal_remote_launch (worker.cc).
int worker_main(void *arg);
struct Scratch *scratch_create(uint32_t burst, int socket);
void scratch_free(struct Scratch *s);

} // namespace nfp

#endif
