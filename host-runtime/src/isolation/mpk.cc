// The `mpk` backend: native NFs whose memory (state, table values, the tenant's packet buffers or
// windows) lives in an arena tagged with the domain's own protection key. On entry WRPKRU denies
// every other key, so one tenant's NF cannot touch another tenant's arena; on exit the thread's
// access is restored. A tenant's chain runs with one entry per batch (chain.h): one WRPKRU pair.
// Faults (SEGV_PKUERR, SIGFPE, SIGBUS) inside a call, and the watchdog's SIGALRM once the call has
// run past its budget, jump back to the entry (fault.h: no system call per call); every other signal goes to
// the handler that was installed before ours (V8's). Memory mapped later gets key 0, which is why
// everything an NF owns is carved from the arena.
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "chain.h"
#include "fault.h"
#include "iso.h"
#include "native.h"
#include "windows.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#ifndef SEGV_PKUERR
#define SEGV_PKUERR 4
#endif

namespace {

// Address space per domain; pages are backed only as they are used (state, tables, packets).
constexpr size_t kArenaBytes = 256u << 20;

#if defined(__x86_64__)
inline uint32_t rdpkru()
{
	uint32_t eax, edx;
	__asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}
inline void wrpkru(uint32_t v) { __asm__ volatile(".byte 0x0f,0x01,0xef" ::"a"(v), "c"(0), "d"(0) : "memory"); }
#else
inline uint32_t rdpkru() { return 0; }
inline void wrpkru(uint32_t) {}
#endif

struct mpk_slot {
	nfp::NativeNf nf;
	struct nfp_ctx ctx;
	uint8_t *state;
	uint32_t readable, writable;
};

struct mpk_domain {
	struct nfp_iso_domain iso;
	int pkey;
	int shared;
	uint8_t *arena;
	size_t used;
	// In the arena: what the NFs are handed (their windows, descriptors, verdicts, chain scratch).
	uint8_t *windows;
	struct nfp_pkt *pkts;
	uint8_t *verdicts, *reasons, *hop;
	struct nfp_chain_scratch *scratch;
	struct nfp_iso_area area; // the tenant's packet buffers, when the runtime asked for them
	uint32_t n_slots;
	mpk_slot slots[NFP_DOMAIN_MAX_NFS];
	struct nfp_iso_guard guard; // what the runtime keeps of a batch during a call
	uint8_t saved[NFP_NF_MAX_BATCH][NFP_ISO_WIN];
};

mpk_domain *dom(struct nfp_domain *d) { return (mpk_domain *)d->priv; }

uint8_t *arena_alloc(mpk_domain *d, size_t bytes)
{
	size_t at = (d->used + 63) & ~(size_t)63;
	if (bytes > kArenaBytes || at + bytes > kArenaBytes)
		return nullptr;
	d->used = at + bytes;
	return d->arena + at;
}

// PKRU with every key but 0 and `pkey` access-disabled.
uint32_t pkru_for(int pkey)
{
	uint32_t v = 0xfffffffcu;
	v &= ~(3u << (2 * pkey));
	return v;
}

// Lets this thread (outside any domain) read and write memory tagged with `pkey`: pkey_alloc
// opened it only on the thread that allocated it, and the runtime copies and classifies packets
// in the arena on its workers. Returns the thread's PKRU, as it is now.
inline uint32_t open_key_here(int pkey)
{
	uint32_t v = rdpkru(), want = v & ~(3u << (2 * pkey));
	if (v != want)
		wrpkru(want);
	return want;
}

// Runs `fn` inside the domain; `outside` is the thread's PKRU (open_key_here's), restored on the
// way out. Returns 0, or -EFAULT with the fault in d->iso.fault.
template <typename F> int enter(mpk_domain *d, const char *who, uint32_t outside, F fn)
{
	jmp_buf jb;
	nfp::IsoCall c;
	c.jump = &jb;
	nfp::IsoCall *volatile outer = nfp::t_iso_call;
	volatile uint32_t saved = outside;
	if (_setjmp(jb) != 0) {
		wrpkru(saved);
		nfp::iso_watchdog_arm(0);
		nfp::t_iso_call = outer;
		const char *what = c.signal == SIGSEGV && nfp::iso_stack_overflow(c.addr) ? "stack overflow"
				   : c.signal == SIGSEGV && c.code == SEGV_PKUERR
					   ? "memory access outside its domain (protection key fault)"
				   : c.signal == SIGSEGV && c.code == SEGV_MAPERR ? "access to an unmapped address"
				   : c.signal == SIGSEGV ? "access the page does not allow (write to read-only memory)"
				   : c.signal == SIGFPE ? "trap (arithmetic exception)"
				   : c.signal == SIGALRM ? "cycle budget exceeded (watchdog)"
							 : "bus error";
		snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: %s", who, what);
		return -EFAULT;
	}
	nfp::t_iso_call = &c;
	nfp::iso_watchdog_arm(d->iso.budget_cycles);
	wrpkru(pkru_for(d->pkey));
	fn();
	wrpkru(saved);
	nfp::iso_watchdog_arm(0);
	nfp::t_iso_call = outer;
	return 0;
}

struct nfp_domain *mpk_create(const struct nfp_domain_params *params, char *err, size_t errlen)
{
	char why[256];
	if (nfp_mpk_supported(why, sizeof(why)) != 1) {
		snprintf(err, errlen, "isolation `mpk` is unavailable: %s", why);
		return nullptr;
	}
	auto *d = (mpk_domain *)rte_zmalloc_socket("nfp_domain_mpk", sizeof(mpk_domain), 64, params->socket_id);
	if (d == nullptr) {
		snprintf(err, errlen, "cannot allocate an mpk domain for tenant %u", params->tenant);
		return nullptr;
	}
	d->pkey = pkey_alloc(0, 0);
	void *arena = d->pkey < 0 ? MAP_FAILED
				  : mmap(nullptr, kArenaBytes, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED || pkey_mprotect(arena, kArenaBytes, PROT_READ | PROT_WRITE, d->pkey) != 0) {
		snprintf(err, errlen, "cannot set up a protection-key arena for tenant %u: %s", params->tenant,
			 strerror(errno));
		if (arena != MAP_FAILED)
			munmap(arena, kArenaBytes);
		if (d->pkey >= 0)
			pkey_free(d->pkey);
		rte_free(d);
		return nullptr;
	}
	d->arena = (uint8_t *)arena;
	d->windows = arena_alloc(d, (size_t)NFP_NF_MAX_BATCH * NFP_ISO_SLOT);
	d->pkts = (struct nfp_pkt *)arena_alloc(d, sizeof(struct nfp_pkt) * NFP_NF_MAX_BATCH);
	d->verdicts = arena_alloc(d, NFP_NF_MAX_BATCH);
	d->reasons = arena_alloc(d, NFP_NF_MAX_BATCH);
	d->hop = arena_alloc(d, NFP_NF_MAX_BATCH);
	d->scratch = (struct nfp_chain_scratch *)arena_alloc(d, sizeof(struct nfp_chain_scratch));
	d->shared = params->packet_access == NFP_PACKET_ACCESS_SHARED;
	nfp::iso_fault_install();
	nfp::iso_watchdog_acquire();
	d->iso.base.ops = &nfp_domain_mpk_ops;
	d->iso.base.params = *params;
	d->iso.base.priv = d;
	d->iso.budget_cycles = NFP_ISO_DEFAULT_BUDGET_CYCLES;
	return &d->iso.base;
}

int mpk_load(struct nfp_domain *base, const struct nfp_nf_descriptor *builtin, const char *artifact,
	     const char *config, uint32_t config_len, uint32_t *nf_slot, char *err, size_t errlen)
{
	mpk_domain *d = dom(base);
	if (artifact == nullptr) {
		snprintf(err, errlen, "the mpk backend runs NFs built by `nfp nf build --backend native`; %s has no artifact",
			 builtin != nullptr ? builtin->manifest.name : "this NF");
		return -ENOTSUP;
	}
	if (d->n_slots >= NFP_DOMAIN_MAX_NFS) {
		snprintf(err, errlen, "too many NFs in one domain");
		return -ENOSPC;
	}
	const uint32_t outside = open_key_here(d->pkey);
	mpk_slot *s = &d->slots[d->n_slots];
	memset((void *)s, 0, sizeof(*s));
	int rc = nfp::native_open(artifact, &s->nf, err, errlen);
	if (rc < 0)
		return rc;
	const struct nfp_nf_manifest *m = &s->nf.desc->manifest;
	size_t vbytes = nfp_ctx_value_bytes(m);
	uint8_t *values = vbytes ? arena_alloc(d, vbytes) : nullptr;
	s->state = arena_alloc(d, m->state_bytes ? m->state_bytes : 8);
	uint8_t *cfg = arena_alloc(d, config_len + 1);
	char name[64];
	snprintf(name, sizeof(name), "t%u.%s", base->params.tenant, m->name);
	if ((vbytes && values == nullptr) || s->state == nullptr || cfg == nullptr) {
		snprintf(err, errlen, "%s: its state and tables do not fit the domain's %zu MiB arena", m->name,
			 kArenaBytes >> 20);
		nfp::native_close(&s->nf);
		return -ENOMEM;
	}
	rc = nfp_ctx_init(&s->ctx, name, m, base->params.socket_id, values, err, errlen);
	if (rc < 0) {
		nfp::native_close(&s->nf);
		return rc;
	}
	memcpy(cfg, config, config_len);
	cfg[config_len] = '\0';
	int ret = 0;
	const struct nfp_nf_descriptor *desc = s->nf.desc;
	int f = enter(d, m->name, outside, [&]() {
		if (desc->init != nullptr)
			ret = desc->init(&s->ctx, s->state, (const char *)cfg, config_len);
	});
	if (f < 0 || ret < 0) {
		snprintf(err, errlen, "%s: %s", m->name,
			 f < 0 ? d->iso.fault : s->ctx.last_error[0] ? s->ctx.last_error : "init failed");
		d->iso.fault[0] = '\0';
		nfp_ctx_fini(&s->ctx);
		nfp::native_close(&s->nf);
		return f < 0 ? f : ret;
	}
	s->readable = (m->reads | m->writes) & 0xfu;
	s->writable = m->writes & 0xfu;
	*nf_slot = d->n_slots++;
	return 0;
}

const struct nfp_nf_manifest *mpk_manifest(struct nfp_domain *base, uint32_t slot)
{
	mpk_domain *d = dom(base);
	return slot < d->n_slots && d->slots[slot].nf.desc ? &d->slots[slot].nf.desc->manifest : nullptr;
}

struct ChainArg {
	mpk_slot *const *slots;
};

void run_nf(void *arg, uint32_t k, struct nfp_batch *sub)
{
	mpk_slot *s = ((ChainArg *)arg)->slots[k];
	s->nf.desc->process(&s->ctx, s->state, sub);
}

// Runs `slots` as a chain on `batch` with one entry; rights are the union over the chain.
int run(mpk_domain *d, mpk_slot *const *slots, uint32_t n, uint32_t readable, uint32_t writable,
	struct nfp_batch *batch, uint64_t now_ns, uint8_t *hop)
{
	uint32_t count = batch->count > NFP_NF_MAX_BATCH ? NFP_NF_MAX_BATCH : batch->count;
	const uint32_t outside = open_key_here(d->pkey);
	uint32_t moves = 0;
	for (uint32_t k = 0; k < n; k++) {
		slots[k]->ctx.now_ns = now_ns;
		if (slots[k]->writable & NFP_REGION_L2)
			moves |= 1u << k;
	}
	uint8_t *at[NFP_NF_MAX_BATCH];
	uint16_t len[NFP_NF_MAX_BATCH];
	// The NFs get copies of the descriptors, in the arena: the runtime's own stay as they were.
	nfp_iso_batch_in(&d->area, d->shared, batch->pkts, count, readable, writable, d->windows, d->saved, &d->guard,
			 at, len, d->pkts);
	struct nfp_batch b = {count, d->pkts, d->verdicts, d->reasons};
	ChainArg arg = {slots};
	if (enter(d, slots[0]->nf.desc->manifest.name, outside,
		  [&]() { nfp_chain_run(&b, n, moves, run_nf, &arg, d->hop, d->scratch); }) < 0)
		return -EFAULT;
	const struct nfp_nf_manifest *m[NFP_ISO_MAX_NFS];
	for (uint32_t k = 0; k < n; k++)
		m[k] = &slots[k]->nf.desc->manifest;
	return nfp_iso_after_call(
		&d->iso, d->hop, d->verdicts, d->reasons, n, m, hop, batch, count, d->shared, readable, writable, at,
		d->saved, &d->guard,
		[&](uint32_t i, int64_t *front, uint32_t *l) {
			// (The uniform prefix lies in place: at its own data, which at[] does not repeat.)
			const uint8_t *was = i < d->guard.uniform ? batch->pkts[i].data : at[i];
			*front = (int64_t)((uintptr_t)d->pkts[i].data - (uintptr_t)was);
			*l = d->pkts[i].len;
		},
		d->pkts);
}

int mpk_process(struct nfp_domain *base, uint32_t slot, struct nfp_batch *batch, uint64_t now_ns)
{
	mpk_domain *d = dom(base);
	mpk_slot *s = &d->slots[slot];
	return run(d, &s, 1, s->readable, s->writable, batch, now_ns, nullptr);
}

void mpk_counters(struct nfp_domain *base, uint32_t slot, uint64_t *out)
{
	mpk_domain *d = dom(base);
	if (slot < d->n_slots)
		memcpy(out, d->slots[slot].ctx.counters, sizeof(uint64_t) * NFP_NF_MAX_COUNTERS);
}

void mpk_unload(struct nfp_domain *base, uint32_t slot)
{
	mpk_domain *d = dom(base);
	if (slot >= d->n_slots || d->slots[slot].nf.desc == nullptr)
		return;
	mpk_slot *s = &d->slots[slot];
	const struct nfp_nf_descriptor *desc = s->nf.desc;
	if (desc->fini != nullptr && d->iso.fault[0] == '\0')
		enter(d, desc->manifest.name, open_key_here(d->pkey), [&]() { desc->fini(&s->ctx, s->state); });
	nfp_ctx_fini(&s->ctx);
	nfp::native_close(&s->nf);
}

void mpk_destroy(struct nfp_domain *base)
{
	mpk_domain *d = dom(base);
	for (uint32_t i = 0; i < d->n_slots; i++)
		mpk_unload(base, i);
	munmap(d->arena, kArenaBytes);
	pkey_free(d->pkey);
	rte_free(d);
	nfp::iso_watchdog_release();
}

// The tenant's packet buffers, tagged with its key: no other tenant's NF reaches them.
void *mpk_packet_memory(struct nfp_domain *base, size_t bytes, char *err, size_t errlen)
{
	mpk_domain *d = dom(base);
	if (!d->shared) {
		snprintf(err, errlen, "tenant %u uses packet windows", base->params.tenant);
		return nullptr;
	}
	if (d->area.lo != d->area.hi) {
		snprintf(err, errlen, "tenant %u: its packet memory is already given out", base->params.tenant);
		return nullptr;
	}
	uint8_t *p = arena_alloc(d, bytes);
	if (p == nullptr) {
		snprintf(err, errlen, "tenant %u: %zu bytes of packet buffers do not fit its %zu MiB arena",
			 base->params.tenant, bytes, kArenaBytes >> 20);
		return nullptr;
	}
	d->area = {p, p + bytes};
	return p;
}

void mpk_attach_thread(struct nfp_domain *base) { (void)open_key_here(dom(base)->pkey); }

int mpk_process_chain(struct nfp_domain *base, const uint32_t *slot_ids, uint32_t n, struct nfp_batch *batch,
		      uint64_t now_ns, uint8_t *hop)
{
	mpk_domain *d = dom(base);
	mpk_slot *slots[NFP_ISO_MAX_NFS];
	uint32_t readable = 0, writable = 0;
	for (uint32_t k = 0; k < n; k++) {
		if (slot_ids[k] >= d->n_slots)
			return -EINVAL;
		slots[k] = &d->slots[slot_ids[k]];
		readable |= slots[k]->readable;
		writable |= slots[k]->writable;
	}
	return run(d, slots, n, readable, writable, batch, now_ns, hop);
}

} // namespace

