/* Lookup of the built-in NFs by type name. */
#include <string.h>

#include "builtin.h"

const struct nfp_nf_descriptor *nfp_builtin_find(const char *type)
{
	static const struct {
		const char *type;
		const struct nfp_nf_descriptor *desc;
	} table[] = {
		{"macswap", &nfp_nf_builtin_macswap},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].type, type) == 0)
			return table[i].desc;
	return NULL;
}
