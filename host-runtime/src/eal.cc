// EAL initialisation, once per process.
#include "eal.h"

#include <stdlib.h>
#include <string.h>

#include <stdexcept>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

namespace nfp {

static bool g_ready = false;
static std::string g_failure;

void eal_init(const std::vector<std::string> &args)
{
	if (g_ready)
		return;
	if (!g_failure.empty())
		throw std::runtime_error(g_failure);
	std::vector<char *> argv;
	std::vector<std::string> copy = args;
	for (auto &a : copy)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	int rc = rte_eal_init((int)args.size(), argv.data());
	if (rc < 0) {
		// DPDK refuses a second rte_eal_init in one process, so the failure is final.
		g_failure = std::string("DPDK EAL initialisation failed: ") + rte_strerror(rte_errno) +
			    " (EAL arguments: ";
		for (size_t i = 0; i < args.size(); i++)
			g_failure += (i ? " " : "") + args[i];
		g_failure += ")";
		throw std::runtime_error(g_failure);
	}
	// No rte_eal_cleanup at exit: workers are stopped by runtime_destroy and --in-memory leaves
	// nothing behind, while cleanup racing Node's own teardown could hang the process.
	g_ready = true;
}

bool eal_ready() { return g_ready; }

std::vector<unsigned> eal_worker_lcores()
{
	std::vector<unsigned> out;
	unsigned id;
	RTE_LCORE_FOREACH_WORKER(id) out.push_back(id);
	return out;
}

} // namespace nfp
