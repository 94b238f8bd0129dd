/*
 * nfp NF ABI, version 1.
 *
 * Changes (compatible, still version 1):
 *   - nfp_table_lookup_bulk: several keys in one call, so the runtime can pipeline the lookups.
 *   - Front adjustment: an NF may grow or shrink a packet at its front (a VLAN push or pop) by
 *     moving `data` and `len` of its struct nfp_pkt, within NFP_PKT_HEADROOM (see there). NFs
 *     that never touch `data` or `len` are unaffected.
 *   - Meters: nfp_meter_create / nfp_meter_color / nfp_meter_reset, srTCM meters (RFC 2697)
 *     held by the runtime (DPDK's rte_meter), so a policer builds for every backend, sfi included.
 *
 * The contract between the host runtime and a network function (NF). An NF is a C module that
 * exports exactly one symbol, `nfp_nf_v1` (a `struct nfp_nf_descriptor`). The runtime calls
 * `init` once per NF instance, `process` once per batch on a worker lcore, and `fini` once.
 *
 * Ownership: the runtime owns every packet. `process` never frees or forwards a packet; it writes
 * one verdict per packet into `batch->verdicts` and the runtime forwards or frees it.
 *
 * Memory: an NF never allocates on the per-packet path. Persistent state is requested in the
 * manifest (`state_bytes`, `tables`) and allocated by the runtime inside the NF's isolation
 * domain, which lets the runtime account for it, snapshot it and restore it.
 *
 * The same source builds for every isolation backend: natively (`none`, `mpk`, `process`) or to
 * wasm32 and back to C through wasm2c (`sfi`). Runtime services are therefore plain extern
 * functions (wasm imports under `sfi`), never function pointers handed to the NF.
 */
#ifndef NFP_NF_H
#define NFP_NF_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NFP_NF_ABI_VERSION 1u

/* Limits that keep the manifest static and the per-packet path allocation-free. */
#define NFP_NF_MAX_BATCH 256u
#define NFP_NF_MAX_TABLES 4u
#define NFP_NF_MAX_VERDICTS 8u
#define NFP_NF_NAME_MAX 32u

/* Packet regions, as a bit set. An NF sees and may change only what its manifest declares. */
enum nfp_region {
	NFP_REGION_L2 = 1u << 0,      /* Ethernet + VLAN tags */
	NFP_REGION_L3 = 1u << 1,      /* IPv4/IPv6 header */
	NFP_REGION_L4 = 1u << 2,      /* TCP/UDP/ICMP header */
	NFP_REGION_PAYLOAD = 1u << 3, /* bytes after the L4 header */
};

/*
 * Verdicts. A dynamic verdict `i` (0-based index into the manifest's `verdicts`) is
 * NFP_VERDICT_BRANCH + i. A drop carries a reason code (index into `drop_reasons`).
 */
enum nfp_verdict {
	NFP_VERDICT_PASS = 0,
	NFP_VERDICT_DROP = 1,
	NFP_VERDICT_BRANCH = 16,
};

/* A flow-state table the NF asks the runtime for (backed by rte_hash under `none`). */
struct nfp_table_spec {
	char name[NFP_NF_NAME_MAX];
	uint32_t key_bytes;   /* fixed key size */
	uint32_t value_bytes; /* fixed value size, stored in domain memory */
	uint32_t max_entries; /* upper bound; `init` may lower it through config */
};

/* What an NF is, declared statically. */
struct nfp_nf_manifest {
	uint32_t abi_version; /* NFP_NF_ABI_VERSION */
	char name[NFP_NF_NAME_MAX];
	char version[16];
	uint32_t reads;  /* enum nfp_region bits */
	uint32_t writes; /* enum nfp_region bits; implies reads */
	uint32_t state_bytes; /* private state, zeroed, handed to every call */
	uint32_t n_tables;
	struct nfp_table_spec tables[NFP_NF_MAX_TABLES];
	uint32_t n_verdicts;
	char verdicts[NFP_NF_MAX_VERDICTS][NFP_NF_NAME_MAX];
	uint32_t n_drop_reasons;
	char drop_reasons[NFP_NF_MAX_VERDICTS][NFP_NF_NAME_MAX];
};

/*
 * One packet as an NF sees it. Offsets are from `data`; an offset of 0xffff means the header is
 * absent (non-IP packet, truncated, unknown L4). `data` points at the Ethernet header.
 */
struct nfp_pkt {
	uint8_t *data;
	uint16_t len;
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t payload_off;
	uint32_t flow_hash; /* symmetric 5-tuple hash computed by the runtime, 0 for non-IP */
	uint16_t tenant;
	uint16_t path; /* NSH SPI */
};

#define NFP_OFF_NONE 0xffffu

/*
 * Front adjustment. Every packet handed to `process` has at least NFP_PKT_HEADROOM writable bytes
 * in front of `data`. An NF whose manifest writes NFP_REGION_L2 may, during `process`, move `data`
 * back by up to NFP_PKT_HEADROOM bytes (to insert a header: the bytes in front are its to fill) or
 * forward by up to the length of the L2 region (to remove one), changing `len` by the same amount:
 * the end of the packet never moves, and what was added or removed counts as L2. It does not
 * update the header offsets; the runtime shifts them before the next NF runs. A packet whose
 * `data` and `len` break these rules is dropped as `bad-verdict` (backend `none`) or faults the
 * NF's isolation domain (the sandboxed backends), like any other access outside its rights.
 */
#define NFP_PKT_HEADROOM 64u