int nfp_mpk_supported(char *why, size_t whylen)
{
#if defined(__x86_64__)
	unsigned eax, ebx, ecx, edx;
	if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 3))) {
		snprintf(why, whylen, "this CPU does not expose memory protection keys (no PKU in cpuid); use isolation `sfi`");
		return 0;
	}
	if (!(ecx & (1u << 4))) {
		snprintf(why, whylen, "the kernel has not enabled protection keys (cpuid OSPKE is clear); use isolation `sfi`");
		return 0;
	}
	int k = pkey_alloc(0, 0);
	if (k < 0) {
		snprintf(why, whylen, "pkey_alloc failed (%s): %s; use isolation `sfi`", strerror(errno),
			 errno == ENOSPC ? "no free protection key" : "the kernel does not support protection keys");
		return 0;
	}
	pkey_free(k);
	why[0] = '\0';
	return 1;
#else
	snprintf(why, whylen, "protection keys are x86-64 only here; use isolation `sfi`");
	return 0;
#endif
}

int nfp_mpk_nf_state(struct nfp_domain *base, uint32_t slot, struct nfp_iso_nf_state *out)
{
	mpk_domain *d = dom(base);
	if (slot >= d->n_slots || d->slots[slot].nf.desc == nullptr)
		return -EINVAL;
	out->ctx = &d->slots[slot].ctx;
	out->state = d->slots[slot].state;
	out->state_bytes = d->slots[slot].nf.desc->manifest.state_bytes;
	out->manifest = &d->slots[slot].nf.desc->manifest;
	return 0;
}

int nfp_mpk_process_chain(struct nfp_domain *d, const uint32_t *slots, uint32_t n, struct nfp_batch *batch,
			  uint64_t now_ns, uint8_t *hop)
{
	if (d->ops != &nfp_domain_mpk_ops)
		return -ENOTSUP;
	if (n == 0 || n > NFP_ISO_MAX_NFS)
		return -EINVAL;
	return mpk_process_chain(d, slots, n, batch, now_ns, hop);
}

extern "C" const struct nfp_domain_ops nfp_domain_mpk_ops = {
	"mpk",	     mpk_create,  mpk_load,	   mpk_manifest, mpk_process,
	mpk_counters, mpk_unload, mpk_destroy, mpk_packet_memory, mpk_attach_thread, nfp_mpk_process_chain,
	nfp_iso_fault,
};
