// JS API of the isolation layer: `exports.isolation` (typed in host-runtime/lib/isolation.ts).
// Registers the sfi/mpk/process backends with the runtime's domain registry at addon load.
#include <napi.h>

#include <rte_cycles.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "addon_hooks.h"
#include "eal.h"
#include "iso.h"
#include "lab.h"
#include "native.h"
#include "pkt_parse.h"
#include "snapshot.h"
#include "tenant.h"
#include "windows.h"

namespace nfp {
namespace {

std::vector<std::unique_ptr<IsoTenant>> g_tenants;

[[noreturn]] void fail(Napi::Env env, const std::string &msg) { throw Napi::Error::New(env, msg); }

IsoTenant &tenant_arg(const Napi::CallbackInfo &info, size_t i = 0)
{
	if (info.Length() <= i || !info[i].IsNumber())
		fail(info.Env(), "expected a tenant handle");
	uint32_t h = info[i].As<Napi::Number>().Uint32Value();
	if (h >= g_tenants.size() || !g_tenants[h])
		fail(info.Env(), "unknown or destroyed tenant handle " + std::to_string(h));
	return *g_tenants[h];
}

std::vector<Packet> packets_arg(const Napi::CallbackInfo &info, size_t i)
{
	if (info.Length() <= i || !info[i].IsArray())
		fail(info.Env(), "expected an array of packet Buffers");
	auto arr = info[i].As<Napi::Array>();
	std::vector<Packet> out;
	for (uint32_t k = 0; k < arr.Length(); k++) {
		Napi::Value v = arr.Get(k);
		if (!v.IsBuffer())
			fail(info.Env(), "packet " + std::to_string(k) + " is not a Buffer");
		auto b = v.As<Napi::Buffer<uint8_t>>();
		if (b.Length() < 14 || b.Length() > 65535)
			fail(info.Env(), "packet " + std::to_string(k) + " has " + std::to_string(b.Length()) +
						 " bytes (an Ethernet frame has 14..65535)");
		out.emplace_back(b.Data(), b.Data() + b.Length());
	}
	return out;
}

std::vector<IsoNfSpec> specs_arg(Napi::Env env, Napi::Value v)
{
	if (!v.IsArray())
		fail(env, "expected `nfs`: an array of { builtin?, artifact?, config }");
	auto arr = v.As<Napi::Array>();
	std::vector<IsoNfSpec> out;
	for (uint32_t k = 0; k < arr.Length(); k++) {
		Napi::Value e = arr.Get(k);
		if (!e.IsObject())
			fail(env, "nfs[" + std::to_string(k) + "] is not an object");
		auto o = e.As<Napi::Object>();
		IsoNfSpec s;
		if (o.Has("builtin") && o.Get("builtin").IsString())
			s.builtin = o.Get("builtin").As<Napi::String>().Utf8Value();
		if (o.Has("artifact") && o.Get("artifact").IsString())
			s.artifact = o.Get("artifact").As<Napi::String>().Utf8Value();
		s.config = o.Has("config") && o.Get("config").IsString() ? o.Get("config").As<Napi::String>().Utf8Value()
									 : "{}";
		if (s.builtin.empty() && s.artifact.empty())
			fail(env, "nfs[" + std::to_string(k) + "] needs `builtin` or `artifact`");
		out.push_back(s);
	}
	return out;
}

void ensure_eal(Napi::Env env)
{
	if (eal_ready())
		return;
	try {
		eal_init({"nfp-isolation", "-l", "0", "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
			  "--log-level=error"});
	} catch (const std::exception &e) {
		fail(env, e.what());
	}
}

Napi::Value Support(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	auto out = Napi::Object::New(env);
	const char *names[NFP_DOMAIN_MAX_BACKENDS];
	uint32_t n = nfp_domain_backend_names(names, NFP_DOMAIN_MAX_BACKENDS);
	auto arr = Napi::Array::New(env, n);
	for (uint32_t i = 0; i < n; i++)
		arr.Set(i, names[i]);
	out.Set("backends", arr);
	char why[256] = "";
	int ok = nfp_mpk_supported(why, sizeof(why));
	out.Set("pku", Napi::Boolean::New(env, ok == 1));
	out.Set("pkuReason", why);
	return out;
}

Napi::Value TenantCreate(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsObject())
		fail(env, "expected tenant options");
	ensure_eal(env);
	auto o = info[0].As<Napi::Object>();
	auto t = std::make_unique<IsoTenant>();
	t->id = (uint16_t)o.Get("id").ToNumber().Uint32Value();
	t->backend = o.Get("backend").ToString().Utf8Value();
	if (o.Has("weight") && o.Get("weight").IsNumber())
		t->weight = o.Get("weight").As<Napi::Number>().Uint32Value();
	if (o.Has("budgetCycles") && o.Get("budgetCycles").IsNumber())
		t->budget_cycles = (uint64_t)o.Get("budgetCycles").As<Napi::Number>().DoubleValue();
	t->chain = o.Has("chain") && o.Get("chain").ToBoolean().Value();
	if (o.Has("packetAccess") && o.Get("packetAccess").IsString()) {
		std::string a = o.Get("packetAccess").As<Napi::String>().Utf8Value();
		if (a != "shared" && a != "windows")
			fail(env, "packetAccess must be `shared` or `windows`, not `" + a + "`");
		t->packet_access = a == "windows" ? NFP_PACKET_ACCESS_WINDOWS : NFP_PACKET_ACCESS_SHARED;
	}
	t->specs = specs_arg(env, o.Get("nfs"));
	try {
		iso_tenant_start(*t);
	} catch (const std::exception &e) {
		fail(env, e.what());
	}
	g_tenants.push_back(std::move(t));
	return Napi::Number::New(env, (double)(g_tenants.size() - 1));
}

Napi::Value TenantRun(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	IsoTenant &t = tenant_arg(info);
	std::vector<Packet> pkts = packets_arg(info, 1);
	if (pkts.size() > NFP_NF_MAX_BATCH)
		fail(env, "a batch holds at most " + std::to_string(NFP_NF_MAX_BATCH) + " packets");
	uint16_t path = info.Length() > 2 && info[2].IsNumber() ? (uint16_t)info[2].As<Napi::Number>().Uint32Value() : 1;
	struct nfp_pkt views[NFP_NF_MAX_BATCH];
	uint8_t verdicts[NFP_NF_MAX_BATCH], reasons[NFP_NF_MAX_BATCH];
	// Each packet with NFP_PKT_HEADROOM in front (nf.h, front adjustment): in its slot of the
	// tenant's packet memory (or of host memory), or, longer than a slot, in a buffer of its own.
	std::vector<uint8_t> host((size_t)NFP_NF_MAX_BATCH * NFP_ISO_SLOT);
	for (size_t i = 0; i < pkts.size(); i++) {
		uint8_t *at;
		if (pkts[i].size() <= NFP_ISO_WIN) {
			at = iso_tenant_slot(t, host.data(), (uint32_t)i) + NFP_PKT_HEADROOM;
			memcpy(at, pkts[i].data(), pkts[i].size());
		} else {
			pkts[i].insert(pkts[i].begin(), NFP_PKT_HEADROOM, 0);
			at = pkts[i].data() + NFP_PKT_HEADROOM;
		}
		nfp_pkt_fill(&views[i], at, (uint32_t)(pkts[i].size() - (pkts[i].size() > NFP_ISO_WIN ? NFP_PKT_HEADROOM : 0)),
			     t.id, path);
	}
	// The NFs' clock for this batch (nfp_now_ns); 0: the monotonic clock, read by each NF.
	uint64_t now = info.Length() > 3 && info[3].IsNumber() ? (uint64_t)info[3].As<Napi::Number>().Int64Value() : 0;
	bool q = false;
	uint64_t cycles = iso_tenant_run(t, views, (uint32_t)pkts.size(), verdicts, reasons, now, &q);
	auto out = Napi::Object::New(env);
	auto ap = Napi::Array::New(env, pkts.size());
	auto av = Napi::Array::New(env, pkts.size());
	auto ar = Napi::Array::New(env, pkts.size());
	for (size_t i = 0; i < pkts.size(); i++) {
		ap.Set(i, Napi::Buffer<uint8_t>::Copy(env, views[i].data, views[i].len));
		av.Set(i, verdicts[i]);
		ar.Set(i, reasons[i]);
	}
	out.Set("packets", ap);
	out.Set("verdicts", av);
	out.Set("reasons", ar);
	out.Set("quarantinedNow", Napi::Boolean::New(env, q));
	out.Set("cycles", Napi::Number::New(env, (double)cycles));
	return out;
}

Napi::Value TenantStats(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	IsoTenant &t = tenant_arg(info);
	auto o = Napi::Object::New(env);
	o.Set("id", t.id);
	o.Set("backend", t.backend);
	o.Set("weight", t.weight);
	o.Set("quarantined", Napi::Boolean::New(env, t.quarantined));
	o.Set("fault", t.fault);
	const IsoTenantStats &s = t.stats;
	o.Set("rx", (double)s.rx);
	o.Set("tx", (double)s.tx);
	o.Set("batches", (double)s.batches);
	o.Set("cycles", (double)s.cycles);
	o.Set("dropNf", (double)s.drop_nf);
	o.Set("dropQuarantined", (double)s.drop_quarantined);
	o.Set("dropOverload", (double)s.drop_overload);
	o.Set("faults", (double)s.faults);
	o.Set("reloads", (double)s.reloads);
	auto ev = Napi::Array::New(env, t.events.size());
	for (size_t i = 0; i < t.events.size(); i++)
		ev.Set(i, t.events[i]);
	o.Set("events", ev);
	auto counters = Napi::Array::New(env, t.slots.size());
	for (size_t i = 0; t.domain != nullptr && i < t.slots.size(); i++) {
		uint64_t c[NFP_NF_MAX_COUNTERS] = {0};
		if (t.domain->ops->counters != nullptr)
			t.domain->ops->counters(t.domain, t.slots[i], c);
		auto a = Napi::Array::New(env, NFP_NF_MAX_COUNTERS);
		for (uint32_t k = 0; k < NFP_NF_MAX_COUNTERS; k++)
			a.Set(k, (double)c[k]);
		counters.Set(i, a);
	}
	o.Set("counters", counters);
	return o;
}

Napi::Value TenantSnapshot(const Napi::CallbackInfo &info)
{
	IsoTenant &t = tenant_arg(info);
	try {
		std::vector<uint8_t> snap = iso_snapshot(t);
		return Napi::Buffer<uint8_t>::Copy(info.Env(), snap.data(), snap.size());
	} catch (const std::exception &e) {
		fail(info.Env(), e.what());
	}
}

Napi::Value TenantRestore(const Napi::CallbackInfo &info)
{
	IsoTenant &t = tenant_arg(info);
	if (info.Length() < 2 || !info[1].IsBuffer())
		fail(info.Env(), "expected a snapshot Buffer");
	auto b = info[1].As<Napi::Buffer<uint8_t>>();
	try {
		iso_restore(t, std::vector<uint8_t>(b.Data(), b.Data() + b.Length()));
	} catch (const std::exception &e) {
		fail(info.Env(), e.what());
	}
	return info.Env().Undefined();
}

// reload(h, nfs?, keepState): a fresh domain (new code when `nfs` is given), optionally carrying
// the old domain's state over; clears quarantine. The old domain keeps running if this fails.
Napi::Value TenantReload(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	IsoTenant &t = tenant_arg(info);
	bool keep = info.Length() > 2 && info[2].ToBoolean().Value();
	IsoTenant next;
	next.id = t.id;
	next.weight = t.weight;
	next.backend = t.backend;
	next.chain = t.chain;
	next.packet_access = t.packet_access;
	next.budget_cycles = t.budget_cycles;
	next.specs = info.Length() > 1 && info[1].IsArray() ? specs_arg(env, info[1]) : t.specs;
	try {
		std::vector<uint8_t> snap;
		if (keep)
			snap = iso_snapshot(t);
		iso_tenant_start(next);
		if (keep) {
			try {
				iso_restore(next, snap);
			} catch (...) {
				iso_tenant_stop(next);
				throw;
			}
		}
	} catch (const std::exception &e) {
		fail(env, std::string("reload of tenant ") + std::to_string(t.id) + " failed: " + e.what());
	}
	iso_tenant_stop(t);
	t.domain = next.domain;
	t.packet_mem = next.packet_mem;
	t.slots = next.slots;
	t.moves_l2 = next.moves_l2;
	t.specs = next.specs;
	t.quarantined = false;
	t.fault.clear();
	t.stats.reloads++;
	t.events.push_back("tenant " + std::to_string(t.id) + " reloaded" + (keep ? " with its state" : ""));
	return env.Undefined();
}

// Where the tenant's packets live (its domain's packet memory), for the containment tests that
// aim at another tenant's buffers; undefined when they are in host memory.
Napi::Value TenantPacketMemory(const Napi::CallbackInfo &info)
{
	IsoTenant &t = tenant_arg(info);
	if (t.packet_mem == nullptr)
		return info.Env().Undefined();
	auto o = Napi::Object::New(info.Env());
	o.Set("address", Napi::BigInt::New(info.Env(), (uint64_t)(uintptr_t)t.packet_mem));
	o.Set("bytes", (double)((size_t)NFP_NF_MAX_BATCH * NFP_ISO_SLOT));
	return o;
}

Napi::Value TenantSetBudget(const Napi::CallbackInfo &info)
{
	IsoTenant &t = tenant_arg(info);
	t.budget_cycles = (uint64_t)info[1].ToNumber().DoubleValue();
	if (t.domain != nullptr)
		nfp_iso_set_budget(t.domain, t.budget_cycles);
	return info.Env().Undefined();
}

Napi::Value TenantDestroy(const Napi::CallbackInfo &info)
{
	IsoTenant &t = tenant_arg(info);
	iso_tenant_stop(t);
	g_tenants[info[0].As<Napi::Number>().Uint32Value()].reset();
	return info.Env().Undefined();
}

Napi::Value Bench(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	IsoTenant &t = tenant_arg(info);
	std::vector<Packet> pkts = packets_arg(info, 1);
	uint32_t iterations = info.Length() > 2 ? info[2].ToNumber().Uint32Value() : 1000;
	BenchResult r;
	try {
		r = lab_bench(t, pkts, iterations);
	} catch (const std::exception &e) {
		fail(env, e.what());
	}
	auto o = Napi::Object::New(env);
	o.Set("cycles", (double)r.cycles);
	o.Set("packets", (double)r.packets);
	o.Set("passed", (double)r.passed);
	o.Set("batches", (double)r.batches);
	o.Set("medianBatchCycles", (double)r.median_batch_cycles);
	return o;
}

// schedule({ tenants: [{ handle, traffic: Buffer[], offeredPerRound }], rounds, burst, queueCap, quantum })
Napi::Value Schedule(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsObject())
		fail(env, "expected schedule options");
	auto o = info[0].As<Napi::Object>();
	auto arr = o.Get("tenants").As<Napi::Array>();
	std::vector<ScheduleTenant> ts;
	for (uint32_t i = 0; i < arr.Length(); i++) {
		auto e = arr.Get(i).As<Napi::Object>();
		uint32_t h = e.Get("handle").ToNumber().Uint32Value();
		if (h >= g_tenants.size() || !g_tenants[h])
			fail(env, "unknown tenant handle " + std::to_string(h));
		ScheduleTenant st;
		st.tenant = g_tenants[h].get();
		Napi::Value traffic = e.Get("traffic");
		auto ta = traffic.As<Napi::Array>();
		for (uint32_t k = 0; k < ta.Length(); k++) {
			auto b = ta.Get(k).As<Napi::Buffer<uint8_t>>();
			st.traffic.emplace_back(b.Data(), b.Data() + b.Length());
		}
		st.offered_per_round = e.Get("offeredPerRound").ToNumber().Uint32Value();
		ts.push_back(std::move(st));
	}
	try {
		lab_schedule(ts, o.Get("rounds").ToNumber().Uint32Value(), o.Get("burst").ToNumber().Uint32Value(),
			     o.Get("queueCap").ToNumber().Uint32Value(), (uint64_t)o.Get("quantum").ToNumber().DoubleValue());
	} catch (const std::exception &e) {
		fail(env, e.what());
	}
	auto out = Napi::Array::New(env, ts.size());
	for (size_t i = 0; i < ts.size(); i++) {
		auto r = Napi::Object::New(env);
		r.Set("cycles", (double)ts[i].cycles);
		r.Set("processed", (double)ts[i].processed);
		r.Set("overloadDrops", (double)ts[i].overload_drops);
		r.Set("bursts", (double)ts[i].bursts);
		out.Set(i, r);
	}
	return out;
}

