// The softnic packet engine: executes a loaded BMv2 JSON program (v1model semantics) on one
// packet at a time. Single-threaded: one Engine per core. The packet path never allocates;
// every buffer is sized when the pipeline is loaded.
#ifndef NFP_SOFTNIC_ENGINE_H
#define NFP_SOFTNIC_ENGINE_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "program.h"

namespace nfp_softnic {

enum class Verdict : uint8_t { Forward, DropIngress, DropEgress };

/** Status of a control-plane call; the values follow the P4Runtime/gRPC codes they map to. */
enum class Status : uint8_t { Ok = 0, InvalidArgument = 3, NotFound = 5, AlreadyExists = 6, ResourceExhausted = 8, FailedPrecondition = 9 };

/** One key field of a table entry, in the key's declared order. */
struct MatchParam {
	u128 value;
	u128 mask;         // ternary/optional mask (all ones for exact); range: high bound
	uint32_t prefix_len; // lpm
	bool wildcard;     // ternary/optional/range/lpm "don't care" (field omitted in P4Runtime)
};

struct MeterConfig {
	double cir, cburst, pir, pburst, eburst; // units (bytes or packets) per second; bursts in units
};

struct ProcessResult {
	Verdict verdict;
	uint32_t port;
	uint32_t len;
};

class Engine {
public:
	Engine() = default;

	/** Replaces the program atomically: on failure the previous program (and entries) stay. */
	bool load(const std::string &json, std::string *err);
	bool loaded() const { return prog_ != nullptr; }
	const Program &program() const { return *prog_; }
	/** Largest output for an input of `len` bytes (every header of the program added). */
	uint32_t max_output(uint32_t len) const { return len + max_hdr_bytes_; }

	/**
	 * Runs one packet through parser, ingress, egress and deparser. `out` must hold
	 * max_output(len) bytes. `now_ns` is the packet clock used by meters.
	 */
	ProcessResult process(uint32_t port, const uint8_t *data, uint32_t len, uint8_t *out, uint64_t now_ns);

	// Control plane (not thread-safe with process(); the caller serialises).
	Status table_add(int32_t t, const MatchParam *m, uint32_t n, int32_t priority, int32_t action,
	                 const u128 *data, uint32_t nd, int32_t *id, std::string *err);
	Status table_find(int32_t t, const MatchParam *m, uint32_t n, int32_t priority, int32_t *id, std::string *err) const;
	Status table_modify(int32_t t, int32_t id, int32_t action, const u128 *data, uint32_t nd, std::string *err);
	Status table_delete(int32_t t, int32_t id, std::string *err);
	Status table_set_default(int32_t t, int32_t action, const u128 *data, uint32_t nd, std::string *err);
	void table_clear(int32_t t);
	Status meter_set(int32_t m, uint32_t index, const MeterConfig *cfg, std::string *err);

	Program &mutable_program() { return *prog_; }

private:
	struct Canon {
		u128 value[kMaxKeyFields];
		u128 mask[kMaxKeyFields];
		int32_t priority;
	};
	bool canon(const Table &tb, const MatchParam *m, uint32_t n, int32_t priority, Canon *c, std::string *err) const;
	Status check_action(const Table &tb, int32_t action, const u128 *data, uint32_t nd, std::string *err) const;
	void order_insert(Table &tb, int32_t id);
	int32_t lookup(const Table &tb) const;
	static void fold(Program *p);
	u128 eval(int32_t e) const;
	void run_action(int32_t a, const u128 *data);
	void run_pipeline(int32_t node);
	bool parse(const uint8_t *data, uint32_t len, uint32_t *payload_off);
	uint16_t csum16(const Checksum &c) const;
	uint32_t meter_color(MeterArray &ma, uint32_t index, uint32_t size, uint64_t now);

	std::unique_ptr<Program> prog_;
	uint32_t max_hdr_bytes_ = 0;
	// Per-packet state, sized at load.
	std::vector<u128> phv_;
	std::vector<uint8_t> valid_;
	std::vector<uint8_t> valid_init_; // metadata valid, headers not
	const u128 *params_ = nullptr;
	bool exit_ = false;
	uint32_t in_len_ = 0;
	uint64_t now_ = 0;
	const uint8_t *pkt_ = nullptr;
	uint32_t pkt_len_ = 0;
	std::vector<uint8_t> scratch_; // checksum input
	std::vector<uint8_t> hdr_buf_; // one extracted header, with slack
};

} // namespace nfp_softnic

#endif
