// The `mpk` backend: native NFs whose memory (state, table values, packet windows) lives in an
// arena tagged with the domain's own protection key. On entry WRPKRU denies every other key, so
// one tenant's NF cannot touch another tenant's arena; on exit full access is restored. Faults
// (SEGV_PKUERR, SIGFPE, SIGBUS) inside a call, and a per-call timer (the watchdog), jump back to
// the call site; every other signal goes to the handler that was installed before ours (V8's).
// Memory mapped later gets key 0, which is why everything an NF owns is carved from the arena.
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

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

constexpr size_t kArenaBytes = 32u << 20;

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

// The call in progress on this thread, for the signal handler.
thread_local sigjmp_buf *t_jump = nullptr;
thread_local int t_signal = 0;
thread_local int t_code = 0; // si_code of the fault that ended the call
thread_local bool t_timer_ready = false;
thread_local timer_t t_timer;

struct sigaction g_old_segv, g_old_fpe, g_old_bus, g_old_alrm;
bool g_handlers = false;

void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *old = sig == SIGSEGV ? &g_old_segv : sig == SIGFPE ? &g_old_fpe : sig == SIGBUS ? &g_old_bus : &g_old_alrm;
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uc);
	} else if (old->sa_handler == SIG_DFL) {
		signal(sig, SIG_DFL); // returning re-raises the fault with the default action
	} else if (old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
	}
}

void on_signal(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *jb = t_jump;
	// A watchdog tick that lands just after the NF returned: nothing to stop, and the default
	// action of SIGALRM would end the whole process.
	if (jb == nullptr && sig == SIGALRM && !(g_old_alrm.sa_flags & SA_SIGINFO) && g_old_alrm.sa_handler == SIG_DFL)
		return;
	if (jb != nullptr && (sig != SIGSEGV || si->si_code == SEGV_PKUERR || si->si_code == SEGV_ACCERR ||
			      si->si_code == SEGV_MAPERR)) {
		t_jump = nullptr;
		t_signal = sig;
		t_code = si->si_code;
		siglongjmp(*jb, 1);
	}
	chain(sig, si, uc);
}

void install_handlers()
{
	if (g_handlers)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &g_old_segv);
	sigaction(SIGFPE, &sa, &g_old_fpe);
	sigaction(SIGBUS, &sa, &g_old_bus);
	sigaction(SIGALRM, &sa, &g_old_alrm);
	g_handlers = true;
}

struct mpk_slot {
	nfp::NativeNf nf;
	struct nfp_ctx ctx;
	uint8_t *state;
	uint32_t readable, writable;
};

