// Control-thread side of the runtime: ports, domains, NF instances, worker launch and stop,
// and the in-memory inject/collect used by tests and benchmarks.
#include "runtime.h"

#include <stdio.h>
#include <string.h>

#include <stdexcept>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "eal.h"
#include "nfs/builtin.h"
#include "nsh.h"

namespace nfp {

static std::atomic<uint32_t> g_generation{0};

static std::runtime_error fail(const std::string &msg) { return std::runtime_error(msg); }

Runtime *runtime_create(const Config &cfg)
{
	if (!eal_ready())
		throw fail("the host runtime is not started (call start first)");
	if (cfg.burst == 0 || cfg.burst > kMaxBurst)
		throw fail("burst must be 1.." + std::to_string(kMaxBurst));
	if (cfg.queue_size < 2 || (cfg.queue_size & (cfg.queue_size - 1)) != 0)
		throw fail("queueSize must be a power of two >= 2");
	auto lcores = eal_worker_lcores();
	if (cfg.workers == 0 || cfg.workers > lcores.size() || cfg.workers > kMaxWorkers)
		throw fail("workers = " + std::to_string(cfg.workers) + ", but the EAL has " +
			   std::to_string(lcores.size()) +
			   " worker lcores (the EAL is initialised once per process; start a new process with more lcores)");
	auto *rt = new Runtime();
	rt->cfg = cfg;
	rt->tsc_hz = rte_get_tsc_hz();
	char name[RTE_MEMPOOL_NAMESIZE];
	snprintf(name, sizeof(name), "nfp_mb%u", g_generation.fetch_add(1));
	rt->pool = rte_pktmbuf_pool_create(name, cfg.mbufs, 256, sizeof(MbufPriv), RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (rt->pool == nullptr) {
		delete rt;
		throw fail(std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno));
	}
	return rt;
}

static void open_ring_port(Runtime *rt, uint32_t gen)
{
	for (uint32_t q = 0; q < rt->n_queues; q++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "nfp_rx%u_%u", gen, q);
		// In loopback the worker's tx and inject() both enqueue on the rx ring: two producers.
		struct rte_ring *rx = rte_ring_create(name, rt->cfg.queue_size, (int)rte_socket_id(),
						      rt->cfg.loopback ? RING_F_SC_DEQ : RING_F_SP_ENQ | RING_F_SC_DEQ);
		struct rte_ring *tx = rx;
		if (!rt->cfg.loopback) {
			snprintf(name, sizeof(name), "nfp_tx%u_%u", gen, q);
			tx = rte_ring_create(name, rt->cfg.queue_size, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		}
		snprintf(name, sizeof(name), "nfp_dr%u_%u", gen, q);
		struct rte_ring *dr =
			rte_ring_create(name, rt->cfg.queue_size, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rx == nullptr || tx == nullptr || dr == nullptr)
			throw fail(std::string("cannot create queue rings: ") + rte_strerror(rte_errno));
		rt->rx_rings.push_back(rx);
		rt->tx_rings.push_back(tx);
		rt->drop_rings.push_back(dr);
	}
	char pname[32];
	snprintf(pname, sizeof(pname), "nfp_port%u", gen);
	int port = rte_eth_from_rings(pname, rt->rx_rings.data(), rt->n_queues, rt->tx_rings.data(), rt->n_queues,
				      (unsigned)rte_socket_id());
	if (port < 0)
		throw fail(std::string("cannot create the in-memory (net_ring) port: ") + rte_strerror(rte_errno));
	rt->port_id = (uint16_t)port;
	rt->vdev_name = std::string("net_ring_") + pname;
}

// Creates one vdev from `driver,args` and returns its ethdev port.
static uint16_t create_vdev(const std::string &da)
{
	size_t comma = da.find(',');
	std::string name = da.substr(0, comma), args = comma == std::string::npos ? "" : da.substr(comma + 1);
	if (rte_vdev_init(name.c_str(), args.c_str()) != 0)
		throw fail("cannot create port `" + da + "` (check the driver name and its arguments)");
	uint16_t port;
	if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0)
		throw fail("port `" + name + "` was created but has no ethdev");
	return port;
}

