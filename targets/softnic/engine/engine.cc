// Packet path of the softnic: parse → verify checksums → ingress → egress → update checksums →
// deparse, following simple_switch's v1model order. No allocation and no exceptions here.
#include "engine.h"

#include <algorithm>
#include <cstring>

namespace nfp_softnic {

namespace {

// Reads `width` bits starting at bit `pos` (big-endian, MSB first).
inline u128 read_bits(const uint8_t *d, uint32_t pos, uint32_t width) {
	uint32_t first = pos >> 3, shift = pos & 7;
	if (shift == 0 && (width & 7) == 0) {
		u128 v = 0;
		for (uint32_t i = 0; i < (width >> 3); i++) v = (v << 8) | d[first + i];
		return v;
	}
	uint32_t nbytes = (shift + width + 7) >> 3;
	if (nbytes <= 16) {
		u128 v = 0;
		for (uint32_t i = 0; i < nbytes; i++) v = (v << 8) | d[first + i];
		return (v >> (nbytes * 8 - shift - width)) & width_mask(width);
	}
	u128 v = 0;
	for (uint32_t i = 0; i < width; i++) {
		uint32_t b = pos + i;
		v = (v << 1) | ((d[b >> 3] >> (7 - (b & 7))) & 1);
	}
	return v;
}

inline void write_bits(uint8_t *d, uint32_t pos, uint32_t width, u128 v) {
	uint32_t first = pos >> 3;
	if ((pos & 7) == 0 && (width & 7) == 0) {
		for (uint32_t i = (width >> 3); i-- > 0;) {
			d[first + i] = uint8_t(v);
			v >>= 8;
		}
		return;
	}
	uint32_t shift = pos & 7, nbytes = (shift + width + 7) >> 3;
	if (nbytes <= 16) { // read-modify-write the covering bytes as one big-endian word
		uint32_t low = nbytes * 8 - shift - width;
		u128 w = 0;
		for (uint32_t i = 0; i < nbytes; i++) w = (w << 8) | d[first + i];
		u128 m = width_mask(width) << low;
		w = (w & ~m) | ((v << low) & m);
		for (uint32_t i = nbytes; i-- > 0;) {
			d[first + i] = uint8_t(w);
			w >>= 8;
		}
		return;
	}
	for (uint32_t i = 0; i < width; i++) {
		uint32_t b = pos + i;
		uint8_t bit = uint8_t((v >> (width - 1 - i)) & 1);
		uint8_t m = uint8_t(1u << (7 - (b & 7)));
		d[b >> 3] = bit ? uint8_t(d[b >> 3] | m) : uint8_t(d[b >> 3] & ~m);
	}
}

// Bytes of slack after every buffer that the fast field accessors may touch (one 8-byte word).
constexpr uint32_t kSlack = 8;

// Reads `width` bits at bit `pos` through one unaligned 64-bit load; needs kSlack readable bytes.
inline u128 read_bits_fast(const uint8_t *d, uint32_t pos, uint32_t width) {
	if (width <= 57) {
		uint64_t w;
		std::memcpy(&w, d + (pos >> 3), 8);
		w = __builtin_bswap64(w);
		return u128((w << (pos & 7)) >> (64 - width));
	}
	return read_bits(d, pos, width);
}

// Writes `width` bits at bit `pos` through one 64-bit read-modify-write; needs kSlack bytes.
inline void write_bits_fast(uint8_t *d, uint32_t pos, uint32_t width, u128 v) {
	if (width <= 57) {
		uint64_t w;
		std::memcpy(&w, d + (pos >> 3), 8);
		w = __builtin_bswap64(w);
		const uint32_t low = 64 - (pos & 7) - width;
		const uint64_t m = ((uint64_t(1) << width) - 1) << low;
		w = (w & ~m) | ((uint64_t(v) << low) & m);
		w = __builtin_bswap64(w);
		std::memcpy(d + (pos >> 3), &w, 8);
		return;
	}
	write_bits(d, pos, width, v);
}

inline u128 prefix_mask(uint32_t width, uint32_t plen) {
	if (plen == 0) return 0;
	return width_mask(width) & ~width_mask(width - plen);
}

} // namespace

// Rewrites the commonest expression shapes into single nodes, in place: `d2b` of something
// already boolean becomes that thing, and field ==/!= constant one node. Results are unchanged.
void Engine::fold(Program *p) {
	auto boolean = [&](const Expr &x) {
		if (x.kind == ExprKind::Valid || x.kind == ExprKind::FieldEq || x.kind == ExprKind::FieldNe) return true;
		if (x.kind != ExprKind::Op) return false;
		switch (x.op) {
		case Op::Eq: case Op::Ne: case Op::Gt: case Op::Ge: case Op::Lt: case Op::Le:
		case Op::And: case Op::Or: case Op::Not: case Op::ToBool: return true;
		default: return false;
		}
	};
	// Children always precede their parents in `exprs`, so one forward pass folds bottom-up.
	for (Expr &e : p->exprs) {
		if (e.kind != ExprKind::Op) continue;
		if (e.op == Op::ToBool && boolean(p->exprs[size_t(e.a)])) {
			e = p->exprs[size_t(e.a)];
			continue;
		}
		if (e.op != Op::Eq && e.op != Op::Ne) continue;
		const Expr &a = p->exprs[size_t(e.a)], &b = p->exprs[size_t(e.b)];
		const Expr *f = a.kind == ExprKind::Field ? &a : b.kind == ExprKind::Field ? &b : nullptr;
		const Expr *c = a.kind == ExprKind::Const ? &a : b.kind == ExprKind::Const ? &b : nullptr;
		if (!f || !c) continue;
		Expr n = e;
		n.kind = e.op == Op::Eq ? ExprKind::FieldEq : ExprKind::FieldNe;
		n.idx = f->idx;
		n.value = c->value;
		e = n;
	}
}

bool Engine::load(const std::string &json, std::string *err) {
	auto p = std::make_unique<Program>();
	if (!program_load(json, p.get(), err)) return false;
	uint32_t hb = 0, csum_bits = 0;
	for (const HeaderInst &h : p->headers)
		if (!h.metadata) hb += p->header_types[size_t(h.type)].bits / 8;
	for (const Checksum &c : p->checksums) {
		uint32_t b = 0;
		for (uint32_t w : c.input_widths) b += w;
		csum_bits = std::max(csum_bits, b);
	}
	fold(p.get());
	prog_ = std::move(p);
	max_hdr_bytes_ = hb + kSlack; // slack for the 64-bit field stores of the deparser
	phv_.assign(prog_->n_slots, 0);
	valid_.assign(prog_->headers.size(), 0);
	valid_init_.assign(prog_->headers.size(), 0);
	for (size_t h = 0; h < prog_->headers.size(); h++) valid_init_[h] = prog_->headers[h].metadata ? 1 : 0;
	scratch_.assign(csum_bits / 8 + 2 + kSlack, 0);
	uint32_t widest = 0;
	for (const HeaderType &t : prog_->header_types) widest = std::max(widest, t.bits / 8);
	hdr_buf_.assign(widest + kSlack, 0);
	return true;
}

u128 Engine::eval(int32_t ei) const {
	const Expr &e = prog_->exprs[size_t(ei)];
	switch (e.kind) {
	case ExprKind::Const: return e.value;
	case ExprKind::Field: return phv_[size_t(e.idx)];
	case ExprKind::Valid: return valid_[size_t(e.idx)];
	case ExprKind::Param: return params_ ? params_[e.idx] : 0;
	case ExprKind::FieldEq: return phv_[size_t(e.idx)] == e.value;
	case ExprKind::FieldNe: return phv_[size_t(e.idx)] != e.value;
	case ExprKind::Op: break;
	}
	switch (e.op) {
	case Op::Not: return eval(e.a) ? 0 : 1;
	case Op::BitNot: return ~eval(e.a);
	case Op::ToBool: return eval(e.a) ? 1 : 0;
	case Op::ToBit: return eval(e.a) ? 1 : 0;
	case Op::Neg: return u128(0) - eval(e.a);
	case Op::Mod2c: return eval(e.a) & width_mask(uint32_t(e.idx));
	case Op::And: return (eval(e.a) && eval(e.b)) ? 1 : 0;
	case Op::Or: return (eval(e.a) || eval(e.b)) ? 1 : 0;
	case Op::Cond: return eval(e.c) ? eval(e.a) : eval(e.b);
	default: break;
	}
	u128 a = eval(e.a), b = eval(e.b);
	switch (e.op) {
	case Op::Add: return a + b;
	case Op::Sub: return a - b;
	case Op::Mul: return a * b;
	case Op::Shl: return b >= 128 ? 0 : a << unsigned(b);
	case Op::Shr: return b >= 128 ? 0 : a >> unsigned(b);
	case Op::Eq: return a == b;
	case Op::Ne: return a != b;
	case Op::Gt: return a > b;
	case Op::Ge: return a >= b;
	case Op::Lt: return a < b;
	case Op::Le: return a <= b;
	case Op::BitAnd: return a & b;
	case Op::BitOr: return a | b;
	case Op::BitXor: return a ^ b;
	default: return 0;
	}
}

uint32_t Engine::meter_color(MeterArray &ma, uint32_t index, uint32_t size, uint64_t now) {
	enum { GREEN = 0, YELLOW = 1, RED = 2 };
	if (index >= ma.size) return GREEN;
	MeterCell &c = ma.cells[index];
	if (!c.configured) return GREEN;
	if (c.last_ns == 0 || now < c.last_ns) c.last_ns = now;
	double dt = double(now - c.last_ns) * 1e-9;
	c.last_ns = now;
	double s = double(size);
	if (c.sr) { // RFC 2697: committed bucket overflows into the excess bucket
		c.tc += c.cir * dt;
		if (c.tc > c.cburst) {
			c.tp = std::min(c.eburst, c.tp + (c.tc - c.cburst));
			c.tc = c.cburst;
		}
		if (c.tc >= s) {
			c.tc -= s;
			return GREEN;
		}
		if (c.tp >= s) {
			c.tp -= s;
			return YELLOW;
		}
		return RED;
	}
	c.tc = std::min(c.cburst, c.tc + c.cir * dt);
	if (ma.rate_count == 1) {
		if (c.tc < s) return RED;
		c.tc -= s;
		return GREEN;
	}
	c.tp = std::min(c.pburst, c.tp + c.pir * dt); // RFC 2698, colour-blind
	if (c.tp < s) return RED;
	if (c.tc < s) {
		c.tp -= s;
		return YELLOW;
	}
	c.tp -= s;
	c.tc -= s;
	return GREEN;
}

void Engine::run_action(int32_t ai, const u128 *data) {
	const Action &a = prog_->actions[size_t(ai)];
	params_ = data;
	const size_t n = a.prims.size();
	for (size_t pc = 0; pc < n;) {
		const Prim &p = a.prims[pc++];
		switch (p.op) {
		case PrimOp::Assign: phv_[size_t(p.dst)] = eval(p.src) & width_mask(p.width); break;
		case PrimOp::AddHeader:
			if (!valid_[size_t(p.dst)]) {
				const HeaderInst &h = prog_->headers[size_t(p.dst)];
				size_t nf = prog_->header_types[size_t(h.type)].fields.size();
				std::fill(phv_.begin() + h.field_base, phv_.begin() + h.field_base + nf, u128(0));
				valid_[size_t(p.dst)] = 1;
			}
			break;
		case PrimOp::RemoveHeader: valid_[size_t(p.dst)] = 0; break;
		case PrimOp::AssignHeader: {
			const HeaderInst &d = prog_->headers[size_t(p.dst)];
			const HeaderInst &s = prog_->headers[size_t(p.src)];
			size_t nf = prog_->header_types[size_t(d.type)].fields.size();
			std::copy(phv_.begin() + s.field_base, phv_.begin() + s.field_base + nf, phv_.begin() + d.field_base);
			valid_[size_t(p.dst)] = valid_[size_t(p.src)];
			break;
		}
		case PrimOp::MarkToDrop:
			phv_[size_t(prog_->sm_egress_spec)] = kDropPort;
			if (prog_->sm_mcast_grp >= 0) phv_[size_t(prog_->sm_mcast_grp)] = 0;
			break;
		case PrimOp::Count: {
			CounterArray &c = prog_->counters[size_t(p.array)];
			u128 i = eval(p.src);
			if (i < c.size) {
				c.packets[size_t(i)]++;
				c.bytes[size_t(i)] += in_len_;
			}
			break;
		}
		case PrimOp::ExecuteMeter: {
			MeterArray &m = prog_->meters[size_t(p.array)];
			u128 i = eval(p.src);
			uint32_t color = meter_color(m, i < m.size ? uint32_t(i) : m.size, m.packets ? 1 : in_len_, now_);
			phv_[size_t(p.dst)] = color & width_mask(p.width);
			break;
		}
		case PrimOp::Exit: exit_ = true; return;
		case PrimOp::Jump: pc = size_t(p.target); break;
		case PrimOp::JumpIfZero:
			if (!eval(p.src)) pc = size_t(p.target);
			break;
		case PrimOp::NoOp: break;
		}
	}
}

int32_t Engine::lookup(const Table &tb) const {
	u128 key[kMaxKeyFields];
	const uint32_t nk = uint32_t(tb.keys.size());
	for (uint32_t i = 0; i < nk; i++) {
		const KeyField &k = tb.keys[i];
		key[i] = k.kind == MatchKind::Valid ? u128(valid_[size_t(k.slot)]) : (phv_[size_t(k.slot)] & k.mask);
	}
	if (tb.exact_only) {
		if (tb.n_live == 0) return -1;
		ExactKey ek;
		ek.n = nk;
		for (uint32_t i = 0; i < nk; i++) ek.v[i] = key[i];
		auto it = tb.exact.find(ek);
		return it == tb.exact.end() ? -1 : it->second;
	}
	for (int32_t id : tb.order) {
		const TableEntry &e = tb.entries[size_t(id)];
		bool ok = true;
		for (uint32_t i = 0; i < nk && ok; i++) {
			if (tb.keys[i].kind == MatchKind::Range) ok = key[i] >= e.value[i] && key[i] <= e.mask[i];
			else ok = (key[i] & e.mask[i]) == e.value[i];
		}
		if (ok) return id;
	}
	return -1;
}

void Engine::run_pipeline(int32_t node) {
	exit_ = false;
	uint32_t guard = 0;
	while (node != -1 && !exit_ && guard++ < 4096) {
		if (node_is_cond(node)) {
			const Conditional &c = prog_->conds[size_t(node_cond(node))];
			node = eval(c.expr) ? c.true_next : c.false_next;
			continue;
		}
		Table &tb = prog_->tables[size_t(node)];
		int32_t id = lookup(tb);
		int32_t action;
		if (id >= 0) {
			TableEntry &e = tb.entries[size_t(id)];
			if (tb.direct_counter) {
				e.packets++;
				e.bytes += in_len_;
			}
			action = e.action;
			run_action(action, e.data.data());
		} else {
			action = tb.default_action;
			if (action >= 0) run_action(action, tb.default_data.data());
		}
		if (tb.hit_miss_next) {
			node = id >= 0 ? tb.next_hit : tb.next_miss;
		} else {
			int32_t nx = action >= 0 ? tb.next_by_action[size_t(action)] : kNextUnset;
			node = nx == kNextUnset ? tb.base_default_next : nx;
		}
	}
}

bool Engine::parse(const uint8_t *data, uint32_t len, uint32_t *payload_off) {
	const Program &p = *prog_;
	uint32_t off = 0; // bytes consumed
	int32_t st = p.parser_init;
	int32_t error = 0;
	for (uint32_t steps = 0; st >= 0; steps++) {
		if (steps >= kMaxParserSteps) {
			error = p.err_packet_too_short;
			break;
		}
		const ParseState &s = p.states[size_t(st)];
		for (const ParserOp &op : s.ops) {
			if (op.kind == ParserOpKind::Extract) {
				const HeaderInst &h = p.headers[size_t(op.hdr)];
				const HeaderType &t = p.header_types[size_t(h.type)];
				uint32_t nb = t.bits / 8;
				if (off + nb > len) {
					error = p.err_packet_too_short;
					break;
				}
				// The 64-bit field loads may read kSlack bytes past the header: read in place when
				// the packet has them, else from a padded copy (the packet's last header).
				const uint8_t *hb = data + off;
				if (off + nb + kSlack > len) {
					std::memcpy(hdr_buf_.data(), data + off, nb);
					hb = hdr_buf_.data();
				}
				for (size_t i = 0; i < t.fields.size(); i++)
					phv_[h.field_base + i] = read_bits_fast(hb, t.fields[i].bit_offset, t.fields[i].width);
				valid_[size_t(op.hdr)] = 1;
				off += nb;
			} else if (op.kind == ParserOpKind::Set) {
				phv_[size_t(op.dst)] = eval(op.expr) & width_mask(op.width);
			} else if (!eval(op.expr)) {
				error = op.error;
				break;
			}
		}
		if (error) break;
		u128 key = 0;
		for (const KeyPart &k : s.key) {
			u128 v;
			if (k.lookahead) {
				if (uint64_t(off) * 8 + k.offset + k.width > uint64_t(len) * 8) {
					error = p.err_packet_too_short;
					break;
				}
				v = read_bits(data + off, k.offset, k.width);
			} else {
				v = phv_[size_t(k.slot)];
			}
			// BMv2 builds select keys from each field's byte-padded value, concatenated.
			const uint32_t padded = (k.width + 7) & ~7u;
			key = padded >= 128 ? v : ((key << padded) | v);
		}
		if (error) break;
		int32_t next = -3;
		for (const Transition &tr : s.transitions) {
			if (tr.is_default || (key & tr.mask) == (tr.value & tr.mask)) {
				next = tr.next;
				break;
			}
		}
		if (next == -3) { // no transition matched: error.NoMatch
			error = 2;
			for (size_t i = 0; i < p.errors.size(); i++)
				if (p.errors[i] == "NoMatch") error = int32_t(i);
			break;
		}
		st = next;
	}
	*payload_off = off;
	if (error && p.sm_parser_error >= 0) phv_[size_t(p.sm_parser_error)] = u128(uint32_t(error));
	return error == 0;
}

uint16_t Engine::csum16(const Checksum &c) const {
	uint8_t *buf = const_cast<uint8_t *>(scratch_.data());
	uint32_t bits = 0;
	std::memset(buf, 0, scratch_.size() - kSlack);
	for (size_t i = 0; i < c.input.size(); i++) {
		write_bits_fast(buf, bits, c.input_widths[i], eval(c.input[i]) & width_mask(c.input_widths[i]));
		bits += c.input_widths[i];
	}
	uint32_t nbytes = (bits + 7) / 8;
	uint32_t sum = 0;
	for (uint32_t i = 0; i + 1 < nbytes; i += 2) sum += (uint32_t(buf[i]) << 8) | buf[i + 1];
	if (nbytes & 1) sum += uint32_t(buf[nbytes - 1]) << 8;
	while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
	return uint16_t(~sum);
}

ProcessResult Engine::process(uint32_t port, const uint8_t *data, uint32_t len, uint8_t *out, uint64_t now_ns) {
	Program &p = *prog_;
	std::fill(phv_.begin(), phv_.end(), u128(0));
	std::memcpy(valid_.data(), valid_init_.data(), valid_.size());
	in_len_ = len;
	now_ = now_ns;
	pkt_ = data;
	pkt_len_ = len;
	phv_[size_t(p.sm_ingress_port)] = port & width_mask(p.slot_width[size_t(p.sm_ingress_port)]);
	if (p.sm_packet_length >= 0) phv_[size_t(p.sm_packet_length)] = len;

	uint32_t payload_off = 0;
	parse(data, len, &payload_off);
	for (const Checksum &c : p.checksums) {
		if (!c.verify || (c.cond >= 0 && !eval(c.cond))) continue;
		if (csum16(c) != uint16_t(phv_[size_t(c.target_slot)]) && p.sm_checksum_error >= 0)
			phv_[size_t(p.sm_checksum_error)] = 1;
	}

	run_pipeline(p.ingress.init);
	u128 spec = phv_[size_t(p.sm_egress_spec)];
	if (spec == kDropPort) return ProcessResult{Verdict::DropIngress, kDropPort, 0};
	phv_[size_t(p.sm_egress_port)] = spec;
	run_pipeline(p.egress.init);
	if (phv_[size_t(p.sm_egress_spec)] == kDropPort) return ProcessResult{Verdict::DropEgress, kDropPort, 0};

	for (const Checksum &c : p.checksums) {
		if (!c.update || (c.cond >= 0 && !eval(c.cond))) continue;
		phv_[size_t(c.target_slot)] = csum16(c);
	}
	uint32_t o = 0;
	for (int32_t hi : p.deparse_order) {
		if (!valid_[size_t(hi)]) continue;
		const HeaderInst &h = p.headers[size_t(hi)];
		const HeaderType &t = p.header_types[size_t(h.type)];
		std::memset(out + o, 0, t.bits / 8);
		for (size_t i = 0; i < t.fields.size(); i++)
			write_bits_fast(out + o, t.fields[i].bit_offset, t.fields[i].width, phv_[h.field_base + i]);
		o += t.bits / 8;
	}
	std::memcpy(out + o, data + payload_off, len - payload_off);
	o += len - payload_off;
	return ProcessResult{Verdict::Forward, uint32_t(phv_[size_t(p.sm_egress_port)]), o};
}

// ---- control plane ----

bool Engine::canon(const Table &tb, const MatchParam *m, uint32_t n, int32_t priority, Canon *c,
                   std::string *err) const {
	if (n != tb.keys.size()) {
		*err = "table " + tb.name + " has " + std::to_string(tb.keys.size()) + " key fields, got " + std::to_string(n);
		return false;
	}
	uint32_t plen_sum = 0;
	for (uint32_t i = 0; i < kMaxKeyFields; i++) c->value[i] = c->mask[i] = 0;
	for (uint32_t i = 0; i < n; i++) {
		const KeyField &k = tb.keys[i];
		const u128 wm = width_mask(k.width);
		const std::string kn = k.name.empty() ? ("key " + std::to_string(i)) : k.name;
		if ((m[i].value & ~wm) != 0 && !m[i].wildcard) {
			*err = "table " + tb.name + ": value for " + kn + " exceeds " + std::to_string(k.width) + " bits";
			return false;
		}
		switch (k.kind) {
		case MatchKind::Exact:
		case MatchKind::Valid:
			if (m[i].wildcard) {
				*err = "table " + tb.name + ": exact field " + kn + " cannot be a wildcard";
				return false;
			}
			c->value[i] = m[i].value;
			c->mask[i] = wm;
			break;
		case MatchKind::Lpm:
			if (m[i].wildcard) break;
			if (m[i].prefix_len > k.width) {
				*err = "table " + tb.name + ": prefix length " + std::to_string(m[i].prefix_len) + " of " + kn +
				       " exceeds " + std::to_string(k.width);
				return false;
			}
			c->mask[i] = prefix_mask(k.width, m[i].prefix_len);
			c->value[i] = m[i].value & c->mask[i];
			plen_sum += m[i].prefix_len;
			break;
		case MatchKind::Ternary:
		case MatchKind::Optional:
			if (m[i].wildcard) break;
			c->mask[i] = m[i].mask & wm;
			c->value[i] = m[i].value & c->mask[i];
			break;
		case MatchKind::Range:
			if (m[i].wildcard) {
				c->value[i] = 0;
				c->mask[i] = wm;
				break;
			}
			if (m[i].value > m[i].mask || m[i].mask > wm) {
				*err = "table " + tb.name + ": range of " + kn + " is empty or too wide";
				return false;
			}
			c->value[i] = m[i].value;
			c->mask[i] = m[i].mask;
			break;
		}
	}
	if (tb.has_priority) {
		if (priority <= 0) {
			*err = "table " + tb.name + " needs a positive priority (it has ternary/range/optional keys)";
			return false;
		}
		c->priority = priority;
	} else {
		c->priority = int32_t(plen_sum); // longest prefix wins
	}
	return true;
}

Status Engine::check_action(const Table &tb, int32_t action, const u128 *data, uint32_t nd, std::string *err) const {
	if (action < 0 || size_t(action) >= prog_->actions.size() ||
	    std::find(tb.actions.begin(), tb.actions.end(), action) == tb.actions.end()) {
		*err = "action is not permitted in table " + tb.name;
		return Status::InvalidArgument;
	}
	const Action &a = prog_->actions[size_t(action)];
	if (nd != a.param_widths.size()) {
		*err = "action " + a.name + " takes " + std::to_string(a.param_widths.size()) + " parameters, got " +
		       std::to_string(nd);
		return Status::InvalidArgument;
	}
	for (uint32_t i = 0; i < nd; i++)
		if ((data[i] & ~width_mask(a.param_widths[i])) != 0) {
			*err = "parameter " + a.param_names[i] + " of action " + a.name + " exceeds " +
			       std::to_string(a.param_widths[i]) + " bits";
			return Status::InvalidArgument;
		}
	return Status::Ok;
}

Status Engine::table_find(int32_t t, const MatchParam *m, uint32_t n, int32_t priority, int32_t *id,
                          std::string *err) const {
	const Table &tb = prog_->tables[size_t(t)];
	Canon c;
	if (!canon(tb, m, n, priority, &c, err)) return Status::InvalidArgument;
	if (tb.exact_only) {
		ExactKey ek;
		ek.n = uint32_t(tb.keys.size());
		for (uint32_t i = 0; i < ek.n; i++) ek.v[i] = c.value[i];
		auto it = tb.exact.find(ek);
		*id = it == tb.exact.end() ? -1 : it->second;
		return Status::Ok;
	}
	*id = -1;
	for (int32_t e : tb.order) {
		const TableEntry &te = tb.entries[size_t(e)];
		if (te.priority != c.priority) continue;
		bool same = true;
		for (uint32_t i = 0; i < n && same; i++) same = te.value[i] == c.value[i] && te.mask[i] == c.mask[i];
		if (same) {
			*id = e;
			break;
		}
	}
	return Status::Ok;
}

void Engine::order_insert(Table &tb, int32_t id) {
	// Stable: among equal priorities the earlier entry keeps precedence.
	const int32_t pr = tb.entries[size_t(id)].priority;
	auto pos = std::find_if(tb.order.begin(), tb.order.end(),
	                        [&](int32_t e) { return tb.entries[size_t(e)].priority < pr; });
	tb.order.insert(pos, id);
}

Status Engine::table_add(int32_t t, const MatchParam *m, uint32_t n, int32_t priority, int32_t action,
                         const u128 *data, uint32_t nd, int32_t *id, std::string *err) {
	Table &tb = prog_->tables[size_t(t)];
	int32_t existing = -1;
	Status s = table_find(t, m, n, priority, &existing, err);
	if (s != Status::Ok) return s;
	if (existing >= 0) {
		*err = "table " + tb.name + ": an entry with this match already exists";
		return Status::AlreadyExists;
	}
	s = check_action(tb, action, data, nd, err);
	if (s != Status::Ok) return s;
	if (tb.n_live >= tb.max_size) {
		*err = "table " + tb.name + " is full (" + std::to_string(tb.max_size) + " entries)";
		return Status::ResourceExhausted;
	}
	Canon c;
	canon(tb, m, n, priority, &c, err);
	int32_t slot;
	if (!tb.free_slots.empty()) {
		slot = tb.free_slots.back();
		tb.free_slots.pop_back();
	} else {
		slot = int32_t(tb.entries.size());
		tb.entries.emplace_back();
	}
	TableEntry &e = tb.entries[size_t(slot)];
	std::memcpy(e.value, c.value, sizeof e.value);
	std::memcpy(e.mask, c.mask, sizeof e.mask);
	e.priority = c.priority;
	e.action = action;
	e.data.assign(data, data + nd);
	e.packets = e.bytes = 0;
	e.live = true;
	if (tb.exact_only) {
		ExactKey ek;
		ek.n = uint32_t(tb.keys.size());
		for (uint32_t i = 0; i < ek.n; i++) ek.v[i] = c.value[i];
		tb.exact.emplace(ek, slot);
	} else {
		order_insert(tb, slot);
	}
	tb.n_live++;
	*id = slot;
	return Status::Ok;
}

Status Engine::table_modify(int32_t t, int32_t id, int32_t action, const u128 *data, uint32_t nd, std::string *err) {
	Table &tb = prog_->tables[size_t(t)];
	if (id < 0 || size_t(id) >= tb.entries.size() || !tb.entries[size_t(id)].live) {
		*err = "table " + tb.name + ": no such entry";
		return Status::NotFound;
	}
	Status s = check_action(tb, action, data, nd, err);
	if (s != Status::Ok) return s;
	TableEntry &e = tb.entries[size_t(id)];
	e.action = action;
	e.data.assign(data, data + nd);
	return Status::Ok;
}

Status Engine::table_delete(int32_t t, int32_t id, std::string *err) {
	Table &tb = prog_->tables[size_t(t)];
	if (id < 0 || size_t(id) >= tb.entries.size() || !tb.entries[size_t(id)].live) {
		*err = "table " + tb.name + ": no such entry";
		return Status::NotFound;
	}
	TableEntry &e = tb.entries[size_t(id)];
	if (tb.exact_only) {
		ExactKey ek;
		ek.n = uint32_t(tb.keys.size());
		for (uint32_t i = 0; i < ek.n; i++) ek.v[i] = e.value[i];
		tb.exact.erase(ek);
	} else {
		tb.order.erase(std::find(tb.order.begin(), tb.order.end(), id));
	}
	e.live = false;
	tb.free_slots.push_back(id);
	tb.n_live--;
	return Status::Ok;
}

Status Engine::table_set_default(int32_t t, int32_t action, const u128 *data, uint32_t nd, std::string *err) {
	Table &tb = prog_->tables[size_t(t)];
	if (tb.default_const && action != tb.default_action) {
		*err = "table " + tb.name + " has a const default action";
		return Status::InvalidArgument;
	}
	Status s = check_action(tb, action, data, nd, err);
	if (s != Status::Ok) return s;
	tb.default_action = action;
	tb.default_data.assign(data, data + nd);
	return Status::Ok;
}

void Engine::table_clear(int32_t t) {
	Table &tb = prog_->tables[size_t(t)];
	tb.entries.clear();
	tb.free_slots.clear();
	tb.exact.clear();
	tb.order.clear();
	tb.n_live = 0;
}

Status Engine::meter_set(int32_t m, uint32_t index, const MeterConfig *cfg, std::string *err) {
	MeterArray &ma = prog_->meters[size_t(m)];
	if (index >= ma.size) {
		*err = "meter " + ma.name + ": index " + std::to_string(index) + " out of range (size " + std::to_string(ma.size) + ")";
		return Status::InvalidArgument;
	}
	MeterCell &c = ma.cells[index];
	if (!cfg) {
		c = MeterCell{};
		return Status::Ok;
	}
	if (cfg->cir < 0 || cfg->pir < 0 || cfg->cburst < 0 || cfg->pburst < 0 || cfg->eburst < 0) {
		*err = "meter " + ma.name + ": negative rate or burst";
		return Status::InvalidArgument;
	}
	c.configured = true;
	c.sr = cfg->eburst > 0;
	if (!c.sr && ma.rate_count == 2 && cfg->pir < cfg->cir) {
		*err = "meter " + ma.name + ": peak rate below committed rate";
		return Status::InvalidArgument;
	}
	c.cir = cfg->cir;
	c.pir = cfg->pir;
	c.cburst = cfg->cburst;
	c.pburst = cfg->pburst;
	c.eburst = cfg->eburst;
	c.tc = c.cburst;
	c.tp = c.sr ? c.eburst : c.pburst;
	c.last_ns = 0;
	return Status::Ok;
}

} // namespace nfp_softnic
