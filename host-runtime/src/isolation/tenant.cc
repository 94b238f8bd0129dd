// Tenant domains with fault containment; see tenant.h.
#include "tenant.h"

#include <stdio.h>
#include <string.h>

#include <stdexcept>

#include "nfs/builtin.h"
#include "log.h"
#include "pkt_parse.h"

namespace nfp {

void iso_tenant_start(IsoTenant &t)
{
	const struct nfp_domain_ops *ops = nfp_domain_backend_find(t.backend.c_str());
	if (ops == nullptr)
		throw std::runtime_error("unknown isolation backend `" + t.backend + "` (use sfi, mpk, none or process)");
	struct nfp_domain_params params = {t.id, 0, -1};
	char err[256] = "";
	t.domain = ops->create(&params, err, sizeof(err));
	if (t.domain == nullptr)
		throw std::runtime_error(err);
	nfp_iso_set_budget(t.domain, t.budget_cycles);
	t.slots.clear();
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
	}
	t.quarantined = false;
	t.fault.clear();
}

void iso_tenant_stop(IsoTenant &t)
{
	if (t.domain == nullptr)
		return;
	t.domain->ops->destroy(t.domain);
	t.domain = nullptr;
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
	if (t.chain && t.slots.size() > 1) {
		uint8_t hop[NFP_NF_MAX_BATCH];
		uint8_t *front[NFP_NF_MAX_BATCH];
		for (uint32_t i = 0; i < count; i++)
			front[i] = pkts[i].data;
		struct nfp_batch b = {count, pkts, verdicts, reasons};
		rc = nfp_sfi_process_chain(t.domain, t.slots[0], (uint32_t)t.slots.size(), &b, now_ns, hop);
		for (uint32_t i = 0; i < count && rc == 0; i++)
			if (pkts[i].data != front[i])
				nfp_pkt_shift_offsets(&pkts[i], (int32_t)(front[i] - pkts[i].data));
	} else {
		// Verdicts apply between NFs: each NF sees only what every earlier NF passed.
		struct nfp_pkt sub[NFP_NF_MAX_BATCH];
		uint8_t sv[NFP_NF_MAX_BATCH], sr[NFP_NF_MAX_BATCH];
		uint16_t idx[NFP_NF_MAX_BATCH];
		uint32_t live = count;
		for (uint32_t i = 0; i < count; i++) {
			idx[i] = (uint16_t)i;
			verdicts[i] = NFP_VERDICT_PASS;
			reasons[i] = 0;
		}
		for (size_t k = 0; k < t.slots.size() && live > 0 && rc == 0; k++) {
			for (uint32_t j = 0; j < live; j++) {
				sub[j] = pkts[idx[j]];
				sv[j] = NFP_VERDICT_PASS;
				sr[j] = 0;
			}
			struct nfp_batch b = {live, sub, sv, sr};
			rc = t.domain->ops->process(t.domain, t.slots[k], &b, now_ns);
			uint32_t kept = 0;
			for (uint32_t j = 0; j < live && rc == 0; j++) {
				struct nfp_pkt *p = &pkts[idx[j]];
				if (sub[j].data != p->data || sub[j].len != p->len) {
					// A front adjustment (nf.h): the packet and its offsets follow.
					int32_t grow = (int32_t)(p->data - sub[j].data);
					p->data = sub[j].data;
					p->len = sub[j].len;
					nfp_pkt_shift_offsets(p, grow);
				}
				if (sv[j] == NFP_VERDICT_PASS) {
					idx[kept++] = idx[j];
					continue;
				}
				verdicts[idx[j]] = sv[j];
				reasons[idx[j]] = sr[j];
			}
			live = kept;
		}
	}
	uint64_t spent = nfp_iso_cycles() - start;
	t.stats.cycles += spent;
	if (rc < 0) {
		quarantine(t, rc);
		*quarantined_now = true;
		drop_all();
		return spent;
	}
	for (uint32_t i = 0; i < count; i++) {
		if (verdicts[i] == NFP_VERDICT_PASS)
			t.stats.tx++;
		else if (verdicts[i] == NFP_VERDICT_DROP)
			t.stats.drop_nf++;
	}
	return spent;
}

} // namespace nfp
