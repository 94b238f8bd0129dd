// The runtime side of the published host link API (include/nfp/host.h): addon.cc registers each
// loaded plan under a fresh handle and unregisters it before the runtime is destroyed.
#ifndef NFP_HOST_LINK_H
#define NFP_HOST_LINK_H

#include <stdint.h>

namespace nfp {

struct Runtime;

// A new handle for `rt`, never reused in this process.
uint64_t host_link_register(Runtime *rt);
// Forgets `rt`: its handle resolves to NULL from now on, and what it collected is freed.
void host_link_unregister(Runtime *rt);

} // namespace nfp

#endif
