// DPDK EAL initialisation: once per process (rte_eal_cleanup only at exit).
#ifndef NFP_EAL_H
#define NFP_EAL_H

#include <string>
#include <vector>

namespace nfp {

// Initialises the EAL with `args` the first time; later calls return the first call's result
// without re-initialising. Throws std::runtime_error with the EAL's reason on failure.
void eal_init(const std::vector<std::string> &args);
bool eal_ready();
// Worker lcore ids available to the runtime, in order.
std::vector<unsigned> eal_worker_lcores();

} // namespace nfp

#endif
