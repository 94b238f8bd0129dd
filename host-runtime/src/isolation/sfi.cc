// The `sfi` backend: NFs compiled to wasm32 and back to C by wasm2c (nf-build), one linear memory
// per module instance holding the NFs' heap, stack, state and table values. Packets cross into
// that memory as windows limited to the manifest's regions (windows.h); every call runs under
// a cycle budget, and any trap, watchdog expiry or access violation is a fault of the domain.
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <new>
#include <string>

#include <rte_malloc.h>

#include "iso.h"
#include "iso_abi.h"
#include "windows.h"

namespace {

// One instantiated module (its NFs share one linear memory).
struct sfi_instance {
	std::string path;
	void *dl;
	const struct nfp_sfi_module *mod;
	struct nfp_sfi_env *env;
	uint8_t *mem; // fixed-size linear memory: never moves (nf-build sets initial = max)
	uint32_t mem_size;
	uint32_t n_nfs;
	struct nfp_ctx *ctxs; // one per NF of the module
	uint32_t win_off, pkts_off, batch_off, verdicts_off, reasons_off, chain_off;
	uint32_t refs;
};

struct sfi_slot {
	struct sfi_instance *inst; // NULL when free
	uint32_t nf;               // index within the module
	uint32_t state_off;
	uint32_t readable, writable;
	struct nfp_nf_manifest manifest;
};

struct sfi_domain {
	struct nfp_iso_domain iso;
	uint32_t n_slots;
	struct sfi_slot slots[NFP_DOMAIN_MAX_NFS];
	struct nfp_iso_win wins[NFP_NF_MAX_BATCH];
};

const char *fault_text(int32_t code)
{
	switch (-code) {
	case NFP_SFI_FAULT_OOB:
		return "out-of-bounds memory access";
	case NFP_SFI_FAULT_TRAP:
		return "trap (division by zero, unreachable or bad indirect call)";
	case NFP_SFI_FAULT_EXHAUSTION:
		return "call stack exhausted";
	case NFP_SFI_FAULT_WATCHDOG:
		return "cycle budget exceeded (watchdog)";
	case NFP_SFI_FAULT_BAD_POINTER:
		return "runtime service called with a pointer or handle it does not own";
	default:
		return "unknown fault";
	}
}

int32_t guest_call(struct sfi_instance *in, uint32_t fn, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
		   uint64_t budget, uint32_t *ret)
{
	const uint32_t args[4] = {a0, a1, a2, a3};
	return in->mod->call(in->env, fn, args, budget, ret);
}

// Allocates zeroed bytes in the linear memory; 0 when the sandbox's memory is exhausted.
uint32_t guest_alloc(struct sfi_instance *in, uint32_t bytes)
{
	uint32_t off = 0;
	if (guest_call(in, NFP_SFI_FN_ALLOC, bytes, 0, 0, 0, NFP_ISO_DEFAULT_BUDGET_CYCLES, &off) < 0)
		return 0;
	if (off == 0 || (uint64_t)off + bytes > in->mem_size)
		return 0;
	return off;
}

void instance_free(struct sfi_instance *in)
{
	if (in->env != NULL)
		in->mod->destroy(in->env);
	if (in->ctxs != NULL) {
		for (uint32_t i = 0; i < in->n_nfs; i++)
			nfp_ctx_fini(&in->ctxs[i]);
		rte_free(in->ctxs);
	}
	if (in->dl != NULL)
		dlclose(in->dl);
	delete in;
}

struct sfi_instance *instance_open(const std::string &path, int socket, char *err, size_t errlen)
{
	auto *in = new (std::nothrow) sfi_instance();
	if (in == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->path = path;
	in->dl = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
	if (in->dl == NULL) {
		snprintf(err, errlen, "cannot load sfi module %s: %s", path.c_str(), dlerror());
		instance_free(in);
		return NULL;
	}
	in->mod = (const struct nfp_sfi_module *)dlsym(in->dl, "nfp_sfi_module_v1");
	if (in->mod == NULL) {
		snprintf(err, errlen, "%s is not an sfi module (no nfp_sfi_module_v1); build it with `nfp nf build --backend sfi`",
			 path.c_str());
		instance_free(in);
		return NULL;
	}
	if (in->mod->abi_version != NFP_ISO_ABI_VERSION || in->mod->n_nfs == 0 || in->mod->n_nfs > NFP_ISO_MAX_NFS) {
		snprintf(err, errlen, "%s: module ABI %u with %u NFs; this runtime speaks ABI %u", path.c_str(),
			 in->mod->abi_version, in->mod->n_nfs, NFP_ISO_ABI_VERSION);
		in->mod = NULL;
		instance_free(in);
		return NULL;
	}
	in->n_nfs = in->mod->n_nfs;
	in->ctxs = (struct nfp_ctx *)rte_zmalloc_socket("nfp_sfi_ctx", sizeof(struct nfp_ctx) * in->n_nfs, 64, socket);
	void *ctx_ptrs[NFP_ISO_MAX_NFS];
	for (uint32_t i = 0; in->ctxs != NULL && i < in->n_nfs; i++)
		ctx_ptrs[i] = &in->ctxs[i];
	in->env = in->ctxs == NULL ? NULL : in->mod->create(&nfp_iso_services_native, ctx_ptrs, in->n_nfs);
	if (in->env == NULL) {
		snprintf(err, errlen, "%s: cannot instantiate the sandbox", path.c_str());
		instance_free(in);
		return NULL;
	}
	in->mem = in->mod->memory(in->env, &in->mem_size);
	in->win_off = guest_alloc(in, NFP_NF_MAX_BATCH * NFP_ISO_SLOT);
	in->pkts_off = guest_alloc(in, NFP_NF_MAX_BATCH * sizeof(struct nfp_sfi_pkt));
	in->batch_off = guest_alloc(in, sizeof(struct nfp_sfi_batch));
	in->verdicts_off = guest_alloc(in, NFP_NF_MAX_BATCH);
	in->reasons_off = guest_alloc(in, NFP_NF_MAX_BATCH);
	in->chain_off = guest_alloc(in, sizeof(struct nfp_sfi_chain));
	if (!in->win_off || !in->pkts_off || !in->batch_off || !in->verdicts_off || !in->reasons_off || !in->chain_off) {
		snprintf(err, errlen, "%s: the sandbox's linear memory is too small for packet windows", path.c_str());
		instance_free(in);
		return NULL;
	}
	return in;
}

// Copies and checks the manifest out of guest memory: the guest could have written anything.
int read_manifest(struct sfi_instance *in, uint32_t nf, struct nfp_nf_manifest *m, char *err, size_t errlen)
{
	uint32_t off = 0;
	if (guest_call(in, NFP_SFI_FN_MANIFEST, nf, 0, 0, 0, NFP_ISO_DEFAULT_BUDGET_CYCLES, &off) < 0 || off == 0 ||
	    (uint64_t)off + sizeof(*m) > in->mem_size) {
		snprintf(err, errlen, "%s: NF %u has no readable manifest", in->path.c_str(), nf);
		return -EINVAL;
	}
	memcpy(m, in->mem + off, sizeof(*m));
	m->name[NFP_NF_NAME_MAX - 1] = '\0';
	m->version[sizeof(m->version) - 1] = '\0';
	for (uint32_t i = 0; i < NFP_NF_MAX_TABLES; i++)
		m->tables[i].name[NFP_NF_NAME_MAX - 1] = '\0';
	for (uint32_t i = 0; i < NFP_NF_MAX_VERDICTS; i++) {
		m->verdicts[i][NFP_NF_NAME_MAX - 1] = '\0';
		m->drop_reasons[i][NFP_NF_NAME_MAX - 1] = '\0';
	}
	if (m->abi_version != NFP_NF_ABI_VERSION) {
		snprintf(err, errlen, "%s: NF ABI version %u, runtime speaks %u", m->name, m->abi_version,
			 NFP_NF_ABI_VERSION);
		return -EINVAL;
	}
	if (m->n_tables > NFP_NF_MAX_TABLES || m->n_verdicts > NFP_NF_MAX_VERDICTS ||
	    m->n_drop_reasons > NFP_NF_MAX_VERDICTS) {
		snprintf(err, errlen, "%s: manifest declares too many tables, verdicts or drop reasons", m->name);
		return -EINVAL;
	}
	return 0;
}

struct sfi_domain *dom(struct nfp_domain *d) { return (struct sfi_domain *)d->priv; }

struct nfp_domain *sfi_create(const struct nfp_domain_params *params, char *err, size_t errlen)
{
	auto *d = (struct sfi_domain *)rte_zmalloc_socket("nfp_domain_sfi", sizeof(struct sfi_domain), 64,
							  params->socket_id);
	if (d == NULL) {
		snprintf(err, errlen, "cannot allocate an sfi domain for tenant %u", params->tenant);
		return NULL;
	}
	d->iso.base.ops = &nfp_domain_sfi_ops;
	d->iso.base.params = *params;
	d->iso.base.priv = d;
	d->iso.budget_cycles = NFP_ISO_DEFAULT_BUDGET_CYCLES;
	return &d->iso.base;
}

// `artifact` is "module.so" or "module.so#k" (NF k of a chain module).
int sfi_load(struct nfp_domain *base, const struct nfp_nf_descriptor *builtin, const char *artifact,
	     const char *config, uint32_t config_len, uint32_t *nf_slot, char *err, size_t errlen)
{
	struct sfi_domain *d = dom(base);
	if (artifact == NULL) {
		snprintf(err, errlen, "the sfi backend runs NFs built by `nfp nf build --backend sfi`; %s has no sfi artifact",
			 builtin != NULL ? builtin->manifest.name : "this NF");
		return -ENOTSUP;
	}
	if (d->n_slots >= NFP_DOMAIN_MAX_NFS) {
		snprintf(err, errlen, "tenant %u has more than %u NFs on one worker", base->params.tenant,
			 NFP_DOMAIN_MAX_NFS);
		return -ENOSPC;
	}
	std::string path(artifact);
	uint32_t nf = 0;
	size_t hash = path.rfind('#');
	if (hash != std::string::npos) {
		char *end = NULL;
		unsigned long k = strtoul(path.c_str() + hash + 1, &end, 10);
		if (end == path.c_str() + hash + 1 || *end != '\0' || k >= NFP_ISO_MAX_NFS) {
			snprintf(err, errlen, "bad sfi artifact %s: expected module.so or module.so#N", artifact);
			return -EINVAL;
		}
		nf = (uint32_t)k;
		path.resize(hash);
	}
	// An instance of the module that does not run NF `nf` yet; a second NF of one type in a
	// tenant (a VLAN push and a pop, say) gets an instance of its own.
	struct sfi_instance *in = NULL;
	for (uint32_t i = 0; i < d->n_slots && in == NULL; i++) {
		struct sfi_instance *c = d->slots[i].inst;
		bool taken = c == NULL || c->path != path;
		for (uint32_t k = 0; k < d->n_slots && !taken; k++)
			taken = d->slots[k].inst == c && d->slots[k].nf == nf;
		if (!taken)
			in = c;
	}
	bool fresh = in == NULL;
	if (fresh && (in = instance_open(path, base->params.socket_id, err, errlen)) == NULL)
		return -EINVAL;
	auto fail = [&](int rc) {
		if (fresh)
			instance_free(in);
		return rc;
	};
	if (nf >= in->n_nfs) {
		snprintf(err, errlen, "%s holds %u NFs; there is no NF #%u", path.c_str(), in->n_nfs, nf);
		return fail(-EINVAL);
	}
	struct sfi_slot *s = &d->slots[d->n_slots];
	memset(s, 0, sizeof(*s));
	int rc = read_manifest(in, nf, &s->manifest, err, errlen);
	if (rc < 0)
		return fail(rc);
	size_t vbytes = nfp_ctx_value_bytes(&s->manifest);
	uint32_t values = 0;
	if (vbytes > 0 && (vbytes > in->mem_size || (values = guest_alloc(in, (uint32_t)vbytes)) == 0)) {
		snprintf(err, errlen, "%s: its tables need %zu bytes, more than its sandbox memory holds; build with a larger --memory",
			 s->manifest.name, vbytes);
		return fail(-ENOMEM);
	}
	char name[64];
	snprintf(name, sizeof(name), "t%u.%s", base->params.tenant, s->manifest.name);
	rc = nfp_ctx_init(&in->ctxs[nf], name, &s->manifest, base->params.socket_id,
			  values ? in->mem + values : NULL, err, errlen);
	if (rc < 0)
		return fail(rc);
	s->state_off = guest_alloc(in, s->manifest.state_bytes > 0 ? s->manifest.state_bytes : 8);
	uint32_t cfg = guest_alloc(in, config_len + 1);
	if (s->state_off == 0 || cfg == 0) {
		nfp_ctx_fini(&in->ctxs[nf]);
		snprintf(err, errlen, "%s: out of sandbox memory for its state and config", s->manifest.name);
		return fail(-ENOMEM);
	}
	memcpy(in->mem + cfg, config, config_len);
	in->mem[cfg + config_len] = '\0';
	uint32_t ret = 0;
	int32_t f = guest_call(in, NFP_SFI_FN_INIT, nf, s->state_off, cfg, config_len, d->iso.budget_cycles, &ret);
	if (f < 0 || (int32_t)ret < 0) {
		if (f < 0)
			snprintf(err, errlen, "%s: init faulted: %s", s->manifest.name, fault_text(f));
		else
			snprintf(err, errlen, "%s: %s", s->manifest.name,
				 in->ctxs[nf].last_error[0] ? in->ctxs[nf].last_error : "init failed");
		nfp_ctx_fini(&in->ctxs[nf]);
		return fail(f < 0 ? -EFAULT : (int32_t)ret);
	}
	s->inst = in;
	s->nf = nf;
	s->writable = s->manifest.writes & 0xfu;
	s->readable = (s->manifest.reads | s->manifest.writes) & 0xfu;
	in->refs++;
	*nf_slot = d->n_slots++;
	return 0;
}

const struct nfp_nf_manifest *sfi_manifest(struct nfp_domain *base, uint32_t slot)
{
	struct sfi_domain *d = dom(base);
	if (slot >= d->n_slots || d->slots[slot].inst == NULL)
		return NULL;
	return &d->slots[slot].manifest;
}

// Runs NFs [nf, nf + n) of one instance on `batch` with one crossing; `check` holds each packet's
// access rights (the union over the chain when n > 1).
int run(struct sfi_domain *d, struct sfi_instance *in, uint32_t nf, uint32_t n, const uint32_t *states,
	uint32_t readable, uint32_t writable, const struct nfp_nf_manifest *const *manifests,
	struct nfp_batch *batch, uint64_t now_ns, uint8_t *hop)
{
	uint32_t count = batch->count > NFP_NF_MAX_BATCH ? NFP_NF_MAX_BATCH : batch->count;
	uint8_t *mem = in->mem;
	auto *spkts = (struct nfp_sfi_pkt *)(mem + in->pkts_off);
	for (uint32_t i = 0; i < n; i++)
		in->ctxs[nf + i].now_ns = now_ns;
	for (uint32_t i = 0; i < count; i++) {
		const struct nfp_pkt *p = &batch->pkts[i];
		uint32_t w = in->win_off + i * NFP_ISO_SLOT + NFP_PKT_HEADROOM;
		uint16_t len = nfp_iso_window_in(p, readable, writable, mem + w, &d->wins[i]);
		spkts[i].data = w;
		spkts[i].len = len;
		spkts[i].l3_off = p->l3_off;
		spkts[i].l4_off = p->l4_off;
		spkts[i].payload_off = p->payload_off;
		spkts[i].flow_hash = p->flow_hash;
		spkts[i].tenant = p->tenant;
		spkts[i].path = p->path;
	}
	auto *sb = (struct nfp_sfi_batch *)(mem + in->batch_off);
	sb->count = count;
	sb->pkts = in->pkts_off;
	sb->verdicts = in->verdicts_off;
	sb->drop_reasons = in->reasons_off;
	auto *chain = (struct nfp_sfi_chain *)(mem + in->chain_off);
	memcpy(chain->states, states, n * sizeof(uint32_t));
	chain->batch = in->batch_off;
	uint32_t ret = 0;
	int32_t f = guest_call(in, NFP_SFI_FN_PROCESS, nf, n, in->chain_off, 0, d->iso.budget_cycles, &ret);
	if (f < 0 || ret != 0) {
		snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: %s", manifests[0]->name,
			 f < 0 ? fault_text(f) : "chain entry refused the batch");
		return -EFAULT;
	}
	const uint8_t *verdicts = mem + in->verdicts_off;
	const uint8_t *reasons = mem + in->reasons_off;
	for (uint32_t i = 0; i < count; i++) {
		uint8_t k = n == 1 ? 0 : chain->hop[i];
		uint8_t v = verdicts[i];
		const struct nfp_nf_manifest *m = manifests[k < n ? k : 0];
		bool ok = v == NFP_VERDICT_PASS ||
			  (v == NFP_VERDICT_DROP && (reasons[i] < m->n_drop_reasons || reasons[i] == 0)) ||
			  (v >= NFP_VERDICT_BRANCH && v < NFP_VERDICT_BRANCH + m->n_verdicts);
		if (!ok || (n > 1 && k > n)) {
			snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: invalid verdict %u for packet %u", m->name, v, i);
			return -EFAULT;
		}
		// Where the NF left the packet (nf.h, front adjustment); window_out checks the rules.
		uint32_t w = in->win_off + i * NFP_ISO_SLOT + NFP_PKT_HEADROOM;
		int64_t front = (int64_t)spkts[i].data - w;
		if (front < -(int64_t)NFP_ISO_SLOT || front > (int64_t)NFP_ISO_SLOT ||
		    nfp_iso_window_out(&batch->pkts[i], readable, writable, mem + w, (int32_t)front, spkts[i].len,
				       &d->wins[i]) < 0) {
			snprintf(d->iso.fault, sizeof(d->iso.fault),
				 "%s: wrote a packet region its manifest does not declare writable (packet %u)", m->name, i);
			return -EACCES;
		}
		batch->verdicts[i] = v;
		batch->drop_reasons[i] = reasons[i];
		if (hop != NULL)
			hop[i] = n == 1 ? (v == NFP_VERDICT_PASS ? 1 : 0) : k;
	}
	return 0;
}

int sfi_process(struct nfp_domain *base, uint32_t slot, struct nfp_batch *batch, uint64_t now_ns)
{
	struct sfi_domain *d = dom(base);
	struct sfi_slot *s = &d->slots[slot];
	const struct nfp_nf_manifest *m = &s->manifest;
	return run(d, s->inst, s->nf, 1, &s->state_off, s->readable, s->writable, &m, batch, now_ns, NULL);
}

void sfi_counters(struct nfp_domain *base, uint32_t slot, uint64_t *out)
{
	struct sfi_domain *d = dom(base);
	if (slot >= d->n_slots || d->slots[slot].inst == NULL)
		return;
	memcpy(out, d->slots[slot].inst->ctxs[d->slots[slot].nf].counters, sizeof(uint64_t) * NFP_NF_MAX_COUNTERS);
}

void sfi_unload(struct nfp_domain *base, uint32_t slot)
{
	struct sfi_domain *d = dom(base);
	if (slot >= d->n_slots || d->slots[slot].inst == NULL)
		return;
	struct sfi_slot *s = &d->slots[slot];
	struct sfi_instance *in = s->inst;
	// A quarantined sandbox is not entered again, not even for fini.
	if (d->iso.fault[0] == '\0')
		guest_call(in, NFP_SFI_FN_FINI, s->nf, s->state_off, 0, 0, d->iso.budget_cycles, NULL);
	nfp_ctx_fini(&in->ctxs[s->nf]);
	s->inst = NULL;
	if (--in->refs == 0)
		instance_free(in);
}

void sfi_destroy(struct nfp_domain *base)
{
	struct sfi_domain *d = dom(base);
	for (uint32_t i = 0; i < d->n_slots; i++)
		sfi_unload(base, i);
	rte_free(d);
}

} // namespace

