// Runtime services of the NF ABI over DPDK: rte_hash flow tables, rte_meter meters, counters,
// clock, logging.
#include "services.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <atomic>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_meter.h>

#include "log.h"

// One nfp_meter_create: a profile and `count` meters behind it. A meter whose `time` is 0 is fresh:
// its first packet fills both buckets at that packet's time (nfp_meter_set_color).
struct nfp_meter_set {
	struct rte_meter_srtcm_profile profile;
	double cycles_per_ns; // the NF clock is in ns; rte_meter counts TSC cycles
	uint32_t count;
	alignas(8) struct rte_meter_srtcm meters[1];
};

static std::atomic<uint32_t> g_table_seq{0};

size_t nfp_ctx_value_bytes(const struct nfp_nf_manifest *m)
{
	size_t total = 0;
	for (uint32_t t = 0; t < m->n_tables && t < NFP_NF_MAX_TABLES; t++) {
		// rte_hash positions run up to the entry count; one spare slot keeps the bound simple.
		size_t slots = (size_t)m->tables[t].max_entries + 1;
		total += slots * m->tables[t].value_bytes;
	}
	return total;
}

int nfp_ctx_init(struct nfp_ctx *ctx, const char *name, const struct nfp_nf_manifest *m, int socket_id,
		 void *value_mem, char *err, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	snprintf(ctx->name, sizeof(ctx->name), "%s", name);
	ctx->socket_id = socket_id;
	if (m->n_tables > NFP_NF_MAX_TABLES) {
		snprintf(err, errlen, "%s: manifest asks for %u tables (at most %u)", name, m->n_tables,
			 NFP_NF_MAX_TABLES);
		return -EINVAL;
	}
	uint8_t *values = (uint8_t *)value_mem;
	size_t vbytes = nfp_ctx_value_bytes(m);
	if (values == NULL && vbytes > 0) {
		values = (uint8_t *)rte_zmalloc_socket("nfp_table_values", vbytes, 64, socket_id);
		if (values == NULL) {
			snprintf(err, errlen, "%s: cannot allocate %zu bytes of table memory", name, vbytes);
			return -ENOMEM;
		}
		ctx->owns_values = 1;
	}
	size_t off = 0;
	for (uint32_t t = 0; t < m->n_tables; t++) {
		const struct nfp_table_spec *s = &m->tables[t];
		if (s->key_bytes == 0 || s->max_entries < 8) {
			snprintf(err, errlen, "%s: table %s needs key_bytes > 0 and max_entries >= 8", name,
				 s->name);
			nfp_ctx_fini(ctx);
			return -EINVAL;
		}
		char hname[RTE_HASH_NAMESIZE];
		snprintf(hname, sizeof(hname), "nfp_t%u", g_table_seq.fetch_add(1));
		struct rte_hash_parameters p;
		memset(&p, 0, sizeof(p));
		p.name = hname;
		p.entries = s->max_entries;
		p.key_len = s->key_bytes;
		p.hash_func = rte_hash_crc;
		p.hash_func_init_val = 0;
		p.socket_id = socket_id;
		struct rte_hash *h = rte_hash_create(&p);
		if (h == NULL) {
			snprintf(err, errlen, "%s: cannot create table %s (%u entries): %s", name, s->name,
				 s->max_entries, rte_strerror(rte_errno));
			nfp_ctx_fini(ctx);
			return -ENOMEM;
		}
		struct nfp_svc_table *tb = &ctx->tables[t];
		tb->hash = h;
		tb->values = values + off;
		tb->key_bytes = s->key_bytes;
		tb->value_bytes = s->value_bytes;
		tb->slots = s->max_entries + 1;
		off += (size_t)tb->slots * s->value_bytes;
		ctx->n_tables = t + 1;
	}
	return 0;
}

void nfp_ctx_fini(struct nfp_ctx *ctx)
{
	uint8_t *first_values = ctx->n_tables > 0 ? ctx->tables[0].values : NULL;
	for (uint32_t t = 0; t < ctx->n_tables; t++) {
		rte_hash_free(ctx->tables[t].hash);
		ctx->tables[t].hash = NULL;
	}
	if (ctx->owns_values && first_values != NULL)
		rte_free(first_values);
	ctx->owns_values = 0;
	ctx->n_tables = 0;
	for (uint32_t i = 0; i < ctx->n_meter_sets; i++) {
		rte_free(ctx->meter_sets[i]);
		ctx->meter_sets[i] = NULL;
	}
	ctx->n_meter_sets = 0;
}

