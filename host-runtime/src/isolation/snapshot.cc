// Snapshot and restore of NF state; format in docs/isolation.md.
#include "snapshot.h"

#include <string.h>

#include <stdexcept>

#include <rte_hash.h>
#include <rte_hash_crc.h>

namespace nfp {

namespace {

struct Writer {
	std::vector<uint8_t> out;
	void bytes(const void *p, size_t n)
	{
		const uint8_t *b = (const uint8_t *)p;
		out.insert(out.end(), b, b + n);
	}
	void u16(uint16_t v) { bytes(&v, 2); } // little-endian hosts only (x86-64, aarch64)
	void u32(uint32_t v) { bytes(&v, 4); }
	void name(const char *s, size_t width)
	{
		char buf[64] = {0};
		memcpy(buf, s, strnlen(s, width - 1));
		bytes(buf, width);
	}
};

struct Reader {
	const std::vector<uint8_t> &in;
	size_t at = 0;
	void need(size_t n, const char *what)
	{
		if (in.size() - at < n)
			throw std::runtime_error(std::string("snapshot is truncated (in ") + what + ")");
	}
	const uint8_t *bytes(size_t n, const char *what)
	{
		need(n, what);
		const uint8_t *p = in.data() + at;
		at += n;
		return p;
	}
	uint16_t u16(const char *what)
	{
		uint16_t v;
		memcpy(&v, bytes(2, what), 2);
		return v;
	}
	uint32_t u32(const char *what)
	{
		uint32_t v;
		memcpy(&v, bytes(4, what), 4);
		return v;
	}
	std::string name(size_t width, const char *what)
	{
		const char *p = (const char *)bytes(width, what);
		return std::string(p, strnlen(p, width));
	}
};

uint32_t crc(const uint8_t *p, size_t n) { return rte_hash_crc(p, (uint32_t)n, 0xffffffffu); }

struct nfp_iso_nf_state state_of(IsoTenant &t, size_t i)
{
	struct nfp_iso_nf_state s;
	if (t.domain == nullptr || nfp_iso_nf_state(t.domain, t.slots[i], &s) < 0)
		throw std::runtime_error("tenant " + std::to_string(t.id) + ": the `" + t.backend +
					 "` backend cannot export NF state (snapshots work under sfi and mpk)");
	return s;
}

} // namespace

std::vector<uint8_t> iso_snapshot(IsoTenant &t)
{
	Writer w;
	w.bytes(NFP_SNAPSHOT_MAGIC, 8);
	w.u32(NFP_SNAPSHOT_VERSION);
	w.u16(t.id);
	w.u16((uint16_t)t.slots.size());
	for (size_t i = 0; i < t.slots.size(); i++) {
		struct nfp_iso_nf_state s = state_of(t, i);
		w.name(s.manifest->name, NFP_NF_NAME_MAX);
		w.name(s.manifest->version, 16);
		w.u32(s.state_bytes);
		w.u32(s.ctx->n_tables);
		w.bytes(s.state, s.state_bytes);
		for (uint32_t k = 0; k < s.ctx->n_tables; k++) {
			const struct nfp_svc_table *tb = &s.ctx->tables[k];
			w.name(s.manifest->tables[k].name, NFP_NF_NAME_MAX);
			w.u32(tb->key_bytes);
			w.u32(tb->value_bytes);
			size_t count_at = w.out.size();
			w.u32(0);
			uint32_t n = 0, next = 0;
			const void *key;
			void *data;
			int32_t pos;
			while ((pos = rte_hash_iterate(tb->hash, &key, &data, &next)) >= 0) {
				w.bytes(key, tb->key_bytes);
				w.bytes(tb->values + (size_t)pos * tb->value_bytes, tb->value_bytes);
				n++;
			}
			memcpy(w.out.data() + count_at, &n, 4);
		}
	}
	w.u32(crc(w.out.data(), w.out.size()));
	return w.out;
}

void iso_restore(IsoTenant &t, const std::vector<uint8_t> &snap)
{
	if (snap.size() < 20 || memcmp(snap.data(), NFP_SNAPSHOT_MAGIC, 8) != 0)
		throw std::runtime_error("not an nfp state snapshot (magic NFPSNAP1 missing)");
	uint32_t sum;
	memcpy(&sum, snap.data() + snap.size() - 4, 4);
	if (crc(snap.data(), snap.size() - 4) != sum)
		throw std::runtime_error("snapshot checksum mismatch: the file is corrupt");
	Reader r{snap};
	r.at = 8;
	uint32_t version = r.u32("header");
	if (version != NFP_SNAPSHOT_VERSION)
		throw std::runtime_error("snapshot version " + std::to_string(version) + " is not supported (this nfp reads " +
					 std::to_string(NFP_SNAPSHOT_VERSION) + ")");
	r.u16("header");
	uint16_t n_nfs = r.u16("header");
	if (n_nfs != t.slots.size())
		throw std::runtime_error("snapshot holds " + std::to_string(n_nfs) + " NFs, tenant " + std::to_string(t.id) +
					 " runs " + std::to_string(t.slots.size()));
	for (size_t i = 0; i < n_nfs; i++) {
		struct nfp_iso_nf_state s = state_of(t, i);
		std::string name = r.name(NFP_NF_NAME_MAX, "NF header");
		r.name(16, "NF header");
		uint32_t state_bytes = r.u32("NF header");
		uint32_t n_tables = r.u32("NF header");
		std::string where = "NF #" + std::to_string(i) + " (" + s.manifest->name + ")";
		if (name != s.manifest->name)
			throw std::runtime_error(where + ": snapshot has NF `" + name + "` here");
		if (state_bytes != s.state_bytes || n_tables != s.ctx->n_tables)
			throw std::runtime_error(where + ": state size or table count differs from the snapshot");
		memcpy(s.state, r.bytes(state_bytes, "NF state"), state_bytes);
		for (uint32_t k = 0; k < n_tables; k++) {
			struct nfp_svc_table *tb = &s.ctx->tables[k];
			std::string tname = r.name(NFP_NF_NAME_MAX, "table header");
			uint32_t kb = r.u32("table header"), vb = r.u32("table header"), n = r.u32("table header");
			if (tname != s.manifest->tables[k].name || kb != tb->key_bytes || vb != tb->value_bytes)
				throw std::runtime_error(where + ": table `" + tname + "` does not match the NF's table `" +
							 s.manifest->tables[k].name + "`");
			rte_hash_reset(tb->hash);
			for (uint32_t e = 0; e < n; e++) {
				const uint8_t *key = r.bytes(kb, "table entries");
				const uint8_t *val = r.bytes(vb, "table entries");
				int32_t slot = nfp_table_add(s.ctx, k, key);
				if (slot < 0)
					throw std::runtime_error(where + ": table `" + tname + "` is full; restored " +
								 std::to_string(e) + " of " + std::to_string(n) + " entries");
				memcpy(tb->values + (size_t)slot * vb, val, vb);
			}
		}
		// Meters are runtime state, not in the snapshot: restored flows may sit in other slots
		// than the meters they had, so every meter starts fresh (nf.h, meters).
		nfp_ctx_meters_fresh(s.ctx);
	}
	if (r.at != snap.size() - 4)
		throw std::runtime_error("snapshot has trailing bytes after the last NF");
}

} // namespace nfp
