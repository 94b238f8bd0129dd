// The `sfi` backend: NFs compiled to wasm32 and back to C by wasm2c (nf-build). A domain opens
// each module once: one linear memory holds the heap, stack, state, table values and contexts of
// every NF instance of the tenant loaded from it, and (shared packet access) the tenant's packet
// buffers. NFs reach packets in place or through windows (windows.h); every call runs under a
// cycle budget, and any trap, watchdog expiry or access violation is a fault of the domain.
//
// Bounds: a module built with guard pages reserves 8 GiB of address space behind its memory; an
// access there faults, and the isolation layer's SIGSEGV handler (fault.h) turns it into a trap
// of the call in progress. Any other fault goes to the handler installed before (V8's, which
// handles its own WebAssembly traps), so both kinds of sandbox work in one process.
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <new>
#include <string>

#include <rte_malloc.h>

#include "fault.h"
#include "iso.h"
#include "iso_abi.h"
#include "windows.h"

namespace {

// One instantiated module: one linear memory, any number of NF instances.
struct sfi_instance {
	std::string path;
	void *dl;
	const struct nfp_sfi_module *mod;
	struct nfp_sfi_env *env;
	uint8_t *mem; // fixed-size linear memory: never moves (nf-build sets initial = max)
	uint32_t mem_size;
	uint64_t reserved; // address space of the instance from `mem`: the memory and its guard region
	uint64_t ctx_used; // bit i: context id i is bound
	uint32_t win_off, pkts_off, batch_off, verdicts_off, reasons_off, chain_off;
	struct nfp_iso_area area; // the tenant's packet memory, when it lives in this instance
	uint32_t refs;
};

struct sfi_slot {
	struct sfi_instance *inst; // NULL when free
	uint32_t nf;               // index within the module
	uint32_t ctx_id;
	uint32_t state_off, ctx_off;
	uint32_t readable, writable;
	struct nfp_ctx ctx; // the runtime's side of its services (tables, meters, logs)
	struct nfp_nf_manifest manifest;
};

struct sfi_domain {
	struct nfp_iso_domain iso;
	uint32_t n_slots;
	int shared;
	struct sfi_slot slots[NFP_DOMAIN_MAX_NFS];
	struct nfp_iso_guard guard; // what the runtime keeps of a batch during a call
	uint32_t off[NFP_NF_MAX_BATCH]; // where each packet sat in linear memory at the call's start
	uint8_t saved[NFP_NF_MAX_BATCH][NFP_ISO_WIN];
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

// Guard pages: a fault in the instance's reservation ends the call in progress (fault.h).
void guard_trap(void *arg)
{
	auto *in = (struct sfi_instance *)arg;
	in->mod->trap(in->env, NFP_SFI_FAULT_OOB); // never returns
}

int32_t guest_call(struct sfi_instance *in, uint32_t fn, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
		   uint32_t a4, uint64_t budget, uint32_t *ret)
{
	const uint32_t args[5] = {a0, a1, a2, a3, a4};
	if (in->reserved == in->mem_size)
		return in->mod->call(in->env, fn, args, budget, ret);
	nfp::IsoCall c;
	c.lo = in->mem;
	c.hi = in->mem + in->reserved;
	c.trap = guard_trap;
	c.arg = in;
	nfp::IsoCall *outer = nfp::t_iso_call;
	nfp::t_iso_call = &c;
	int32_t rc = in->mod->call(in->env, fn, args, budget, ret);
	nfp::t_iso_call = outer;
	return rc;
}

// Allocates zeroed bytes in the linear memory; 0 when the sandbox's memory is exhausted.
uint32_t guest_alloc(struct sfi_instance *in, uint32_t bytes)
{
	uint32_t off = 0;
	if (guest_call(in, NFP_SFI_FN_ALLOC, bytes, 0, 0, 0, 0, NFP_ISO_DEFAULT_BUDGET_CYCLES, &off) < 0)
		return 0;
	if (off == 0 || (uint64_t)off + bytes > in->mem_size)
		return 0;
	return off;
}

void instance_free(struct sfi_instance *in)
{
	if (in->env != NULL)
		in->mod->destroy(in->env);
	if (in->dl != NULL)
		dlclose(in->dl);
	delete in;
}

struct sfi_instance *instance_open(const std::string &path, char *err, size_t errlen)
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
		snprintf(err, errlen, "%s: module ABI %u with %u NFs; this runtime speaks ABI %u (rebuild it with `nfp nf build`)",
			 path.c_str(), in->mod->abi_version, in->mod->n_nfs, NFP_ISO_ABI_VERSION);
		in->mod = NULL;
		instance_free(in);
		return NULL;
	}
	in->env = in->mod->create(&nfp_iso_services_native);
	if (in->env == NULL) {
		snprintf(err, errlen, "%s: cannot instantiate the sandbox", path.c_str());
		instance_free(in);
		return NULL;
	}
	in->mem = in->mod->memory(in->env, &in->mem_size, &in->reserved);
	if (in->reserved != in->mem_size)
		nfp::iso_fault_install();
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
	if (guest_call(in, NFP_SFI_FN_MANIFEST, nf, 0, 0, 0, 0, NFP_ISO_DEFAULT_BUDGET_CYCLES, &off) < 0 || off == 0 ||
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
	d->shared = params->packet_access == NFP_PACKET_ACCESS_SHARED;
	return &d->iso.base;
}

// Writes the guest's view of an NF instance's context (struct nfp_sfi_ctx) from the runtime's.
void write_guest_ctx(struct sfi_instance *in, struct sfi_slot *s)
{
	auto *g = (struct nfp_sfi_ctx *)(in->mem + s->ctx_off);
	memset(g, 0, sizeof(*g));
	g->id = s->ctx_id;
	g->n_tables = s->ctx.n_tables;
	for (uint32_t t = 0; t < s->ctx.n_tables; t++) {
		g->tables[t].values = (uint32_t)(s->ctx.tables[t].values - in->mem);
		g->tables[t].value_bytes = s->ctx.tables[t].value_bytes;
		g->tables[t].slots = s->ctx.tables[t].slots;
	}
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
	// Every NF of the tenant built into one module shares that module's one instance, so the
	// tenant's packets can live in the memory all of them reach.
	struct sfi_instance *in = NULL;
	for (uint32_t i = 0; i < d->n_slots && in == NULL; i++)
		if (d->slots[i].inst != NULL && d->slots[i].inst->path == path && d->slots[i].inst->ctx_used != ~0ull)
			in = d->slots[i].inst;
	bool fresh = in == NULL;
	if (fresh && (in = instance_open(path, err, errlen)) == NULL)
		return -EINVAL;
	auto fail = [&](int rc) {
		if (fresh)
			instance_free(in);
		return rc;
	};
	if (nf >= in->mod->n_nfs) {
		snprintf(err, errlen, "%s holds %u NFs; there is no NF #%u", path.c_str(), in->mod->n_nfs, nf);
		return fail(-EINVAL);
	}
	struct sfi_slot *s = &d->slots[d->n_slots];
	memset((void *)s, 0, sizeof(*s));
	int rc = read_manifest(in, nf, &s->manifest, err, errlen);
	if (rc < 0)
		return fail(rc);
	s->ctx_id = (uint32_t)__builtin_ctzll(~in->ctx_used);
	size_t vbytes = nfp_ctx_value_bytes(&s->manifest);
	uint32_t values = 0;
	if (vbytes > 0 && (vbytes > in->mem_size || (values = guest_alloc(in, (uint32_t)vbytes)) == 0)) {
		snprintf(err, errlen, "%s: its tables need %zu bytes, more than its sandbox memory holds; build with a larger --memory",
			 s->manifest.name, vbytes);
		return fail(-ENOMEM);
	}
	char name[64];
	snprintf(name, sizeof(name), "t%u.%s", base->params.tenant, s->manifest.name);
	rc = nfp_ctx_init(&s->ctx, name, &s->manifest, base->params.socket_id, values ? in->mem + values : NULL, err,
			  errlen);
	if (rc < 0)
		return fail(rc);
	s->state_off = guest_alloc(in, s->manifest.state_bytes > 0 ? s->manifest.state_bytes : 8);
	s->ctx_off = guest_alloc(in, sizeof(struct nfp_sfi_ctx));
	uint32_t cfg = guest_alloc(in, config_len + 1);
	if (s->state_off == 0 || s->ctx_off == 0 || cfg == 0) {
		nfp_ctx_fini(&s->ctx);
		snprintf(err, errlen, "%s: out of sandbox memory for its state and config", s->manifest.name);
		return fail(-ENOMEM);
	}
	write_guest_ctx(in, s);
	in->mod->bind(in->env, s->ctx_id, &s->ctx, s->ctx_off);
	memcpy(in->mem + cfg, config, config_len);
	in->mem[cfg + config_len] = '\0';
	uint32_t ret = 0;
	int32_t f = guest_call(in, NFP_SFI_FN_INIT, nf, s->state_off, cfg, config_len, s->ctx_off, d->iso.budget_cycles,
			       &ret);
	if (f < 0 || (int32_t)ret < 0) {
		if (f < 0)
			snprintf(err, errlen, "%s: init faulted: %s", s->manifest.name, fault_text(f));
		else
			snprintf(err, errlen, "%s: %s", s->manifest.name,
				 s->ctx.last_error[0] ? s->ctx.last_error : "init failed");
		in->mod->bind(in->env, s->ctx_id, NULL, 0);
		nfp_ctx_fini(&s->ctx);
		return fail(f < 0 ? -EFAULT : (int32_t)ret);
	}
	s->inst = in;
	s->nf = nf;
	s->writable = s->manifest.writes & 0xfu;
	s->readable = (s->manifest.reads | s->manifest.writes) & 0xfu;
	in->ctx_used |= 1ull << s->ctx_id;
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

// Runs the NF instances `slots` (all of one module instance) as a chain on `batch` with one
// crossing; `readable` / `writable` are the union of their rights (one memory: NFs of one tenant
// are not isolated from each other).
int run(struct sfi_domain *d, struct sfi_instance *in, struct sfi_slot *const *slots, uint32_t n, uint32_t readable,
	uint32_t writable, struct nfp_batch *batch, uint64_t now_ns, uint8_t *hop)
{
	uint32_t count = batch->count > NFP_NF_MAX_BATCH ? NFP_NF_MAX_BATCH : batch->count;
	uint8_t *mem = in->mem;
	auto *spkts = (struct nfp_sfi_pkt *)(mem + in->pkts_off);
	auto *chain = (struct nfp_sfi_chain *)(mem + in->chain_off);
	chain->n = n;
	for (uint32_t k = 0; k < n; k++) {
		chain->nf[k] = slots[k]->nf;
		chain->states[k] = slots[k]->state_off;
		chain->ctxs[k] = slots[k]->ctx_off;
		slots[k]->ctx.now_ns = now_ns; // the meters' clock, on the runtime's side
		((struct nfp_sfi_ctx *)(mem + slots[k]->ctx_off))->now_ns = now_ns;
		((struct nfp_sfi_ctx *)(mem + slots[k]->ctx_off))->id = slots[k]->ctx_id;
	}
	uint8_t *at[NFP_NF_MAX_BATCH];
	uint16_t len[NFP_NF_MAX_BATCH];
	nfp_iso_batch_in(&in->area, d->shared, batch->pkts, count, readable, writable, mem + in->win_off, d->saved,
			 &d->guard, at, len, nullptr);
	// The guest's descriptors: an offset for `data`, then the runtime's own fields from `len` on
	// (the same layout), with the length the NF sees.
	static_assert(offsetof(struct nfp_sfi_pkt, len) == 4 && sizeof(struct nfp_sfi_pkt) == 20 &&
			      sizeof(struct nfp_pkt) - offsetof(struct nfp_pkt, len) == 16 &&
			      offsetof(struct nfp_pkt, path) - offsetof(struct nfp_pkt, len) ==
				      offsetof(struct nfp_sfi_pkt, path) - offsetof(struct nfp_sfi_pkt, len),
		      "nfp_sfi_pkt is nfp_pkt with a 32-bit data offset");
	for (uint32_t i = 0; i < count; i++) {
		d->off[i] = (uint32_t)(at[i] - mem);
		spkts[i].data = d->off[i];
		memcpy(&spkts[i].len, &batch->pkts[i].len, 16);
		spkts[i].len = len[i];
	}
	auto *sb = (struct nfp_sfi_batch *)(mem + in->batch_off);
	sb->count = count;
	sb->pkts = in->pkts_off;
	sb->verdicts = in->verdicts_off;
	sb->drop_reasons = in->reasons_off;
	chain->batch = in->batch_off;
	uint32_t ret = 0;
	int32_t f = guest_call(in, NFP_SFI_FN_PROCESS, in->chain_off, 0, 0, 0, 0, d->iso.budget_cycles, &ret);
	if (f < 0 || ret != 0) {
		snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: %s", slots[0]->manifest.name,
			 f < 0 ? fault_text(f) : "chain entry refused the batch");
		return -EFAULT;
	}
	// Everything read back from linear memory is the NF's to have scribbled on: checked here.
	const struct nfp_nf_manifest *m[NFP_ISO_MAX_NFS];
	for (uint32_t k = 0; k < n; k++)
		m[k] = &slots[k]->manifest;
	return nfp_iso_after_call(&d->iso, chain->hop, mem + in->verdicts_off, mem + in->reasons_off, n, m, hop, batch,
				  count, d->shared, readable, writable, at, d->saved, &d->guard,
				  [&](uint32_t i, int64_t *front, uint32_t *l) {
					  *front = (int64_t)spkts[i].data - (int64_t)d->off[i];
					  *l = spkts[i].len;
				  });
}

int sfi_process(struct nfp_domain *base, uint32_t slot, struct nfp_batch *batch, uint64_t now_ns)
{
	struct sfi_domain *d = dom(base);
	struct sfi_slot *s = &d->slots[slot];
	return run(d, s->inst, &s, 1, s->readable, s->writable, batch, now_ns, NULL);
}

void sfi_counters(struct nfp_domain *base, uint32_t slot, uint64_t *out)
{
	struct sfi_domain *d = dom(base);
	if (slot >= d->n_slots || d->slots[slot].inst == NULL)
		return;
	// The NF's own count, kept in its memory (sfi_guest.c): what it says, like any NF counter.
	const struct sfi_slot *s = &d->slots[slot];
	memcpy(out, ((const struct nfp_sfi_ctx *)(s->inst->mem + s->ctx_off))->counters,
	       sizeof(uint64_t) * NFP_NF_MAX_COUNTERS);
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
		guest_call(in, NFP_SFI_FN_FINI, s->nf, s->state_off, s->ctx_off, 0, 0, d->iso.budget_cycles, NULL);
	in->mod->bind(in->env, s->ctx_id, NULL, 0);
	in->ctx_used &= ~(1ull << s->ctx_id);
	nfp_ctx_fini(&s->ctx);
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

// The tenant's packet buffers, in the linear memory of the domain's first module instance (a
// tenant built into one module has just that one).
void *sfi_packet_memory(struct nfp_domain *base, size_t bytes, char *err, size_t errlen)
{
	struct sfi_domain *d = dom(base);
	struct sfi_instance *in = d->n_slots > 0 ? d->slots[0].inst : NULL;
	if (!d->shared) {
		snprintf(err, errlen, "tenant %u uses packet windows", base->params.tenant);
		return NULL;
	}
	if (in == NULL || in->area.lo != in->area.hi) {
		snprintf(err, errlen, "tenant %u: %s", base->params.tenant,
			 in == NULL ? "no NF loaded yet" : "its packet memory is already given out");
		return NULL;
	}
	uint32_t off = bytes < in->mem_size ? guest_alloc(in, (uint32_t)bytes) : 0;
	if (off == 0) {
		snprintf(err, errlen, "tenant %u: %zu bytes of packet buffers do not fit its %u MiB sandbox memory",
			 base->params.tenant, bytes, in->mem_size >> 20);
		return NULL;
	}
	in->area = {in->mem + off, in->mem + off + bytes};
	return in->mem + off;
}

} // namespace

int nfp_sfi_process_chain(struct nfp_domain *base, const uint32_t *slot_ids, uint32_t n, struct nfp_batch *batch,
			  uint64_t now_ns, uint8_t *hop)
{
	if (base->ops != &nfp_domain_sfi_ops)
		return -ENOTSUP;
	struct sfi_domain *d = dom(base);
	if (n == 0 || n > NFP_ISO_MAX_NFS || slot_ids[0] >= d->n_slots)
		return -EINVAL;
	struct sfi_instance *in = d->slots[slot_ids[0]].inst;
	struct sfi_slot *slots[NFP_ISO_MAX_NFS];
	uint32_t readable = 0, writable = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (slot_ids[i] >= d->n_slots)
			return -EINVAL;
		struct sfi_slot *s = &d->slots[slot_ids[i]];
		if (s->inst != in || in == NULL) // one crossing runs NFs of one module instance
			return -EINVAL;
		slots[i] = s;
		readable |= s->readable;
		writable |= s->writable;
	}
	return run(d, in, slots, n, readable, writable, batch, now_ns, hop);
}

int nfp_iso_nf_state(struct nfp_domain *base, uint32_t slot, struct nfp_iso_nf_state *out)
{
	if (base->ops == &nfp_domain_sfi_ops) {
		struct sfi_domain *d = dom(base);
		if (slot >= d->n_slots || d->slots[slot].inst == NULL)
			return -EINVAL;
		struct sfi_slot *s = &d->slots[slot];
		out->ctx = &s->ctx;
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
	"sfi",	     sfi_create,  sfi_load,	   sfi_manifest, sfi_process,
	sfi_counters, sfi_unload, sfi_destroy, sfi_packet_memory, nullptr, nfp_sfi_process_chain,
	nfp_iso_fault,
};
