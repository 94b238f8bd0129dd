// The published host link API (include/nfp/host.h) over the runtime's control-thread calls.
#include "host_link.h"

#include <errno.h>

#include <map>
#include <stdexcept>
#include <vector>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "eal.h"
#include "nfp/host.h"
#include "runtime.h"

// The opaque handle type of the C API: one loaded plan and what was collected from it but not
// yet handed out.
struct nfp_host {
	nfp::Runtime *rt;
	uint64_t handle;
	std::vector<nfp::Collected> pending;
	size_t next = 0;
};

namespace nfp {
namespace {

// What runs when a plan's workers stopped: its stage's release, then the callbacks added.
struct StopList {
	std::vector<std::pair<void (*)(void *), void *>> calls;
};
std::map<const Runtime *, StopList> g_stops;

void stage_stop(Runtime *rt);

// The runtime's on_stop hook: the stage first (it may still hold packets for the ports), then
// whatever else lives on the ports.
void on_stop(Runtime *rt)
{
	if (rt->tx_stage_ctx != nullptr)
		stage_stop(rt);
	auto it = g_stops.find(rt);
	if (it == g_stops.end())
		return;
	StopList list = std::move(it->second);
	g_stops.erase(it);
	for (auto &c : list.calls)
		c.first(c.second);
}

// An attached stage: owned by the runtime's on_stop hook from attach until the workers stopped.
struct StageLink {
	nfp_host_stage stage;
	struct Rx {
		StageLink *link;
		uint16_t port_id, port_index, hwq;
		const struct rte_eth_rxtx_callback *cb;
	};
	std::vector<Rx *> rx;                 // one per (port, hardware queue)
	std::vector<uint16_t> queue_port_index, queue_hwq; // by host queue
	bool inert = false; // attaching failed half-way: pass everything through until unloaded
};

uint16_t stage_rx(uint16_t, uint16_t, struct rte_mbuf **pkts, uint16_t n, uint16_t max, void *param)
{
	auto *r = static_cast<StageLink::Rx *>(param);
	if (unlikely(r->link->inert))
		return n;
	return r->link->stage.rx(r->link->stage.ctx, r->port_index, r->hwq, pkts, n, max);
}

uint16_t stage_tx(void *ctx, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	auto *link = static_cast<StageLink *>(ctx);
	if (unlikely(link->inert))
		return n;
	return link->stage.tx(link->stage.ctx, link->queue_port_index[queue], link->queue_hwq[queue], pkts, n);
}

void stage_stop(Runtime *rt)
{
	auto *link = static_cast<StageLink *>(rt->tx_stage_ctx);
	if (link == nullptr)
		return;
	rt->tx_stage = nullptr;
	rt->tx_stage_ctx = nullptr;
	// The workers stopped: nobody runs the callbacks any more, so they can go and be freed.
	for (StageLink::Rx *r : link->rx) {
		if (r->cb != nullptr)
			rte_eth_remove_rx_callback(r->port_id, r->hwq, r->cb);
		delete r;
	}
	if (link->stage.release != nullptr)
		link->stage.release(link->stage.ctx);
	delete link;
}

// The distinct ports of the plan's queues, in order of first appearance.
std::vector<uint16_t> ports_of(const Runtime *rt)
{
	std::vector<uint16_t> out;
	for (uint16_t p : rt->queue_port) {
		bool seen = false;
		for (uint16_t o : out)
			seen = seen || o == p;
		if (!seen)
			out.push_back(p);
	}
	return out;
}

// Plans loaded now (the addon loads one at a time; a list keeps the API honest for more).
std::vector<nfp_host *> g_live;
uint64_t g_next_handle = 1;

} // namespace

uint64_t host_link_register(Runtime *rt)
{
	auto *h = new nfp_host{rt, g_next_handle++, {}, 0};
	g_live.push_back(h);
	return h->handle;
}

void host_link_unregister(Runtime *rt)
{
	for (size_t i = 0; i < g_live.size(); i++) {
		if (g_live[i]->rt != rt)
			continue;
		delete g_live[i];
		g_live.erase(g_live.begin() + long(i));
		return;
	}
}

} // namespace nfp

