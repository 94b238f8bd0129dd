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
// The watchdog costs a call nothing but two stores: a thread that enters a domain registers once,
// and a watchdog thread (running while any mpk domain exists) wakes every few milliseconds and
// signals a registered thread whose deadline has passed.
#ifndef NFP_ISO_FAULT_H
#define NFP_ISO_FAULT_H

#include <setjmp.h>
#include <stdint.h>

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
};

// The call in progress on this thread (nullptr: none).
extern thread_local IsoCall *t_iso_call;

// Installs the handlers (once; control thread).
void iso_fault_install();

// The watchdog: acquire while a domain that needs it exists (starts the thread with the first),
// release when it goes (stops it with the last). It looks every NFP_ISO_WATCHDOG_TICK_NS: a
// runaway is stopped within that much past its budget. Control thread.
#define NFP_ISO_WATCHDOG_TICK_NS 2000000ull
void iso_watchdog_acquire();
void iso_watchdog_release();

// Arms the watchdog for the call about to run on this thread: past TSC `deadline` it is ended
// (SIGALRM); 0 disarms. The first call on a thread registers it and gives the thread an alternate
// signal stack, so that a stack overflow in the domain is caught too (not per packet).
void iso_watchdog_arm(uint64_t deadline);

} // namespace nfp

#endif
