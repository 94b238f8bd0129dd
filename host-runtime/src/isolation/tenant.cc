// Tenant domains with fault containment; see tenant.h.
#include "tenant.h"

#include <stdio.h>
#include <string.h>

#include <stdexcept>

#include "nfs/builtin.h"
#include "log.h"
#include "pkt_parse.h"
#include "chain.h"
#include "iso_abi.h"
#include "windows.h"

namespace nfp {

void iso_tenant_start(IsoTenant &t)
{
	const struct nfp_domain_ops *ops = nfp_domain_backend_find(t.backend.c_str());
	if (ops == nullptr)
		throw std::runtime_error("unknown isolation backend `" + t.backend + "` (use sfi, mpk, none or process)");
	if (t.chain && t.backend == "none")
		throw std::runtime_error("tenant " + std::to_string(t.id) +
					 ": a chain with one entry per batch needs an isolation domain (sfi, mpk or process)");
	struct nfp_domain_params params = {t.id, 0, -1, t.packet_access};
	char err[256] = "";
	t.domain = ops->create(&params, err, sizeof(err));
	if (t.domain == nullptr)
		throw std::runtime_error(err);
	nfp_iso_set_budget(t.domain, t.budget_cycles);
	t.slots.clear();
	t.moves_l2 = 0;
	for (const IsoNfSpec &s : t.specs) {
		const struct nfp_nf_descriptor *builtin = nullptr;
		if (!s.builtin.empty() && (builtin = nfp_builtin_find(s.builtin.c_str())) == nullptr) {
			iso_tenant_stop(t);
			throw std::runtime_error("no built-in NF named `" + s.builtin + "`");
		}
		uint32_t slot = 0;
		int rc = ops->load(t.domain, builtin, s.artifact.empty() ? nullptr : s.artifact.c_str(), s.config.c_str(),
				   (uint32_t)s.config.size(), &slot, err, sizeof(err));
		if (rc < 0) {
			iso_tenant_stop(t);
			throw std::runtime_error(std::string("tenant ") + std::to_string(t.id) + ": " + err);
		}
		t.slots.push_back(slot);
		const struct nfp_nf_manifest *m = t.domain->ops->manifest(t.domain, slot);
		if (m != nullptr && (m->writes & NFP_REGION_L2) && t.slots.size() <= 32)
			t.moves_l2 |= 1u << (t.slots.size() - 1);
	}
	t.packet_mem = nullptr;
	if (t.domain->ops->packet_memory != nullptr)
		t.packet_mem = (uint8_t *)t.domain->ops->packet_memory(t.domain, (size_t)NFP_NF_MAX_BATCH * NFP_ISO_SLOT,
									 err, sizeof(err));
	t.quarantined = false;
	t.fault.clear();
}

uint8_t *iso_tenant_slot(IsoTenant &t, uint8_t *fallback, uint32_t i)
{
	return (t.packet_mem != nullptr ? t.packet_mem : fallback) + (size_t)i * NFP_ISO_SLOT;
}

void iso_tenant_stop(IsoTenant &t)
{
	if (t.domain == nullptr)
		return;
	t.domain->ops->destroy(t.domain);
	t.domain = nullptr;
	t.packet_mem = nullptr;
	t.slots.clear();
}

static void quarantine(IsoTenant &t, int rc)
{
	const char *why = nfp_iso_fault(t.domain);
	t.quarantined = true;
	t.fault = why[0] ? why : "fault (code " + std::to_string(rc) + ")";
	t.stats.faults++;
	std::string line = "tenant " + std::to_string(t.id) + " quarantined: " + t.fault;
	t.events.push_back(line);
	fprintf(nfp_log_stream(), "nfp warn [isolation]: %s\n", line.c_str());
}

uint64_t iso_tenant_run(IsoTenant &t, struct nfp_pkt *pkts, uint32_t count, uint8_t *verdicts, uint8_t *reasons,
			uint64_t now_ns, bool *quarantined_now)
{
	uint64_t start = nfp_iso_cycles();
	*quarantined_now = false;
	t.stats.rx += count;
	t.stats.batches++;
	auto drop_all = [&]() {
		for (uint32_t i = 0; i < count; i++) {
			verdicts[i] = NFP_VERDICT_DROP;
			reasons[i] = 0;
		}
		t.stats.drop_quarantined += count;
	};
	if (t.quarantined || t.domain == nullptr) {
		drop_all();
		return 0;
	}
	int rc = 0;
	uint8_t hop[NFP_NF_MAX_BATCH];
	struct nfp_batch b = {count, pkts, verdicts, reasons};
	if (t.chain && t.slots.size() > 1 && t.slots.size() <= NFP_ISO_MAX_NFS) {
		// One entry into the domain for the whole chain (sfi, mpk). Fronts move only where an NF
		// writes L2 (the backend refuses any other move): only then are they followed.
		uint8_t *front[NFP_NF_MAX_BATCH];
		if (t.moves_l2 != 0)
			for (uint32_t i = 0; i < count; i++)
				front[i] = pkts[i].data;
		rc = nfp_iso_process_chain(t.domain, t.slots.data(), (uint32_t)t.slots.size(), &b, now_ns, hop);
		if (rc == 0 && t.moves_l2 != 0)
			for (uint32_t i = 0; i < count; i++)
				if (pkts[i].data != front[i])
					nfp_pkt_shift_offsets(&pkts[i], (int32_t)(front[i] - pkts[i].data));
	} else {
		// One entry per NF, the same chain semantics (chain.h) around it.
		struct PerNf {
			IsoTenant *t;
			uint64_t now;
			int rc;
		} arg = {&t, now_ns, 0};
		auto call = [](void *a, uint32_t k, struct nfp_batch *sub) {
			auto *p = (PerNf *)a;
			if (p->rc == 0)
				p->rc = p->t->domain->ops->process(p->t->domain, p->t->slots[k], sub, p->now);
		};
		nfp_chain_run(&b, (uint32_t)t.slots.size(), t.moves_l2, call, &arg, hop, &t.scratch);
		rc = arg.rc;
	}
	uint64_t spent = nfp_iso_cycles() - start;
	t.stats.cycles += spent;
	if (rc < 0) {
		quarantine(t, rc);
		*quarantined_now = true;
		drop_all();
		return spent;
	}
	uint64_t tx = 0, dropped = 0;
	for (uint32_t i = 0; i < count; i++) {
		tx += verdicts[i] == NFP_VERDICT_PASS;
		dropped += verdicts[i] == NFP_VERDICT_DROP;
	}
	t.stats.tx += tx;
	t.stats.drop_nf += dropped;
	return spent;
}

} // namespace nfp
