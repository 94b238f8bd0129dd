// A single built-in NF in a `none` domain of its own, driven from JavaScript (unit tests).
#include <map>

#include <rte_lcore.h>

#include "addon_util.h"
#include "domain.h"
#include "eal.h"
#include "nfs/builtin.h"
#include "pkt_parse.h"

namespace nfp {
namespace {

struct NfHandle {
	struct nfp_domain *domain;
	uint32_t slot;
	uint16_t tenant;
};
std::map<uint32_t, NfHandle> g_nf_handles;
uint32_t g_next_nf_handle = 1;

Napi::Value NfOpen(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (!eal_ready())
		throw Napi::Error::New(env, "the EAL is not initialised (call ealInit first)");
	std::string type = info[0].ToString().Utf8Value(), config = info[1].ToString().Utf8Value();
	uint16_t tenant = info[2].IsNumber() ? (uint16_t)info[2].As<Napi::Number>().Uint32Value() : 1;
	const struct nfp_nf_descriptor *desc = nfp_builtin_find(type.c_str());
	if (desc == nullptr)
		throw Napi::Error::New(env, "no built-in NF of type `" + type + "`");
	char err[256] = "";
	struct nfp_domain_params params = {tenant, 0, (int)rte_socket_id(), NFP_PACKET_ACCESS_SHARED};
	struct nfp_domain *d = nfp_domain_none_ops.create(&params, err, sizeof(err));
	if (d == nullptr)
		throw Napi::Error::New(env, err);
	uint32_t slot = 0;
	if (nfp_domain_none_ops.load(d, desc, nullptr, config.c_str(), (uint32_t)config.size(), &slot, err,
				     sizeof(err)) < 0) {
		nfp_domain_none_ops.destroy(d);
		throw Napi::Error::New(env, err);
	}
	uint32_t h = g_next_nf_handle++;
	g_nf_handles[h] = {d, slot, tenant};
	return Napi::Number::New(env, h);
}

NfHandle &need_handle(const Napi::CallbackInfo &info)
{
	auto it = g_nf_handles.find(info[0].As<Napi::Number>().Uint32Value());
	if (it == g_nf_handles.end())
		throw Napi::Error::New(info.Env(), "no such NF handle (closed?)");
	return it->second;
}

Napi::Value NfRun(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	NfHandle &h = need_handle(info);
	Napi::Array a = info[1].As<Napi::Array>();
	uint64_t now = info[2].IsNumber() ? (uint64_t)info[2].As<Napi::Number>().Int64Value() : 0;
	if (a.Length() > NFP_NF_MAX_BATCH)
		throw Napi::RangeError::New(env, "at most " + std::to_string(NFP_NF_MAX_BATCH) + " packets per batch");
	const struct nfp_nf_manifest *m = h.domain->ops->manifest(h.domain, h.slot);
	std::vector<std::vector<uint8_t>> data(a.Length());
	std::vector<struct nfp_pkt> pk(a.Length());
	std::vector<uint8_t> verdicts(a.Length(), 0xee), reasons(a.Length(), 0);
	for (uint32_t i = 0; i < a.Length(); i++) {
		auto b = a.Get(i).As<Napi::Buffer<uint8_t>>();
		// Exact-size copies, so an over-read shows up under ASan-like tools; NFP_PKT_HEADROOM in
		// front for an NF that grows the packet there (nf.h, front adjustment).
		data[i].assign(NFP_PKT_HEADROOM, 0);
		data[i].insert(data[i].end(), b.Data(), b.Data() + b.Length());
		nfp_pkt_fill(&pk[i], data[i].data() + NFP_PKT_HEADROOM, (uint32_t)b.Length(), h.tenant, 1);
	}
	struct nfp_batch batch = {a.Length(), pk.data(), verdicts.data(), reasons.data()};
	int rc = h.domain->ops->process(h.domain, h.slot, &batch, now);
	if (rc < 0)
		throw Napi::Error::New(env, "the NF faulted");
	Napi::Array out = Napi::Array::New(env, a.Length());
	for (uint32_t i = 0; i < a.Length(); i++) {
		Napi::Object o = Napi::Object::New(env);
		uint8_t v = verdicts[i];
		if (v == NFP_VERDICT_PASS) {
			o.Set("verdict", "pass");
		} else if (v == NFP_VERDICT_DROP) {
			o.Set("verdict", "drop");
			o.Set("reason", reasons[i] < m->n_drop_reasons ? std::string(m->drop_reasons[reasons[i]])
								       : "invalid-reason-" + std::to_string(reasons[i]));
		} else if (v >= NFP_VERDICT_BRANCH && v - NFP_VERDICT_BRANCH < (int)m->n_verdicts) {
			o.Set("verdict", m->verdicts[v - NFP_VERDICT_BRANCH]);
		} else {
			o.Set("verdict", "invalid-" + std::to_string(v));
		}
		// Where the NF left the packet; a trusted (`none`) NF is held to the rules here too.
		const uint8_t *lo = data[i].data(), *end = lo + data[i].size();
		if (pk[i].data < lo || pk[i].data + pk[i].len != end)
			throw Napi::Error::New(env, "the NF moved the packet's front outside the rules of nf.h");
		o.Set("data", Napi::Buffer<uint8_t>::Copy(env, pk[i].data, pk[i].len));
		out.Set(i, o);
	}
	return out;
}

Napi::Value NfCounters(const Napi::CallbackInfo &info)
{
	NfHandle &h = need_handle(info);
	uint64_t c[NFP_NF_MAX_COUNTERS] = {0};
	h.domain->ops->counters(h.domain, h.slot, c);
	Napi::Array out = Napi::Array::New(info.Env(), NFP_NF_MAX_COUNTERS);
	for (uint32_t k = 0; k < NFP_NF_MAX_COUNTERS; k++)
		out.Set(k, Big(info.Env(), c[k]));
	return out;
}

Napi::Value NfClose(const Napi::CallbackInfo &info)
{
	NfHandle &h = need_handle(info);
	h.domain->ops->destroy(h.domain);
	g_nf_handles.erase(info[0].As<Napi::Number>().Uint32Value());
	return info.Env().Undefined();
}

Napi::Value NfManifest(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string type = info[0].ToString().Utf8Value();
	const struct nfp_nf_descriptor *desc = nfp_builtin_find(type.c_str());
	if (desc == nullptr)
		return env.Null();
	const struct nfp_nf_manifest &m = desc->manifest;
	Napi::Object o = Napi::Object::New(env);
	o.Set("name", m.name);
	o.Set("version", m.version);
	o.Set("reads", m.reads);
	o.Set("writes", m.writes);
	o.Set("stateBytes", m.state_bytes);
	Napi::Array v = Napi::Array::New(env), r = Napi::Array::New(env), t = Napi::Array::New(env);
	for (uint32_t i = 0; i < m.n_verdicts; i++)
		v.Set(i, m.verdicts[i]);
	for (uint32_t i = 0; i < m.n_drop_reasons; i++)
		r.Set(i, m.drop_reasons[i]);
	for (uint32_t i = 0; i < m.n_tables; i++) {
		Napi::Object to = Napi::Object::New(env);
		to.Set("name", m.tables[i].name);
		to.Set("keyBytes", m.tables[i].key_bytes);
		to.Set("valueBytes", m.tables[i].value_bytes);
		to.Set("maxEntries", m.tables[i].max_entries);
		t.Set(i, to);
	}
	o.Set("verdicts", v);
	o.Set("dropReasons", r);
	o.Set("tables", t);
	return o;
}

} // namespace

void register_nf_harness(Napi::Env env, Napi::Object exports)
{
	exports.Set("nfOpen", Napi::Function::New(env, NfOpen));
	exports.Set("nfRun", Napi::Function::New(env, NfRun));
	exports.Set("nfCounters", Napi::Function::New(env, NfCounters));
	exports.Set("nfClose", Napi::Function::New(env, NfClose));
	exports.Set("nfManifest", Napi::Function::New(env, NfManifest));
}

} // namespace nfp
