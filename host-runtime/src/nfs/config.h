/*
 * Config helpers shared by the built-in NFs: parse the JSON once in init, report a precise
 * error through nfp_log, and read the common shapes of partitioner/nf-config.ts.
 */
#ifndef NFP_NFS_CONFIG_H
#define NFP_NFS_CONFIG_H

#include <stdint.h>

#include "json.h"
#include "nfp/nf.h"

/* A parsed config: tokens are malloc'ed in init (never per packet) and freed by nfp_cfg_free. */
struct nfp_cfg {
	struct nfp_json json;
	nfp_ctx *ctx;
	const char *nf;
};

/* Parses `config`; on failure logs "<nf>: <why>" and returns -EINVAL. */
int nfp_cfg_parse(struct nfp_cfg *c, nfp_ctx *ctx, const char *nf, const char *config, uint32_t len);
void nfp_cfg_free(struct nfp_cfg *c);

/* Logs "<nf>: config.<key>: <why>" and returns -EINVAL, for `return nfp_cfg_error(...)`. */
int nfp_cfg_error(struct nfp_cfg *c, const char *key, const char *why);

/* Required number in [lo, hi]; returns 0 or logs and returns -EINVAL. */
int nfp_cfg_uint(struct nfp_cfg *c, int obj, const char *key, double lo, double hi, uint32_t *out);
/* Optional boolean (absent: dflt). */
int nfp_cfg_bool(struct nfp_cfg *c, int obj, const char *key, int dflt, int *out);
/* Required IPv4 address text, host order. */
int nfp_cfg_ipv4(struct nfp_cfg *c, int obj, const char *key, uint32_t *out);

/* A HeaderMatch (partitioner/nf-config.ts), IPv4 view; `never` is set for an IPv6 prefix. */
struct nfp_match {
	int proto;        /* -1: any */
	uint32_t src, src_len, dst, dst_len; /* host order; len 0: any */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	int dscp, vlan; /* -1: any */
	int never;
};

int nfp_cfg_match(struct nfp_cfg *c, int obj, const char *key, struct nfp_match *m);

#endif
