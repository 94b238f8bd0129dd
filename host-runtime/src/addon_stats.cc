// stats(): the runtime's counters summed over workers, as one JS object.
#include <map>

#include "addon_util.h"

namespace nfp {

Napi::Value stats_to_js(Napi::Env env, Runtime *rt)
{
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
		wo.Set("scheduler", w->fair ? "fair" : "poll");
		workers.Set(wi, wo);
	}
	drops[kRxOverflow] += rt->inject_overflow;
	drops[kOversize] += rt->inject_oversize;
	const uint64_t refused = rt->inject_overflow + rt->inject_oversize;
	o.Set("received", Big(env, rx + refused));
	o.Set("transmitted", Big(env, tx));
	o.Set("dropped", Big(env, dropped + refused));
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
		const Path &path = rt->paths[i];
		std::vector<uint64_t> hop_packets(path.n_hops, 0), hop_cycles(path.n_hops, 0);
		for (Worker *w : rt->workers) {
			packets += w->path_stats[i].packets;
			cycles += w->path_stats[i].cycles;
			for (uint32_t h = 0; h < path.n_hops; h++) {
				hop_packets[h] += w->path_stats[i].hop_packets[h];
				hop_cycles[h] += w->path_stats[i].hop_cycles[h];
			}
		}
		// Per host hop of the path: its NF's packets and cycles while on this path.
		Napi::Array hops = Napi::Array::New(env);
		for (uint32_t h = 0, k = 0; h < path.n_hops; h++) {
			if (!path.hops[h].host)
				continue;
			Napi::Object ho = Napi::Object::New(env);
			ho.Set("nf", rt->nfs[path.hops[h].nf].id);
			ho.Set("packets", Big(env, hop_packets[h]));
			ho.Set("cycles", Big(env, hop_cycles[h]));
			hops.Set(k++, ho);
		}
		tenant_packets[rt->paths[i].tenant] += 0;
		Napi::Object po = Napi::Object::New(env);
		po.Set("id", rt->paths[i].id);
		po.Set("tenant", rt->paths[i].tenant);
		po.Set("packets", Big(env, packets));
		po.Set("cycles", Big(env, cycles));
		po.Set("hops", hops);
		paths.Set(i, po);
	}
	o.Set("paths", paths);
	// What the fair scheduler charged each tenant (in TSC cycles, by its clock) and how many bursts.
	std::map<uint16_t, uint64_t> sched_cycles, sched_bursts;
	for (Worker *w : rt->workers)
		for (uint32_t c = 0; w->fair && c < w->classes.size(); c++) {
			sched_cycles[w->classes[c].tenant] += w->drr.t[c].cycles;
			sched_bursts[w->classes[c].tenant] += w->drr.t[c].bursts;
		}
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
		if (t < rt->tenant_fault.size() && rt->tenant_fault[t].ready.load(std::memory_order_acquire))
			to.Set("fault", rt->tenant_fault[t].text);
		to.Set("weight", t < rt->tenant_weight.size() ? rt->tenant_weight[t] : 1);
		to.Set("scheduledCycles", Big(env, sched_cycles[(uint16_t)t]));
		to.Set("scheduledBursts", Big(env, sched_bursts[(uint16_t)t]));
		to.Set("overload", Big(env, t < rt->tenant_overload.size() ? rt->tenant_overload[t] : 0));
		tenants.Set(ti++, to);
	}
	o.Set("tenants", tenants);
	o.Set("tscHz", Big(env, rt->tsc_hz));
	return o;
}

} // namespace nfp
