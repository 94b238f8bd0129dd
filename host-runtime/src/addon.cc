// The `nfp_host` addon: a thin N-API binding over the runtime (JavaScript is never on the
// per-packet path). Other parts of nfp register through the weak hooks in addon_hooks.h.
#include <napi.h>

#include <stdexcept>

#include "addon_hooks.h"
#include "addon_util.h"
#include "domain.h"
#include "eal.h"
#include "host_link.h"
#include "runtime.h"

namespace nfp {
namespace {

Runtime *g_rt = nullptr;

Napi::Value EalInit(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!info[0].IsArray())
		throw Napi::TypeError::New(env, "ealInit(args: string[])");
	Napi::Array a = info[0].As<Napi::Array>();
	std::vector<std::string> args;
	for (uint32_t i = 0; i < a.Length(); i++)
		args.push_back(a.Get(i).ToString().Utf8Value());
	try {
		eal_init(args);
	} catch (const std::exception &e) {
		throw Napi::Error::New(env, e.what());
	}
	Napi::Array out = Napi::Array::New(env);
	auto lcores = eal_worker_lcores();
	for (uint32_t i = 0; i < lcores.size(); i++)
		out.Set(i, lcores[i]);
	return out;
}

Napi::Value Load(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (g_rt != nullptr)
		throw Napi::Error::New(env, "a host plan is already loaded (stop first)");
	if (!info[0].IsObject() || !info[1].IsObject())
		throw Napi::TypeError::New(env, "load(config, hostPlan)");
	Runtime *rt = nullptr;
	try {
		Config cfg = config_of(info[0].As<Napi::Object>());
		rt = runtime_create(cfg);
		std::vector<PendingBranch> branches;
		plan_of(rt, info[1].As<Napi::Object>(), branches);
		// Verdict names come from the manifests, so the branch table is filled after NF init
		// and before the workers start.
		runtime_launch_prepare(rt);
		resolve_branches(rt, branches);
		runtime_launch_start(rt);
	} catch (const std::exception &e) {
		if (rt != nullptr)
			runtime_destroy(rt);
		throw Napi::Error::New(env, e.what());
	}
	g_rt = rt;
	Napi::Array reasons = Napi::Array::New(env);
	for (uint32_t i = 0; i < rt->reasons.size(); i++)
		reasons.Set(i, rt->reasons[i]);
	// The handle is how NIC code reaches this plan through include/nfp/host.h.
	Napi::Object out = Napi::Object::New(env);
	out.Set("reasons", reasons);
	out.Set("handle", Napi::Number::New(env, double(host_link_register(rt))));
	return out;
}

Napi::Value Unload(const Napi::CallbackInfo &info)
{
	if (g_rt != nullptr) {
		host_link_unregister(g_rt);
		runtime_destroy(g_rt);
		g_rt = nullptr;
	}
	return info.Env().Undefined();
}

Runtime *need_rt(Napi::Env env)
{
	if (g_rt == nullptr)
		throw Napi::Error::New(env, "no host plan is loaded (call load first)");
	return g_rt;
}

Napi::Value Inject(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Runtime *rt = need_rt(env);
	if (!info[0].IsNumber() || !info[1].IsArray())
		throw Napi::TypeError::New(env, "inject(queue: number, packets: Buffer[])");
	Napi::Array a = info[1].As<Napi::Array>();
	std::vector<std::pair<const uint8_t *, size_t>> pkts;
	for (uint32_t i = 0; i < a.Length(); i++) {
		Napi::Value v = a.Get(i);
		if (!v.IsBuffer())
			throw Napi::TypeError::New(env, "inject: packet " + std::to_string(i) + " is not a Buffer");
		auto b = v.As<Napi::Buffer<uint8_t>>();
		pkts.push_back({b.Data(), b.Length()});
	}
	uint32_t first = 0, ok = 0;
	try {
		ok = runtime_inject(rt, (uint16_t)info[0].As<Napi::Number>().Uint32Value(), pkts, &first);
	} catch (const std::exception &e) {
		throw Napi::Error::New(env, e.what());
	}
	Napi::Object out = Napi::Object::New(env);
	out.Set("accepted", ok);
	out.Set("firstSeq", first);
	return out;
}

Napi::Value Collect(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Runtime *rt = need_rt(env);
	auto got = runtime_collect(rt);
	Napi::Array out = Napi::Array::New(env, got.size());
	for (uint32_t i = 0; i < got.size(); i++) {
		Napi::Object o = Napi::Object::New(env);
		o.Set("seq", got[i].seq);
		o.Set("queue", got[i].queue);
		o.Set("fate", got[i].transmitted ? "tx" : "drop");
		if (got[i].path >= 0)
			o.Set("path", got[i].path);
		if (!got[i].transmitted)
			o.Set("reason", got[i].reason);
		o.Set("data", Napi::Buffer<uint8_t>::Copy(env, got[i].data.data(), got[i].data.size()));
		out.Set(i, o);
	}
	return out;
}

Napi::Value Stats(const Napi::CallbackInfo &info) { return stats_to_js(info.Env(), need_rt(info.Env())); }

Napi::Value Quarantine(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Runtime *rt = need_rt(env);
	uint32_t t = info[0].As<Napi::Number>().Uint32Value();
	if (t >= rt->quarantined.size())
		throw Napi::RangeError::New(env, "tenant " + std::to_string(t) + " has no NFs in the loaded plan");
	bool on = info[1].ToBoolean().Value();
	if (!on) { // released: its next fault is reported afresh
		rt->tenant_fault[t].ready.store(0, std::memory_order_relaxed);
		rt->tenant_fault[t].claimed.store(0, std::memory_order_release);
	}
	rt->quarantined[t].store(on ? 1 : 0);
	return env.Undefined();
}

// ---- Single-NF harness for unit tests: one NF instance in a `none` domain, driven directly. ----

Napi::Value Backends(const Napi::CallbackInfo &info)
{
	const char *names[NFP_DOMAIN_MAX_BACKENDS];
	uint32_t n = nfp_domain_backend_names(names, NFP_DOMAIN_MAX_BACKENDS);
	Napi::Array out = Napi::Array::New(info.Env(), n);
	for (uint32_t i = 0; i < n; i++)
		out.Set(i, names[i]);
	return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("ealInit", Napi::Function::New(env, EalInit));
	exports.Set("load", Napi::Function::New(env, Load));
	exports.Set("unload", Napi::Function::New(env, Unload));
	exports.Set("inject", Napi::Function::New(env, Inject));
	exports.Set("collect", Napi::Function::New(env, Collect));
	exports.Set("stats", Napi::Function::New(env, Stats));
	exports.Set("quarantine", Napi::Function::New(env, Quarantine));
	register_nf_harness(env, exports);
	exports.Set("backends", Napi::Function::New(env, Backends));
	exports.Set("abiVersion", Napi::Number::New(env, NFP_NF_ABI_VERSION));
	if (&nfp_isolation_register != nullptr)
		nfp_isolation_register(env, exports);
	if (&nfp_softnic_register != nullptr)
		nfp_softnic_register(env, exports);
	if (&nfp_dpdk_register != nullptr)
		nfp_dpdk_register(env, exports);
	return exports;
}

} // namespace

} // namespace nfp

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nfp::Init(env, exports); }

NODE_API_MODULE(nfp_host, InitAddon)