size_t nfp_meter_set_bytes(uint32_t count)
{
	return offsetof(struct nfp_meter_set, meters) + (size_t)count * sizeof(struct rte_meter_srtcm);
}

int nfp_meter_set_init(struct nfp_meter_set *set, uint64_t cir_bytes_per_s, uint32_t cbs_bytes,
		       uint32_t ebs_bytes, uint32_t count)
{
	if (count == 0 || count > NFP_METER_MAX_COUNT || cir_bytes_per_s == 0 || (cbs_bytes == 0 && ebs_bytes == 0))
		return -EINVAL;
	struct rte_meter_srtcm_params p;
	memset(&p, 0, sizeof(p));
	p.cir = cir_bytes_per_s;
	p.cbs = cbs_bytes;
	p.ebs = ebs_bytes;
	if (rte_meter_srtcm_profile_config(&set->profile, &p) != 0)
		return -EINVAL;
	set->cycles_per_ns = (double)rte_get_tsc_hz() / 1e9;
	set->count = count;
	nfp_meter_set_fresh(set);
	return 0;
}

int32_t nfp_meter_set_color(struct nfp_meter_set *set, uint32_t index, uint32_t pkt_len, uint64_t now_ns)
{
	if (index >= set->count)
		return -EINVAL;
	uint64_t now = (uint64_t)((double)now_ns * set->cycles_per_ns);
	if (now == 0)
		now = 1; // 0 marks a fresh meter
	struct rte_meter_srtcm *m = &set->meters[index];
	if (m->time == 0) {
		rte_meter_srtcm_config(m, &set->profile);
		m->time = now;
	}
	switch (rte_meter_srtcm_color_blind_check(m, &set->profile, now, pkt_len)) {
	case RTE_COLOR_GREEN:
		return NFP_METER_GREEN;
	case RTE_COLOR_YELLOW:
		return NFP_METER_YELLOW;
	default:
		return NFP_METER_RED;
	}
}

int32_t nfp_meter_set_reset(struct nfp_meter_set *set, uint32_t index)
{
	if (index >= set->count)
		return -EINVAL;
	set->meters[index].time = 0;
	return 0;
}

void nfp_meter_set_fresh(struct nfp_meter_set *set)
{
	for (uint32_t i = 0; i < set->count; i++)
		set->meters[i].time = 0;
}

void nfp_ctx_meters_fresh(struct nfp_ctx *ctx)
{
	for (uint32_t i = 0; i < ctx->n_meter_sets; i++)
		nfp_meter_set_fresh(ctx->meter_sets[i]);
}

