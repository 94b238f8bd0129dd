// What the isolation backends share: fault reports, budgets, and the services table.
#include "iso.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iso_abi.h"

int nfp_iso_is_ours(const struct nfp_domain *d)
{
	return d != NULL && (d->ops == &nfp_domain_sfi_ops || d->ops == &nfp_domain_mpk_ops ||
			     d->ops == &nfp_domain_process_ops);
}

const char *nfp_iso_fault(const struct nfp_domain *d)
{
	return nfp_iso_is_ours(d) ? ((const struct nfp_iso_domain *)d->priv)->fault : "";
}

void nfp_iso_set_budget(struct nfp_domain *d, uint64_t cycles)
{
	if (nfp_iso_is_ours(d))
		((struct nfp_iso_domain *)d->priv)->budget_cycles = cycles;
}

static void svc_log(void *ctx, int level, const char *msg, uint32_t len)
{
	char line[257];
	if (len > 256)
		len = 256;
	memcpy(line, msg, len);
	line[len] = '\0';
	nfp_log((nfp_ctx *)ctx, level, line);
}

static uint32_t svc_key_bytes(void *ctx, uint32_t table)
{
	auto *c = (struct nfp_ctx *)ctx;
	return table < c->n_tables ? c->tables[table].key_bytes : 0;
}

static int32_t svc_lookup(void *c, uint32_t t, const void *k) { return nfp_table_lookup((nfp_ctx *)c, t, k); }
static int32_t svc_add(void *c, uint32_t t, const void *k) { return nfp_table_add((nfp_ctx *)c, t, k); }
static int32_t svc_del(void *c, uint32_t t, const void *k) { return nfp_table_del((nfp_ctx *)c, t, k); }
static void *svc_value(void *c, uint32_t t, int32_t s) { return nfp_table_value((nfp_ctx *)c, t, s); }
static void svc_counter(void *c, uint32_t i, uint64_t n) { nfp_counter_add((nfp_ctx *)c, i, n); }
static uint64_t svc_now(void *c) { return nfp_now_ns((nfp_ctx *)c); }
static int32_t svc_bulk(void *c, uint32_t t, const void *const *k, uint32_t n, int32_t *s)
{
	return nfp_table_lookup_bulk((nfp_ctx *)c, t, k, n, s);
}

static int32_t svc_meter_create(void *c, uint64_t cir, uint32_t cbs, uint32_t ebs, uint32_t count)
{
	return nfp_meter_create((nfp_ctx *)c, cir, cbs, ebs, count);
}
static int32_t svc_meter_color(void *c, int32_t m, uint32_t i, uint32_t len)
{
	return nfp_meter_color((nfp_ctx *)c, m, i, len);
}
static int32_t svc_meter_reset(void *c, int32_t m, uint32_t i) { return nfp_meter_reset((nfp_ctx *)c, m, i); }

extern "C" const struct nfp_iso_services nfp_iso_services_native = {
	svc_lookup, svc_add, svc_del, svc_value, svc_key_bytes, svc_counter, svc_now, svc_log, svc_bulk,
	svc_meter_create, svc_meter_color, svc_meter_reset,
};

int nfp_iso_process_chain(struct nfp_domain *d, const uint32_t *slots, uint32_t n, struct nfp_batch *batch,
			  uint64_t now_ns, uint8_t *hop)
{
	if (d->ops == &nfp_domain_sfi_ops)
		return nfp_sfi_process_chain(d, slots, n, batch, now_ns, hop);
	if (d->ops == &nfp_domain_mpk_ops)
		return nfp_mpk_process_chain(d, slots, n, batch, now_ns, hop);
	if (d->ops == &nfp_domain_process_ops)
		return nfp_proc_process_chain(d, slots, n, batch, now_ns, hop);
	return -ENOTSUP;
}
