// Reading start()'s config and load()'s host plan from JavaScript into the runtime.
#include <map>
#include <stdexcept>

#include "addon_util.h"

namespace nfp {

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
	c.idle_sleep_us = u32_of(o, "idleSleepUs", 20);
	std::string sched = str_of(o, "scheduler", "auto");
	if (sched == "auto")
		c.scheduler = Scheduler::Auto;
	else if (sched == "fair")
		c.scheduler = Scheduler::Fair;
	else if (sched == "poll")
		c.scheduler = Scheduler::Poll;
	else
		throw std::runtime_error("scheduler must be auto, fair or poll (got `" + sched + "`)");
	c.fair_quantum_us = u32_of(o, "fairQuantumUs", 20);
	std::string clock = str_of(o, "fairClock", "auto");
	if (clock == "auto")
		c.fair_clock = FairClock::Auto;
	else if (clock == "cpu")
		c.fair_clock = FairClock::Cpu;
	else if (clock == "tsc")
		c.fair_clock = FairClock::Tsc;
	else
		throw std::runtime_error("fairClock must be auto, cpu or tsc (got `" + clock + "`)");
	if (c.fair_quantum_us == 0 || c.fair_quantum_us > 1000000)
		throw std::runtime_error("fairQuantumUs must be 1..1000000");
	Napi::Value port = o.Get("port");
	if (port.IsObject()) {
		c.port.kind = str_of(port.As<Napi::Object>(), "kind", "ring");
		c.port.devargs = str_of(port.As<Napi::Object>(), "devargs", "");
		c.port.isolate = bool_of(port.As<Napi::Object>(), "isolate", false);
	}
	return c;
}

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
	Napi::Value tenants = plan.Get("tenants");
	if (tenants.IsArray()) {
		Napi::Array ta = tenants.As<Napi::Array>();
		for (uint32_t i = 0; i < ta.Length(); i++) {
			Napi::Object o = ta.Get(i).As<Napi::Object>();
			uint32_t id = u32_of(o, "id", 0), weight = u32_of(o, "weight", 1);
			if (id > 0xffff || weight == 0 || weight > 1000000)
				throw std::runtime_error("tenant " + std::to_string(id) + ": weight must be 1..1000000");
			if (id >= rt->tenant_weight.size())
				rt->tenant_weight.resize(id + 1, 1);
			rt->tenant_weight[id] = weight;
			if (id >= rt->tenant_access.size())
				rt->tenant_access.resize(id + 1, NFP_PACKET_ACCESS_SHARED);
			Napi::Value access = o.Get("packetAccess");
			if (access.IsString()) {
				std::string a = access.As<Napi::String>().Utf8Value();
				if (a != "shared" && a != "windows")
					throw std::runtime_error("tenant " + std::to_string(id) + ": packetAccess must be shared or windows");
				rt->tenant_access[id] = a == "windows" ? NFP_PACKET_ACCESS_WINDOWS : NFP_PACKET_ACCESS_SHARED;
			}
		}
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
		p.queue = o.Get("queue").IsNumber() ? (int32_t)u32_of(o, "queue", 0) : -1;
		if (p.queue >= (int32_t)rt->n_queues)
			throw std::runtime_error("path " + std::to_string(p.id) + " arrives on queue " +
						 std::to_string(p.queue) + ", but the host plan has " +
						 std::to_string(rt->n_queues));
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

} // namespace nfp
