/*
 * The isolation-domain seam. Each tenant's NFs run in one domain per worker; the worker calls NFs
 * only through the backend's ops table, chosen once at load time, never per packet.
 *
 * Backends: `none` (trusted, direct calls; domain.cc) is built in. The isolation helper registers
 * `sfi`, `mpk` and `process` from host-runtime/src/isolation/ through nfp_domain_backend_register.
 *
 * Thread-safety: registration and create/load/unload/destroy run on the control thread while no
 * worker runs; `process` runs on exactly one worker lcore per domain.
 */
#ifndef NFP_DOMAIN_H
#define NFP_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include "nfp/nf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NFP_DOMAIN_MAX_BACKENDS 8u
#define NFP_DOMAIN_MAX_NFS 64u /* NF slots per domain */
#define NFP_NF_MAX_COUNTERS 8u

/*
 * How a domain's NFs reach packets (per tenant, `packetAccess` in the graph):
 *   SHARED: the tenant's packets live in the domain's own memory (nfp_domain_ops.packet_memory)
 *     and NFs work on them in place; they may read every byte of their own tenant's packets, and
 *     a change to a byte outside their writable regions is caught against a saved copy of those
 *     bytes (a fault). A packet that is not in the domain's memory is copied in whole.
 *   WINDOWS: packets stay outside the domain; per call each is copied into a window holding only
 *     the regions the NF declares readable (the rest zero), and only writable regions come back.
 * Either way no NF reaches another tenant's packets.
 */
enum nfp_packet_access {
	NFP_PACKET_ACCESS_SHARED = 0,
	NFP_PACKET_ACCESS_WINDOWS = 1,
};

/* What a backend needs to create a domain. */
struct nfp_domain_params {
	uint16_t tenant;
	uint32_t worker;        /* worker index; a domain is used by this worker only */
	int socket_id;          /* NUMA socket for domain memory */
	uint32_t packet_access; /* enum nfp_packet_access */
};

/* Base of every domain; a backend embeds it first in its own struct (or points `priv` at it). */
struct nfp_domain {
	const struct nfp_domain_ops *ops;
	struct nfp_domain_params params;
	void *priv; /* backend-private */
};

struct nfp_domain_ops {
	const char *name; /* "none", "sfi", "mpk", "process" */
	/* Creates a domain. Returns NULL and fills `err` on failure. */
	struct nfp_domain *(*create)(const struct nfp_domain_params *params, char *err, size_t errlen);
	/*
	 * Loads one NF instance: a built-in descriptor, or an artifact path (backend-specific, e.g. a
	 * wasm2c shared object for sfi). Calls the NF's init with `config`.
	 * Returns 0 and sets `*nf_slot`, or a negative errno-style code and fills `err`.
	 */
	int (*load)(struct nfp_domain *d, const struct nfp_nf_descriptor *builtin_or_null,
		    const char *artifact_path_or_null, const char *config, uint32_t config_len,
		    uint32_t *nf_slot, char *err, size_t errlen);
	/* The loaded NF's manifest (verdict and drop-reason names); NULL for a bad slot. */
	const struct nfp_nf_manifest *(*manifest)(struct nfp_domain *d, uint32_t nf_slot);
	/*
	 * Runs one batch. `now_ns` is the worker's clock for this batch (nfp_now_ns).
	 * Returns 0, or < 0 for a fault: the worker then quarantines the domain's tenant and drops
	 * the batch with reason `quarantined`.
	 */
	int (*process)(struct nfp_domain *d, uint32_t nf_slot, struct nfp_batch *batch, uint64_t now_ns);
	/* Copies the NF's counters (NFP_NF_MAX_COUNTERS values) into `out`; may be NULL. */
	void (*counters)(struct nfp_domain *d, uint32_t nf_slot, uint64_t *out);
	void (*unload)(struct nfp_domain *d, uint32_t nf_slot);
	void (*destroy)(struct nfp_domain *d);
	/*
	 * Memory for the tenant's packet buffers inside the domain (zero-copy, access SHARED): `bytes`
	 * bytes, 64-byte aligned, that this domain's NFs reach and no other domain does. Call after
	 * the NFs are loaded; the memory lives as long as the domain. Returns NULL and fills `err` when
	 * the backend has none to give (access WINDOWS, no memory left): the tenant's packets then stay
	 * outside and are copied in per call. May be NULL (the `none` backend: trusted NFs reach
	 * packets wherever they are).
	 */
	void *(*packet_memory)(struct nfp_domain *d, size_t bytes, char *err, size_t errlen);
	/*
	 * Lets the calling thread (a worker, before its first burst) reach the domain's packet memory
	 * outside calls into the domain, to classify and transmit the tenant's packets (mpk: opens the
	 * domain's protection key on this thread). May be NULL.
	 */
	void (*attach_thread)(struct nfp_domain *d);
	/*
	 * Runs the NF slots `slots[0..n-1]` (n <= NFP_DOMAIN_MAX_CHAIN) as a chain on `batch` with one
	 * entry into the domain: verdicts apply between NFs (a packet one NF does not pass goes no
	 * further). `hop[i]` receives the index within the chain of the NF that decided packet i (n
	 * when every NF passed it). Returns 0; < 0 for a fault (as `process`); -EINVAL, before doing
	 * anything, for slots that cannot run as one chain (the worker then calls them one by one).
	 * May be NULL (one entry per NF).
	 */
	int (*process_chain)(struct nfp_domain *d, const uint32_t *slots, uint32_t n, struct nfp_batch *batch,
			     uint64_t now_ns, uint8_t *hop);
	/* Why the last failing call failed (names the NF), "" when unknown. May be NULL. */
	const char *(*fault)(const struct nfp_domain *d);
};

/* The longest chain process_chain takes. */
#define NFP_DOMAIN_MAX_CHAIN 16u

/* Registers a backend. Returns 0, -EEXIST for a duplicate name, -ENOSPC when full. */
int nfp_domain_backend_register(const struct nfp_domain_ops *ops);

/* Looks a backend up by name; NULL when absent. */
const struct nfp_domain_ops *nfp_domain_backend_find(const char *name);

/* Names of the registered backends, for error messages; returns the count written. */
uint32_t nfp_domain_backend_names(const char **out, uint32_t max);

/* The built-in trusted backend. */
extern const struct nfp_domain_ops nfp_domain_none_ops;

/*
 * Native NF modules for the `none` backend (a tenant's own NF that it trusts, called directly):
 * the isolation layer provides the loader at start-up (isolation/native.cc); without it `none`
 * runs built-in NFs only. `open` returns the descriptor of "module.so" or "module.so#k" and a
 * handle for `close`, or NULL and fills `err`. Control thread.
 */
struct nfp_native_loader {
	const struct nfp_nf_descriptor *(*open)(const char *artifact, void **handle, char *err, size_t errlen);
	void (*close)(void *handle);
};
void nfp_domain_set_native_loader(const struct nfp_native_loader *loader);

#ifdef __cplusplus
}
#endif

#endif /* NFP_DOMAIN_H */
