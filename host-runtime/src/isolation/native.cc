// Native NF modules; see native.h.
#include "native.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "iso.h"

namespace nfp {

int native_open(const char *artifact, NativeNf *out, char *err, size_t errlen, const struct nfp_iso_services *svc)
{
	std::string path(artifact);
	uint32_t k = 0;
	size_t hash = path.rfind('#');
	if (hash != std::string::npos) {
		char *end = nullptr;
		unsigned long v = strtoul(path.c_str() + hash + 1, &end, 10);
		if (end == path.c_str() + hash + 1 || *end != '\0' || v >= NFP_ISO_MAX_NFS) {
			snprintf(err, errlen, "bad artifact %s: expected module.so or module.so#N", artifact);
			return -EINVAL;
		}
		k = (uint32_t)v;
		path.resize(hash);
	}
	out->dl = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
	if (out->dl == nullptr) {
		snprintf(err, errlen, "cannot load native module %s: %s", path.c_str(), dlerror());
		return -EINVAL;
	}
	out->mod = (const struct nfp_native_module *)dlsym(out->dl, "nfp_native_module_v1");
	if (out->mod == nullptr || out->mod->abi_version != NFP_ISO_ABI_VERSION || k >= out->mod->n_nfs) {
		snprintf(err, errlen, "%s is not a native NF module with an NF #%u; build it with `nfp nf build --backend native`",
			 path.c_str(), k);
		native_close(out);
		return -EINVAL;
	}
	out->mod->bind(svc != nullptr ? svc : &nfp_iso_services_native);
	out->desc = out->mod->nfs[k];
	if (out->desc->manifest.abi_version != NFP_NF_ABI_VERSION || out->desc->process == nullptr) {
		snprintf(err, errlen, "%s: NF ABI version %u, runtime speaks %u", out->desc->manifest.name,
			 out->desc->manifest.abi_version, NFP_NF_ABI_VERSION);
		native_close(out);
		return -EINVAL;
	}
	return 0;
}

namespace {

const struct nfp_nf_descriptor *loader_open(const char *artifact, void **handle, char *err, size_t errlen)
{
	auto *nf = new NativeNf();
	if (native_open(artifact, nf, err, errlen) < 0) {
		delete nf;
		return nullptr;
	}
	*handle = nf;
	return nf->desc;
}

void loader_close(void *handle)
{
	auto *nf = (NativeNf *)handle;
	native_close(nf);
	delete nf;
}

} // namespace

extern "C" const struct nfp_native_loader nfp_native_loader_iso = {loader_open, loader_close};

void native_close(NativeNf *nf)
{
	if (nf->dl != nullptr)
		dlclose(nf->dl);
	nf->dl = nullptr;
	nf->mod = nullptr;
	nf->desc = nullptr;
}

} // namespace nfp
