// Helpers shared by the addon's binding files: reading JS values and the host plan.
#ifndef NFP_ADDON_UTIL_H
#define NFP_ADDON_UTIL_H

#include <napi.h>

#include <string>
#include <vector>

#include "runtime.h"

namespace nfp {

std::string str_of(const Napi::Object &o, const char *key, const std::string &dflt);
uint32_t u32_of(const Napi::Object &o, const char *key, uint32_t dflt);
bool bool_of(const Napi::Object &o, const char *key, bool dflt);
inline Napi::Value Big(Napi::Env env, uint64_t v) { return Napi::Number::New(env, (double)v); }

// The runtime config from start()'s object; throws std::runtime_error on a bad value.
Config config_of(const Napi::Object &o);

// A dynamic branch named by verdict, resolved once the NF's manifest is known.
struct PendingBranch {
	size_t path, hop;
	std::string verdict;
	uint32_t to_spi;
};

// Reads the host plan prepared by lib/host-plan.ts into the runtime (paths, NFs, queues).
void plan_of(Runtime *rt, const Napi::Object &plan, std::vector<PendingBranch> &branches);
// Fills each hop's branch table from verdict names; throws on an unknown verdict or path.
void resolve_branches(Runtime *rt, const std::vector<PendingBranch> &branches);

// stats() as a JS object (addon_stats.cc).
Napi::Value stats_to_js(Napi::Env env, Runtime *rt);

// nfOpen/nfRun/nfCounters/nfClose/nfManifest: single built-in NFs for unit tests (addon_nf.cc).
void register_nf_harness(Napi::Env env, Napi::Object exports);

} // namespace nfp

#endif