// `first` is the runtime's queue number of the port's queue 0.
static void configure_port(Runtime *rt, uint16_t port, const std::string &name, uint16_t nq, uint32_t first)
{
	if (rt->cfg.port.isolate) {
		// Before configuring, as rte_flow.h recommends; a PMD without it answers an error, kept
		// for whoever asked (the dpdk target) to report.
		struct rte_flow_error ferr;
		rt->isolate_rc.push_back(rte_flow_isolate(port, 1, &ferr));
	} else {
		rt->isolate_rc.push_back(1);
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	int rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc < 0)
		throw fail("cannot configure " + std::to_string(nq) + " queues on port " + name + ": " + rte_strerror(-rc));
	int socket = rte_eth_dev_socket_id(port);
	for (uint16_t q = 0; q < nq; q++) {
		struct rte_mempool *mp = first + q < rt->queue_pool.size() ? rt->queue_pool[first + q] : rt->pool;
		rc = rte_eth_rx_queue_setup(port, q, (uint16_t)rt->cfg.queue_size, socket, nullptr, mp);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, (uint16_t)rt->cfg.queue_size, socket, nullptr);
		if (rc < 0)
			throw fail("cannot set up queue " + std::to_string(q) + " on port " + name + ": " + rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(port);
	if (rc < 0)
		throw fail("cannot start port " + name + ": " + rte_strerror(-rc));
}

// The non-empty parts of a `;`-separated list of port specs, in order.
static std::vector<std::string> split_specs(const std::string &all)
{
	std::vector<std::string> specs;
	for (size_t b = 0; b <= all.size();) {
		size_t e = all.find(';', b);
		if (e == std::string::npos)
			e = all.size();
		if (e > b)
			specs.push_back(all.substr(b, e - b));
		b = e + 1;
	}
	return specs;
}

// `vdevs`: one single-queue vdev per host queue, the devargs separated by ';' in queue order
// (a NIC's host ports as separate interfaces, such as one veth per host port).
static void open_queue_vdevs(Runtime *rt)
{
	std::vector<std::string> specs = split_specs(rt->cfg.port.devargs);
	if (specs.size() != rt->n_queues)
		throw fail("port kind vdevs needs one vdev per host queue: " + std::to_string(rt->n_queues) +
			   " queues, " + std::to_string(specs.size()) + " vdevs");
	for (uint32_t q = 0; q < rt->n_queues; q++) {
		uint16_t port = create_vdev(specs[q]);
		std::string name = specs[q].substr(0, specs[q].find(','));
		rt->extra_vdevs.push_back(name);
		rt->queue_port.push_back(port);
		rt->queue_hwq.push_back(0);
		rt->port_open = true;
		configure_port(rt, port, name, 1, q);
	}
	rt->port_id = rt->queue_port[0];
}

// `ports`: several ports, each a vdev spec (`driver,args`) or the name of a device the EAL probed,
// separated by ';'. The host queues are spread evenly: queue q lives on port q / per_port, as its
// hardware queue q % per_port (the TypeScript binding multiplies the plan's queues by the ports).
static void open_port_list(Runtime *rt)
{
	std::vector<std::string> specs = split_specs(rt->cfg.port.devargs);
	if (specs.empty() || rt->n_queues % specs.size() != 0)
		throw fail("port kind ports needs a whole number of host queues per port: " + std::to_string(rt->n_queues) +
			   " queues, " + std::to_string(specs.size()) + " ports");
	const uint16_t per_port = (uint16_t)(rt->n_queues / specs.size());
	for (const std::string &spec : specs) {
		uint16_t port;
		const bool probed = spec.find(',') == std::string::npos && rte_eth_dev_get_port_by_name(spec.c_str(), &port) == 0;
		std::string name = spec.substr(0, spec.find(','));
		if (!probed)
			port = create_vdev(spec);
		rt->list_ports.push_back(port);
		rt->list_vdevs.push_back(probed ? "" : name);
		rt->port_open = true;
		configure_port(rt, port, name, per_port, (uint32_t)rt->queue_port.size());
		for (uint16_t q = 0; q < per_port; q++) {
			rt->queue_port.push_back(port);
			rt->queue_hwq.push_back(q);
		}
	}
	rt->port_id = rt->list_ports[0];
}

static void setup_port(Runtime *rt)
{
	uint32_t gen = g_generation.fetch_add(1);
	if (rt->cfg.port.kind == "vdevs") {
		open_queue_vdevs(rt);
		return;
	}
	if (rt->cfg.port.kind == "ports") {
		open_port_list(rt);
		return;
	}
	if (rt->cfg.port.kind == "ring") {
		open_ring_port(rt, gen);
	} else if (rt->cfg.port.kind == "vdev") {
		rt->port_id = create_vdev(rt->cfg.port.devargs);
		rt->vdev_name = rt->cfg.port.devargs.substr(0, rt->cfg.port.devargs.find(','));
	} else if (rt->cfg.port.kind == "ethdev") {
		// A device the EAL already probed (a NIC allowed with -a <pci>): found by name, stopped
		// but never closed at unload, so a later load can use it again.
		uint16_t port;
		if (rte_eth_dev_get_port_by_name(rt->cfg.port.devargs.c_str(), &port) != 0)
			throw fail("no ethdev named `" + rt->cfg.port.devargs + "` (allow it with the EAL's -a option)");
		rt->port_id = port;
		rt->vdev_name = rt->cfg.port.devargs;
	} else {
		throw fail("unknown port kind `" + rt->cfg.port.kind + "` (expected ring, vdev, vdevs, ports or ethdev)");
	}
	rt->port_open = true;
	configure_port(rt, rt->port_id, rt->vdev_name, (uint16_t)rt->n_queues, 0);
	for (uint32_t q = 0; q < rt->n_queues; q++) {
		rt->queue_port.push_back(rt->port_id);
		rt->queue_hwq.push_back((uint16_t)q);
	}
}

// The tenant each queue carries: -1 none known, -2 several (then it cannot be scheduled by tenant).
static std::vector<int32_t> queue_tenants(Runtime *rt)
{
	std::vector<int32_t> qt(rt->n_queues, -1);
	for (auto &p : rt->paths) {
		if (p.queue < 0)
			continue;
		int32_t &t = qt[(uint32_t)p.queue];
		t = t == -1 || t == p.tenant ? p.tenant : -2;
	}
	if (rt->cfg.mode == Mode::Mixed)
		for (auto &t : qt)
			t = -2;
	return qt;
}

// Chooses each worker's scheduler once, before launch: weighted DRR over its tenants when every
// queue it polls carries exactly one tenant and there are at least two of them; else plain polling.
static void setup_scheduler(Runtime *rt)
{
	std::vector<int32_t> qt = queue_tenants(rt);
	for (auto *w : rt->workers) {
		w->fair = false;
		w->classes.clear();
		if (rt->cfg.scheduler == Scheduler::Poll || rt->cfg.mode == Mode::Raw || w->queues.empty())
			continue;
		bool by_tenant = true;
		for (uint16_t q : w->queues)
			by_tenant = by_tenant && qt[q] >= 0;
		if (!by_tenant) {
			if (rt->cfg.scheduler == Scheduler::Fair)
				throw fail("scheduler `fair` needs presorted queues that each carry one tenant's paths "
					   "(worker " + std::to_string(w->index) +
					   " polls a queue shared by tenants, or one no path arrives on)");
			continue;
		}
		for (uint16_t q : w->queues) {
			SchedClass *c = nullptr;
			for (auto &sc : w->classes)
				if (sc.tenant == qt[q])
					c = &sc;
			if (c == nullptr) {
				w->classes.push_back({(uint16_t)qt[q], 0, {}});
				c = &w->classes.back();
			}
			c->queues.push_back(q);
		}
		if (w->classes.size() > NFP_DRR_MAX_TENANTS)
			throw fail("a worker schedules at most " + std::to_string(NFP_DRR_MAX_TENANTS) + " tenants");
		if (w->classes.size() < 2 && rt->cfg.scheduler == Scheduler::Auto)
			continue; // one tenant: nothing to share
		// drr.cc may be left out of the build (NFP_SKIP_ISOLATION), so the state is set up here.
		memset(&w->drr, 0, sizeof(w->drr));
		w->drr.n = (uint32_t)w->classes.size();
		w->drr.quantum = std::max<uint64_t>(1, rt->tsc_hz * rt->cfg.fair_quantum_us / 1000000ull);
		for (uint32_t i = 0; i < w->drr.n; i++)
			w->drr.t[i].weight = rt->tenant_weight[w->classes[i].tenant];
		w->fair = true;
	}
}

static void setup_workers(Runtime *rt)
{
	auto lcores = eal_worker_lcores();
	uint16_t max_tenant = 0;
	for (auto &p : rt->paths)
		max_tenant = std::max(max_tenant, p.tenant);
	for (auto &n : rt->nfs)
		max_tenant = std::max(max_tenant, n.tenant);
	rt->quarantined = std::vector<std::atomic<uint8_t>>(max_tenant + 1u);
	rt->faults = std::vector<std::atomic<uint64_t>>(max_tenant + 1u);
	rt->tenant_fault = std::vector<Runtime::TenantFault>(max_tenant + 1u);
	for (uint32_t wi = 0; wi < rt->cfg.workers; wi++) {
		auto *w = new Worker();
		rt->workers.push_back(w);
		w->rt = rt;
		w->index = wi;
		w->lcore = lcores[wi];
		w->scratch = scratch_create(rt->cfg.burst, (int)rte_lcore_to_socket_id(w->lcore));
		if (w->scratch == nullptr)
			throw fail("cannot allocate worker memory");
		w->inst.resize(rt->nfs.size());
		w->nf_stats.resize(rt->nfs.size());
		w->path_stats.resize(rt->paths.size());
		memset(&w->stats, 0, sizeof(w->stats));
	}
	// Queues round-robin over workers: each queue (and its tx twin) has exactly one owner.
	for (uint32_t q = 0; q < rt->n_queues; q++)
		rt->workers[q % rt->cfg.workers]->queues.push_back((uint16_t)q);
	if (rt->tenant_weight.size() < max_tenant + 1u)
		rt->tenant_weight.resize(max_tenant + 1u, 1);
	rt->tenant_overload.assign(rt->tenant_weight.size(), 0);
	setup_scheduler(rt);
}

// The host hops from each hop on that run in one domain back to back, entered once for all of
// them where the backend can (a chain): every NF but the last has no branch verdicts, so a packet
// either goes on to the next or is decided; and at most one may move packet fronts, since within
// a chain the headroom nf.h promises is shared.
static void plan_chains(Runtime *rt)
{
	for (auto *w : rt->workers) {
		w->chain_run.assign(rt->paths.size() * kMaxHops, 1);
		for (size_t p = 0; p < rt->paths.size(); p++) {
			const Path &path = rt->paths[p];
			for (uint32_t h = 0; h < path.n_hops; h++) {
				const NfInstance &first = w->inst[path.hops[h].nf];
				if (!path.hops[h].host || first.domain->ops->process_chain == nullptr)
					continue;
				uint32_t n = 1, movers = first.moves_front;
				for (uint32_t x = h; n < NFP_DOMAIN_MAX_CHAIN && rt->nfs[path.hops[x].nf].n_verdicts == 0; x++) {
					uint32_t nx = path.next_host[x + 1];
					if (nx != x + 1 || nx >= path.n_hops)
						break;
					const NfInstance &next = w->inst[path.hops[nx].nf];
					if (next.domain != first.domain || movers + next.moves_front > 1)
						break;
					movers += next.moves_front;
					n++;
				}
				w->chain_run[p * kMaxHops + h] = (uint8_t)n;
			}
		}
	}
}

// One domain per (tenant, worker); each worker has its own NF instances (shared-nothing).
static void setup_nfs(Runtime *rt)
{
	rt->reasons = {"no-nsh", "bad-nsh", "unknown-path", "bad-si", "tenant-mismatch",
		       "quarantined", "tx-full", "bad-verdict", "rx-overflow", "oversize"};
	for (auto *w : rt->workers) {
		std::vector<std::pair<uint16_t, struct nfp_domain *>> by_tenant;
		for (size_t i = 0; i < rt->nfs.size(); i++) {
			Nf &nf = rt->nfs[i];
			const struct nfp_domain_ops *ops = nfp_domain_backend_find(nf.backend.c_str());
			if (ops == nullptr) {
				const char *names[NFP_DOMAIN_MAX_BACKENDS];
				uint32_t n = nfp_domain_backend_names(names, NFP_DOMAIN_MAX_BACKENDS);
				std::string have;
				for (uint32_t k = 0; k < n; k++)
					have += std::string(k ? ", " : "") + names[k];
				throw fail("NF " + nf.name + ": isolation backend `" + nf.backend +
					   "` is not available (available: " + have + ")");
			}
			struct nfp_domain *d = nullptr;
			for (auto &bt : by_tenant)
				if (bt.first == nf.tenant && bt.second->ops == ops)
					d = bt.second;
			char err[256] = "";
			if (d == nullptr) {
				struct nfp_domain_params params = {
					nf.tenant, w->index, (int)rte_lcore_to_socket_id(w->lcore),
					nf.tenant < rt->tenant_access.size() ? rt->tenant_access[nf.tenant]
									    : (uint32_t)NFP_PACKET_ACCESS_SHARED};
				d = ops->create(&params, err, sizeof(err));
				if (d == nullptr)
					throw fail("NF " + nf.name + ": cannot create its domain: " + err);
				by_tenant.push_back({nf.tenant, d});
				w->domains.push_back(d);
			}
			const struct nfp_nf_descriptor *builtin =
				nf.artifact.empty() ? nfp_builtin_find(nf.type.c_str()) : nullptr;
			if (builtin == nullptr && nf.artifact.empty())
				throw fail("NF " + nf.name + ": type `" + nf.type +
					   "` has no built-in host implementation (give it an artifact)");
			const std::string &config = nf.configs[std::min<size_t>(w->index, nf.configs.size() - 1)];
			uint32_t slot = 0;
			int rc = ops->load(d, builtin, nf.artifact.empty() ? nullptr : nf.artifact.c_str(), config.c_str(),
					   (uint32_t)config.size(), &slot, err, sizeof(err));
			if (rc < 0)
				throw fail("NF " + nf.name + ": " + err);
			const struct nfp_nf_manifest *loaded = ops->manifest(d, slot);
			w->inst[i] = {d, slot, loaded != nullptr && (loaded->writes & NFP_REGION_L2) != 0};
			if (w->index == 0) {
				const struct nfp_nf_manifest *m = loaded;
				nf.reason_base = (uint16_t)rt->reasons.size();
				nf.n_drop_reasons = m->n_drop_reasons;
				nf.n_verdicts = m->n_verdicts;
				nf.verdict_names.clear();
				for (uint32_t r = 0; r < m->n_drop_reasons; r++)
					rt->reasons.push_back(nf.name + ":" + m->drop_reasons[r]);
				for (uint32_t v = 0; v < m->n_verdicts; v++)
					nf.verdict_names.push_back(m->verdicts[v]);
			}
		}
	}
	for (auto *w : rt->workers)
		w->drops.assign(rt->reasons.size(), 0);
	plan_chains(rt);
}

// Zero-copy tenant packet memory (shared packet access): a presorted queue that carries one
// tenant's paths takes its buffers from a mempool of external-buffer mbufs whose data buffers lie
// in that tenant's domain on the queue's worker (its sfi linear memory, its mpk arena, the memory
// its process shares), while the mbuf headers stay in DPDK memory, out of the NFs' reach. The
// port's queue fills them directly (a NIC by DMA once the memory is registered with it, the
// in-memory port and the softnic by writing them), so the runtime never copies a packet into a
// domain. Any other queue, and a tenant whose domain cannot give the memory, uses `pool`.
static void setup_tenant_pools(Runtime *rt)
{
	rt->queue_pool.assign(rt->n_queues, rt->pool);
	rt->queue_pool_tenant.assign(rt->n_queues, -1);
	if (rt->cfg.mode != Mode::Presorted)
		return;
	// Only where each queue carries nothing but what the NIC sorted into it: the in-memory
	// queues the softnic fills and one port per host queue. A port of several queues (the dpdk
	// target) may receive any tenant's frames before its NIC stage sorts them, and those bytes
	// must never land in another tenant's domain.
	if (rt->cfg.port.kind != "ring" && rt->cfg.port.kind != "vdevs")
		return;
	std::vector<int32_t> qt = queue_tenants(rt);
	const uint16_t buf = RTE_MBUF_DEFAULT_BUF_SIZE;
	static std::atomic<uint32_t> seq{0};
	for (auto *w : rt->workers) {
		for (auto *d : w->domains) {
			uint16_t tenant = d->params.tenant;
			if (d->ops->packet_memory == nullptr || tenant >= rt->tenant_access.size() ||
			    rt->tenant_access[tenant] != NFP_PACKET_ACCESS_SHARED)
				continue;
			std::vector<uint16_t> mine;
			for (uint16_t q : w->queues)
				if (qt[q] == (int32_t)tenant)
					mine.push_back(q);
			if (mine.empty())
				continue;
			// Room for every queue full, a burst in flight on each, and the mempool caches.
			uint32_t n = (uint32_t)mine.size() * (rt->cfg.queue_size + 2 * kMaxBurst) + 2 * 256;
			char err[256] = "";
			void *mem = d->ops->packet_memory(d, (size_t)n * buf, err, sizeof(err));
			if (mem == nullptr) {
				fprintf(stderr, "nfp info [host]: tenant %u: packets copied into its domain per call (%s)\n", tenant,
					err);
				continue;
			}
			struct rte_pktmbuf_extmem ext = {
				mem, rte_eal_iova_mode() == RTE_IOVA_VA ? (rte_iova_t)(uintptr_t)mem : RTE_BAD_IOVA,
				(size_t)n * buf, buf};
			char name[RTE_MEMPOOL_NAMESIZE];
			snprintf(name, sizeof(name), "nfp_t%u_%u", tenant, seq.fetch_add(1));
			struct rte_mempool *mp = rte_pktmbuf_pool_create_extbuf(name, n, 256, sizeof(MbufPriv),
									     buf, (int)rte_socket_id(), &ext, 1);
			if (mp == nullptr) {
				fprintf(stderr, "nfp info [host]: tenant %u: packets copied into its domain per call (%s)\n", tenant,
					rte_strerror(rte_errno));
				continue;
			}
			rt->tenant_pools.push_back(mp);
			for (uint16_t q : mine) {
				rt->queue_pool[q] = mp;
				rt->queue_pool_tenant[q] = tenant;
			}
		}
	}
}

void runtime_launch_prepare(Runtime *rt)
{
	setup_workers(rt);
	setup_nfs(rt);
	setup_tenant_pools(rt);
}

void runtime_launch_start(Runtime *rt)
{
	setup_port(rt);
	rt->quit = false;
	for (auto *w : rt->workers) {
		int rc = rte_eal_remote_launch(worker_main, w, w->lcore);
		if (rc != 0) {
			rt->quit = true;
			rte_eal_mp_wait_lcore();
			throw fail("cannot launch a worker on lcore " + std::to_string(w->lcore) + " (busy?)");
		}
	}
	rt->running = true;
}

static void drain_ring(struct rte_ring *r)
{
	void *objs[64];
	unsigned n;
	while ((n = rte_ring_dequeue_burst(r, objs, 64, nullptr)) > 0)
		rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, n);
}

