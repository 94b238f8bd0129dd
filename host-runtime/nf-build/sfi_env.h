/*
 * Force-included into wasm2c's generated C (nf-build): completes the import-environment struct
 * so the generated code can reach the per-instance watchdog fuel and call depth, and defines the
 * back-edge check that nf-build inserts before every `goto` to a loop label.
 */
#ifndef NFP_SFI_ENV_H
#define NFP_SFI_ENV_H

#include <setjmp.h>
#include <stdint.h>

#include "wasm-rt.h"
#include "iso_abi.h"

struct Z_env_instance_t {
	int64_t fuel;         /* back-edges left before the next clock read */
	uint32_t depth;       /* wasm call depth, bounded by WASM_RT_MAX_CALL_STACK_DEPTH */
	uint64_t deadline;    /* TSC value past which the running call is a runaway; 0: not set yet */
	uint64_t budget;      /* cycles the running call may take (0: no limit) */
	wasm_rt_memory_t *mem;
	const struct nfp_iso_services *svc;
	void *ctxs[NFP_SFI_MAX_CTXS];     /* the runtime's context of each bound NF instance id */
	uint32_t ctx_at[NFP_SFI_MAX_CTXS]; /* where its guest context lies in linear memory */
	jmp_buf jb;
	void *instance;       /* the wasm2c module instance */
};

/* Refuels, or traps with the watchdog fault once the deadline has passed. */
void nfp_sfi_out_of_fuel(struct Z_env_instance_t *env);

#define NFP_SFI_BACKEDGE()                                                   \
	do {                                                                 \
		if (UNLIKELY(--instance->Z_env_instance->fuel < 0))          \
			nfp_sfi_out_of_fuel(instance->Z_env_instance);       \
	} while (0)

#endif /* NFP_SFI_ENV_H */