extern "C" {

int32_t nfp_table_lookup(nfp_ctx *ctx, uint32_t table, const void *key)
{
	if (table >= ctx->n_tables)
		return -EINVAL;
	int32_t pos = rte_hash_lookup(ctx->tables[table].hash, key);
	return pos >= 0 ? pos : -ENOENT;
}

int32_t nfp_table_lookup_bulk(nfp_ctx *ctx, uint32_t table, const void *const *keys, uint32_t n, int32_t *slots)
{
	if (table >= ctx->n_tables || n > NFP_NF_MAX_BATCH)
		return -EINVAL;
	int32_t found = 0;
	for (uint32_t off = 0; off < n; off += RTE_HASH_LOOKUP_BULK_MAX) {
		uint32_t k = n - off < RTE_HASH_LOOKUP_BULK_MAX ? n - off : RTE_HASH_LOOKUP_BULK_MAX;
		if (rte_hash_lookup_bulk(ctx->tables[table].hash, (const void **)(keys + off), k, slots + off) < 0)
			return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (slots[i] >= 0)
			found++;
		else
			slots[i] = -ENOENT;
	}
	return found;
}

int32_t nfp_table_add(nfp_ctx *ctx, uint32_t table, const void *key)
{
	if (table >= ctx->n_tables)
		return -EINVAL;
	struct nfp_svc_table *tb = &ctx->tables[table];
	int32_t pos = rte_hash_lookup(tb->hash, key);
	if (pos >= 0)
		return pos;
	pos = rte_hash_add_key(tb->hash, key);
	if (pos < 0)
		return -ENOSPC;
	if ((uint32_t)pos >= tb->slots) {
		// Cannot happen for a single-writer hash; refuse rather than write out of bounds.
		rte_hash_del_key(tb->hash, key);
		return -ENOSPC;
	}
	memset(tb->values + (size_t)pos * tb->value_bytes, 0, tb->value_bytes);
	return pos;
}

int32_t nfp_table_del(nfp_ctx *ctx, uint32_t table, const void *key)
{
	if (table >= ctx->n_tables)
		return -EINVAL;
	int32_t pos = rte_hash_del_key(ctx->tables[table].hash, key);
	return pos >= 0 ? 0 : -ENOENT;
}

void *nfp_table_value(nfp_ctx *ctx, uint32_t table, int32_t slot)
{
	if (table >= ctx->n_tables || slot < 0)
		return NULL;
	struct nfp_svc_table *tb = &ctx->tables[table];
	if ((uint32_t)slot >= tb->slots)
		return NULL;
	return tb->values + (size_t)slot * tb->value_bytes;
}

void nfp_counter_add(nfp_ctx *ctx, uint32_t counter, uint64_t n)
{
	if (counter < 8)
		ctx->counters[counter] += n;
}

int32_t nfp_meter_create(nfp_ctx *ctx, uint64_t cir_bytes_per_s, uint32_t cbs_bytes, uint32_t ebs_bytes,
			 uint32_t count)
{
	if (count == 0 || count > NFP_METER_MAX_COUNT)
		return -EINVAL;
	if (ctx->n_meter_sets >= NFP_NF_MAX_METER_SETS)
		return -ENOSPC;
	auto *set = (struct nfp_meter_set *)rte_zmalloc_socket("nfp_meters", nfp_meter_set_bytes(count), 64,
							      ctx->socket_id);
	if (set == NULL)
		return -ENOMEM;
	int rc = nfp_meter_set_init(set, cir_bytes_per_s, cbs_bytes, ebs_bytes, count);
	if (rc < 0) {
		rte_free(set);
		return rc;
	}
	ctx->meter_sets[ctx->n_meter_sets] = set;
	return (int32_t)ctx->n_meter_sets++;
}

int32_t nfp_meter_color(nfp_ctx *ctx, int32_t meter, uint32_t index, uint32_t pkt_len)
{
	if (meter < 0 || (uint32_t)meter >= ctx->n_meter_sets)
		return -EINVAL;
	return nfp_meter_set_color(ctx->meter_sets[meter], index, pkt_len, nfp_now_ns(ctx));
}

int32_t nfp_meter_reset(nfp_ctx *ctx, int32_t meter, uint32_t index)
{
	if (meter < 0 || (uint32_t)meter >= ctx->n_meter_sets)
		return -EINVAL;
	return nfp_meter_set_reset(ctx->meter_sets[meter], index);
}

uint64_t nfp_now_ns(nfp_ctx *ctx)
{
	if (ctx->now_ns != 0)
		return ctx->now_ns;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void nfp_log(nfp_ctx *ctx, int level, const char *msg)
{
	if (level <= NFP_LOG_ERR)
		snprintf(ctx->last_error, sizeof(ctx->last_error), "%s", msg);
	uint64_t now = nfp_now_ns(ctx);
	if (now - ctx->log_window_ns >= 1000000000ull) {
		ctx->log_window_ns = now;
		ctx->log_in_window = 0;
	}
	if (ctx->log_in_window >= NFP_LOG_PER_SECOND) {
		ctx->log_suppressed++;
		return;
	}
	ctx->log_in_window++;
	const char *tag = level <= NFP_LOG_ERR ? "error" : level == NFP_LOG_WARN ? "warn" : "info";
	fprintf(nfp_log_stream(), "nfp %s [%s]: %s\n", tag, ctx->name, msg);
}

} // extern "C"
