/*
 * A tenant as the isolation layer sees it: one domain under one backend, the tenant's NF chain in
 * it, fault containment (quarantine) and accounting. Used by the JS binding (napi.cc) for the
 * containment, fairness and state tests and the isolation benchmark; the runtime's workers use
 * the same domain backends through domain.h directly.
 */
#ifndef NFP_ISO_TENANT_H
#define NFP_ISO_TENANT_H

#include <stdint.h>

#include <string>
#include <vector>

#include "chain.h"
#include "iso.h"

namespace nfp {

struct IsoNfSpec {
	std::string builtin;  // built-in type for `none`, or ""
	std::string artifact; // module path (sfi: "x.so" or "x.so#k"; mpk/process: native module)
	std::string config;   // JSON handed to init
};

struct IsoTenantStats {
	uint64_t rx = 0, tx = 0, batches = 0, cycles = 0;
	uint64_t drop_nf = 0, drop_quarantined = 0, drop_overload = 0;
	uint64_t faults = 0, reloads = 0;
};

struct IsoTenant {
	uint16_t id = 0;
	uint32_t weight = 1;
	std::string backend;
	bool chain = false; // sfi: run the whole chain with one crossing (one chain module)
	uint32_t packet_access = NFP_PACKET_ACCESS_SHARED; // domain.h
	// Where the lab places the tenant's packets: its domain's packet memory (shared access, a
	// backend that has it), else nullptr (packets in host memory, copied in per call).
	uint8_t *packet_mem = nullptr;
	uint64_t budget_cycles = NFP_ISO_DEFAULT_BUDGET_CYCLES;
	std::vector<IsoNfSpec> specs;
	struct nfp_domain *domain = nullptr;
	std::vector<uint32_t> slots;
	uint32_t moves_l2 = 0; // bit k: NF k writes L2, so it may move packet fronts (set at start)
	bool quarantined = false;
	std::string fault; // why it was quarantined
	IsoTenantStats stats;
	struct nfp_chain_scratch scratch; // per-NF runs: the packets still on the chain
	std::vector<std::string> events; // fault and reload log, newest last
};

// Creates the domain, loads every NF and takes packet memory for one batch (NFP_NF_MAX_BATCH
// slots of NFP_ISO_SLOT bytes) when the domain has some. Throws std::runtime_error with a
// user-facing message.
void iso_tenant_start(IsoTenant &t);

// The slot of packet `i` of a batch (NFP_PKT_HEADROOM, then the frame), in the tenant's packet
// memory or in `fallback` (NFP_NF_MAX_BATCH slots of host memory).
uint8_t *iso_tenant_slot(IsoTenant &t, uint8_t *fallback, uint32_t i);
// Unloads everything and destroys the domain.
void iso_tenant_stop(IsoTenant &t);

/*
 * Runs one batch through the tenant's chain. Packets whose verdict is not PASS leave the chain at
 * that NF; `verdicts`/`reasons` receive each packet's final verdict. A quarantined tenant, or a
 * fault during this batch, drops the whole batch: every verdict is DROP and `*quarantined_now`
 * is set. Returns the cycles spent.
 */
uint64_t iso_tenant_run(IsoTenant &t, struct nfp_pkt *pkts, uint32_t count, uint8_t *verdicts, uint8_t *reasons,
			uint64_t now_ns, bool *quarantined_now);

} // namespace nfp

#endif