void runtime_destroy(Runtime *rt)
{
	if (rt->running) {
		rt->quit = true;
		for (auto *w : rt->workers)
			rte_eal_wait_lcore(w->lcore);
		rt->running = false;
	}
	if (rt->on_stop != nullptr) {
		rt->on_stop(rt);
		rt->on_stop = nullptr;
	}
	if (rt->port_open && rt->cfg.port.kind == "ports") {
		// Probed devices are stopped but never closed, so a later load can use them again.
		for (size_t i = 0; i < rt->list_ports.size(); i++) {
			rte_eth_dev_stop(rt->list_ports[i]);
			if (rt->list_vdevs[i].empty())
				continue;
			rte_eth_dev_close(rt->list_ports[i]);
			rte_vdev_uninit(rt->list_vdevs[i].c_str());
		}
	} else if (rt->port_open && rt->cfg.port.kind == "vdevs") {
		for (size_t i = 0; i < rt->extra_vdevs.size(); i++) {
			rte_eth_dev_stop(rt->queue_port[i]);
			rte_eth_dev_close(rt->queue_port[i]);
			rte_vdev_uninit(rt->extra_vdevs[i].c_str());
		}
	} else if (rt->port_open) {
		rte_eth_dev_stop(rt->port_id);
		if (rt->cfg.port.kind != "ethdev") {
			rte_eth_dev_close(rt->port_id);
			rte_vdev_uninit(rt->vdev_name.c_str());
		}
	}
	for (size_t q = 0; q < rt->rx_rings.size(); q++) {
		drain_ring(rt->rx_rings[q]);
		drain_ring(rt->drop_rings[q]);
		if (rt->tx_rings[q] != rt->rx_rings[q]) {
			drain_ring(rt->tx_rings[q]);
			rte_ring_free(rt->tx_rings[q]);
		}
		rte_ring_free(rt->rx_rings[q]);
		rte_ring_free(rt->drop_rings[q]);
	}
	// Tenant pools' buffers live in the domains: the pools go first (every mbuf is back by now).
	for (auto *mp : rt->tenant_pools)
		rte_mempool_free(mp);
	rt->tenant_pools.clear();
	for (auto *w : rt->workers) {
		for (size_t i = 0; i < w->inst.size(); i++)
			if (w->inst[i].domain != nullptr)
				w->inst[i].domain->ops->unload(w->inst[i].domain, w->inst[i].slot);
		for (auto *d : w->domains)
			d->ops->destroy(d);
		scratch_free(w->scratch);
		delete w;
	}
	rt->workers.clear();
	if (rt->pool != nullptr)
		rte_mempool_free(rt->pool);
	delete rt;
}

