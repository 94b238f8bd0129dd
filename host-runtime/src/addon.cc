// The `nfp_host` addon: a thin N-API binding over the runtime (JavaScript is never on the
// per-packet path). Other parts of nfp register through the weak hooks in addon_hooks.h.
#include <napi.h>

#include <map>
#include <memory>
#include <stdexcept>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "addon_hooks.h"
#include "domain.h"
#include "eal.h"
#include "nfs/builtin.h"
#include "pkt_parse.h"
#include "runtime.h"

namespace nfp {
namespace {

Runtime *g_rt = nullptr;

std::string str_of(const Napi::Object &o, const char *key, const std::string &dflt)
{
	Napi::Value v = o.Get(key);
	return v.IsString() ? v.As<Napi::String>().Utf8Value() : dflt;
}

uint32_t u32_of(const Napi::Object &o, const char *key, uint32_t dflt)
{
	Napi::Value v = o.Get(key);
	return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
}

bool bool_of(const Napi::Object &o, const char *key, bool dflt)
{
	Napi::Value v = o.Get(key);
	return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
}

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

Config config_of(const Napi::Object &o)
{
	Config c;
	c.workers = u32_of(o, "workers", 1);
	std::string mode = str_of(o, "mode", "presorted");
	if (mode == "presorted")
		c.mode = Mode::Presorted;
	else if (mode == "mixed")
		c.mode = Mode::Mixed;
	else if (mode == "raw")
		c.mode = Mode::Raw;
	else
		throw std::runtime_error("mode must be presorted, mixed or raw (got `" + mode + "`)");
	c.burst = u32_of(o, "burst", 32);
	c.queue_size = u32_of(o, "queueSize", 1024);
	c.mbufs = u32_of(o, "mbufs", 16384);
	c.capture_drops = bool_of(o, "captureDrops", false);
	c.loopback = bool_of(o, "loopback", false);
	Napi::Value port = o.Get("port");
	if (port.IsObject()) {
		c.port.kind = str_of(port.As<Napi::Object>(), "kind", "ring");
		c.port.devargs = str_of(port.As<Napi::Object>(), "devargs", "");
	}
	return c;
}

struct PendingBranch {
	size_t path, hop;
	std::string verdict;
	uint32_t to_spi;
};

// Reads the host plan prepared by lib/index.ts into the runtime; branches are resolved later,
// once the NFs' manifests are known.
void plan_of(Runtime *rt, const Napi::Object &plan, std::vector<PendingBranch> &branches)
{
	rt->n_queues = u32_of(plan, "queues", 1);
	if (rt->n_queues == 0 || rt->n_queues > 1024)
		throw std::runtime_error("a host plan needs 1..1024 queues");
	std::map<uint32_t, uint16_t> nf_index;
	Napi::Array nfs = plan.Get("nfs").As<Napi::Array>();
	for (uint32_t i = 0; i < nfs.Length(); i++) {
		Napi::Object o = nfs.Get(i).As<Napi::Object>();
		Nf nf;
		nf.id = u32_of(o, "id", 0);
		nf.tenant = (uint16_t)u32_of(o, "tenant", 0);
		nf.name = str_of(o, "name", "nf" + std::to_string(nf.id));
		nf.type = str_of(o, "type", "");
		nf.backend = str_of(o, "backend", "none");
		nf.artifact = str_of(o, "artifact", "");
		Napi::Array cfgs = o.Get("configs").As<Napi::Array>();
		for (uint32_t k = 0; k < cfgs.Length(); k++)
			nf.configs.push_back(cfgs.Get(k).ToString().Utf8Value());
		if (nf.configs.empty())
			nf.configs.push_back("{}");
		nf_index[nf.id] = (uint16_t)rt->nfs.size();
		rt->nfs.push_back(std::move(nf));
	}
	Napi::Array paths = plan.Get("paths").As<Napi::Array>();
	if (paths.Length() > kMaxPaths)
		throw std::runtime_error("a host plan has at most " + std::to_string(kMaxPaths) + " paths");
	for (uint32_t i = 0; i < paths.Length(); i++) {
		Napi::Object o = paths.Get(i).As<Napi::Object>();
		Path p;
		memset(&p, 0, sizeof(p));
		p.id = u32_of(o, "id", 0);
		p.tenant = (uint16_t)u32_of(o, "tenant", 0);
		if (p.id == 0 || p.id >= (1u << 24))
			throw std::runtime_error("path id " + std::to_string(p.id) + " is not a valid SPI (1..2^24-1)");
		Napi::Array hops = o.Get("hops").As<Napi::Array>();
		if (hops.Length() > kMaxHops)
			throw std::runtime_error("path " + std::to_string(p.id) + " has more than " +
						 std::to_string(kMaxHops) + " hops");
		p.n_hops = (uint16_t)hops.Length();
		for (uint32_t h = 0; h < hops.Length(); h++) {
			Napi::Object ho = hops.Get(h).As<Napi::Object>();
			Hop &hop = p.hops[h];
			memset(hop.branch, 0xff, sizeof(hop.branch));
			hop.host = bool_of(ho, "host", false);
			hop.nf = 0xffff;
			if (hop.host) {
				uint32_t id = u32_of(ho, "nf", 0);
				auto it = nf_index.find(id);
				if (it == nf_index.end())
					throw std::runtime_error("path " + std::to_string(p.id) + " runs NF " +
								 std::to_string(id) + " on the host, but the plan does not list it");
				hop.nf = it->second;
				p.host_idx[p.host_hops++] = (uint8_t)h;
				Napi::Value br = ho.Get("branches");
				if (br.IsObject()) {
					Napi::Object bo = br.As<Napi::Object>();
					Napi::Array keys = bo.GetPropertyNames();
					for (uint32_t k = 0; k < keys.Length(); k++) {
						std::string v = keys.Get(k).ToString().Utf8Value();
						branches.push_back({rt->paths.size(), h, v, bo.Get(v).As<Napi::Number>().Uint32Value()});
					}
				}
			}
		}
		uint8_t next = (uint8_t)p.n_hops, si = 0;
		p.next_host[p.n_hops] = next;
		p.si_from[p.n_hops] = 0;
		for (int h = (int)p.n_hops - 1; h >= 0; h--) {
			if (p.hops[h].host) {
				next = (uint8_t)h;
				si++;
			}
			p.next_host[h] = next;
			p.si_from[h] = si;
		}
		if (p.id >= rt->spi_to_path.size())
			rt->spi_to_path.resize(p.id + 1, -1);
		if (rt->spi_to_path[p.id] >= 0)
			throw std::runtime_error("path id " + std::to_string(p.id) + " appears twice");
		rt->spi_to_path[p.id] = (int16_t)rt->paths.size();
		rt->paths.push_back(p);
	}
}

void resolve_branches(Runtime *rt, const std::vector<PendingBranch> &branches)
{
	for (auto &b : branches) {
		Path &p = rt->paths[b.path];
		Hop &hop = p.hops[b.hop];
		const Nf &nf = rt->nfs[hop.nf];
		int vi = -1;
		for (size_t k = 0; k < nf.verdict_names.size(); k++)
			if (nf.verdict_names[k] == b.verdict)
				vi = (int)k;
		if (vi < 0)
			throw std::runtime_error("path " + std::to_string(p.id) + " branches on verdict `" + b.verdict +
						 "` of NF " + nf.name + ", which has no such verdict");
		if (b.to_spi >= rt->spi_to_path.size() || rt->spi_to_path[b.to_spi] < 0)
			throw std::runtime_error("path " + std::to_string(p.id) + " branches to path " +
						 std::to_string(b.to_spi) + ", which the host plan does not have");
		hop.branch[vi] = rt->spi_to_path[b.to_spi];
	}
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
	return reasons;
}

Napi::Value Unload(const Napi::CallbackInfo &info)
{
	if (g_rt != nullptr) {
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
		if (!got[i].transmitted)
			o.Set("reason", got[i].reason);
		o.Set("data", Napi::Buffer<uint8_t>::Copy(env, got[i].data.data(), got[i].data.size()));
		out.Set(i, o);
	}
	return out;
}

Napi::Value Big(Napi::Env env, uint64_t v) { return Napi::Number::New(env, (double)v); }

Napi::Value Stats(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Runtime *rt = need_rt(env);
	Napi::Object o = Napi::Object::New(env);
	uint64_t rx = 0, tx = 0, dropped = 0, lost = 0;
	std::vector<uint64_t> drops(rt->reasons.size(), 0);
	Napi::Array workers = Napi::Array::New(env);
	for (uint32_t wi = 0; wi < rt->workers.size(); wi++) {
		Worker *w = rt->workers[wi];
		uint64_t wrx = __atomic_load_n(&w->stats.rx, __ATOMIC_ACQUIRE);
		rx += wrx;
		tx += w->stats.tx;
		dropped += w->stats.dropped;
		lost += w->stats.capture_lost;
		for (size_t r = 0; r < drops.size(); r++)
			drops[r] += w->drops[r];
		Napi::Object wo = Napi::Object::New(env);
		wo.Set("lcore", w->lcore);
		wo.Set("received", Big(env, wrx));
		wo.Set("transmitted", Big(env, w->stats.tx));
		wo.Set("dropped", Big(env, w->stats.dropped));
		wo.Set("bursts", Big(env, w->stats.bursts));
		wo.Set("busyCycles", Big(env, w->stats.busy_cycles));
		wo.Set("cpuNs", Big(env, worker_cpu_ns(w)));
		workers.Set(wi, wo);
	}
	drops[kRxOverflow] += rt->inject_overflow;
	o.Set("received", Big(env, rx + rt->inject_overflow));
	o.Set("transmitted", Big(env, tx));
	o.Set("dropped", Big(env, dropped + rt->inject_overflow));
	o.Set("injected", Big(env, rt->injected));
	o.Set("captureLost", Big(env, lost));
	Napi::Object dr = Napi::Object::New(env);
	for (size_t r = 0; r < drops.size(); r++)
		if (drops[r] > 0)
			dr.Set(rt->reasons[r], Big(env, drops[r]));
	o.Set("drops", dr);
	o.Set("workers", workers);
	Napi::Array nfs = Napi::Array::New(env);
	std::map<uint16_t, uint64_t> tenant_cycles, tenant_packets;
	for (uint32_t i = 0; i < rt->nfs.size(); i++) {
		uint64_t calls = 0, packets = 0, cycles = 0, ctr[NFP_NF_MAX_COUNTERS] = {0};
		for (Worker *w : rt->workers) {
			calls += w->nf_stats[i].calls;
			packets += w->nf_stats[i].packets;
			cycles += w->nf_stats[i].cycles;
			uint64_t c[NFP_NF_MAX_COUNTERS] = {0};
			const NfInstance &ins = w->inst[i];
			if (ins.domain->ops->counters != nullptr)
				ins.domain->ops->counters(ins.domain, ins.slot, c);
			for (uint32_t k = 0; k < NFP_NF_MAX_COUNTERS; k++)
				ctr[k] += c[k];
		}
		tenant_cycles[rt->nfs[i].tenant] += cycles;
		Napi::Object no = Napi::Object::New(env);
		no.Set("id", rt->nfs[i].id);
		no.Set("name", rt->nfs[i].name);
		no.Set("tenant", rt->nfs[i].tenant);
		no.Set("calls", Big(env, calls));
		no.Set("packets", Big(env, packets));
		no.Set("cycles", Big(env, cycles));
		Napi::Array ca = Napi::Array::New(env, NFP_NF_MAX_COUNTERS);
		for (uint32_t k = 0; k < NFP_NF_MAX_COUNTERS; k++)
			ca.Set(k, Big(env, ctr[k]));
		no.Set("counters", ca);
		nfs.Set(i, no);
	}
	o.Set("nfs", nfs);
	Napi::Array paths = Napi::Array::New(env);
	for (uint32_t i = 0; i < rt->paths.size(); i++) {
		uint64_t packets = 0, cycles = 0;
		for (Worker *w : rt->workers) {
			packets += w->path_stats[i].packets;
			cycles += w->path_stats[i].cycles;
		}
		tenant_packets[rt->paths[i].tenant] += 0;
		Napi::Object po = Napi::Object::New(env);
		po.Set("id", rt->paths[i].id);
		po.Set("tenant", rt->paths[i].tenant);
		po.Set("packets", Big(env, packets));
		po.Set("cycles", Big(env, cycles));
		paths.Set(i, po);
	}
	o.Set("paths", paths);
	Napi::Array tenants = Napi::Array::New(env);
	uint32_t ti = 0;
	for (uint32_t t = 0; t < rt->quarantined.size(); t++) {
		if (tenant_cycles.count((uint16_t)t) == 0 && tenant_packets.count((uint16_t)t) == 0)
			continue;
		Napi::Object to = Napi::Object::New(env);
		to.Set("id", t);
		to.Set("cycles", Big(env, tenant_cycles[(uint16_t)t]));
		to.Set("quarantined", rt->quarantined[t].load() != 0);
		to.Set("faults", Big(env, rt->faults[t].load()));
		tenants.Set(ti++, to);
	}
	o.Set("tenants", tenants);
	o.Set("tscHz", Big(env, rt->tsc_hz));
	return o;
}

Napi::Value Quarantine(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Runtime *rt = need_rt(env);
	uint32_t t = info[0].As<Napi::Number>().Uint32Value();
	if (t >= rt->quarantined.size())
		throw Napi::RangeError::New(env, "tenant " + std::to_string(t) + " has no NFs in the loaded plan");
	rt->quarantined[t].store(info[1].ToBoolean().Value() ? 1 : 0);
	return env.Undefined();
}

// ---- Single-NF harness for unit tests: one NF instance in a `none` domain, driven directly. ----

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
	struct nfp_domain_params params = {tenant, 0, (int)rte_socket_id()};
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
		// Exact-size copies in DPDK memory, so an over-read shows up under ASan-like tools.
		data[i].assign(b.Data(), b.Data() + b.Length());
		data[i].reserve(b.Length() + 1);
		nfp_pkt_fill(&pk[i], data[i].data(), (uint32_t)b.Length(), h.tenant, 1);
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
		o.Set("data", Napi::Buffer<uint8_t>::Copy(env, data[i].data(), data[i].size()));
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
	exports.Set("nfOpen", Napi::Function::New(env, NfOpen));
	exports.Set("nfRun", Napi::Function::New(env, NfRun));
	exports.Set("nfCounters", Napi::Function::New(env, NfCounters));
	exports.Set("nfClose", Napi::Function::New(env, NfClose));
	exports.Set("nfManifest", Napi::Function::New(env, NfManifest));
	exports.Set("backends", Napi::Function::New(env, Backends));
	exports.Set("abiVersion", Napi::Number::New(env, NFP_NF_ABI_VERSION));
	if (&nfp_isolation_register != nullptr)
		nfp_isolation_register(env, exports);
	if (&nfp_softnic_register != nullptr)
		nfp_softnic_register(env, exports);
	return exports;
}

} // namespace
} // namespace nfp

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nfp::Init(env, exports); }

NODE_API_MODULE(nfp_host, InitAddon)
