/*
 * Native implementation of the NF ABI runtime services (nfp_table_*, nfp_meter_*,
 * nfp_counter_add, nfp_now_ns, nfp_log). Every backend gives each NF instance one `struct nfp_ctx`; the
 * isolation backends reuse these functions and may place table values in their own domain
 * memory (for example a wasm linear memory) through `value_mem`.
 *
 * Tables are rte_hash instances; a key's position in the hash is its slot, and its value lives at
 * `values + slot * value_bytes`. Meters are rte_meter srTCM meters in runtime memory (never in
 * the NF's domain), one set per nfp_meter_create.
 */
#ifndef NFP_SERVICES_H
#define NFP_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include "nfp/nf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_hash;
struct nfp_meter_set;

struct nfp_svc_table {
	struct rte_hash *hash;
	uint8_t *values;
	uint32_t key_bytes;
	uint32_t value_bytes;
	uint32_t slots; /* number of value slots (max key position + 1) */
};

struct nfp_ctx {
	char name[64]; /* qualified NF name, for logs */
	uint32_t n_tables;
	struct nfp_svc_table tables[NFP_NF_MAX_TABLES];
	uint64_t counters[8];
	uint64_t now_ns;
	uint64_t log_window_ns; /* start of the current one-second log window */
	uint32_t log_in_window;
	uint64_t log_suppressed;
	int owns_values; /* values were allocated by nfp_ctx_init */
	char last_error[160]; /* last NFP_LOG_ERR line, reported when init fails */
	int socket_id;
	uint32_t n_meter_sets;
	struct nfp_meter_set *meter_sets[NFP_NF_MAX_METER_SETS]; /* rte_malloc'd, freed by nfp_ctx_fini */
};

/* Bytes of value storage a manifest's tables need (for callers that provide `value_mem`). */
size_t nfp_ctx_value_bytes(const struct nfp_nf_manifest *m);

/*
 * Creates the tables of manifest `m` for one NF instance. `value_mem` (may be NULL: allocated
 * from DPDK memory) must hold nfp_ctx_value_bytes(m) zeroed bytes.
 * Returns 0, or a negative errno and fills `err`. Control thread only.
 */
int nfp_ctx_init(struct nfp_ctx *ctx, const char *name, const struct nfp_nf_manifest *m, int socket_id,
		 void *value_mem, char *err, size_t errlen);

/* Frees the tables (and values when owned). */
void nfp_ctx_fini(struct nfp_ctx *ctx);

/* Makes every meter of `ctx` fresh (full buckets at its next packet): after a state restore,
 * whose flows may land in other table slots than the meters they had. Control thread only. */
void nfp_ctx_meters_fresh(struct nfp_ctx *ctx);

/*
 * The meter core, shared with backends that keep meters in their own memory (the process
 * backend's child, which never touches DPDK memory). A set is nfp_meter_set_bytes(count) bytes.
 */
size_t nfp_meter_set_bytes(uint32_t count);
/* Configures a set in `mem` (zeroed by the caller); 0 or -EINVAL for a bad rate, burst or count. */
int nfp_meter_set_init(struct nfp_meter_set *set, uint64_t cir_bytes_per_s, uint32_t cbs_bytes,
		       uint32_t ebs_bytes, uint32_t count);
/* enum nfp_meter_color of a packet of `pkt_len` bytes at `now_ns`; -EINVAL for a bad index. */
int32_t nfp_meter_set_color(struct nfp_meter_set *set, uint32_t index, uint32_t pkt_len, uint64_t now_ns);
/* Makes meter `index` fresh; 0 or -EINVAL. */
int32_t nfp_meter_set_reset(struct nfp_meter_set *set, uint32_t index);
/* Makes every meter of the set fresh. */
void nfp_meter_set_fresh(struct nfp_meter_set *set);

/* Log sink: lines go to stderr with the NF's name, at most NFP_LOG_PER_SECOND per second. */
#define NFP_LOG_PER_SECOND 5u

#ifdef __cplusplus
}
#endif

#endif /* NFP_SERVICES_H */