uint32_t runtime_inject(Runtime *rt, uint16_t queue, const std::vector<std::pair<const uint8_t *, size_t>> &pkts,
			uint32_t *first_seq)
{
	if (rt->cfg.port.kind != "ring")
		throw fail("inject works on the in-memory (ring) port only");
	if (queue >= rt->n_queues)
		throw fail("queue " + std::to_string(queue) + " does not exist (the plan has " +
			   std::to_string(rt->n_queues) + " host queues in this mode)");
	*first_seq = rt->next_seq;
	std::vector<struct rte_mbuf *> mbs;
	std::vector<size_t> at; // position in pkts of each mbuf
	std::vector<std::pair<size_t, uint32_t>> oversize; // position and seq of frames no mbuf holds
	size_t taken = pkts.size(); // frames up to here were numbered (an empty pool stops it)
	for (size_t i = 0; i < pkts.size(); i++) {
		const auto &p = pkts[i];
		uint32_t seq = rt->next_seq++;
		if (p.second > RTE_MBUF_DEFAULT_DATAROOM) {
			oversize.push_back({i, seq});
			continue;
		}
		struct rte_mbuf *m = rte_pktmbuf_alloc(queue < rt->queue_pool.size() ? rt->queue_pool[queue] : rt->pool);
		if (m == nullptr) {
			taken = i;
			break;
		}
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)p.second);
		if (p.second > 0)
			memcpy(d, p.first, p.second);
		auto *pv = (MbufPriv *)rte_mbuf_to_priv(m);
		pv->seq = seq;
		pv->reason = 0xffff; // transmitted, unless a drop records its reason
		pv->queue = queue;
		pv->path = 0xffff;
		pv->wire_len = (uint16_t)p.second;
		pv->orig_len = (uint16_t)std::min<size_t>(p.second, sizeof(pv->orig));
		memcpy(pv->orig, p.first, pv->orig_len);
		mbs.push_back(m);
		at.push_back(i);
	}
	uint32_t ok = mbs.empty() ? 0
				  : rte_ring_enqueue_burst(rt->rx_rings[queue], (void **)mbs.data(), (unsigned)mbs.size(),
							   nullptr);
	if (ok < mbs.size()) {
		rte_pktmbuf_free_bulk(mbs.data() + ok, (unsigned)(mbs.size() - ok));
		taken = at[ok];
	}
	rt->injected += ok;
	// A frame longer than an mbuf holds is taken and dropped at once, counted as `oversize`.
	for (const auto &o : oversize) {
		if (o.first >= taken)
			break;
		rt->inject_oversize++;
		if (rt->cfg.capture_drops)
			rt->inject_refused.push_back(Collected{o.second, queue, -1, false, "oversize", {}});
	}
	// A full queue or an empty pool: the rest is counted as overflow, never silently lost, and
	// charged to the tenant its NSH names (its queue was full: it got no cycles to drain it).
	rt->inject_overflow += pkts.size() - taken;
	for (size_t i = taken; i < pkts.size(); i++) {
		struct nfp_nsh_fields f;
		if (nfp_nsh_parse(pkts[i].first, (uint32_t)pkts[i].second, &f) == 0 && f.tenant < rt->tenant_overload.size())
			rt->tenant_overload[f.tenant]++;
	}
	return (uint32_t)taken;
}

