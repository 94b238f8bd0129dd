/*
 * The built-in NFs. Each is an ordinary NF against the ABI in one C file; inside the addon its
 * descriptor is named nfp_nf_builtin_<type>, and compiled alone (-DNFP_NF_STANDALONE) it exports
 * the ABI's one symbol, nfp_nf_v1.
 */
#ifndef NFP_NFS_BUILTIN_H
#define NFP_NFS_BUILTIN_H

#include "nfp/nf.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef NFP_NF_STANDALONE
#define NFP_BUILTIN_DESCRIPTOR(type) const struct nfp_nf_descriptor NFP_NF_SYMBOL
#else
#define NFP_BUILTIN_DESCRIPTOR(type) const struct nfp_nf_descriptor nfp_nf_builtin_##type
#endif

extern const struct nfp_nf_descriptor nfp_nf_builtin_firewall;
extern const struct nfp_nf_descriptor nfp_nf_builtin_nat;
extern const struct nfp_nf_descriptor nfp_nf_builtin_loadbalancer;
extern const struct nfp_nf_descriptor nfp_nf_builtin_ids;
extern const struct nfp_nf_descriptor nfp_nf_builtin_ratelimiter;
extern const struct nfp_nf_descriptor nfp_nf_builtin_monitor;
extern const struct nfp_nf_descriptor nfp_nf_builtin_macswap;
extern const struct nfp_nf_descriptor nfp_nf_builtin_vlan;
extern const struct nfp_nf_descriptor nfp_nf_builtin_marker;
extern const struct nfp_nf_descriptor nfp_nf_builtin_encap;

/* The built-in descriptor for an NF type name ("firewall", ...); NULL when there is none. */
const struct nfp_nf_descriptor *nfp_builtin_find(const char *type);

#ifdef __cplusplus
}
#endif

#endif
