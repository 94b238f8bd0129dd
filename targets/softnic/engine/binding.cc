// N-API binding of the softnic engine: `exports.softnic.Engine`, a class whose methods are the
// control plane (load, tables, counters, meters) plus batch packet injection for tests and
// benchmarks. Registered into the shared `nfp_host` addon through nfp_softnic_register().
#include <napi.h>

#include <chrono>
#include <ctime>
#include <cstring>
#include <vector>

#include "engine.h"
#include "inline.h"

namespace nfp_softnic {
// link.cc: a batch through the engine and the host runtime's queues and back.
Napi::Value run_linked(Engine &eng, const Napi::CallbackInfo &info);

namespace {

uint64_t thread_cpu_ns() {
	timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

uint64_t mono_ns() {
	return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
	                    std::chrono::steady_clock::now().time_since_epoch())
	                    .count());
}

inline uint64_t rdtsc() {
#if defined(__x86_64__)
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t(hi) << 32) | lo;
#else
	return mono_ns();
#endif
}

const char *kind_name(MatchKind k) {
	switch (k) {
	case MatchKind::Exact: return "exact";
	case MatchKind::Lpm: return "lpm";
	case MatchKind::Ternary: return "ternary";
	case MatchKind::Range: return "range";
	case MatchKind::Optional: return "optional";
	case MatchKind::Valid: return "valid";
	}
	return "?";
}

// Throws a JS Error carrying `code` (a gRPC status code) and returns undefined.
Napi::Value throw_code(Napi::Env env, Status code, const std::string &msg) {
	Napi::Error e = Napi::Error::New(env, msg);
	e.Set("code", Napi::Number::New(env, double(int(code))));
	e.ThrowAsJavaScriptException();
	return env.Undefined();
}

bool to_u128(const Napi::Value &v, u128 *out) {
	if (v.IsBuffer()) {
		Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
		size_t n = b.Length(), i = 0;
		while (i < n && b.Data()[i] == 0) i++; // leading zeros are allowed (canonical or not)
		if (n - i > 16) return false;
		u128 x = 0;
		for (; i < n; i++) x = (x << 8) | b.Data()[i];
		*out = x;
		return true;
	}
	if (v.IsNumber()) {
		double d = v.As<Napi::Number>().DoubleValue();
		if (d < 0 || d > 9007199254740991.0 || d != double(uint64_t(d))) return false;
		*out = uint64_t(d);
		return true;
	}
	return false;
}

Napi::Buffer<uint8_t> from_u128(Napi::Env env, u128 v, uint32_t width) {
	uint32_t n = (width + 7) / 8;
	Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::New(env, n);
	for (uint32_t i = n; i-- > 0;) {
		b.Data()[i] = uint8_t(v);
		v >>= 8;
	}
	return b;
}

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
public:
	static Napi::Function Define(Napi::Env env) {
		return DefineClass(env, "SoftnicEngine",
		                   {
		                       InstanceMethod("load", &EngineWrap::Load),
		                       InstanceMethod("info", &EngineWrap::Info),
		                       InstanceMethod("tableAdd", &EngineWrap::TableAdd),
		                       InstanceMethod("tableFind", &EngineWrap::TableFind),
		                       InstanceMethod("tableModify", &EngineWrap::TableModify),
		                       InstanceMethod("tableDelete", &EngineWrap::TableDelete),
		                       InstanceMethod("tableSetDefault", &EngineWrap::TableSetDefault),
		                       InstanceMethod("tableGetDefault", &EngineWrap::TableGetDefault),
		                       InstanceMethod("tableEntries", &EngineWrap::TableEntries),
		                       InstanceMethod("tableClear", &EngineWrap::TableClear),
		                       InstanceMethod("directCounter", &EngineWrap::DirectCounter),
		                       InstanceMethod("counterRead", &EngineWrap::CounterRead),
		                       InstanceMethod("counterWrite", &EngineWrap::CounterWrite),
		                       InstanceMethod("meterSet", &EngineWrap::MeterSet),
		                       InstanceMethod("meterGet", &EngineWrap::MeterGet),
		                       InstanceMethod("process", &EngineWrap::Process),
		                       InstanceMethod("processRaw", &EngineWrap::ProcessRaw),
		                       InstanceMethod("bench", &EngineWrap::Bench),
		                       InstanceMethod("runLinked", &EngineWrap::RunLinked),
		                       InstanceMethod("attachInline", &EngineWrap::AttachInline),
		                       InstanceMethod("inlineStats", &EngineWrap::InlineStatsJs),
		                   });
	}

	explicit EngineWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<EngineWrap>(info) {
		rte_spinlock_init(&lock_);
	}