struct mpk_domain {
	struct nfp_iso_domain iso;
	int pkey;
	uint8_t *arena;
	size_t used;
	uint8_t *windows;          // NFP_NF_MAX_BATCH windows, in the arena
	struct nfp_pkt *pkts;      // in the arena
	uint8_t *verdicts, *reasons;
	uint32_t n_slots;
	mpk_slot slots[NFP_DOMAIN_MAX_NFS];
	struct nfp_iso_win wins[NFP_NF_MAX_BATCH];
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

void arm_timer(uint64_t budget_cycles)
{
	if (budget_cycles == 0)
		return;
	if (!t_timer_ready) {
		struct sigevent sev;
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = SIGALRM;
		sev._sigev_un._tid = gettid();
		if (timer_create(CLOCK_MONOTONIC, &sev, &t_timer) != 0)
			return;
		t_timer_ready = true;
	}
	uint64_t ns = budget_cycles * 1000000000ull / rte_get_tsc_hz();
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(ns % 1000000000ull);
	timer_settime(t_timer, 0, &its, nullptr);
}

void disarm_timer()
{
	if (!t_timer_ready)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	timer_settime(t_timer, 0, &its, nullptr);
}

// Lets this thread (outside any domain) read and write memory tagged with `pkey`.
inline void open_key_here(int pkey)
{
	uint32_t v = rdpkru(), want = v & ~(3u << (2 * pkey));
	if (v != want)
		wrpkru(want);
}

// Runs `fn` inside the domain. Returns 0, or -EFAULT with the fault in d->iso.fault.
template <typename F> int enter(mpk_domain *d, const char *who, F fn)
{
	sigjmp_buf jb;
	uint32_t saved = rdpkru();
	if (sigsetjmp(jb, 1) != 0) {
		disarm_timer();
		wrpkru(saved);
		const char *what = t_signal == SIGSEGV && t_code == SEGV_PKUERR
					   ? "memory access outside its domain (protection key fault)"
				   : t_signal == SIGSEGV && t_code == SEGV_MAPERR ? "access to an unmapped address"
				   : t_signal == SIGSEGV ? "access the page does not allow (write to read-only memory)"
				   : t_signal == SIGFPE ? "trap (arithmetic exception)"
				   : t_signal == SIGALRM ? "cycle budget exceeded (watchdog)"
							 : "bus error";
		snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: %s", who, what);
		return -EFAULT;
	}
	t_jump = &jb;
	arm_timer(d->iso.budget_cycles);
	wrpkru(pkru_for(d->pkey));
	fn();
	wrpkru(saved);
	disarm_timer();
	t_jump = nullptr;
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
				  : mmap(nullptr, kArenaBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
	install_handlers();
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
	int f = enter(d, m->name, [&]() {
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

int mpk_process(struct nfp_domain *base, uint32_t slot, struct nfp_batch *batch, uint64_t now_ns)
{
	mpk_domain *d = dom(base);
	mpk_slot *s = &d->slots[slot];
	uint32_t count = batch->count > NFP_NF_MAX_BATCH ? NFP_NF_MAX_BATCH : batch->count;
	// pkey_alloc opened the key only on the thread that allocated it; a worker thread starts
	// with every other key closed, and the host side must copy packets into the arena.
	open_key_here(d->pkey);
	s->ctx.now_ns = now_ns;
	for (uint32_t i = 0; i < count; i++) {
		uint8_t *w = d->windows + (size_t)i * NFP_ISO_SLOT + NFP_PKT_HEADROOM;
		d->pkts[i] = batch->pkts[i];
		d->pkts[i].len = nfp_iso_window_in(&batch->pkts[i], s->readable, s->writable, w, &d->wins[i]);
		d->pkts[i].data = w;
		d->verdicts[i] = NFP_VERDICT_PASS;
		d->reasons[i] = 0;
	}
	struct nfp_batch b = {count, d->pkts, d->verdicts, d->reasons};
	const struct nfp_nf_descriptor *desc = s->nf.desc;
	if (enter(d, desc->manifest.name, [&]() { desc->process(&s->ctx, s->state, &b); }) < 0)
		return -EFAULT;
	for (uint32_t i = 0; i < count; i++) {
		uint8_t *w = d->windows + (size_t)i * NFP_ISO_SLOT + NFP_PKT_HEADROOM;
		// The NF's own view of where the packet now starts (nf.h, front adjustment).
		int64_t front = d->pkts[i].data - w;
		if (front < INT32_MIN || front > INT32_MAX ||
		    nfp_iso_window_out(&batch->pkts[i], s->readable, s->writable, w, (int32_t)front, d->pkts[i].len,
				       &d->wins[i]) < 0) {
			snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: wrote a packet region it may not write",
				 desc->manifest.name);
			return -EACCES;
		}
		batch->verdicts[i] = d->verdicts[i];
		batch->drop_reasons[i] = d->reasons[i];
	}
	return 0;
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
		enter(d, desc->manifest.name, [&]() { desc->fini(&s->ctx, s->state); });
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

extern "C" const struct nfp_domain_ops nfp_domain_mpk_ops = {
	"mpk", mpk_create, mpk_load, mpk_manifest, mpk_process, mpk_counters, mpk_unload, mpk_destroy, nullptr,
};
