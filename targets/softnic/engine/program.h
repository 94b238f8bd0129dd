// The softnic's internal program: a BMv2 JSON (v1model) pipeline compiled into flat, indexed
// structures at load time, so the packet path only follows indices and never allocates.
#ifndef NFP_SOFTNIC_PROGRAM_H
#define NFP_SOFTNIC_PROGRAM_H

#include <climits>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace nfp_softnic {

// Every value fits in 128 bits (IPv6 addresses are the widest fields nfp emits).
using u128 = unsigned __int128;

constexpr uint32_t kMaxWidth = 128;
constexpr uint32_t kMaxKeyFields = 8;
constexpr uint32_t kDropPort = 511;
constexpr uint32_t kMaxParserSteps = 64;
constexpr int32_t kNextUnset = INT32_MIN; // next_tables has no entry for the action

inline u128 width_mask(uint32_t w) { return w >= 128 ? ~u128(0) : ((u128(1) << w) - 1); }

struct FieldDef {
	std::string name;
	uint32_t width;
	uint32_t bit_offset; // from the start of the header
};

struct HeaderType {
	std::string name;
	std::vector<FieldDef> fields;
	uint32_t bits;
};

struct HeaderInst {
	std::string name;
	int type;
	bool metadata;
	uint32_t field_base; // first slot of this header's fields in the packet's field array
};

// Expressions are a tree stored in one vector; children are indices.
enum class ExprKind : uint8_t {
	Const, Field, Valid, Param, Op,
	FieldEq, FieldNe // field `idx` compared with constant `value` (folded at load for speed)
};
enum class Op : uint8_t {
	Add, Sub, Mul, Shl, Shr, Eq, Ne, Gt, Ge, Lt, Le, And, Or, Not, BitAnd, BitOr, BitXor, BitNot,
	ToBool, ToBit, Cond, Mod2c, Neg
};
struct Expr {
	ExprKind kind;
	Op op;
	int32_t idx; // Field: slot; Valid: header; Param: action data index; Mod2c: width
	int32_t a, b, c;
	u128 value;
};

enum class PrimOp : uint8_t {
	Assign, AddHeader, RemoveHeader, AssignHeader, MarkToDrop, Count, ExecuteMeter, Exit, Jump,
	JumpIfZero, NoOp
};
struct Prim {
	PrimOp op;
	int32_t dst;   // Assign/ExecuteMeter: field slot; AddHeader/RemoveHeader/AssignHeader: header
	int32_t src;   // expression; AssignHeader: source header
	int32_t array; // Count/ExecuteMeter: counter or meter array
	int32_t target; // Jump/JumpIfZero: primitive index
	uint32_t width; // Assign: destination width
};

struct Action {
	std::string name;
	std::vector<uint32_t> param_widths;
	std::vector<std::string> param_names;
	std::vector<Prim> prims;
};

enum class MatchKind : uint8_t { Exact, Lpm, Ternary, Range, Optional, Valid };

struct KeyField {
	MatchKind kind;
	int32_t slot;   // field slot, or header index for Valid
	uint32_t width;
	u128 mask;      // key mask from the JSON (p4c slices), all ones otherwise
	std::string name;
};

struct TableEntry {
	u128 value[kMaxKeyFields];
	u128 mask[kMaxKeyFields]; // ternary/lpm/optional mask; for range: high bound
	int32_t priority;         // larger wins (P4Runtime order); lpm-only tables use prefix length
	int32_t action;
	std::vector<u128> data;
	uint64_t packets, bytes; // direct counter
	bool live;
};

struct ExactKey {
	u128 v[kMaxKeyFields];
	uint32_t n; // key fields in use; the rest are zero
	bool operator==(const ExactKey &o) const {
		for (uint32_t i = 0; i < n; i++)
			if (v[i] != o.v[i]) return false;
		return n == o.n;
	}
};
struct ExactKeyHash {
	size_t operator()(const ExactKey &k) const {
		uint64_t h = 1469598103934665603ull;
		for (uint32_t i = 0; i < k.n; i++) {
			h ^= uint64_t(k.v[i]) ^ (uint64_t(k.v[i] >> 64) * 0x9e3779b97f4a7c15ull);
			h *= 1099511628211ull;
			h ^= h >> 29;
		}
		return size_t(h);
	}
};

