/* Config helpers shared by the built-in NFs (init time only). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nfp_cfg_parse(struct nfp_cfg *c, nfp_ctx *ctx, const char *nf, const char *config, uint32_t len)
{
	c->ctx = ctx;
	c->nf = nf;
	uint32_t cap = len / 2 + 8;
	struct nfp_json_tok *toks = calloc(cap, sizeof(*toks));
	if (toks == NULL) {
		nfp_log(ctx, NFP_LOG_ERR, "out of memory parsing the config");
		return -ENOMEM;
	}
	if (nfp_json_parse(&c->json, config, len, toks, cap) < 0 || c->json.toks[0].type != NFP_JSON_OBJECT) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s: %s", nf, c->json.error[0] ? c->json.error : "config must be a JSON object");
		nfp_log(ctx, NFP_LOG_ERR, msg);
		free(toks);
		c->json.toks = NULL;
		return -EINVAL;
	}
	return 0;
}

void nfp_cfg_free(struct nfp_cfg *c)
{
	free(c->json.toks);
	c->json.toks = NULL;
}

int nfp_cfg_error(struct nfp_cfg *c, const char *key, const char *why)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "%s: config.%s: %s", c->nf, key, why);
	nfp_log(c->ctx, NFP_LOG_ERR, msg);
	return -EINVAL;
}

int nfp_cfg_uint(struct nfp_cfg *c, int obj, const char *key, double lo, double hi, uint32_t *out)
{
	double v;
	if (nfp_json_number(&c->json, nfp_json_get(&c->json, obj, key), &v) < 0)
		return nfp_cfg_error(c, key, "expected a number");
	if (v < lo || v > hi || v != (double)(uint64_t)v) {
		char why[96];
		snprintf(why, sizeof(why), "expected an integer in %.0f..%.0f, got %g", lo, hi, v);
		return nfp_cfg_error(c, key, why);
	}
	*out = (uint32_t)v;
	return 0;
}

int nfp_cfg_bool(struct nfp_cfg *c, int obj, const char *key, int dflt, int *out)
{
	int t = nfp_json_get(&c->json, obj, key);
	if (t < 0) {
		*out = dflt;
		return 0;
	}
	if (nfp_json_bool(&c->json, t, out) < 0)
		return nfp_cfg_error(c, key, "expected true or false");
	return 0;
}

int nfp_cfg_ipv4(struct nfp_cfg *c, int obj, const char *key, uint32_t *out)
{
	char buf[64];
	if (nfp_json_string(&c->json, nfp_json_get(&c->json, obj, key), buf, sizeof(buf)) < 0)
		return nfp_cfg_error(c, key, "expected an IPv4 address string");
	if (nfp_parse_ipv4(buf, out) < 0)
		return nfp_cfg_error(c, key, "not an IPv4 address (a.b.c.d)");
	return 0;
}

static int cfg_prefix(struct nfp_cfg *c, int m, const char *key, uint32_t *addr, uint32_t *len, int *never)
{
	int t = nfp_json_get(&c->json, m, key);
	if (t < 0)
		return 0;
	uint32_t fam;
	if (nfp_cfg_uint(c, t, "family", 4, 6, &fam) < 0 || (fam != 4 && fam != 6))
		return nfp_cfg_error(c, key, "family must be 4 or 6");
	if (fam == 6) {
		*never = 1; /* an IPv6 prefix never matches the IPv4 packets these NFs handle */
		return 0;
	}
	if (nfp_cfg_ipv4(c, t, "addr", addr) < 0 || nfp_cfg_uint(c, t, "len", 0, 32, len) < 0)
		return -EINVAL;
	if (*len < 32)
		*addr &= *len ? ~((1u << (32 - *len)) - 1) : 0;
	return 0;
}

static int cfg_range(struct nfp_cfg *c, int m, const char *key, uint16_t *lo, uint16_t *hi)
{
	int t = nfp_json_get(&c->json, m, key);
	*lo = 0;
	*hi = 65535;
	if (t < 0)
		return 0;
	uint32_t a, b;
	if (nfp_cfg_uint(c, t, "lo", 0, 65535, &a) < 0 || nfp_cfg_uint(c, t, "hi", 0, 65535, &b) < 0)
		return -EINVAL;
	if (a > b)
		return nfp_cfg_error(c, key, "lo is greater than hi");
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int nfp_cfg_match(struct nfp_cfg *c, int obj, const char *key, struct nfp_match *m)
{
	memset(m, 0, sizeof(*m));
	m->proto = m->dscp = m->vlan = -1;
	int t = nfp_json_get(&c->json, obj, key);
	if (t < 0)
		return 0;
	if (c->json.toks[t].type != NFP_JSON_OBJECT)
		return nfp_cfg_error(c, key, "expected an object");
	uint32_t v;
	if (nfp_json_get(&c->json, t, "proto") >= 0) {
		if (nfp_cfg_uint(c, t, "proto", 0, 255, &v) < 0)
			return -EINVAL;
		m->proto = (int)v;
	}
	if (nfp_json_get(&c->json, t, "dscp") >= 0) {
		if (nfp_cfg_uint(c, t, "dscp", 0, 63, &v) < 0)
			return -EINVAL;
		m->dscp = (int)v;
	}
	if (nfp_json_get(&c->json, t, "vlan") >= 0) {
		if (nfp_cfg_uint(c, t, "vlan", 0, 4095, &v) < 0)
			return -EINVAL;
		m->vlan = (int)v;
	}
	if (cfg_prefix(c, t, "srcPrefix", &m->src, &m->src_len, &m->never) < 0 ||
	    cfg_prefix(c, t, "dstPrefix", &m->dst, &m->dst_len, &m->never) < 0 ||
	    cfg_range(c, t, "srcPort", &m->sport_lo, &m->sport_hi) < 0 ||
	    cfg_range(c, t, "dstPort", &m->dport_lo, &m->dport_hi) < 0)
		return -EINVAL;
	return 0;
}
