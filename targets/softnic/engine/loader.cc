// Compiles BMv2 JSON (as documented in behavioral-model's docs/JSON_format.md, v1model subset)
// into a Program. Every construct outside the supported subset is rejected with a message that
// names it, so the engine never runs a program it would execute differently from BMv2.
#include <cstring>
#include <map>

#include "json.h"
#include "program.h"

namespace nfp_softnic {

int32_t Program::find_table(const std::string &n) const {
	for (size_t i = 0; i < tables.size(); i++)
		if (tables[i].name == n) return int32_t(i);
	return -1;
}
int32_t Program::find_action(const std::string &n) const {
	for (size_t i = 0; i < actions.size(); i++)
		if (actions[i].name == n) return int32_t(i);
	return -1;
}
int32_t Program::find_counter(const std::string &n) const {
	for (size_t i = 0; i < counters.size(); i++)
		if (counters[i].name == n) return int32_t(i);
	return -1;
}
int32_t Program::find_meter(const std::string &n) const {
	for (size_t i = 0; i < meters.size(); i++)
		if (meters[i].name == n) return int32_t(i);
	return -1;
}

namespace {

bool parse_hex(const std::string &s, u128 *out) {
	size_t i = 0;
	if (s.compare(0, 2, "0x") == 0 || s.compare(0, 2, "0X") == 0) i = 2;
	if (i == s.size()) return false;
	u128 v = 0;
	for (; i < s.size(); i++) {
		char c = s[i];
		uint32_t d;
		if (c >= '0' && c <= '9') d = uint32_t(c - '0');
		else if (c >= 'a' && c <= 'f') d = uint32_t(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') d = uint32_t(c - 'A' + 10);
		else return false;
		if (v >> 124) return false; // wider than 128 bits
		v = (v << 4) | d;
	}
	*out = v;
	return true;
}

struct Loader {
	Program &p;
	std::string err;
	std::map<std::string, int32_t> header_by_name;
	std::map<std::string, int32_t> calc_by_name; // index into calcs
	std::vector<const Json *> calcs;

	explicit Loader(Program &prog) : p(prog) {}

	bool fail(const std::string &m) {
		if (err.empty()) err = m;
		return false;
	}

	const Json *arr(const Json &o, const char *k, const std::string &where, bool required = true) {
		const Json *v = o.get(k);
		if (!v || v->is_null()) {
			if (required) fail(where + ": missing \"" + k + "\"");
			return nullptr;
		}
		if (!v->is_array()) {
			fail(where + ": \"" + k + "\" must be an array");
			return nullptr;
		}
		return v;
	}
	bool str(const Json &o, const char *k, std::string *out, const std::string &where) {
		const Json *v = o.get(k);
		if (!v || !v->is_string()) return fail(where + ": missing string \"" + k + "\"");
		*out = v->text;
		return true;
	}
	bool integer(const Json &o, const char *k, int64_t *out, const std::string &where) {
		const Json *v = o.get(k);
		if (!v || !v->as_int(out)) return fail(where + ": missing integer \"" + k + "\"");
		return true;
	}
	// Rejects a non-empty optional array member: a construct the softnic does not implement.
	bool none(const Json &root, const char *k, const char *what) {
		const Json *v = root.get(k);
		if (v && v->is_array() && !v->items.empty())
			return fail(std::string("unsupported construct: ") + what + " (\"" + k + "\": " +
			            std::to_string(v->items.size()) + " declared)");
		return true;
	}

	bool header_types(const Json &root) {
		const Json *a = arr(root, "header_types", "program");
		if (!a) return false;
		for (const Json &ht : a->items) {
			HeaderType t;
			if (!str(ht, "name", &t.name, "header_types[]")) return false;
			const Json *fs = arr(ht, "fields", "header type " + t.name);
			if (!fs) return false;
			uint32_t off = 0;
			for (const Json &f : fs->items) {
				if (!f.is_array() || f.items.size() < 2 || !f.items[0].is_string())
					return fail("header type " + t.name + ": malformed field");
				const std::string &fname = f.items[0].text;
				int64_t w = 0;
				if (!f.items[1].as_int(&w))
					return fail("unsupported construct: varbit field " + t.name + "." + fname);
				if (w <= 0 || w > int64_t(kMaxWidth))
					return fail("unsupported construct: field " + t.name + "." + fname + " is " +
					            std::to_string(w) + " bits wide (at most 128 supported)");
				if (f.items.size() > 2 && f.items[2].is_bool() && f.items[2].b)
					return fail("unsupported construct: signed field " + t.name + "." + fname);
				t.fields.push_back(FieldDef{fname, uint32_t(w), off});
				off += uint32_t(w);
			}
			t.bits = off;
			p.header_types.push_back(std::move(t));
		}
		return true;
	}

	int32_t type_by_name(const std::string &n) {
		for (size_t i = 0; i < p.header_types.size(); i++)
			if (p.header_types[i].name == n) return int32_t(i);
		return -1;
	}

	bool headers(const Json &root) {
		const Json *a = arr(root, "headers", "program");
		if (!a) return false;
		for (const Json &h : a->items) {
			HeaderInst hi;
			std::string tname;
			if (!str(h, "name", &hi.name, "headers[]") || !str(h, "header_type", &tname, "header " + hi.name))
				return false;
			hi.type = type_by_name(tname);
			if (hi.type < 0) return fail("header " + hi.name + ": unknown header type \"" + tname + "\"");
			const Json *m = h.get("metadata");
			hi.metadata = m && m->is_bool() && m->b;
			hi.field_base = p.n_slots;
			const HeaderType &t = p.header_types[size_t(hi.type)];
			if (!hi.metadata && t.bits % 8 != 0)
				return fail("header " + hi.name + ": " + std::to_string(t.bits) +
				            " bits is not a whole number of bytes");
			for (const FieldDef &f : t.fields) {
				p.slot_width.push_back(f.width);
				p.slot_header.push_back(int32_t(p.headers.size()));
			}
			p.n_slots += uint32_t(t.fields.size());
			header_by_name[hi.name] = int32_t(p.headers.size());
			p.headers.push_back(std::move(hi));
		}
		return true;
	}

	int32_t header(const std::string &n, const std::string &where) {
		auto it = header_by_name.find(n);
		if (it == header_by_name.end()) {
			fail(where + ": unknown header \"" + n + "\"");
			return -1;
		}
		return it->second;
	}

	// Resolves ["hdr","field"]: a slot >= 0, or -2 - hdr for "$valid$", or -1 on error.
	int32_t field(const Json &v, const std::string &where) {
		if (!v.is_array() || v.items.size() != 2 || !v.items[0].is_string() || !v.items[1].is_string()) {
			fail(where + ": malformed field reference");
			return -1;
		}
		int32_t h = header(v.items[0].text, where);
		if (h < 0) return -1;
		const std::string &fn = v.items[1].text;
		if (fn == "$valid$") return -2 - h;
		const HeaderInst &hi = p.headers[size_t(h)];
		const HeaderType &t = p.header_types[size_t(hi.type)];
		for (size_t i = 0; i < t.fields.size(); i++)
			if (t.fields[i].name == fn) return int32_t(hi.field_base + i);
		fail(where + ": header " + hi.name + " has no field \"" + fn + "\"");
		return -1;
	}

	int32_t sm_slot(const char *f) {
		auto it = header_by_name.find("standard_metadata");
		if (it == header_by_name.end()) return -1;
		const HeaderInst &hi = p.headers[size_t(it->second)];
		const HeaderType &t = p.header_types[size_t(hi.type)];
		for (size_t i = 0; i < t.fields.size(); i++)
			if (t.fields[i].name == f) return int32_t(hi.field_base + i);
		return -1;
	}

	int32_t push(Expr e) {
		p.exprs.push_back(e);
		return int32_t(p.exprs.size() - 1);
	}
	int32_t konst(u128 v) { return push(Expr{ExprKind::Const, Op::Add, 0, -1, -1, -1, v}); }

	// `n` is a typed operand {"type": ..., "value": ...}; `nparams` < 0 outside actions.
	int32_t expr(const Json &n, const std::string &where, int nparams) {
		std::string type;
		if (!n.is_object() || !str(n, "type", &type, where)) {
			fail(where + ": malformed expression operand");
			return -1;
		}
		const Json *v = n.get("value");
		if (!v) {
			fail(where + ": operand without \"value\"");
			return -1;
		}
		if (type == "field") {
			int32_t s = field(*v, where);
			if (s == -1) return -1;
			if (s <= -2) return push(Expr{ExprKind::Valid, Op::Add, -2 - s, -1, -1, -1, 0});
			return push(Expr{ExprKind::Field, Op::Add, s, -1, -1, -1, 0});
		}
		if (type == "hexstr") {
			u128 x = 0;
			if (!v->is_string() || !parse_hex(v->text, &x)) {
				fail(where + ": hexstr \"" + (v->is_string() ? v->text : std::string("?")) +
				     "\" is not a non-negative value of at most 128 bits");
				return -1;
			}
			return konst(x);
		}
		if (type == "bool") {
			if (!v->is_bool()) {
				fail(where + ": malformed bool operand");
				return -1;
			}
			return konst(v->b ? 1 : 0);
		}
		if (type == "runtime_data" || type == "local") {
			int64_t i = -1;
			if (nparams < 0 || !v->as_int(&i) || i < 0 || i >= nparams) {
				fail(where + ": action parameter reference out of range");
				return -1;
			}
			return push(Expr{ExprKind::Param, Op::Add, int32_t(i), -1, -1, -1, 0});
		}
		if (type == "expression") {
			if (v->get("op")) return op(*v, where, nparams);
			return expr(*v, where, nparams);
		}
		fail("unsupported construct: expression operand of type \"" + type + "\" in " + where);
		return -1;
	}

	int32_t op(const Json &n, const std::string &where, int nparams) {
		std::string o;
		if (!str(n, "op", &o, where)) return -1;
		const Json *l = n.get("left");
		const Json *r = n.get("right");
		bool has_l = l && !l->is_null();
		if (o == "valid") {
			std::string ht;
			if (!r || !r->is_object() || !str(*r, "type", &ht, where) || ht != "header" || !r->get("value") ||
			    !r->get("value")->is_string()) {
				fail(where + ": malformed \"valid\" expression");
				return -1;
			}
			int32_t h = header(r->get("value")->text, where);
			if (h < 0) return -1;
			return push(Expr{ExprKind::Valid, Op::Add, h, -1, -1, -1, 0});
		}
		if (o == "two_comp_mod") {
			if (!has_l || !r) {
				fail(where + ": malformed two_comp_mod");
				return -1;
			}
			int32_t a = expr(*l, where, nparams);
			if (a < 0) return -1;
			const Json *wv = r->get("value");
			u128 w = 0;
			if (!wv || !wv->is_string() || !parse_hex(wv->text, &w) || w == 0 || w > 128) {
				fail(where + ": malformed two_comp_mod width");
				return -1;
			}
			return push(Expr{ExprKind::Op, Op::Mod2c, int32_t(w), a, -1, -1, 0});
		}
		struct Named {
			const char *name;
			Op op;
			bool unary;
		};
		static const Named table[] = {
		    {"+", Op::Add, false},      {"-", Op::Sub, false},     {"*", Op::Mul, false},
		    {"<<", Op::Shl, false},     {">>", Op::Shr, false},    {"==", Op::Eq, false},
		    {"!=", Op::Ne, false},      {">", Op::Gt, false},      {">=", Op::Ge, false},
		    {"<", Op::Lt, false},       {"<=", Op::Le, false},     {"and", Op::And, false},
		    {"or", Op::Or, false},      {"not", Op::Not, true},    {"&", Op::BitAnd, false},
		    {"|", Op::BitOr, false},    {"^", Op::BitXor, false},  {"~", Op::BitNot, true},
		    {"d2b", Op::ToBool, true},  {"b2d", Op::ToBit, true},  {"?", Op::Cond, false},
		};
		for (const Named &t : table) {
			if (o != t.name) continue;
			if (!r || r->is_null()) {
				fail(where + ": operator \"" + o + "\" without a right operand");
				return -1;
			}
			int32_t b = expr(*r, where, nparams);
			if (b < 0) return -1;
			if (t.unary || (t.op == Op::Sub && !has_l)) {
				Op u = t.op == Op::Sub ? Op::Neg : t.op;
				return push(Expr{ExprKind::Op, u, 0, b, -1, -1, 0});
			}
			if (!has_l) {
				fail(where + ": operator \"" + o + "\" without a left operand");
				return -1;
			}
			int32_t a = expr(*l, where, nparams);
			if (a < 0) return -1;
			int32_t c = -1;
			if (t.op == Op::Cond) {
				const Json *cj = n.get("cond");
				if (!cj) {
					fail(where + ": \"?\" without \"cond\"");
					return -1;
				}
				c = expr(*cj, where, nparams);
				if (c < 0) return -1;
			}
			return push(Expr{ExprKind::Op, t.op, 0, a, b, c, 0});
		}
		fail("unsupported construct: expression operator \"" + o + "\" in " + where);
		return -1;
	}

	bool errors(const Json &root) {
		const Json *a = root.get("errors");
		if (!a || !a->is_array()) return true;
		for (const Json &e : a->items) {
			int64_t code = 0;
			if (!e.is_array() || e.items.size() != 2 || !e.items[0].is_string() || !e.items[1].as_int(&code) ||
			    code < 0 || code > 1024)
				return fail("errors: malformed entry");
			if (p.errors.size() <= size_t(code)) p.errors.resize(size_t(code) + 1);
			p.errors[size_t(code)] = e.items[0].text;
			if (e.items[0].text == "PacketTooShort") p.err_packet_too_short = int32_t(code);
		}
		return true;
	}

	bool counters(const Json &root) {
		const Json *a = root.get("counter_arrays");
		if (!a || !a->is_array()) return true;
		for (const Json &c : a->items) {
			CounterArray ca;
			int64_t size = 0;
			if (!str(c, "name", &ca.name, "counter_arrays[]") || !integer(c, "size", &size, "counter " + ca.name))
				return false;
			if (size < 0 || size > (1 << 20)) return fail("counter " + ca.name + ": size out of range");
			const Json *d = c.get("is_direct");
			ca.direct = d && d->is_bool() && d->b;
			ca.size = uint32_t(size);
			ca.packets.assign(size_t(size), 0);
			ca.bytes.assign(size_t(size), 0);
			p.counters.push_back(std::move(ca));
		}
		return true;
	}

	bool meters(const Json &root) {
		const Json *a = root.get("meter_arrays");
		if (!a || !a->is_array()) return true;
		for (const Json &m : a->items) {
			MeterArray ma;
			int64_t size = 0, rc = 2;
			std::string unit;
			if (!str(m, "name", &ma.name, "meter_arrays[]") || !integer(m, "size", &size, "meter " + ma.name) ||
			    !str(m, "type", &unit, "meter " + ma.name))
				return false;
			const Json *d = m.get("is_direct");
			if (d && d->is_bool() && d->b) return fail("unsupported construct: direct meter " + ma.name);
			if (size < 0 || size > (1 << 20)) return fail("meter " + ma.name + ": size out of range");
			if (unit != "bytes" && unit != "packets")
				return fail("meter " + ma.name + ": unknown meter type \"" + unit + "\"");
			const Json *rcj = m.get("rate_count");
			if (rcj && !rcj->as_int(&rc)) return fail("meter " + ma.name + ": malformed rate_count");
			if (rc != 1 && rc != 2)
				return fail("unsupported construct: meter " + ma.name + " with rate_count " + std::to_string(rc));
			ma.size = uint32_t(size);
			ma.packets = unit == "packets";
			ma.rate_count = uint32_t(rc);
			ma.cells.assign(size_t(size), MeterCell{});
			p.meters.push_back(std::move(ma));
		}
		return true;
	}

	int32_t array_ref(const Json &param, const char *type, bool counter, const std::string &where) {
		std::string t;
		const Json *v = param.get("value");
		if (!param.is_object() || !str(param, "type", &t, where) || t != type || !v || !v->is_string()) {
			fail(where + ": expected a " + type + " operand");
			return -1;
		}
		int32_t i = counter ? p.find_counter(v->text) : p.find_meter(v->text);
		if (i < 0) fail(where + ": unknown " + type + " \"" + v->text + "\"");
		return i;
	}

	int32_t header_param(const Json &param, const std::string &where) {
		std::string t;
		const Json *v = param.get("value");
		if (!param.is_object() || !str(param, "type", &t, where) || !v || !v->is_string()) {
			fail(where + ": expected a header operand");
			return -1;
		}
		if (t == "header_stack" || t == "stack")
			return fail("unsupported construct: header stack operand in " + where), -1;
		if (t != "header") return fail(where + ": expected a header operand, got \"" + t + "\""), -1;
		return header(v->text, where);
	}

	// A destination field operand: slot >= 0, or -1 on error.
	int32_t dst_field(const Json &param, const std::string &where) {
		std::string t;
		if (!param.is_object() || !str(param, "type", &t, where)) return -1;
		if (t != "field") return fail(where + ": destination must be a field, got \"" + t + "\""), -1;
		int32_t s = field(*param.get("value"), where);
		if (s <= -2) return fail("unsupported construct: assignment to $valid$ in " + where), -1;
		if (s >= 0 && s == p.sm_mcast_grp)
			return fail("unsupported construct: multicast (write to standard_metadata.mcast_grp) in " + where), -1;
		return s;
	}

	bool action(const Json &a) {
		Action act;
		if (!str(a, "name", &act.name, "actions[]")) return false;
		const std::string where = "action " + act.name;
		const Json *rd = a.get("runtime_data");
		if (rd && rd->is_array()) {
			for (const Json &r : rd->items) {
				int64_t w = 0;
				std::string pn;
				if (!str(r, "name", &pn, where) || !integer(r, "bitwidth", &w, where)) return false;
				if (w <= 0 || w > 128) return fail(where + ": parameter " + pn + " wider than 128 bits");
				act.param_names.push_back(pn);
				act.param_widths.push_back(uint32_t(w));
			}
		}
		int np = int(act.param_widths.size());
		const Json *prims = arr(a, "primitives", where);
		if (!prims) return false;
		for (const Json &pr : prims->items) {
			std::string o;
			if (!str(pr, "op", &o, where)) return false;
			const Json *ps = pr.get("parameters");
			static const Json empty_params = [] {
				Json j;
				j.kind = Json::Kind::Array;
				return j;
			}();
			const Json &params = ps && ps->is_array() ? *ps : empty_params;
			const size_t n = params.items.size();
			auto need = [&](size_t k) {
				if (n != k)
					return fail(where + ": primitive \"" + o + "\" takes " + std::to_string(k) + " parameters, got " +
					            std::to_string(n));
				return true;
			};
			Prim pm{PrimOp::NoOp, -1, -1, -1, -1, 0};
			const std::string pwhere = "primitive \"" + o + "\" of " + where;
			if (o == "assign" || o == "modify_field") {
				if (!need(2)) return false;
				pm.op = PrimOp::Assign;
				pm.dst = dst_field(params.items[0], pwhere);
				if (pm.dst < 0) return false;
				pm.src = expr(params.items[1], pwhere, np);
				if (pm.src < 0) return false;
				pm.width = p.slot_width[size_t(pm.dst)];
			} else if (o == "add" || o == "subtract" || o == "shift_left" || o == "shift_right" || o == "bit_and" ||
			           o == "bit_or" || o == "bit_xor") {
				if (!need(3)) return false;
				Op bo = o == "add"           ? Op::Add
				        : o == "subtract"    ? Op::Sub
				        : o == "shift_left"  ? Op::Shl
				        : o == "shift_right" ? Op::Shr
				        : o == "bit_and"     ? Op::BitAnd
				        : o == "bit_or"      ? Op::BitOr
				                             : Op::BitXor;
				pm.op = PrimOp::Assign;
				pm.dst = dst_field(params.items[0], pwhere);
				if (pm.dst < 0) return false;
				int32_t x = expr(params.items[1], pwhere, np), y = x < 0 ? -1 : expr(params.items[2], pwhere, np);
				if (y < 0) return false;
				pm.src = push(Expr{ExprKind::Op, bo, 0, x, y, -1, 0});
				pm.width = p.slot_width[size_t(pm.dst)];
			} else if (o == "add_to_field" || o == "subtract_from_field") {
				if (!need(2)) return false;
				pm.op = PrimOp::Assign;
				pm.dst = dst_field(params.items[0], pwhere);
				if (pm.dst < 0) return false;
				int32_t x = push(Expr{ExprKind::Field, Op::Add, pm.dst, -1, -1, -1, 0});
				int32_t y = expr(params.items[1], pwhere, np);
				if (y < 0) return false;
				pm.src = push(Expr{ExprKind::Op, o == "add_to_field" ? Op::Add : Op::Sub, 0, x, y, -1, 0});
				pm.width = p.slot_width[size_t(pm.dst)];
			} else if (o == "add_header" || o == "remove_header") {
				if (!need(1)) return false;
				pm.op = o == "add_header" ? PrimOp::AddHeader : PrimOp::RemoveHeader;
				pm.dst = header_param(params.items[0], pwhere);
				if (pm.dst < 0) return false;
			} else if (o == "assign_header") {
				if (!need(2)) return false;
				pm.op = PrimOp::AssignHeader;
				pm.dst = header_param(params.items[0], pwhere);
				pm.src = pm.dst < 0 ? -1 : header_param(params.items[1], pwhere);
				if (pm.src < 0) return false;
				if (p.headers[size_t(pm.dst)].type != p.headers[size_t(pm.src)].type)
					return fail(pwhere + ": headers of different types");
			} else if (o == "mark_to_drop" || o == "drop") {
				if (n > 1) return fail(pwhere + ": too many parameters");
				pm.op = PrimOp::MarkToDrop;
			} else if (o == "count") {
				if (!need(2)) return false;
				pm.op = PrimOp::Count;
				pm.array = array_ref(params.items[0], "counter_array", true, pwhere);
				if (pm.array < 0) return false;
				if (p.counters[size_t(pm.array)].direct)
					return fail(pwhere + ": count() on direct counter " + p.counters[size_t(pm.array)].name);
				pm.src = expr(params.items[1], pwhere, np);
				if (pm.src < 0) return false;
			} else if (o == "execute_meter") {
				if (!need(3)) return false;
				pm.op = PrimOp::ExecuteMeter;
				pm.array = array_ref(params.items[0], "meter_array", false, pwhere);
				if (pm.array < 0) return false;
				pm.src = expr(params.items[1], pwhere, np);
				if (pm.src < 0) return false;
				pm.dst = dst_field(params.items[2], pwhere);
				if (pm.dst < 0) return false;
				pm.width = p.slot_width[size_t(pm.dst)];
			} else if (o == "exit") {
				pm.op = PrimOp::Exit;
			} else if (o == "_jump" || o == "_jump_if_zero") {
				bool cond = o == "_jump_if_zero";
				if (!need(cond ? 2 : 1)) return false;
				const Json &off = params.items[cond ? 1 : 0];
				const Json *ov = off.get("value");
				u128 t = 0;
				if (!ov || !ov->is_string() || !parse_hex(ov->text, &t) || t > prims->items.size())
					return fail(pwhere + ": malformed jump offset");
				pm.op = cond ? PrimOp::JumpIfZero : PrimOp::Jump;
				pm.target = int32_t(t);
				if (cond) {
					pm.src = expr(params.items[0], pwhere, np);
					if (pm.src < 0) return false;
				}
			} else if (o == "no_op" || o == "log_msg") {
				pm.op = PrimOp::NoOp;
			} else {
				return fail("unsupported primitive \"" + o + "\" in action " + act.name);
			}
			act.prims.push_back(pm);
		}
		p.actions.push_back(std::move(act));
		return true;
	}

	bool match_kind(const std::string &s, MatchKind *k) {
		if (s == "exact") *k = MatchKind::Exact;
		else if (s == "lpm") *k = MatchKind::Lpm;
		else if (s == "ternary") *k = MatchKind::Ternary;
		else if (s == "range") *k = MatchKind::Range;
		else if (s == "optional") *k = MatchKind::Optional;
		else if (s == "valid") *k = MatchKind::Valid;
		else return false;
		return true;
	}

	// First pass over a pipeline: declare tables and conditionals so names resolve.
	bool declare(const Json &pl, std::map<std::string, int32_t> *nodes) {
		std::string pname;
		if (!str(pl, "name", &pname, "pipelines[]")) return false;
		if (!none(pl, "action_profiles", "action profiles/selectors")) return false;
		const Json *ts = arr(pl, "tables", "pipeline " + pname);
		if (!ts) return false;
		for (const Json &t : ts->items) {
			Table tb{};
			if (!str(t, "name", &tb.name, "pipeline " + pname + " tables[]")) return false;
			(*nodes)[tb.name] = int32_t(p.tables.size());
			p.tables.push_back(std::move(tb));
		}
		const Json *cs = pl.get("conditionals");
		if (cs && cs->is_array()) {
			for (const Json &c : cs->items) {
				Conditional cd{};
				if (!str(c, "name", &cd.name, "pipeline " + pname + " conditionals[]")) return false;
				(*nodes)[cd.name] = cond_node(int32_t(p.conds.size()));
				p.conds.push_back(std::move(cd));
			}
		}
		return true;
	}

	bool next_node(const Json *v, const std::map<std::string, int32_t> &nodes, int32_t *out,
	               const std::string &where) {
		if (!v || v->is_null()) {
			*out = -1;
			return true;
		}
		if (!v->is_string()) return fail(where + ": malformed next node");
		auto it = nodes.find(v->text);
		if (it == nodes.end()) return fail(where + ": unknown next node \"" + v->text + "\"");
		*out = it->second;
		return true;
	}

	bool action_data(const Json *d, const Action &a, std::vector<u128> *out, const std::string &where) {
		out->clear();
		size_t n = d && d->is_array() ? d->items.size() : 0;
		if (n != a.param_widths.size())
			return fail(where + ": action " + a.name + " needs " + std::to_string(a.param_widths.size()) +
			            " parameters, got " + std::to_string(n));
		for (size_t i = 0; i < n; i++) {
			u128 v = 0;
			if (!d->items[i].is_string() || !parse_hex(d->items[i].text, &v))
				return fail(where + ": malformed action data");
			out->push_back(v & width_mask(a.param_widths[i]));
		}
		return true;
	}

	bool define(const Json &pl, const std::map<std::string, int32_t> &nodes, Pipeline *out) {
		std::string pname;
		str(pl, "name", &pname, "pipelines[]");
		if (!next_node(pl.get("init_table"), nodes, &out->init, "pipeline " + pname)) return false;
		for (const Json &t : pl.get("tables")->items) {
			std::string name;
			str(t, "name", &name, "table");
			int32_t ti = nodes.at(name);
			out->tables.push_back(ti);
			Table &tb = p.tables[size_t(ti)];
			const std::string where = "table " + name;
			std::string type = "simple";
			const Json *tj = t.get("type");
			if (tj && tj->is_string()) type = tj->text;
			if (type != "simple")
				return fail("unsupported construct: table " + name + " of type \"" + type +
				            "\" (action profiles/selectors)");
			const Json *dm = t.get("direct_meters");
			if (dm && !dm->is_null()) return fail("unsupported construct: direct meter on table " + name);
			const Json *to = t.get("support_timeout");
			if (to && to->is_bool() && to->b) return fail("unsupported construct: idle timeout on table " + name);
			const Json *en = t.get("entries");
			if (en && en->is_array() && !en->items.empty())
				return fail("unsupported construct: const entries in table " + name);
			const Json *wc = t.get("with_counters");
			tb.direct_counter = wc && wc->is_bool() && wc->b;
			int64_t ms = 1024;
			const Json *msj = t.get("max_size");
			if (msj && !msj->as_int(&ms)) return fail(where + ": malformed max_size");
			tb.max_size = ms > 0 ? uint32_t(ms) : 1;
			const Json *ks = arr(t, "key", where);
			if (!ks) return false;
			if (ks->items.size() > kMaxKeyFields)
				return fail("unsupported construct: table " + name + " has " + std::to_string(ks->items.size()) +
				            " key fields (at most 8)");
			tb.exact_only = true;
			tb.has_priority = false;
			for (const Json &k : ks->items) {
				KeyField kf{};
				std::string mt;
				if (!str(k, "match_type", &mt, where)) return false;
				if (!match_kind(mt, &kf.kind)) return fail("unsupported construct: match kind \"" + mt + "\" in " + where);
				const Json *nm = k.get("name");
				kf.name = nm && nm->is_string() ? nm->text : "";
				const Json *tg = k.get("target");
				if (!tg) return fail(where + ": key without target");
				if (kf.kind == MatchKind::Valid) {
					if (!tg->is_string()) return fail(where + ": malformed valid key");
					kf.slot = header(tg->text, where);
					if (kf.slot < 0) return false;
					kf.width = 1;
				} else {
					kf.slot = field(*tg, where);
					if (kf.slot == -1) return false;
					if (kf.slot <= -2) {
						kf.kind = kf.kind == MatchKind::Exact ? MatchKind::Valid : kf.kind;
						if (kf.kind != MatchKind::Valid)
							return fail("unsupported construct: non-exact match on $valid$ in " + where);
						kf.slot = -2 - kf.slot;
						kf.width = 1;
					} else {
						kf.width = p.slot_width[size_t(kf.slot)];
					}
				}
				kf.mask = width_mask(kf.width);
				const Json *mk = k.get("mask");
				if (mk && !mk->is_null()) {
					if (!mk->is_string() || !parse_hex(mk->text, &kf.mask)) return fail(where + ": malformed key mask");
				}
				if (kf.kind != MatchKind::Exact && kf.kind != MatchKind::Valid) tb.exact_only = false;
				if (kf.kind == MatchKind::Ternary || kf.kind == MatchKind::Range || kf.kind == MatchKind::Optional)
					tb.has_priority = true;
				tb.keys.push_back(kf);
			}
			const Json *an = arr(t, "actions", where);
			if (!an) return false;
			for (const Json &a : an->items) {
				int32_t ai = a.is_string() ? p.find_action(a.text) : -1;
				if (ai < 0) return fail(where + ": unknown action " + (a.is_string() ? a.text : "?"));
				tb.actions.push_back(ai);
			}
			tb.next_by_action.assign(p.actions.size(), kNextUnset);
			tb.next_hit = tb.next_miss = -1;
			tb.hit_miss_next = false;
			if (!next_node(t.get("base_default_next"), nodes, &tb.base_default_next, where)) return false;
			const Json *nt = t.get("next_tables");
			if (nt && nt->is_object()) {
				for (const auto &kv : nt->fields) {
					int32_t nx = -1;
					if (!next_node(&kv.second, nodes, &nx, where)) return false;
					if (kv.first == "__HIT__") {
						tb.hit_miss_next = true;
						tb.next_hit = nx;
					} else if (kv.first == "__MISS__") {
						tb.hit_miss_next = true;
						tb.next_miss = nx;
					} else {
						int32_t ai = p.find_action(kv.first);
						if (ai < 0) return fail(where + ": next_tables names unknown action " + kv.first);
						tb.next_by_action[size_t(ai)] = nx;
					}
				}
			}
			tb.default_action = -1;
			const Json *de = t.get("default_entry");
			if (de && de->is_object()) {
				int64_t aid = -1;
				if (!integer(*de, "action_id", &aid, where + " default_entry")) return false;
				if (aid < 0 || size_t(aid) >= p.actions.size()) return fail(where + ": default action id out of range");
				tb.default_action = int32_t(aid);
				const Json *c = de->get("action_const");
				tb.default_const = c && c->is_bool() && c->b;
				if (!action_data(de->get("action_data"), p.actions[size_t(aid)], &tb.default_data, where + " default_entry"))
					return false;
			}
			tb.n_live = 0;
		}
		const Json *cs = pl.get("conditionals");
		if (cs && cs->is_array()) {
			for (const Json &c : cs->items) {
				std::string name;
				str(c, "name", &name, "conditional");
				Conditional &cd = p.conds[size_t(node_cond(nodes.at(name)))];
				const std::string where = "conditional " + name;
				const Json *e = c.get("expression");
				if (!e) return fail(where + ": missing expression");
				cd.expr = expr(*e, where, -1);
				if (cd.expr < 0) return false;
				if (!next_node(c.get("true_next"), nodes, &cd.true_next, where) ||
				    !next_node(c.get("false_next"), nodes, &cd.false_next, where))
					return false;
			}
		}
		return true;
	}

	bool pipelines(const Json &root) {
		const Json *a = arr(root, "pipelines", "program");
		if (!a) return false;
		const Json *ing = nullptr, *egr = nullptr;
		for (const Json &pl : a->items) {
			const Json *n = pl.get("name");
			if (!n || !n->is_string()) return fail("pipelines[]: missing name");
			if (n->text == "ingress") ing = &pl;
			else if (n->text == "egress") egr = &pl;
			else return fail("unsupported construct: pipeline \"" + n->text + "\" (v1model has ingress and egress)");
		}
		if (!ing || !egr) return fail("program: v1model needs pipelines \"ingress\" and \"egress\"");
		std::map<std::string, int32_t> ni, ne;
		if (!declare(*ing, &ni) || !declare(*egr, &ne)) return false;
		return define(*ing, ni, &p.ingress) && define(*egr, ne, &p.egress);
	}

	bool parser(const Json &root) {
		const Json *a = arr(root, "parsers", "program");
		if (!a) return false;
		if (a->items.size() != 1)
			return fail("unsupported construct: " + std::to_string(a->items.size()) + " parsers (exactly 1 supported)");
		const Json &ps = a->items[0];
		const Json *states = arr(ps, "parse_states", "parser");
		if (!states) return false;
		std::map<std::string, int32_t> by_name;
		for (const Json &s : states->items) {
			ParseState st;
			if (!str(s, "name", &st.name, "parse_states[]")) return false;
			by_name[st.name] = int32_t(p.states.size());
			p.states.push_back(std::move(st));
		}
		std::string init;
		if (!str(ps, "init_state", &init, "parser")) return false;
		if (!by_name.count(init)) return fail("parser: unknown init_state \"" + init + "\"");
		p.parser_init = by_name[init];
		for (size_t si = 0; si < states->items.size(); si++) {
			const Json &s = states->items[si];
			ParseState &st = p.states[si];
			const std::string where = "parse state " + st.name;
			const Json *ops = arr(s, "parser_ops", where);
			if (!ops) return false;
			for (const Json &o : ops->items) {
				std::string on;
				if (!str(o, "op", &on, where)) return false;
				const Json *pr = arr(o, "parameters", where);
				if (!pr) return false;
				ParserOp po{ParserOpKind::Extract, -1, -1, 0, -1, 0};
				if (on == "extract") {
					if (pr->items.size() != 1) return fail(where + ": extract takes 1 parameter");
					std::string t;
					if (!str(pr->items[0], "type", &t, where)) return false;
					if (t != "regular")
						return fail("unsupported construct: extract of \"" + t + "\" (header stacks/unions) in " + where);
					const Json *v = pr->items[0].get("value");
					if (!v || !v->is_string()) return fail(where + ": malformed extract");
					po.hdr = header(v->text, where);
					if (po.hdr < 0) return false;
					if (p.headers[size_t(po.hdr)].metadata) return fail(where + ": extract of metadata " + v->text);
				} else if (on == "set") {
					if (pr->items.size() != 2) return fail(where + ": set takes 2 parameters");
					po.kind = ParserOpKind::Set;
					po.dst = dst_field(pr->items[0], "set in " + where);
					if (po.dst < 0) return false;
					po.width = p.slot_width[size_t(po.dst)];
					po.expr = expr(pr->items[1], "set in " + where, -1);
					if (po.expr < 0) return false;
				} else if (on == "verify") {
					if (pr->items.size() != 2) return fail(where + ": verify takes 2 parameters");
					po.kind = ParserOpKind::Verify;
					po.expr = expr(pr->items[0], "verify in " + where, -1);
					if (po.expr < 0) return false;
					const Json *ev = pr->items[1].get("value");
					u128 code = 0;
					if (ev && ev->is_object()) ev = ev->get("value"); // {"type":"expression",...} wrapper
					if (!ev || !ev->is_string() || !parse_hex(ev->text, &code))
						return fail("unsupported construct: non-constant error in verify in " + where);
					po.error = int32_t(code);
				} else {
					return fail("unsupported construct: parser op \"" + on + "\" in " + where);
				}
				st.ops.push_back(po);
			}
			uint32_t key_bits = 0;
			const Json *tk = s.get("transition_key");
			if (tk && tk->is_array()) {
				for (const Json &k : tk->items) {
					std::string t;
					if (!str(k, "type", &t, where)) return false;
					KeyPart kp{false, -1, 0, 0};
					const Json *v = k.get("value");
					if (t == "field") {
						kp.slot = field(*v, where);
						if (kp.slot <= -2) return fail("unsupported construct: $valid$ in transition key of " + where);
						if (kp.slot < 0) return false;
						kp.width = p.slot_width[size_t(kp.slot)];
					} else if (t == "lookahead") {
						int64_t off = 0, w = 0;
						if (!v || !v->is_array() || v->items.size() != 2 || !v->items[0].as_int(&off) ||
						    !v->items[1].as_int(&w) || off < 0 || w <= 0 || w > 128)
							return fail(where + ": malformed lookahead");
						kp.lookahead = true;
						kp.offset = uint32_t(off);
						kp.width = uint32_t(w);
					} else {
						return fail("unsupported construct: transition key of type \"" + t + "\" in " + where);
					}
					key_bits += (kp.width + 7) & ~7u; // each key field is byte-padded
					st.key.push_back(kp);
				}
			}
			if (key_bits > 128) return fail("unsupported construct: transition key wider than 128 bits in " + where);
			const Json *tr = arr(s, "transitions", where);
			if (!tr) return false;
			for (const Json &t : tr->items) {
				Transition tn{false, 0, ~u128(0), -1};
				std::string tt = "hexstr";
				const Json *ty = t.get("type");
				if (ty && ty->is_string()) tt = ty->text;
				if (tt == "default") {
					tn.is_default = true;
				} else if (tt == "hexstr") {
					const Json *v = t.get("value");
					if (!v || !v->is_string() || !parse_hex(v->text, &tn.value))
						return fail(where + ": malformed transition value");
					const Json *m = t.get("mask");
					if (m && !m->is_null() && (!m->is_string() || !parse_hex(m->text, &tn.mask)))
						return fail(where + ": malformed transition mask");
					tn.mask &= width_mask(key_bits);
				} else {
					return fail("unsupported construct: transition of type \"" + tt + "\" (value sets) in " + where);
				}
				const Json *nx = t.get("next_state");
				if (nx && !nx->is_null()) {
					if (!nx->is_string() || !by_name.count(nx->text))
						return fail(where + ": unknown next_state");
					tn.next = by_name[nx->text];
				}
				st.transitions.push_back(tn);
			}
		}
		return true;
	}

	bool deparser(const Json &root) {
		const Json *a = arr(root, "deparsers", "program");
		if (!a) return false;
		if (a->items.size() != 1)
			return fail("unsupported construct: " + std::to_string(a->items.size()) + " deparsers (exactly 1 supported)");
		const Json *o = arr(a->items[0], "order", "deparser");
		if (!o) return false;
		for (const Json &h : o->items) {
			if (!h.is_string()) return fail("deparser: malformed order");
			int32_t hi = header(h.text, "deparser");
			if (hi < 0) return false;
			p.deparse_order.push_back(hi);
		}
		const Json *pr = a->items[0].get("primitives");
		if (pr && pr->is_array() && !pr->items.empty()) return fail("unsupported construct: deparser primitives");
		return true;
	}

	bool checksums(const Json &root) {
		const Json *ca = root.get("calculations");
		std::map<std::string, const Json *> calc;
		if (ca && ca->is_array())
			for (const Json &c : ca->items) {
				const Json *n = c.get("name");
				if (n && n->is_string()) calc[n->text] = &c;
			}
		const Json *a = root.get("checksums");
		if (!a || !a->is_array()) return true;
		for (const Json &c : a->items) {
			Checksum ck{};
			if (!str(c, "name", &ck.name, "checksums[]")) return false;
			const std::string where = "checksum " + ck.name;
			std::string type = "generic", cname;
			const Json *tj = c.get("type");
			if (tj && tj->is_string()) type = tj->text;
			if (type != "generic") return fail("unsupported construct: checksum type \"" + type + "\" in " + where);
			const Json *tg = c.get("target");
			if (!tg) return fail(where + ": missing target");
			ck.target_slot = field(*tg, where);
			if (ck.target_slot < 0) return ck.target_slot == -1 ? false : fail(where + ": target is $valid$");
			ck.target_width = p.slot_width[size_t(ck.target_slot)];
			const Json *up = c.get("update");
			const Json *vf = c.get("verify");
			ck.update = !up || (up->is_bool() && up->b);
			ck.verify = vf && vf->is_bool() && vf->b;
			ck.cond = -1;
			const Json *ic = c.get("if_cond");
			if (ic && !ic->is_null()) {
				ck.cond = expr(*ic, where, -1);
				if (ck.cond < 0) return false;
			}
			if (!str(c, "calculation", &cname, where)) return false;
			auto it = calc.find(cname);
			if (it == calc.end()) return fail(where + ": unknown calculation \"" + cname + "\"");
			const Json &cj = *it->second;
			std::string algo;
			if (!str(cj, "algo", &algo, "calculation " + cname)) return false;
			if (algo != "csum16")
				return fail("unsupported construct: calculation algorithm \"" + algo + "\" in calculation " + cname);
			if (ck.target_width != 16) return fail(where + ": csum16 target must be 16 bits wide");
			const Json *in = arr(cj, "input", "calculation " + cname);
			if (!in) return false;
			uint32_t bits = 0;
			for (const Json &i : in->items) {
				std::string it2;
				if (!str(i, "type", &it2, "calculation " + cname)) return false;
				int32_t e = -1;
				uint32_t w = 0;
				if (it2 == "field") {
					e = expr(i, "calculation " + cname, -1);
					if (e < 0) return false;
					if (p.exprs[size_t(e)].kind != ExprKind::Field)
						return fail("unsupported construct: $valid$ in calculation " + cname);
					w = p.slot_width[size_t(p.exprs[size_t(e)].idx)];
				} else if (it2 == "hexstr") {
					int64_t bw = 0;
					if (!integer(i, "bitwidth", &bw, "calculation " + cname)) return false;
					if (bw <= 0 || bw > 128) return fail("calculation " + cname + ": constant width out of range");
					e = expr(i, "calculation " + cname, -1);
					if (e < 0) return false;
					w = uint32_t(bw);
				} else {
					return fail("unsupported construct: calculation input of type \"" + it2 + "\" in calculation " + cname);
				}
				ck.input.push_back(e);
				ck.input_widths.push_back(w);
				bits += w;
			}
			if (bits > 8 * 1024) return fail("calculation " + cname + ": input wider than 1024 bytes");
			p.checksums.push_back(std::move(ck));
		}
		return true;
	}

	bool load(const Json &root) {
		if (!root.is_object()) return fail("not a BMv2 JSON program: top level is not an object");
		if (!none(root, "header_stacks", "header stacks") || !none(root, "header_union_types", "header unions") ||
		    !none(root, "header_unions", "header unions") || !none(root, "header_union_stacks", "header union stacks") ||
		    !none(root, "parse_vsets", "parser value sets") || !none(root, "register_arrays", "registers") ||
		    !none(root, "learn_lists", "digests (learn lists)") ||
		    !none(root, "extern_instances", "extern instances"))
			return false;
		if (!header_types(root) || !headers(root)) return false;
		p.sm_ingress_port = sm_slot("ingress_port");
		p.sm_egress_spec = sm_slot("egress_spec");
		p.sm_egress_port = sm_slot("egress_port");
		p.sm_packet_length = sm_slot("packet_length");
		p.sm_mcast_grp = sm_slot("mcast_grp");
		p.sm_checksum_error = sm_slot("checksum_error");
		p.sm_parser_error = sm_slot("parser_error");
		p.sm_instance_type = sm_slot("instance_type");
		if (p.sm_ingress_port < 0 || p.sm_egress_spec < 0 || p.sm_egress_port < 0)
			return fail("not a v1model program: standard_metadata with ingress_port, egress_spec and egress_port is missing");
		if (!errors(root) || !counters(root) || !meters(root)) return false;
		const Json *acts = arr(root, "actions", "program");
		if (!acts) return false;
		for (const Json &a : acts->items)
			if (!action(a)) return false;
		// Action ids in BMv2 JSON index into "actions" by their "id" field; nfp keeps them equal.
		for (size_t i = 0; i < acts->items.size(); i++) {
			int64_t id = -1;
			const Json *idj = acts->items[i].get("id");
			if (idj && idj->as_int(&id) && id != int64_t(i))
				return fail("action " + p.actions[i].name + ": id " + std::to_string(id) + " is not its position " +
				            std::to_string(i) + " (ids must be dense and in order)");
		}
		for (Action &a : p.actions)
			for (Prim &pm : a.prims)
				if ((pm.op == PrimOp::Jump || pm.op == PrimOp::JumpIfZero) && size_t(pm.target) > a.prims.size())
					return fail("action " + a.name + ": jump out of range");
		if (!parser(root) || !deparser(root) || !pipelines(root) || !checksums(root)) return false;
		for (const CounterArray &c : p.counters) {
			if (!c.direct) continue;
			// BMv2 binds a direct counter to its table via "binding"; nfp counts per entry.
		}
		return true;
	}
};

} // namespace

bool program_load(const std::string &json_text, Program *out, std::string *err) {
	Json root;
	std::string jerr;
	if (!json_parse(json_text, &root, &jerr)) {
		*err = "BMv2 JSON is not valid JSON: " + jerr;
		return false;
	}
	*out = Program();
	Loader l(*out);
	if (!l.load(root)) {
		*err = l.err.empty() ? "BMv2 JSON rejected" : l.err;
		return false;
	}
	return true;
}

} // namespace nfp_softnic