Napi::Value TscHz(const Napi::CallbackInfo &info)
{
	ensure_eal(info.Env());
	return Napi::Number::New(info.Env(), (double)rte_get_tsc_hz());
}

} // namespace
} // namespace nfp

void nfp_isolation_register(Napi::Env env, Napi::Object exports)
{
	nfp_domain_backend_register(&nfp_domain_sfi_ops);
	nfp_domain_backend_register(&nfp_domain_mpk_ops);
	nfp_domain_backend_register(&nfp_domain_process_ops);
	nfp_domain_set_native_loader(&nfp_native_loader_iso);
	auto iso = Napi::Object::New(env);
	iso.Set("support", Napi::Function::New(env, nfp::Support));
	iso.Set("tenantCreate", Napi::Function::New(env, nfp::TenantCreate));
	iso.Set("tenantRun", Napi::Function::New(env, nfp::TenantRun));
	iso.Set("tenantStats", Napi::Function::New(env, nfp::TenantStats));
	iso.Set("tenantSnapshot", Napi::Function::New(env, nfp::TenantSnapshot));
	iso.Set("tenantRestore", Napi::Function::New(env, nfp::TenantRestore));
	iso.Set("tenantReload", Napi::Function::New(env, nfp::TenantReload));
	iso.Set("tenantSetBudget", Napi::Function::New(env, nfp::TenantSetBudget));
	iso.Set("tenantPacketMemory", Napi::Function::New(env, nfp::TenantPacketMemory));
	iso.Set("tenantDestroy", Napi::Function::New(env, nfp::TenantDestroy));
	iso.Set("bench", Napi::Function::New(env, nfp::Bench));
	iso.Set("schedule", Napi::Function::New(env, nfp::Schedule));
	iso.Set("tscHz", Napi::Function::New(env, nfp::TscHz));
	exports.Set("isolation", iso);
}
