// Benchmark and scheduler loops for tenants; see lab.h.
#include "lab.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <stdexcept>

#include <rte_cycles.h>
#include <rte_ring.h>

#include "drr.h"
#include "windows.h"
#include "pkt_parse.h"

namespace nfp {

static uint64_t mono_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

BenchResult lab_bench(IsoTenant &t, const std::vector<Packet> &packets, uint32_t iterations)
{
	uint32_t count = (uint32_t)packets.size();
	if (count == 0 || count > NFP_NF_MAX_BATCH)
		throw std::runtime_error("a benchmark batch holds 1.." + std::to_string(NFP_NF_MAX_BATCH) + " packets");
	for (const Packet &p : packets)
		if (p.size() > NFP_ISO_WIN)
			throw std::runtime_error("benchmark packets hold at most " + std::to_string(NFP_ISO_WIN) + " bytes");
	// Each packet in its slot (NFP_PKT_HEADROOM in front, nf.h): in the tenant's packet memory
	// when its domain has some (zero-copy), else in host memory.
	std::vector<uint8_t> host((size_t)NFP_NF_MAX_BATCH * NFP_ISO_SLOT);
	struct nfp_pkt pkts[NFP_NF_MAX_BATCH];
	uint8_t verdicts[NFP_NF_MAX_BATCH], reasons[NFP_NF_MAX_BATCH];
	BenchResult r;
	std::vector<uint64_t> each;
	each.reserve(iterations);
	for (uint32_t it = 0; it < iterations; it++) {
		for (uint32_t i = 0; i < count; i++) {
			uint8_t *slot = iso_tenant_slot(t, host.data(), i) + NFP_PKT_HEADROOM;
			memcpy(slot, packets[i].data(), packets[i].size());
			nfp_pkt_fill(&pkts[i], slot, (uint32_t)packets[i].size(), t.id, 1);
		}
		bool q = false;
		uint64_t c = iso_tenant_run(t, pkts, count, verdicts, reasons, mono_ns(), &q);
		each.push_back(c);
		r.cycles += c;
		r.packets += count;
		r.batches++;
		for (uint32_t i = 0; i < count; i++)
			r.passed += verdicts[i] == NFP_VERDICT_PASS;
	}
	if (!each.empty()) {
		std::nth_element(each.begin(), each.begin() + each.size() / 2, each.end());
		r.median_batch_cycles = each[each.size() / 2];
	}
	return r;
}

namespace {

// A tenant's queue: packet buffers cycle between a free ring and the queue ring.
struct Queue {
	struct rte_ring *queue = nullptr, *free = nullptr;
	std::vector<uint8_t> store;
	std::vector<uint16_t> lens;
	uint32_t next_template = 0;
	~Queue()
	{
		rte_ring_free(queue);
		rte_ring_free(free);
	}
};

} // namespace

void lab_schedule(std::vector<ScheduleTenant> &tenants, uint32_t rounds, uint32_t burst, uint32_t queue_cap,
		  uint64_t quantum)
{
	uint32_t n = (uint32_t)tenants.size();
	if (n == 0 || n > NFP_DRR_MAX_TENANTS || burst == 0 || burst > NFP_NF_MAX_BATCH || queue_cap < burst)
		throw std::runtime_error("schedule: need 1..64 tenants, burst 1..256 and queue_cap >= burst");
	std::vector<uint32_t> weights(n);
	for (uint32_t i = 0; i < n; i++) {
		weights[i] = tenants[i].tenant->weight;
		if (tenants[i].traffic.empty())
			throw std::runtime_error("schedule: every tenant needs traffic");
	}
	struct nfp_drr drr;
	if (nfp_drr_init(&drr, n, weights.data(), quantum) < 0)
		throw std::runtime_error("schedule: weights must be >= 1 and the quantum > 0");
	static uint32_t seq = 0;
	std::vector<Queue> qs(n);
	uint32_t ring_size = rte_align32pow2(queue_cap + 1);
	for (uint32_t i = 0; i < n; i++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "nfp_iso_q%u", seq++);
		qs[i].queue = rte_ring_create(name, ring_size, -1, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "nfp_iso_f%u", seq++);
		qs[i].free = rte_ring_create(name, ring_size, -1, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (qs[i].queue == nullptr || qs[i].free == nullptr)
			throw std::runtime_error("schedule: cannot create queues (is the EAL initialised?)");
		qs[i].store.resize((size_t)queue_cap * NFP_ISO_SLOT); // headroom + packet, per buffer
		qs[i].lens.resize(queue_cap);
		for (uintptr_t b = 0; b < queue_cap; b++)
			rte_ring_enqueue(qs[i].free, (void *)b);
	}
	struct nfp_pkt pkts[NFP_NF_MAX_BATCH];
	uint8_t verdicts[NFP_NF_MAX_BATCH], reasons[NFP_NF_MAX_BATCH];
	void *bufs[NFP_NF_MAX_BATCH];
	const uint64_t hz = rte_get_tsc_hz();
	for (uint32_t round = 0; round < rounds; round++) {
		// Arrivals: more than the worker can serve, so queues stay backlogged (overload).
		for (uint32_t i = 0; i < n; i++) {
			ScheduleTenant &st = tenants[i];
			for (uint32_t k = 0; k < st.offered_per_round; k++) {
				void *b;
				if (rte_ring_dequeue(qs[i].free, &b) != 0) {
					st.overload_drops++;
					st.tenant->stats.drop_overload++;
					continue;
				}
				const Packet &tp = st.traffic[qs[i].next_template++ % st.traffic.size()];
				size_t len = tp.size() < NFP_ISO_WIN ? tp.size() : NFP_ISO_WIN;
				memcpy(qs[i].store.data() + (uintptr_t)b * NFP_ISO_SLOT + NFP_PKT_HEADROOM, tp.data(), len);
				qs[i].lens[(uintptr_t)b] = (uint16_t)len;
				rte_ring_enqueue(qs[i].queue, b);
			}
		}
		for (uint32_t i = 0; i < n; i++) {
			ScheduleTenant &st = tenants[i];
			nfp_drr_visit(&drr, i, rte_ring_count(qs[i].queue) > 0);
			while (nfp_drr_may_run(&drr, i)) {
				unsigned got = rte_ring_dequeue_burst(qs[i].queue, bufs, burst, nullptr);
				if (got == 0)
					break;
				for (unsigned k = 0; k < got; k++) {
					uintptr_t b = (uintptr_t)bufs[k];
					nfp_pkt_fill(&pkts[k], qs[i].store.data() + b * NFP_ISO_SLOT + NFP_PKT_HEADROOM, qs[i].lens[b],
						     st.tenant->id, 1);
				}
				bool q = false;
				// Charge CPU time, not TSC: on a shared machine a burst may be preempted, and
				// the time the thread spent off the CPU is nobody's to pay for.
				uint64_t t0 = thread_ns();
				iso_tenant_run(*st.tenant, pkts, got, verdicts, reasons, mono_ns(), &q);
				nfp_drr_charge(&drr, i, (thread_ns() - t0) * hz / 1000000000ull);
				st.processed += got;
				rte_ring_enqueue_bulk(qs[i].free, bufs, got, nullptr);
			}
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		tenants[i].cycles = drr.t[i].cycles;
		tenants[i].bursts = drr.t[i].bursts;
	}
}

} // namespace nfp
