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
 *
 * Version 2 (sfi): one module instance holds any number of NF instances (a tenant's whole domain
 * in one linear memory, where its packets can live too); NF contexts are structs in linear memory
 * (struct nfp_sfi_ctx), so table values, counters and the clock need no crossing; guard-page
 * modules report their guard region and a trap entry for the runtime's fault handler.
 */
#ifndef NFP_ISO_ABI_H
#define NFP_ISO_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "nfp/nf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NFP_ISO_ABI_VERSION 2u

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
	NFP_SFI_FN_INIT = 2,     /* (nf, state, config, config_len, ctx) -> init's result */
	NFP_SFI_FN_PROCESS = 3,  /* (chain block) -> 0 */
	NFP_SFI_FN_FINI = 4,     /* (nf, state, ctx) -> 0 */
};

/* NF instances one module instance (one linear memory) may hold: a tenant's whole domain. */
#define NFP_SFI_MAX_CTXS 64u

/*
 * An NF instance's context as the guest sees it: `nfp_ctx *` inside the sandbox points at one of
 * these, in linear memory, written by the runtime at load. The guest reads table layouts and the
 * batch clock here and adds to its counters without leaving the sandbox; the services that do
 * leave it (table lookups, meters, logs) carry `id`, which the runtime checks against the NF
 * instances of this module instance only. Nothing here is trusted by the runtime: an NF that
 * scribbles on it hurts only itself.
 */
struct nfp_sfi_table {
	uint32_t values;      /* linear-memory offset of slot 0's value */
	uint32_t value_bytes;
	uint32_t slots;
	uint32_t pad;
};

struct nfp_sfi_ctx {
	uint32_t id;       /* the runtime's index of this NF instance within the module instance */
	uint32_t n_tables;
	uint64_t now_ns;   /* the batch's clock (nfp_now_ns); 0: ask the runtime */
	uint64_t counters[8];
	struct nfp_sfi_table tables[NFP_NF_MAX_TABLES];
};

/*
 * The chain block handed to NFP_SFI_FN_PROCESS, in linear memory (wasm32 layout). NF instances
 * 0..n-1 (module NF nf[k], with its state and context) run in turn on `batch`; a packet leaves
 * the chain at the first NF that does not pass it, and `hop[i]` says which NF that was (n when
 * every NF passed it).
 */
struct nfp_sfi_chain {
	uint32_t n;
	uint32_t nf[NFP_ISO_MAX_NFS];
	uint32_t states[NFP_ISO_MAX_NFS];
	uint32_t ctxs[NFP_ISO_MAX_NFS];
	uint32_t batch; /* offset of a struct nfp_batch (wasm32 layout) */
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
	/* Instantiates the module with no NF context bound yet. NULL on failure. */
	struct nfp_sfi_env *(*create)(const struct nfp_iso_services *svc);
	void (*destroy)(struct nfp_sfi_env *env);
	/*
	 * The linear memory (fixed size: it never grows or moves) and, in `*reserved`, the bytes of
	 * address space from its start that belong to this instance: the memory plus the guard
	 * region behind it when the module was built with guard pages instead of explicit bounds
	 * checks (then an access past the memory faults there, and the runtime's signal handler calls
	 * `trap`); equal to the size otherwise.
	 */
	uint8_t *(*memory)(struct nfp_sfi_env *env, uint32_t *size, uint64_t *reserved);
	/*
	 * Binds context id `id` (< NFP_SFI_MAX_CTXS) to the runtime's context `ctx` (NULL: unbind),
	 * whose guest view (struct nfp_sfi_ctx) is at linear-memory offset `guest`: a service call
	 * naming any other address as its context is a fault.
	 */
	int32_t (*bind)(struct nfp_sfi_env *env, uint32_t id, void *ctx, uint32_t guest);
	/*
	 * Calls guest function `fn` with up to five arguments under a cycle budget (0: none).
	 * Returns 0 and the result in `*ret`, or -enum nfp_sfi_fault. Not reentrant per env.
	 */
	int32_t (*call)(struct nfp_sfi_env *env, uint32_t fn, const uint32_t args[5], uint64_t budget_cycles,
			uint32_t *ret);
	/*
	 * Ends the call in progress on this thread with fault `code` (never returns). For the
	 * runtime's SIGSEGV handler, when a guard-page module's access lands in its guard region.
	 */
	void (*trap)(struct nfp_sfi_env *env, int32_t code);
};

#ifdef __cplusplus
}
#endif

#endif /* NFP_ISO_ABI_H */
