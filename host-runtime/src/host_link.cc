// The published host link API (include/nfp/host.h) over the runtime's control-thread calls.
#include "host_link.h"

#include <errno.h>

#include <stdexcept>
#include <vector>

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

} // extern "C"
