/*
 * Host side of a native module (backends `none`, `mpk`, `process`): the NFs are compiled
 * natively and reach runtime services through the table the runtime binds at load time.
 */
#include "iso_abi.h"

#define EXPORTED __attribute__((visibility("default")))

extern const struct nfp_nf_descriptor *const nfp_module_nfs[];

static const struct nfp_iso_services *svc;

static void bind(const struct nfp_iso_services *s) { svc = s; }

int32_t nfp_table_lookup(nfp_ctx *ctx, uint32_t table, const void *key) { return svc->table_lookup(ctx, table, key); }
int32_t nfp_table_lookup_bulk(nfp_ctx *ctx, uint32_t table, const void *const *keys, uint32_t n, int32_t *slots)
{
	return svc->table_lookup_bulk(ctx, table, keys, n, slots);
}
int32_t nfp_table_add(nfp_ctx *ctx, uint32_t table, const void *key) { return svc->table_add(ctx, table, key); }
int32_t nfp_table_del(nfp_ctx *ctx, uint32_t table, const void *key) { return svc->table_del(ctx, table, key); }
void *nfp_table_value(nfp_ctx *ctx, uint32_t table, int32_t slot) { return svc->table_value(ctx, table, slot); }
void nfp_counter_add(nfp_ctx *ctx, uint32_t counter, uint64_t n) { svc->counter_add(ctx, counter, n); }
uint64_t nfp_now_ns(nfp_ctx *ctx) { return svc->now_ns(ctx); }
int32_t nfp_meter_create(nfp_ctx *ctx, uint64_t cir_bytes_per_s, uint32_t cbs_bytes, uint32_t ebs_bytes, uint32_t count)
{
	return svc->meter_create(ctx, cir_bytes_per_s, cbs_bytes, ebs_bytes, count);
}
int32_t nfp_meter_color(nfp_ctx *ctx, int32_t meter, uint32_t index, uint32_t pkt_len)
{
	return svc->meter_color(ctx, meter, index, pkt_len);
}
int32_t nfp_meter_reset(nfp_ctx *ctx, int32_t meter, uint32_t index) { return svc->meter_reset(ctx, meter, index); }

void nfp_log(nfp_ctx *ctx, int level, const char *msg)
{
	uint32_t len = 0;
	while (len < 256 && msg[len] != '\0')
		len++;
	svc->log(ctx, level, msg, len);
}

EXPORTED const struct nfp_native_module nfp_native_module_v1 = {
	.abi_version = NFP_ISO_ABI_VERSION,
	.n_nfs = NFP_MODULE_N_NFS,
	.nfs = nfp_module_nfs,
	.bind = bind,
};