extern "C" {

int nfp_host_eal_ready(void) { return nfp::eal_ready() ? 1 : 0; }

struct nfp_host *nfp_host_get(uint64_t handle)
{
	for (nfp_host *h : nfp::g_live)
		if (h->handle == handle)
			return h;
	return nullptr;
}

uint32_t nfp_host_queue_count(const struct nfp_host *h) { return h->rt->n_queues; }

uint32_t nfp_host_port_count(const struct nfp_host *h)
{
	return h->rt->cfg.port.kind == "ring" ? 0 : uint32_t(nfp::ports_of(h->rt).size());
}

int nfp_host_port_get(const struct nfp_host *h, uint32_t index, struct nfp_host_port *out)
{
	if (index >= nfp_host_port_count(h))
		return -EINVAL;
	const nfp::Runtime *rt = h->rt;
	const uint16_t port = nfp::ports_of(rt)[index];
	uint16_t queues = 0;
	for (uint16_t p : rt->queue_port)
		queues = uint16_t(queues + (p == port ? 1 : 0));
	// isolate_rc follows configure order: one per port, in the same first-appearance order.
	out->port_id = port;
	out->queues = queues;
	out->isolate_rc = index < rt->isolate_rc.size() ? rt->isolate_rc[index] : 1;
	return 0;
}

int nfp_host_stage_attach(struct nfp_host *h, const struct nfp_host_stage *stage)
{
	nfp::Runtime *rt = h->rt;
	if (rt->cfg.port.kind == "ring")
		return -ENOTSUP;
	if (rt->tx_stage_ctx != nullptr)
		return -EBUSY;
	auto *link = new nfp::StageLink();
	link->stage = *stage;
	const std::vector<uint16_t> ports = nfp::ports_of(rt);
	for (uint32_t q = 0; q < rt->n_queues; q++) {
		uint16_t index = 0;
		while (ports[index] != rt->queue_port[q])
			index++;
		link->queue_port_index.push_back(index);
		link->queue_hwq.push_back(rt->queue_hwq[q]);
		link->rx.push_back(new nfp::StageLink::Rx{link, rt->queue_port[q], index, rt->queue_hwq[q], nullptr});
	}
	// The transmit hook first: a packet the receive hook lets through must find it in place.
	rt->tx_stage_ctx = link;
	rt->tx_stage = nfp::stage_tx;
	rt->on_stop = nfp::on_stop;
	for (nfp::StageLink::Rx *r : link->rx) {
		r->cb = rte_eth_add_rx_callback(r->port_id, r->hwq, nfp::stage_rx, r);
		if (r->cb == nullptr) {
			// A worker may already be inside a callback added above, so nothing is removed
			// now: the stage turns inert (everything passes through) and goes with the plan.
			__atomic_store_n(&link->inert, true, __ATOMIC_RELEASE);
			return -EIO;
		}
	}
	return 0;
}

int32_t nfp_host_inject(struct nfp_host *h, uint16_t queue, const struct nfp_host_frame *frames, uint32_t n,
			uint32_t *first_seq)
{
	if (h->rt->cfg.port.kind != "ring")
		return -ENOTSUP;
	if (queue >= h->rt->n_queues)
		return -EINVAL;
	std::vector<std::pair<const uint8_t *, size_t>> pkts;
	pkts.reserve(n);
	for (uint32_t i = 0; i < n; i++)
		pkts.push_back({frames[i].data, frames[i].len});
	try {
		return int32_t(nfp::runtime_inject(h->rt, queue, pkts, first_seq));
	} catch (const std::exception &) {
		return -EINVAL; // the checks above mirror runtime_inject's
	}
}

uint32_t nfp_host_collect(struct nfp_host *h, struct nfp_host_done *out, uint32_t max)
{
	if (h->next >= h->pending.size()) {
		h->pending = nfp::runtime_collect(h->rt);
		h->next = 0;
	}
	uint32_t k = 0;
	for (; k < max && h->next < h->pending.size(); k++, h->next++) {
		const nfp::Collected &c = h->pending[h->next];
		out[k] = {c.seq, c.queue, uint16_t(c.transmitted ? 1 : 0), c.reason.c_str(), c.data.data(),
			  uint32_t(c.data.size()), c.path};
	}
	return k;
}

int nfp_host_on_stop(struct nfp_host *h, void (*fn)(void *ctx), void *ctx)
{
	try {
		nfp::g_stops[h->rt].calls.push_back({fn, ctx});
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
	h->rt->on_stop = nfp::on_stop;
	return 0;
}

} // extern "C"
