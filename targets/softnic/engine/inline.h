// The softnic engine inline in the host runtime's workers (inline.cc): what a frame the NIC
// hardware classified stands for, and the stage's counters.
#ifndef NFP_SOFTNIC_INLINE_H
#define NFP_SOFTNIC_INLINE_H

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <rte_spinlock.h>

#include "engine.h"

namespace nfp_softnic {

// MARK values (24 bits, as rte_flow's MARK on mlx5): 1..0x7fffff the SPI of a host path; with
// kNfpMarkWire set, "leave on wire port (value & 0x1ff)"; kNfpMarkSoftware: run the pipeline.
constexpr int32_t kNfpMarkWire = 0x800000;
constexpr int32_t kNfpMarkSoftware = 0xffffff;
constexpr int32_t kNfpNoDispatch = -1;
constexpr uint16_t kNfpInlineBurst = 128;

struct Dispatch {
	enum Kind : uint8_t { Software, HostPath, Wire } kind = Software;
	uint32_t spi = 0;
	uint8_t si = 0;
	uint16_t tenant = 0;
	uint32_t port = 0;
};

struct DispatchTable {
	std::vector<int32_t> tenant_of_spi, si_of_spi; // by SPI; -1: not a host path
	std::vector<int32_t> by_queue;                 // by hardware queue, for unmarked frames
	Dispatch decode(int32_t what) const;
};

// Relaxed counters: several lcores add to them, per burst or per packet.
struct InlineStats {
	std::atomic<bool> attached{false};
	std::atomic<uint64_t> software{0}, offloaded{0}, to_host{0}, returned{0}, to_wire{0}, cross_port{0},
	    dropped{0}, rechecked{0}, tx_full{0}, no_port{0}, multi_segment{0}, too_long{0};
};

void attach_inline(Engine &eng, rte_spinlock_t &lock, std::shared_ptr<InlineStats> &stats, Napi::Object self,
                   const Napi::CallbackInfo &info);
Napi::Value inline_stats(Napi::Env env, const std::shared_ptr<InlineStats> &stats);
Napi::Value decode_marks(const Napi::CallbackInfo &info);
Napi::Value wire_frames_trusted(const Napi::CallbackInfo &info);

} // namespace nfp_softnic

#endif