static void collect_ring(Runtime *rt, struct rte_ring *r, uint16_t queue, std::vector<Collected> &out)
{
	void *objs[64];
	unsigned n;
	while ((n = rte_ring_dequeue_burst(r, objs, 64, nullptr)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			auto *m = (struct rte_mbuf *)objs[i];
			auto *pv = (MbufPriv *)rte_mbuf_to_priv(m);
			Collected c;
			c.seq = pv->seq;
			c.queue = queue;
			c.path = pv->path == 0xffff ? -1 : (int32_t)pv->path;
			c.transmitted = pv->reason == 0xffff;
			if (!c.transmitted)
				c.reason = pv->reason < rt->reasons.size() ? rt->reasons[pv->reason] : "unknown";
			// A packet from a tenant's memory leaves as two segments (worker.cc, flush).
			c.data.resize(rte_pktmbuf_pkt_len(m));
			const uint8_t *d = (const uint8_t *)rte_pktmbuf_read(m, 0, c.data.size(), c.data.data());
			if (d != c.data.data())
				memcpy(c.data.data(), d, c.data.size());
			out.push_back(std::move(c));
		}
		rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, n);
	}
}

std::vector<Collected> runtime_collect(Runtime *rt)
{
	std::vector<Collected> out;
	if (rt->cfg.port.kind != "ring" || rt->cfg.loopback)
		return out;
	out.swap(rt->inject_refused);
	for (uint16_t q = 0; q < rt->n_queues; q++) {
		collect_ring(rt, rt->tx_rings[q], q, out);
		collect_ring(rt, rt->drop_rings[q], q, out);
	}
	return out;
}

} // namespace nfp