struct nfp_batch {
	uint32_t count;
	struct nfp_pkt *pkts;
	uint8_t *verdicts;     /* out: one enum nfp_verdict value per packet */
	uint8_t *drop_reasons; /* out: reason index when the verdict is DROP */
};

/* Opaque handle through which an NF reaches its own runtime services, and nothing else. */
typedef struct nfp_ctx nfp_ctx;

struct nfp_nf_descriptor {
	struct nfp_nf_manifest manifest;
	/*
	 * Called once, before any batch. `config` is the NF's JSON config (NUL-terminated),
	 * `state` is `manifest.state_bytes` of zeroed domain memory.
	 * Returns 0, or a negative errno-style code; `nfp_log` explains it.
	 */
	int (*init)(nfp_ctx *ctx, void *state, const char *config, uint32_t config_len);
	/* Called per batch on one worker; never concurrently for one instance. Must not allocate. */
	void (*process)(nfp_ctx *ctx, void *state, struct nfp_batch *batch);
	/* Called once; frees nothing the runtime allocated. May be NULL. */
	void (*fini)(nfp_ctx *ctx, void *state);
};

/* The one symbol every NF exports. */
#define NFP_NF_SYMBOL nfp_nf_v1

/* ---- Runtime services. Thread-safety: callable only from within this NF's own callbacks. ---- */

/*
 * Look up `key` (manifest-declared size) in table `table`.
 * Returns the value's slot (>= 0), or -ENOENT (-2) when absent, -EINVAL (-22) for a bad table.
 */
int32_t nfp_table_lookup(nfp_ctx *ctx, uint32_t table, const void *key);

/*
 * Look up `n` keys (n <= NFP_NF_MAX_BATCH) of table `table` at once; `slots[i]` receives the
 * slot of `keys[i]` or -ENOENT. Returns how many were found, or -EINVAL for a bad table or n.
 */
int32_t nfp_table_lookup_bulk(nfp_ctx *ctx, uint32_t table, const void *const *keys, uint32_t n, int32_t *slots);

/*
 * Insert `key` if absent. Returns its slot (>= 0), -ENOSPC (-28) when the table is full,
 * -EINVAL for a bad table. The value of a new slot is zeroed.
 */
int32_t nfp_table_add(nfp_ctx *ctx, uint32_t table, const void *key);

/* Remove `key`. Returns 0, -ENOENT or -EINVAL. */
int32_t nfp_table_del(nfp_ctx *ctx, uint32_t table, const void *key);

/* The value storage of `slot`, in domain memory; NULL for a bad table or slot. */
void *nfp_table_value(nfp_ctx *ctx, uint32_t table, int32_t slot);

/* Adds `n` to the NF's counter `counter` (0..7), exported in stats. */
void nfp_counter_add(nfp_ctx *ctx, uint32_t counter, uint64_t n);

/* Monotonic nanoseconds, read once per batch by the runtime (cheap). */
uint64_t nfp_now_ns(nfp_ctx *ctx);

/* Rate-limited log line (at most a few per second per NF); `msg` is copied. */
void nfp_log(nfp_ctx *ctx, int level, const char *msg);

/*
 * Meters: single-rate three-colour markers (srTCM, RFC 2697, colour-blind), run by the runtime with
 * DPDK's rte_meter and held outside the NF's memory, so the same NF builds natively and for sfi.
 *
 * nfp_meter_create, from `init` only (it allocates): a set of `count` meters (1..NFP_METER_MAX_COUNT)
 * sharing one profile, committed rate `cir_bytes_per_s` (CIR), committed burst `cbs_bytes` (CBS)
 * and excess burst `ebs_bytes` (EBS; 0: no yellow, packets are green or red). Every meter starts
 * fresh: both buckets full at its first packet. At most NFP_NF_MAX_METER_SETS sets per NF
 * instance; they are freed with it. Returns a handle (>= 0), -EINVAL (-22) for a bad rate, burst or
 * count, -ENOSPC (-28) when the NF has all its sets, -ENOMEM (-12).
 *
 * nfp_meter_color: meters a packet of `pkt_len` bytes on meter `index` of set `meter` at the NF's
 * clock (nfp_now_ns) and returns its colour, enum nfp_meter_color. Per packet: no allocation.
 * nfp_meter_reset: makes meter `index` fresh again (for a new flow in a reused table slot).
 * Both return -EINVAL for a handle or index this NF does not own; under `sfi` and `process` that
 * is a fault of the NF's domain instead (the tenant is quarantined), as a bad pointer is.
 *
 * Meters are runtime state, not NF state: snapshots do not carry them, and a restore or a hot
 * reload with state starts every meter of the NF fresh.
 */
enum nfp_meter_color {
	NFP_METER_GREEN = 0,
	NFP_METER_YELLOW = 1,
	NFP_METER_RED = 2,
};

#define NFP_NF_MAX_METER_SETS 4u
#define NFP_METER_MAX_COUNT (1u << 20)

int32_t nfp_meter_create(nfp_ctx *ctx, uint64_t cir_bytes_per_s, uint32_t cbs_bytes, uint32_t ebs_bytes,
			 uint32_t count);
int32_t nfp_meter_color(nfp_ctx *ctx, int32_t meter, uint32_t index, uint32_t pkt_len);
int32_t nfp_meter_reset(nfp_ctx *ctx, int32_t meter, uint32_t index);

#define NFP_LOG_ERR 3
#define NFP_LOG_WARN 4
#define NFP_LOG_INFO 6

#ifdef __cplusplus
}
#endif

#endif /* NFP_NF_H */
