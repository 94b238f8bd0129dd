// Optional registration hooks that other parts of nfp link into the one `nfp_host` addon.
// Declared weak so the addon links whether or not their sources are present; Init calls each
// hook only when its address is non-null.
#ifndef NFP_ADDON_HOOKS_H
#define NFP_ADDON_HOOKS_H

#include <napi.h>

// host-runtime/src/isolation/*.cc: registers the sfi/mpk/process domain backends and their JS API.
extern "C++" __attribute__((weak)) void nfp_isolation_register(Napi::Env env, Napi::Object exports);
// targets/softnic/engine/*.cc: the embedded NIC model's native engine.
extern "C++" __attribute__((weak)) void nfp_softnic_register(Napi::Env env, Napi::Object exports);
// targets/dpdk/engine/*.cc: the dpdk target's rte_flow installer.
extern "C++" __attribute__((weak)) void nfp_dpdk_register(Napi::Env env, Napi::Object exports);

#endif
