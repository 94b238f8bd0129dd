/* Lookup of the built-in NFs by type name. */
#include <string.h>

#include "builtin.h"

const struct nfp_nf_descriptor *nfp_builtin_find(const char *type)
{
	static const struct {
		const char *type;
		const struct nfp_nf_descriptor *desc;
	} table[] = {
		{"firewall", &nfp_nf_builtin_firewall},
		{"nat", &nfp_nf_builtin_nat},
		{"loadbalancer", &nfp_nf_builtin_loadbalancer},
		{"ids", &nfp_nf_builtin_ids},
		{"ratelimiter", &nfp_nf_builtin_ratelimiter},
		{"monitor", &nfp_nf_builtin_monitor},
		{"macswap", &nfp_nf_builtin_macswap},
		{"vlan", &nfp_nf_builtin_vlan},
		{"marker", &nfp_nf_builtin_marker},
		{"encap", &nfp_nf_builtin_encap},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].type, type) == 0)
			return table[i].desc;
	return NULL;
}