struct Table {
	std::string name;
	std::vector<KeyField> keys;
	bool exact_only;
	bool has_priority; // ternary/range/optional key present
	uint32_t max_size;
	std::vector<int32_t> actions; // permitted action ids
	std::vector<int32_t> next_by_action; // parallel to program actions: next node, or -1
	bool hit_miss_next;
	int32_t next_hit, next_miss, base_default_next;
	int32_t default_action;
	std::vector<u128> default_data;
	bool default_const;
	bool direct_counter;
	// Entries: slots are reused after delete; ids are slot indices.
	std::vector<TableEntry> entries;
	std::vector<int32_t> free_slots;
	std::unordered_map<ExactKey, int32_t, ExactKeyHash> exact;
	std::vector<int32_t> order; // non-exact tables: live entries, best first
	uint64_t n_live;
};

struct Conditional {
	std::string name;
	int32_t expr;
	int32_t true_next, false_next;
};

// Control-flow nodes: >= 0 is a table, <= -2 is conditional (-2 - index), -1 ends the pipeline.
inline int32_t cond_node(int32_t i) { return -2 - i; }
inline bool node_is_cond(int32_t n) { return n <= -2; }
inline int32_t node_cond(int32_t n) { return -2 - n; }

struct Pipeline {
	int32_t init; // node
	std::vector<int32_t> tables; // table ids of this pipeline (for reference)
};

enum class ParserOpKind : uint8_t { Extract, Set, Verify };
struct ParserOp {
	ParserOpKind kind;
	int32_t hdr;      // Extract
	int32_t dst;      // Set: field slot
	uint32_t width;   // Set: destination width
	int32_t expr;     // Set: value; Verify: condition
	int32_t error;    // Verify: error code when false
};
struct KeyPart {
	bool lookahead;
	int32_t slot; // field slot (or -1-hdr for validity is not allowed in keys)
	uint32_t offset, width;
};
struct Transition {
	bool is_default;
	u128 value, mask;
	int32_t next; // state index, -1 = accept
};
struct ParseState {
	std::string name;
	std::vector<ParserOp> ops;
	std::vector<KeyPart> key;
	std::vector<Transition> transitions;
};

struct Checksum {
	std::string name;
	int32_t target_slot;
	uint32_t target_width;
	int32_t cond; // expression, or -1 when unconditional
	bool update, verify;
	std::vector<int32_t> input; // expressions (fields or constants), concatenated in order
	std::vector<uint32_t> input_widths;
};

struct CounterArray {
	std::string name;
	uint32_t size;
	bool direct;
	std::vector<uint64_t> packets, bytes;
};

// A two- or three-colour marker per meter cell: RFC 2698 trTCM, or RFC 2697 srTCM when an
// excess burst is configured; rates in units per second, tokens refilled from the packet clock.
struct MeterCell {
	bool configured;
	bool sr; // srTCM
	double cir, pir, cburst, pburst, eburst;
	double tc, tp; // tokens: committed, peak (srTCM: excess)
	uint64_t last_ns;
};
struct MeterArray {
	std::string name;
	uint32_t size;
	bool packets; // unit: packets, else bytes
	uint32_t rate_count;
	std::vector<MeterCell> cells;
};

struct Program {
	std::vector<HeaderType> header_types;
	std::vector<HeaderInst> headers;
	std::vector<uint32_t> slot_width; // per field slot
	std::vector<int32_t> slot_header; // per field slot, its header
	uint32_t n_slots = 0;
	std::vector<Expr> exprs;
	std::vector<Action> actions;
	std::vector<Table> tables;
	std::vector<Conditional> conds;
	Pipeline ingress{}, egress{};
	std::vector<ParseState> states;
	int32_t parser_init = -1;
	std::vector<int32_t> deparse_order; // header indices
	std::vector<Checksum> checksums;
	std::vector<CounterArray> counters;
	std::vector<MeterArray> meters;
	std::vector<std::string> errors; // parser error names by code
	// standard_metadata slots (or -1 when the program lacks the field)
	int32_t sm_ingress_port = -1, sm_egress_spec = -1, sm_egress_port = -1, sm_packet_length = -1,
	        sm_mcast_grp = -1, sm_checksum_error = -1, sm_parser_error = -1, sm_instance_type = -1;
	int32_t err_packet_too_short = 1;

	int32_t find_table(const std::string &n) const;
	int32_t find_action(const std::string &n) const;
	int32_t find_counter(const std::string &n) const;
	int32_t find_meter(const std::string &n) const;
};

/** Compiles BMv2 JSON text; on failure returns false with a message naming the construct. */
bool program_load(const std::string &json_text, Program *out, std::string *err);

} // namespace nfp_softnic

#endif
