// Signal handlers and the watchdog of the in-process backends; see fault.h.
#include "fault.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "iso.h"

namespace nfp {

__thread IsoCall *t_iso_call __attribute__((tls_model("initial-exec"))) = nullptr;
__thread IsoWatch *t_iso_watch __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

// ---- handlers ----

struct sigaction g_prev_segv, g_prev_bus, g_prev_fpe, g_prev_alrm;
std::once_flag g_installed;

constexpr uint32_t kMaxWatched = 256;
IsoWatch g_watched[kMaxWatched];
std::atomic<uint32_t> g_n_watched{0};
std::mutex g_watch_mu;

// A native NF that overflows its thread's stack faults with no room left to run the handler:
// without a stack of its own the kernel kills the process. Each thread that enters an mpk domain
// gets one (once, 64 KiB, kept for the thread's life) unless it already has one.
void ensure_altstack()
{
	stack_t cur;
	if (sigaltstack(nullptr, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
		return;
	const size_t bytes = 64 * 1024;
	void *mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return;
	stack_t ss = {};
	ss.ss_sp = mem;
	ss.ss_size = bytes;
	if (sigaltstack(&ss, nullptr) != 0)
		munmap(mem, bytes);
}

void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *prev = sig == SIGSEGV ? &g_prev_segv : sig == SIGBUS ? &g_prev_bus
							    : sig == SIGFPE ? &g_prev_fpe
									    : &g_prev_alrm;
	if (prev->sa_flags & SA_SIGINFO) {
		prev->sa_sigaction(sig, si, uc);
	} else if (prev->sa_handler == SIG_DFL) {
		// A fault re-executes and takes the default action; an alarm takes it now.
		signal(sig, SIG_DFL);
		if (sig == SIGALRM)
			raise(sig);
	} else if (prev->sa_handler != SIG_IGN) {
		prev->sa_handler(sig);
	}
}

[[noreturn]] void end_call(IsoCall *c, int sig, int code, const void *addr)
{
	t_iso_call = nullptr;
	if (c->jump == nullptr)
		c->trap(c->arg); // sfi: the module's own longjmp
	c->signal = sig;
	c->code = code;
	c->addr = addr;
	_longjmp(*c->jump, 1);
}

void on_signal(int sig, siginfo_t *si, void *uc)
{
	IsoCall *c = t_iso_call;
	if (sig == SIGALRM) {
		// The watchdog's (a tgkill from this process): ours to take, or stale and ignored.
		if (si->si_code == SI_TKILL && si->si_pid == getpid()) {
			// Only the call it was sent for: that one may have ended, and another begun.
			IsoWatch *w = t_iso_watch;
			if (c != nullptr && c->jump != nullptr && w != nullptr &&
			    w->budget.load(std::memory_order_acquire) != 0 &&
			    w->call.load(std::memory_order_relaxed) == w->doomed.load(std::memory_order_relaxed))
				end_call(c, sig, 0, nullptr);
			return;
		}
	} else if (c != nullptr) {
		const uint8_t *a = (const uint8_t *)si->si_addr;
		if (c->jump != nullptr || (sig != SIGFPE && a >= c->lo && a < c->hi))
			end_call(c, sig, si->si_code, si->si_addr);
	}
	chain(sig, si, uc);
}

void install()
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	// NODEFER: a handler that ends a call leaves by longjmp, which would keep the signal blocked.
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &g_prev_segv);
	sigaction(SIGBUS, &sa, &g_prev_bus);
	sigaction(SIGFPE, &sa, &g_prev_fpe);
	sigaction(SIGALRM, &sa, &g_prev_alrm);
}

// ---- the watchdog ----

std::mutex g_dog_mu;
pthread_t g_dog; // a plain thread: a process that exits with domains still up need not join it
std::atomic<bool> g_dog_stop{false};
uint32_t g_dog_users = 0;

void *watchdog(void *)
{
	const pid_t pid = getpid();
	while (!g_dog_stop.load(std::memory_order_relaxed)) {
		const uint64_t ns = NFP_ISO_WATCHDOG_TICK_NS;
		struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
		nanosleep(&ts, nullptr);
		uint64_t now = nfp_iso_cycles();
		uint32_t n = g_n_watched.load(std::memory_order_acquire);
		for (uint32_t i = 0; i < n; i++) {
			IsoWatch &w = g_watched[i];
			uint64_t budget = w.budget.load(std::memory_order_acquire);
			uint64_t call = w.call.load(std::memory_order_relaxed);
			if (budget == 0 || call != w.seen) { // idle, or a call not seen before: its clock starts
				w.seen = budget == 0 ? 0 : call;
				w.seen_at = now;
				continue;
			}
			if (now - w.seen_at > budget) {
				w.doomed.store(call, std::memory_order_relaxed);
				syscall(SYS_tgkill, pid, w.tid, SIGALRM);
			}
		}
	}
	return nullptr;
}

} // namespace

bool iso_stack_overflow(const void *addr)
{
	pthread_attr_t a;
	if (addr == nullptr || pthread_getattr_np(pthread_self(), &a) != 0)
		return false;
	void *lo = nullptr;
	size_t size = 0, guard = 0;
	pthread_attr_getstack(&a, &lo, &size);
	pthread_attr_getguardsize(&a, &guard);
	pthread_attr_destroy(&a);
	// The kernel keeps a gap of 1 MiB below a growing main-thread stack; threads have `guard`.
	const uintptr_t x = (uintptr_t)addr, l = (uintptr_t)lo, below = guard > (1u << 20) ? guard : (1u << 20);
	return x < l + 4096 && x + below >= l;
}

void iso_fault_install() { std::call_once(g_installed, install); }

void iso_watchdog_acquire()
{
	std::lock_guard<std::mutex> lock(g_dog_mu);
	if (g_dog_users++ == 0) {
		g_dog_stop = false;
		if (pthread_create(&g_dog, nullptr, watchdog, nullptr) != 0)
			g_dog_users = 0; // no watchdog: calls run without one (as with budget 0)
	}
}

void iso_watchdog_release()
{
	std::lock_guard<std::mutex> lock(g_dog_mu);
	if (g_dog_users == 0 || --g_dog_users > 0)
		return;
	g_dog_stop = true;
	pthread_join(g_dog, nullptr);
}

IsoWatch *iso_watch_register()
{
	ensure_altstack();
	static IsoWatch unwatched; // past the table: calls run without a watchdog
	std::lock_guard<std::mutex> lock(g_watch_mu);
	uint32_t n = g_n_watched.load();
	if (n == kMaxWatched)
		return t_iso_watch = &unwatched;
	g_watched[n].tid = (pid_t)syscall(SYS_gettid);
	t_iso_watch = &g_watched[n];
	g_n_watched.store(n + 1, std::memory_order_release);
	return t_iso_watch;
}

} // namespace nfp
