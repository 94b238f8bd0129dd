// Loading native NF modules (nf-build --backend native) for the mpk and process backends.
#ifndef NFP_ISO_NATIVE_H
#define NFP_ISO_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include <string>

#include "domain.h"
#include "iso_abi.h"

namespace nfp {

struct NativeNf {
	void *dl = nullptr;
	const struct nfp_native_module *mod = nullptr;
	const struct nfp_nf_descriptor *desc = nullptr;
};

// Opens "module.so" or "module.so#k", picks NF k and binds the module to `svc` (default: the
// runtime's services over struct nfp_ctx). Returns 0, or a negative errno and fills `err`.
int native_open(const char *artifact, NativeNf *out, char *err, size_t errlen,
		const struct nfp_iso_services *svc = nullptr);
void native_close(NativeNf *nf);

} // namespace nfp

// Native modules for the `none` backend (domain.h), registered with the runtime at start-up.
extern "C" const struct nfp_native_loader nfp_native_loader_iso;

namespace nfp {

} // namespace nfp

#endif