private:
	// Held by every method and, once attached inline (inline.cc), by the workers per burst: the
	// engine is one pipeline, whichever thread runs it.
	rte_spinlock_t lock_;
	struct Guard {
		rte_spinlock_t &l;
		explicit Guard(rte_spinlock_t &x) : l(x) { rte_spinlock_lock(&l); }
		~Guard() { rte_spinlock_unlock(&l); }
	};
	std::shared_ptr<InlineStats> inline_;
	Engine eng_;
	std::vector<uint8_t> out_;
	std::vector<uint8_t> raw_; // processRaw's packed outputs

	bool need_loaded(Napi::Env env) {
		if (eng_.loaded()) return true;
		throw_code(env, Status::FailedPrecondition, "no pipeline loaded");
		return false;
	}

	int32_t table_arg(const Napi::CallbackInfo &info, size_t i) {
		if (!need_loaded(info.Env())) return -1;
		if (info.Length() <= i || !info[i].IsString()) {
			throw_code(info.Env(), Status::InvalidArgument, "expected a table name");
			return -1;
		}
		std::string n = info[i].As<Napi::String>().Utf8Value();
		int32_t t = eng_.program().find_table(n);
		if (t < 0) throw_code(info.Env(), Status::NotFound, "no table named \"" + n + "\"");
		return t;
	}

	int32_t action_arg(const Napi::CallbackInfo &info, size_t i) {
		if (info.Length() <= i || !info[i].IsString()) {
			throw_code(info.Env(), Status::InvalidArgument, "expected an action name");
			return -1;
		}
		std::string n = info[i].As<Napi::String>().Utf8Value();
		int32_t a = eng_.program().find_action(n);
		if (a < 0) throw_code(info.Env(), Status::NotFound, "no action named \"" + n + "\"");
		return a;
	}

	bool params_arg(const Napi::CallbackInfo &info, size_t i, std::vector<u128> *out) {
		out->clear();
		if (info.Length() <= i || info[i].IsUndefined()) return true;
		if (!info[i].IsArray()) {
			throw_code(info.Env(), Status::InvalidArgument, "action parameters must be an array of Buffers");
			return false;
		}
		Napi::Array a = info[i].As<Napi::Array>();
		for (uint32_t k = 0; k < a.Length(); k++) {
			u128 v = 0;
			if (!to_u128(a.Get(k), &v)) {
				throw_code(info.Env(), Status::InvalidArgument,
				           "action parameter " + std::to_string(k) + " is not a Buffer of at most 16 bytes");
				return false;
			}
			out->push_back(v);
		}
		return true;
	}

	bool match_arg(const Napi::CallbackInfo &info, size_t i, std::vector<MatchParam> *out) {
		out->clear();
		if (info.Length() <= i || !info[i].IsArray()) {
			throw_code(info.Env(), Status::InvalidArgument, "match must be an array");
			return false;
		}
		Napi::Array a = info[i].As<Napi::Array>();
		for (uint32_t k = 0; k < a.Length(); k++) {
			Napi::Value v = a.Get(k);
			MatchParam m{0, ~u128(0), 0, false};
			if (!v.IsObject()) {
				throw_code(info.Env(), Status::InvalidArgument, "match field " + std::to_string(k) + " is not an object");
				return false;
			}
			Napi::Object o = v.As<Napi::Object>();
			Napi::Value w = o.Get("wildcard");
			m.wildcard = w.IsBoolean() && w.As<Napi::Boolean>().Value();
			if (!m.wildcard) {
				if (!to_u128(o.Get("value"), &m.value)) {
					throw_code(info.Env(), Status::InvalidArgument,
					           "match field " + std::to_string(k) + ": value is not a Buffer of at most 16 bytes");
					return false;
				}
				Napi::Value mk = o.Get("mask"), hi = o.Get("high"), pl = o.Get("prefixLen");
				if (!mk.IsUndefined() && !to_u128(mk, &m.mask)) {
					throw_code(info.Env(), Status::InvalidArgument, "match field " + std::to_string(k) + ": bad mask");
					return false;
				}
				if (!hi.IsUndefined() && !to_u128(hi, &m.mask)) {
					throw_code(info.Env(), Status::InvalidArgument, "match field " + std::to_string(k) + ": bad high bound");
					return false;
				}
				if (pl.IsNumber()) m.prefix_len = pl.As<Napi::Number>().Uint32Value();
			}
			out->push_back(m);
		}
		return true;
	}

	int32_t int_arg(const Napi::CallbackInfo &info, size_t i, int32_t dflt) {
		if (info.Length() <= i || !info[i].IsNumber()) return dflt;
		return info[i].As<Napi::Number>().Int32Value();
	}

	Napi::Value Load(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		if (info.Length() < 1 || !info[0].IsString())
			return throw_code(info.Env(), Status::InvalidArgument, "load(json: string)");
		std::string err;
		if (!eng_.load(info[0].As<Napi::String>().Utf8Value(), &err))
			return throw_code(info.Env(), Status::InvalidArgument, err);
		return info.Env().Undefined();
	}

	Napi::Value Info(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		if (!need_loaded(env)) return env.Undefined();
		const Program &p = eng_.program();
		Napi::Object r = Napi::Object::New(env);
		Napi::Array acts = Napi::Array::New(env, p.actions.size());
		for (size_t i = 0; i < p.actions.size(); i++) {
			Napi::Object a = Napi::Object::New(env);
			a.Set("name", p.actions[i].name);
			Napi::Array ps = Napi::Array::New(env, p.actions[i].param_widths.size());
			for (size_t k = 0; k < p.actions[i].param_widths.size(); k++) {
				Napi::Object po = Napi::Object::New(env);
				po.Set("name", p.actions[i].param_names[k]);
				po.Set("width", double(p.actions[i].param_widths[k]));
				ps.Set(uint32_t(k), po);
			}
			a.Set("params", ps);
			acts.Set(uint32_t(i), a);
		}
		r.Set("actions", acts);
		Napi::Array tabs = Napi::Array::New(env, p.tables.size());
		for (size_t i = 0; i < p.tables.size(); i++) {
			const Table &t = p.tables[i];
			Napi::Object to = Napi::Object::New(env);
			to.Set("name", t.name);
			Napi::Array ks = Napi::Array::New(env, t.keys.size());
			for (size_t k = 0; k < t.keys.size(); k++) {
				Napi::Object ko = Napi::Object::New(env);
				ko.Set("name", t.keys[k].name);
				ko.Set("kind", kind_name(t.keys[k].kind));
				ko.Set("width", double(t.keys[k].width));
				ks.Set(uint32_t(k), ko);
			}
			to.Set("keys", ks);
			Napi::Array as = Napi::Array::New(env, t.actions.size());
			for (size_t k = 0; k < t.actions.size(); k++) as.Set(uint32_t(k), p.actions[size_t(t.actions[k])].name);
			to.Set("actions", as);
			to.Set("hasPriority", t.has_priority);
			to.Set("maxSize", double(t.max_size));
			to.Set("directCounter", t.direct_counter);
			to.Set("size", double(t.n_live));
			tabs.Set(uint32_t(i), to);
		}
		r.Set("tables", tabs);
		Napi::Array cs = Napi::Array::New(env, p.counters.size());
		for (size_t i = 0; i < p.counters.size(); i++) {
			Napi::Object c = Napi::Object::New(env);
			c.Set("name", p.counters[i].name);
			c.Set("size", double(p.counters[i].size));
			c.Set("direct", p.counters[i].direct);
			cs.Set(uint32_t(i), c);
		}
		r.Set("counters", cs);
		Napi::Array ms = Napi::Array::New(env, p.meters.size());
		for (size_t i = 0; i < p.meters.size(); i++) {
			Napi::Object m = Napi::Object::New(env);
			m.Set("name", p.meters[i].name);
			m.Set("size", double(p.meters[i].size));
			m.Set("unit", p.meters[i].packets ? "packets" : "bytes");
			m.Set("rateCount", double(p.meters[i].rate_count));
			ms.Set(uint32_t(i), m);
		}
		r.Set("meters", ms);
		return r;
	}

	// tableAdd(table, match[], priority, action, params[]) → entry id
	Napi::Value TableAdd(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t t = table_arg(info, 0);
		if (t < 0) return env.Undefined();
		std::vector<MatchParam> m;
		std::vector<u128> d;
		if (!match_arg(info, 1, &m)) return env.Undefined();
		int32_t a = action_arg(info, 3);
		if (a < 0 || !params_arg(info, 4, &d)) return env.Undefined();
		int32_t id = -1;
		std::string err;
		Status s = eng_.table_add(t, m.data(), uint32_t(m.size()), int_arg(info, 2, 0), a, d.data(), uint32_t(d.size()),
		                          &id, &err);
		if (s != Status::Ok) return throw_code(env, s, err);
		return Napi::Number::New(env, id);
	}

	Napi::Value TableFind(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t t = table_arg(info, 0);
		if (t < 0) return env.Undefined();
		std::vector<MatchParam> m;
		if (!match_arg(info, 1, &m)) return env.Undefined();
		int32_t id = -1;
		std::string err;
		Status s = eng_.table_find(t, m.data(), uint32_t(m.size()), int_arg(info, 2, 0), &id, &err);
		if (s != Status::Ok) return throw_code(env, s, err);
		return Napi::Number::New(env, id);
	}

	Napi::Value TableModify(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t t = table_arg(info, 0);
		if (t < 0) return env.Undefined();
		int32_t a = action_arg(info, 2);
		std::vector<u128> d;
		if (a < 0 || !params_arg(info, 3, &d)) return env.Undefined();
		std::string err;
		Status s = eng_.table_modify(t, int_arg(info, 1, -1), a, d.data(), uint32_t(d.size()), &err);
		if (s != Status::Ok) return throw_code(env, s, err);
		return env.Undefined();
	}

	Napi::Value TableDelete(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t t = table_arg(info, 0);
		if (t < 0) return env.Undefined();
		std::string err;
		Status s = eng_.table_delete(t, int_arg(info, 1, -1), &err);
		if (s != Status::Ok) return throw_code(env, s, err);
		return env.Undefined();
	}

	Napi::Value TableSetDefault(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t t = table_arg(info, 0);
		if (t < 0) return env.Undefined();
		int32_t a = action_arg(info, 1);
		std::vector<u128> d;
		if (a < 0 || !params_arg(info, 2, &d)) return env.Undefined();
		std::string err;
		Status s = eng_.table_set_default(t, a, d.data(), uint32_t(d.size()), &err);
		if (s != Status::Ok) return throw_code(env, s, err);
		return env.Undefined();
	}

	Napi::Object action_obj(Napi::Env env, int32_t a, const std::vector<u128> &data) {
		const Program &p = eng_.program();
		Napi::Object o = Napi::Object::New(env);
		o.Set("action", a >= 0 ? p.actions[size_t(a)].name : std::string());
		Napi::Array ps = Napi::Array::New(env, data.size());
		for (size_t k = 0; k < data.size(); k++)
			ps.Set(uint32_t(k), from_u128(env, data[k], p.actions[size_t(a)].param_widths[k]));
		o.Set("params", ps);
		return o;
	}

	Napi::Value TableGetDefault(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		int32_t t = table_arg(info, 0);
		if (t < 0) return info.Env().Undefined();
		const Table &tb = eng_.program().tables[size_t(t)];
		return action_obj(info.Env(), tb.default_action, tb.default_data);
	}

	Napi::Value TableEntries(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t t = table_arg(info, 0);
		if (t < 0) return env.Undefined();
		const Table &tb = eng_.program().tables[size_t(t)];
		Napi::Array r = Napi::Array::New(env);
		uint32_t n = 0;
		for (size_t id = 0; id < tb.entries.size(); id++) {
			const TableEntry &e = tb.entries[id];
			if (!e.live) continue;
			Napi::Object o = action_obj(env, e.action, e.data);
			o.Set("id", double(id));
			o.Set("priority", double(e.priority));
			Napi::Array ms = Napi::Array::New(env, tb.keys.size());
			for (size_t k = 0; k < tb.keys.size(); k++) {
				const KeyField &kf = tb.keys[k];
				Napi::Object m = Napi::Object::New(env);
				m.Set("value", from_u128(env, e.value[k], kf.width));
				if (kf.kind == MatchKind::Range) m.Set("high", from_u128(env, e.mask[k], kf.width));
				else m.Set("mask", from_u128(env, e.mask[k], kf.width));
				if (kf.kind == MatchKind::Lpm) {
					uint32_t pl = 0;
					for (u128 x = e.mask[k]; x; x &= x - 1) pl++;
					m.Set("prefixLen", double(pl));
				}
				ms.Set(uint32_t(k), m);
			}
			o.Set("match", ms);
			o.Set("packets", double(e.packets));
			o.Set("bytes", double(e.bytes));
			r.Set(n++, o);
		}
		return r;
	}

	Napi::Value TableClear(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		int32_t t = table_arg(info, 0);
		if (t >= 0) eng_.table_clear(t);
		return info.Env().Undefined();
	}

	// directCounter(table, id[, packets, bytes]) → {packets, bytes} (before any write)
	Napi::Value DirectCounter(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t t = table_arg(info, 0);
		if (t < 0) return env.Undefined();
		Table &tb = eng_.mutable_program().tables[size_t(t)];
		int32_t id = int_arg(info, 1, -1);
		if (id < 0 || size_t(id) >= tb.entries.size() || !tb.entries[size_t(id)].live)
			return throw_code(env, Status::NotFound, "table " + tb.name + ": no such entry");
		TableEntry &e = tb.entries[size_t(id)];
		Napi::Object r = Napi::Object::New(env);
		r.Set("packets", double(e.packets));
		r.Set("bytes", double(e.bytes));
		if (info.Length() >= 4 && info[2].IsNumber() && info[3].IsNumber()) {
			e.packets = uint64_t(info[2].As<Napi::Number>().Int64Value());
			e.bytes = uint64_t(info[3].As<Napi::Number>().Int64Value());
		}
		return r;
	}

	int32_t counter_arg(const Napi::CallbackInfo &info) {
		if (!need_loaded(info.Env())) return -1;
		std::string n = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
		int32_t c = eng_.program().find_counter(n);
		if (c < 0) throw_code(info.Env(), Status::NotFound, "no counter named \"" + n + "\"");
		return c;
	}

	Napi::Value CounterRead(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t c = counter_arg(info);
		if (c < 0) return env.Undefined();
		const CounterArray &ca = eng_.program().counters[size_t(c)];
		int32_t i = int_arg(info, 1, -1);
		if (i < 0 || uint32_t(i) >= ca.size)
			return throw_code(env, Status::InvalidArgument, "counter " + ca.name + ": index out of range");
		Napi::Object r = Napi::Object::New(env);
		r.Set("packets", double(ca.packets[size_t(i)]));
		r.Set("bytes", double(ca.bytes[size_t(i)]));
		return r;
	}

	Napi::Value CounterWrite(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t c = counter_arg(info);
		if (c < 0) return env.Undefined();
		CounterArray &ca = eng_.mutable_program().counters[size_t(c)];
		int32_t i = int_arg(info, 1, -1);
		if (i < 0 || uint32_t(i) >= ca.size)
			return throw_code(env, Status::InvalidArgument, "counter " + ca.name + ": index out of range");
		ca.packets[size_t(i)] = info.Length() > 2 && info[2].IsNumber() ? uint64_t(info[2].As<Napi::Number>().Int64Value()) : 0;
		ca.bytes[size_t(i)] = info.Length() > 3 && info[3].IsNumber() ? uint64_t(info[3].As<Napi::Number>().Int64Value()) : 0;
		return env.Undefined();
	}

	int32_t meter_arg(const Napi::CallbackInfo &info) {
		if (!need_loaded(info.Env())) return -1;
		std::string n = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
		int32_t m = eng_.program().find_meter(n);
		if (m < 0) throw_code(info.Env(), Status::NotFound, "no meter named \"" + n + "\"");
		return m;
	}

	// meterSet(name, index, {cir, cburst, pir, pburst, eburst?} | null)
	Napi::Value MeterSet(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t m = meter_arg(info);
		if (m < 0) return env.Undefined();
		int32_t i = int_arg(info, 1, -1);
		std::string err;
		Status s;
		if (info.Length() < 3 || !info[2].IsObject()) {
			s = eng_.meter_set(m, i < 0 ? UINT32_MAX : uint32_t(i), nullptr, &err);
		} else {
			Napi::Object o = info[2].As<Napi::Object>();
			auto num = [&](const char *k) {
				Napi::Value v = o.Get(k);
				return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.0;
			};
			MeterConfig cfg{num("cir"), num("cburst"), num("pir"), num("pburst"), num("eburst")};
			s = eng_.meter_set(m, i < 0 ? UINT32_MAX : uint32_t(i), &cfg, &err);
		}
		if (s != Status::Ok) return throw_code(env, s, err);
		return env.Undefined();
	}

	Napi::Value MeterGet(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		int32_t m = meter_arg(info);
		if (m < 0) return env.Undefined();
		const MeterArray &ma = eng_.program().meters[size_t(m)];
		int32_t i = int_arg(info, 1, -1);
		if (i < 0 || uint32_t(i) >= ma.size)
			return throw_code(env, Status::InvalidArgument, "meter " + ma.name + ": index out of range");
		const MeterCell &c = ma.cells[size_t(i)];
		if (!c.configured) return env.Null();
		Napi::Object o = Napi::Object::New(env);
		o.Set("cir", c.cir);
		o.Set("cburst", c.cburst);
		o.Set("pir", c.pir);
		o.Set("pburst", c.pburst);
		o.Set("eburst", c.eburst);
		return o;
	}

	bool packets_arg(const Napi::CallbackInfo &info, size_t i, std::vector<Napi::Buffer<uint8_t>> *out) {
		if (info.Length() <= i || !info[i].IsArray()) {
			throw_code(info.Env(), Status::InvalidArgument, "packets must be an array of Buffers");
			return false;
		}
		Napi::Array a = info[i].As<Napi::Array>();
		for (uint32_t k = 0; k < a.Length(); k++) {
			Napi::Value v = a.Get(k);
			if (!v.IsBuffer()) {
				throw_code(info.Env(), Status::InvalidArgument, "packet " + std::to_string(k) + " is not a Buffer");
				return false;
			}
			out->push_back(v.As<Napi::Buffer<uint8_t>>());
		}
		return true;
	}

	// process(port, packets[], nowNs?) → per input: {port, data} or {drop: "ingress"|"egress"}
	Napi::Value Process(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		if (!need_loaded(env)) return env.Undefined();
		int32_t port = int_arg(info, 0, -1);
		if (port < 0 || port >= int32_t(kDropPort))
			return throw_code(env, Status::InvalidArgument, "port must be an integer in 0..510");
		std::vector<Napi::Buffer<uint8_t>> pk;
		if (!packets_arg(info, 1, &pk)) return env.Undefined();
		uint64_t now = info.Length() > 2 && info[2].IsNumber() ? uint64_t(info[2].As<Napi::Number>().DoubleValue())
		                                                       : mono_ns();
		Napi::Array r = Napi::Array::New(env, pk.size());
		for (size_t k = 0; k < pk.size(); k++) {
			uint32_t len = uint32_t(pk[k].Length());
			out_.resize(eng_.max_output(len));
			ProcessResult res = eng_.process(uint32_t(port), pk[k].Data(), len, out_.data(), now);
			Napi::Object o = Napi::Object::New(env);
			if (res.verdict == Verdict::Forward) {
				o.Set("port", double(res.port));
				o.Set("data", Napi::Buffer<uint8_t>::Copy(env, out_.data(), res.len));
			} else {
				o.Set("drop", res.verdict == Verdict::DropIngress ? "ingress" : "egress");
			}
			r.Set(uint32_t(k), o);
		}
		return r;
	}

	// processRaw(port, packets[], nowNs?) → {data: Buffer, ports: Int32Array, lens: Uint32Array}:
	// every output packed into one Buffer, in input order; ports[i] is the egress port, or -1
	// (dropped in ingress) / -2 (dropped in egress) with lens[i] = 0. Far fewer N-API calls than
	// process(), for the data path.
	Napi::Value ProcessRaw(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		if (!need_loaded(env)) return env.Undefined();
		int32_t port = int_arg(info, 0, -1);
		if (port < 0 || port >= int32_t(kDropPort))
			return throw_code(env, Status::InvalidArgument, "port must be an integer in 0..510");
		if (info.Length() < 2 || !info[1].IsArray())
			return throw_code(env, Status::InvalidArgument, "packets must be an array of Buffers");
		Napi::Array a = info[1].As<Napi::Array>();
		const uint32_t n = a.Length();
		uint64_t now = info.Length() > 2 && info[2].IsNumber() ? uint64_t(info[2].As<Napi::Number>().DoubleValue())
		                                                       : mono_ns();
		Napi::Int32Array ports = Napi::Int32Array::New(env, n);
		Napi::Uint32Array lens = Napi::Uint32Array::New(env, n);
		size_t used = 0;
		for (uint32_t k = 0; k < n; k++) {
			Napi::Value v = a.Get(k);
			if (!v.IsBuffer())
				return throw_code(env, Status::InvalidArgument, "packet " + std::to_string(k) + " is not a Buffer");
			Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
			const uint32_t len = uint32_t(b.Length());
			if (raw_.size() < used + eng_.max_output(len)) raw_.resize((used + eng_.max_output(len)) * 2);
			ProcessResult res = eng_.process(uint32_t(port), b.Data(), len, raw_.data() + used, now);
			if (res.verdict == Verdict::Forward) {
				ports[k] = int32_t(res.port);
				lens[k] = res.len;
				used += res.len;
			} else {
				ports[k] = res.verdict == Verdict::DropIngress ? -1 : -2;
				lens[k] = 0;
			}
		}
		Napi::Object o = Napi::Object::New(env);
		o.Set("data", Napi::Buffer<uint8_t>::Copy(env, raw_.data(), used));
		o.Set("ports", ports);
		o.Set("lens", lens);
		return o;
	}

	Napi::Value RunLinked(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		return run_linked(eng_, info);
	}

	// attachInline(hostHandle, config): this engine runs inline in the host plan's workers (inline.cc).
	Napi::Value AttachInline(const Napi::CallbackInfo &info) {
		{
			Guard g(lock_);
			attach_inline(eng_, lock_, inline_, Value(), info);
		}
		return info.Env().Undefined();
	}

	Napi::Value InlineStatsJs(const Napi::CallbackInfo &info) { return inline_stats(info.Env(), inline_); }

	// bench(port, packets[], rounds) → {packets, ns, cycles, cpuNs, forwarded, dropped}: the engine's
	// own loop, with no JavaScript per packet.
	Napi::Value Bench(const Napi::CallbackInfo &info) {
		Guard g(lock_);
		Napi::Env env = info.Env();
		if (!need_loaded(env)) return env.Undefined();
		int32_t port = int_arg(info, 0, 0);
		std::vector<Napi::Buffer<uint8_t>> pk;
		if (!packets_arg(info, 1, &pk) || pk.empty()) return env.Undefined();
		int32_t rounds = int_arg(info, 2, 1);
		uint32_t maxlen = 0;
		for (auto &b : pk) maxlen = std::max(maxlen, uint32_t(b.Length()));
		out_.resize(eng_.max_output(maxlen));
		uint64_t fwd = 0, drop = 0;
		uint64_t t0 = mono_ns(), c0 = rdtsc(), p0 = thread_cpu_ns();
		for (int32_t r = 0; r < rounds; r++) {
			uint64_t now = mono_ns();
			for (auto &b : pk) {
				ProcessResult res = eng_.process(uint32_t(port), b.Data(), uint32_t(b.Length()), out_.data(), now);
				if (res.verdict == Verdict::Forward) fwd++;
				else drop++;
			}
		}
		uint64_t p1 = thread_cpu_ns(), c1 = rdtsc(), t1 = mono_ns();
		Napi::Object o = Napi::Object::New(env);
		o.Set("packets", double(fwd + drop));
		o.Set("ns", double(t1 - t0));
		o.Set("cycles", double(c1 - c0));
		// CPU time of this thread: excludes time the core spent on other processes.
		o.Set("cpuNs", double(p1 - p0));
		o.Set("forwarded", double(fwd));
		o.Set("dropped", double(drop));
		return o;
	}
};

} // namespace
} // namespace nfp_softnic

namespace nfp_softnic {
void softnic_register_raw_socket(Napi::Env env, Napi::Object softnic);
void softnic_register_ethdev_port(Napi::Env env, Napi::Object softnic);
// Bumped on every change of the JS-visible API; targets/softnic/native.ts checks it.
constexpr int kSoftnicAbiVersion = 4;
} // namespace nfp_softnic

void nfp_softnic_register(Napi::Env env, Napi::Object exports) {
	Napi::Object sn = Napi::Object::New(env);
	sn.Set("Engine", nfp_softnic::EngineWrap::Define(env));
	nfp_softnic::softnic_register_raw_socket(env, sn);
	nfp_softnic::softnic_register_ethdev_port(env, sn);
	sn.Set("decodeMarks", Napi::Function::New(env, nfp_softnic::decode_marks));
	sn.Set("wireFramesTrusted", Napi::Function::New(env, nfp_softnic::wire_frames_trusted));
	sn.Set("abiVersion", Napi::Number::New(env, nfp_softnic::kSoftnicAbiVersion));
	exports.Set("softnic", sn);
}
