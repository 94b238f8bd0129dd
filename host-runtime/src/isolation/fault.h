// Faults and runaways inside a domain call: one set of signal handlers for the in-process
// backends, installed once after V8's (Node installs its own at start-up), and a watchdog thread.
//
//  - sfi (guard pages): a SIGSEGV/SIGBUS whose address lies in the guard region of the sandbox
//    call in progress on this thread ends that call through the module's trap entry.
//  - mpk: a SIGSEGV (protection-key, access or unmapped-address fault), SIGFPE or SIGBUS during the
//    call in progress on this thread jumps back to its entry; so does the watchdog's SIGALRM once
//    the call's deadline has passed.
// Any other signal goes to the handler installed before (V8's handles its own WebAssembly
// traps), so V8's and the sandboxes' traps all work in one process.
//
// The watchdog costs a call a few stores and no clock read: a thread that enters a domain
// registers once; arming a call bumps the thread's call number and sets its budget. A watchdog
// thread (running while any mpk domain exists) wakes every few milliseconds, notes when it first
// saw each call number, and signals a thread whose call has run past its budget since.
#ifndef NFP_ISO_FAULT_H
#define NFP_ISO_FAULT_H

#include <setjmp.h>
#include <stdint.h>
#include <sys/types.h>

#include <atomic>

namespace nfp {

// A call into a domain in progress on this thread.
struct IsoCall {
	// sfi: faults at addresses in [lo, hi) are the call's; `trap(arg)` ends it (never returns).
	const uint8_t *lo = nullptr, *hi = nullptr;
	void (*trap)(void *arg) = nullptr;
	void *arg = nullptr;
	// mpk: where a fault or the watchdog jumps, and what ended the call.
	jmp_buf *jump = nullptr;
	int signal = 0, code = 0;
	const void *addr = nullptr; // the faulting address (SIGSEGV, SIGBUS)
};

// The call in progress on this thread (nullptr: none). `__thread`, not `thread_local`: a plain
// pointer needs no dynamic initialisation, so an access is one %fs-relative load, no TLS wrapper.
extern __thread IsoCall *t_iso_call __attribute__((tls_model("initial-exec")));

// Whether `addr` lies just below this thread's stack, in its guard: a stack overflow. Not for a
// signal handler (it asks pthreads for the stack).
bool iso_stack_overflow(const void *addr);

// Installs the handlers (once; control thread).
void iso_fault_install();

// The watchdog: acquire while a domain that needs it exists (starts the thread with the first),
// release when it goes (stops it with the last). It looks every NFP_ISO_WATCHDOG_TICK_NS: a
// runaway is stopped within that much past its budget. Control thread.
#define NFP_ISO_WATCHDOG_TICK_NS 2000000ull
void iso_watchdog_acquire();
void iso_watchdog_release();

// A thread that enters domains, as the watchdog sees it.
struct IsoWatch {
	std::atomic<uint64_t> call{0};   // bumped by each armed call
	std::atomic<uint64_t> budget{0}; // cycles for the call in progress; 0: not in an armed call
	std::atomic<uint64_t> doomed{0}; // the call the watchdog signalled
	pid_t tid = 0;
	// The watchdog thread's own: the call it last saw and when (TSC).
	uint64_t seen = 0, seen_at = 0;
};

// This thread's entry (nullptr until its first call; then one of the table's or, past the
// table's size, one the watchdog never looks at).
extern __thread IsoWatch *t_iso_watch __attribute__((tls_model("initial-exec")));

// The first call on a thread: registers it and gives it an alternate signal stack, so that a
// stack overflow in a domain is caught too.
IsoWatch *iso_watch_register();

// Arms the watchdog for the call about to run on this thread: once it has run `budget` cycles
// (within a tick or two) it is ended (SIGALRM); 0 disarms.
static inline void iso_watchdog_arm(uint64_t budget)
{
	IsoWatch *w = t_iso_watch;
	if (__builtin_expect(w == nullptr, 0))
		w = iso_watch_register();
	if (budget != 0)
		w->call.store(w->call.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
	w->budget.store(budget, std::memory_order_release);
}

} // namespace nfp

#endif
