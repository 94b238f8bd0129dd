// Loading native NF modules (nf-build --backend native) for the mpk and process backends.
#ifndef NFP_ISO_NATIVE_H
#define NFP_ISO_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include <string>

#include "iso_abi.h"

namespace nfp {

struct NativeNf {
	void *dl = nullptr;
	const struct nfp_native_module *mod = nullptr;
	const struct nfp_nf_descriptor *desc = nullptr;
};

// Opens "module.so" or "module.so#k" and picks NF k. Returns 0, or a negative errno and `err`.
int native_open(const char *artifact, NativeNf *out, char *err, size_t errlen);
void native_close(NativeNf *nf);

} // namespace nfp

#endif
