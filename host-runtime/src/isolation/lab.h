// Loops that run tenants outside the plan-driven workers: the isolation benchmark and the
// weighted scheduler under overload (used by bench/isolation.ts and test/isolation).
#ifndef NFP_ISO_LAB_H
#define NFP_ISO_LAB_H

#include <stdint.h>

#include <vector>

#include "tenant.h"

namespace nfp {

using Packet = std::vector<uint8_t>;

struct BenchResult {
	uint64_t cycles = 0, packets = 0, passed = 0, batches = 0;
	// The median batch: robust where other processes share the core (a batch the thread was
	// descheduled in is an outlier, not an average).
	uint64_t median_batch_cycles = 0;
};

// Runs `packets` as one batch `iterations` times (bytes restored before each, untimed).
BenchResult lab_bench(IsoTenant &t, const std::vector<Packet> &packets, uint32_t iterations);

struct ScheduleTenant {
	IsoTenant *tenant;
	std::vector<Packet> traffic; // offered round robin
	uint32_t offered_per_round;
	// results
	uint64_t cycles = 0, processed = 0, overload_drops = 0, bursts = 0;
};

// Weighted DRR (drr.h) over per-tenant queues of `queue_cap` packets for `rounds` rounds, each
// burst charged the thread's CPU time in TSC cycles.
// Throws std::runtime_error on bad parameters.
void lab_schedule(std::vector<ScheduleTenant> &tenants, uint32_t rounds, uint32_t burst, uint32_t queue_cap,
		  uint64_t quantum);

} // namespace nfp

#endif