int nfp_sfi_process_chain(struct nfp_domain *base, uint32_t first, uint32_t n, struct nfp_batch *batch,
			  uint64_t now_ns, uint8_t *hop)
{
	if (base->ops != &nfp_domain_sfi_ops)
		return -ENOTSUP;
	struct sfi_domain *d = dom(base);
	if (n == 0 || n > NFP_ISO_MAX_NFS || first + n > d->n_slots)
		return -EINVAL;
	struct sfi_instance *in = d->slots[first].inst;
	uint32_t states[NFP_ISO_MAX_NFS];
	const struct nfp_nf_manifest *manifests[NFP_ISO_MAX_NFS];
	uint32_t readable = 0, writable = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct sfi_slot *s = &d->slots[first + i];
		// The chain entry runs module NFs in order, so the slots must be exactly those.
		if (s->inst != in || s->nf != d->slots[first].nf + i)
			return -EINVAL;
		states[i] = s->state_off;
		manifests[i] = &s->manifest;
		readable |= s->readable;
		writable |= s->writable;
	}
	return run(d, in, d->slots[first].nf, n, states, readable, writable, manifests, batch, now_ns, hop);
}

int nfp_iso_nf_state(struct nfp_domain *base, uint32_t slot, struct nfp_iso_nf_state *out)
{
	if (base->ops == &nfp_domain_sfi_ops) {
		struct sfi_domain *d = dom(base);
		if (slot >= d->n_slots || d->slots[slot].inst == NULL)
			return -EINVAL;
		struct sfi_slot *s = &d->slots[slot];
		out->ctx = &s->inst->ctxs[s->nf];
		out->state = s->inst->mem + s->state_off;
		out->state_bytes = s->manifest.state_bytes;
		out->manifest = &s->manifest;
		return 0;
	}
	if (base->ops == &nfp_domain_mpk_ops)
		return nfp_mpk_nf_state(base, slot, out);
	return -ENOTSUP;
}

extern "C" const struct nfp_domain_ops nfp_domain_sfi_ops = {
	"sfi", sfi_create, sfi_load, sfi_manifest, sfi_process, sfi_counters, sfi_unload, sfi_destroy,
};
