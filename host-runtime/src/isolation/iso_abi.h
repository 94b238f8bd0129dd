/*
 * The ABI between the host runtime and an NF module built by nf-build (host-runtime/nf-build).
 *
 * A module is a shared object holding one or more NFs (several when a tenant's chain is linked
 * into one sandbox). It exports exactly one of:
 *   - `nfp_sfi_module_v1` (struct nfp_sfi_module): the NFs were compiled to wasm32 and back to C
 *     by wasm2c; all their memory is one linear memory that the runtime reaches through `memory`.
 *   - `nfp_native_module_v1` (struct nfp_native_module): the NFs were compiled natively; they
 *     reach runtime services through the table handed to `bind`.
 * Both kinds call the same runtime services (struct nfp_iso_services) with native pointers; the
 * sfi trampolines check every pointer against the linear memory first.
 */
#ifndef NFP_ISO_ABI_H
#define NFP_ISO_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "nfp/nf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NFP_ISO_ABI_VERSION 1u

/* Most NFs one module may hold (a tenant chain). */
#define NFP_ISO_MAX_NFS 16u

/* Runtime services; `ctx` is the runtime's per-NF context. Same contracts as in nf.h. */
struct nfp_iso_services {
	int32_t (*table_lookup)(void *ctx, uint32_t table, const void *key);
	int32_t (*table_add)(void *ctx, uint32_t table, const void *key);
	int32_t (*table_del)(void *ctx, uint32_t table, const void *key);
	void *(*table_value)(void *ctx, uint32_t table, int32_t slot);
	/* Key size of `table`, 0 when the table does not exist (lets sfi bound-check the key). */
	uint32_t (*table_key_bytes)(void *ctx, uint32_t table);
	void (*counter_add)(void *ctx, uint32_t counter, uint64_t n);
	uint64_t (*now_ns)(void *ctx);
	void (*log)(void *ctx, int level, const char *msg, uint32_t len);
	int32_t (*table_lookup_bulk)(void *ctx, uint32_t table, const void *const *keys, uint32_t n, int32_t *slots);
	/* Meters (added compatibly: at the end). */
	int32_t (*meter_create)(void *ctx, uint64_t cir_bytes_per_s, uint32_t cbs_bytes, uint32_t ebs_bytes,
				uint32_t count);
	int32_t (*meter_color)(void *ctx, int32_t meter, uint32_t index, uint32_t pkt_len);
	int32_t (*meter_reset)(void *ctx, int32_t meter, uint32_t index);
};

/* ---- native modules ---- */

struct nfp_native_module {
	uint32_t abi_version; /* NFP_ISO_ABI_VERSION */
	uint32_t n_nfs;
	const struct nfp_nf_descriptor *const *nfs;
	/* Called once after dlopen, before any NF callback. */
	void (*bind)(const struct nfp_iso_services *svc);
};

/* ---- sfi modules ---- */

/* Faults a call into a sandbox can end with (negated as the call's result). */
enum nfp_sfi_fault {
	NFP_SFI_OK = 0,
	NFP_SFI_FAULT_OOB = 1,          /* out-of-bounds linear-memory access */
	NFP_SFI_FAULT_TRAP = 2,         /* arithmetic trap, unreachable, bad indirect call */
	NFP_SFI_FAULT_EXHAUSTION = 3,   /* call stack exhausted */
	NFP_SFI_FAULT_WATCHDOG = 4,     /* cycle budget of the call exceeded */
	NFP_SFI_FAULT_BAD_POINTER = 5,  /* a service got a pointer outside the linear memory */
};

/* Exported guest functions the runtime calls, by number. */
enum nfp_sfi_fn {
	NFP_SFI_FN_ALLOC = 0,    /* (bytes) -> offset of zeroed, 64-byte aligned memory, 0 on failure */
	NFP_SFI_FN_MANIFEST = 1, /* (nf) -> offset of its struct nfp_nf_manifest, 0 for a bad nf */
	NFP_SFI_FN_INIT = 2,     /* (nf, state, config, config_len) -> init's result */
	NFP_SFI_FN_PROCESS = 3,  /* (first nf, n nfs, chain block) -> 0 */
	NFP_SFI_FN_FINI = 4,     /* (nf, state) -> 0 */
};

/*
 * The chain block handed to NFP_SFI_FN_PROCESS, in linear memory (wasm32 layout). The NFs
 * first..first+n-1 run in turn on `batch`; a packet leaves the chain at the first NF that does
 * not pass it, and `hop[i]` says which NF that was (n when every NF passed it).
 */
struct nfp_sfi_chain {
	uint32_t states[NFP_ISO_MAX_NFS]; /* linear-memory offset of each NF's state */
	uint32_t batch;                   /* offset of a struct nfp_batch (wasm32 layout) */
	uint8_t hop[NFP_NF_MAX_BATCH];
};

/* struct nfp_pkt and struct nfp_batch as the wasm32 guest lays them out (pointers are u32). */
struct nfp_sfi_pkt {
	uint32_t data;
	uint16_t len;
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t payload_off;
	uint32_t flow_hash;
	uint16_t tenant;
	uint16_t path;
};

struct nfp_sfi_batch {
	uint32_t count;
	uint32_t pkts;
	uint32_t verdicts;
	uint32_t drop_reasons;
};

struct nfp_sfi_env; /* one instance of the module: its linear memory and its runtime contexts */

struct nfp_sfi_module {
	uint32_t abi_version; /* NFP_ISO_ABI_VERSION */
	uint32_t n_nfs;
	/* Instantiates the module; `ctxs[i]` is NF i's runtime context. NULL on failure. */
	struct nfp_sfi_env *(*create)(const struct nfp_iso_services *svc, void *const *ctxs, uint32_t n_ctxs);
	void (*destroy)(struct nfp_sfi_env *env);
	/* The linear memory now (it may move when the guest grows it). */
	uint8_t *(*memory)(struct nfp_sfi_env *env, uint32_t *size);
	/*
	 * Calls guest function `fn` with up to four arguments under a cycle budget (0: none).
	 * Returns 0 and the result in `*ret`, or -enum nfp_sfi_fault. Not reentrant per env.
	 */
	int32_t (*call)(struct nfp_sfi_env *env, uint32_t fn, const uint32_t args[4], uint64_t budget_cycles,
			uint32_t *ret);
};

#ifdef __cplusplus
}
#endif

#endif /* NFP_ISO_ABI_H */
