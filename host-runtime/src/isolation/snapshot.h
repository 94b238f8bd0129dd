/*
 * NF state snapshots: the private state and every flow-table entry of each NF of a tenant, in
 * the file format documented in docs/isolation.md ("NFPSNAP1"). Restore matches NFs by position
 * and name and tables by name and sizes, so a snapshot also carries state across a hot reload.
 */
#ifndef NFP_ISO_SNAPSHOT_H
#define NFP_ISO_SNAPSHOT_H

#include <stdint.h>

#include <string>
#include <vector>

#include "tenant.h"

namespace nfp {

#define NFP_SNAPSHOT_MAGIC "NFPSNAP1"
#define NFP_SNAPSHOT_VERSION 1u

// Serialises the tenant's NF state. Throws std::runtime_error when a backend cannot export it.
std::vector<uint8_t> iso_snapshot(IsoTenant &t);

// Replaces the tenant's NF state with `snap`. Throws std::runtime_error naming the first mismatch;
// on error the tenant's state may be partly restored (reload to start clean).
void iso_restore(IsoTenant &t, const std::vector<uint8_t> &snap);

} // namespace nfp

#endif
