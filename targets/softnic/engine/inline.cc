// The softnic engine as a NIC stage inline in the host runtime's workers (the dpdk target's
// software NIC): attached to a loaded host plan through the published host link API
// (host-runtime/include/nfp/host.h), it runs on the lcore that receives a burst from a wire port,
// before the host NFs see it, and on the lcore that transmits what the host NFs finished.
//
//   receive: a packet the NIC hardware already classified (an rte_flow MARK, or the queue when
//            the NIC has no MARK) is dispatched by that: a host path gets its NSH and goes on to
//            the host NFs, a path that left the NIC towards a wire port is sent there, anything
//            else (and every packet on a NIC without a flow API) runs the whole NIC pipeline;
//   transmit: a packet back from the host runs the pipeline's return path (NSH removed, the
//            post-host stages) and leaves on the wire port it names.
//
// A packet bound for another port than the one whose lcore handles it waits in that port's ring
// until the lcore owning the port's queue 0 polls it (its receive hook sends what waits), so no
// transmit queue ever has two writers. The engine is one pipeline for all lcores (its counters
// and meters are the NIC's): each burst holds its lock, never a packet.
#include <napi.h>

#include <errno.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "engine.h"
#include "inline.h"
#include "nfp/host.h"

namespace nfp_softnic {
namespace {

constexpr uint16_t kEtherNsh = 0x894F;
constexpr uint32_t kNshShift = 16; // bytes NSH adds after the MAC addresses (base, path, one TLV)
constexpr uint32_t kRingSize = 1024;
constexpr uint16_t kDrain = 64;
constexpr uint32_t kMaxWireFrame = 1522; // partitioner/frame.ts MAX_FRAME_BYTES

struct Stage {
	Engine *eng;
	rte_spinlock_t *lock;
	std::shared_ptr<InlineStats> stats;
	Napi::ObjectReference owner; // keeps the engine alive until release
	DispatchTable dispatch;
	std::vector<int32_t> wire_port;      // by port index: the P4 wire port it is
	std::vector<int32_t> index_of_wire;  // by P4 port (0..510): port index, or -1
	std::vector<uint8_t> is_host_port;   // by P4 port: a host port (output bound for the host)
	std::vector<int32_t> return_port;    // by hardware queue: the P4 host port its frames return on
	std::vector<uint16_t> port_id;       // by port index
	std::vector<rte_ring *> ring;        // by port index: frames waiting to leave there
	std::vector<uint8_t> out;            // one engine output (under the lock)
	uint64_t ns_per_kcycle;
};

inline uint64_t now_ns(const Stage *s) { return rte_rdtsc() / 1000 * s->ns_per_kcycle; }

// Replaces the mbuf's frame by `len` bytes of `data`; false when it does not fit one segment.
inline bool rewrite(struct rte_mbuf *m, const uint8_t *data, uint32_t len)
{
	if (len > uint32_t(m->buf_len) - RTE_PKTMBUF_HEADROOM) return false;
	m->data_off = RTE_PKTMBUF_HEADROOM;
	std::memcpy(rte_pktmbuf_mtod(m, uint8_t *), data, len);
	m->data_len = uint16_t(len);
	m->pkt_len = len;
	return true;
}

// Puts NSH (RFC 8300, nfp's layout: host-runtime/lib/nsh.ts) between the MACs and the rest.
inline bool push_nsh(struct rte_mbuf *m, uint32_t spi, uint8_t si, uint16_t tenant)
{
	if (m->data_len < 14 || rte_pktmbuf_headroom(m) < kNshShift) return false;
	uint8_t *old = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *f = reinterpret_cast<uint8_t *>(rte_pktmbuf_prepend(m, uint16_t(kNshShift)));
	std::memmove(f, old, 12);
	f[12] = uint8_t(kEtherNsh >> 8);
	f[13] = uint8_t(kEtherNsh);
	const uint16_t ttl_len = uint16_t((63u << 6) | (kNshShift / 4));
	f[14] = uint8_t(ttl_len >> 8);
	f[15] = uint8_t(ttl_len);
	f[16] = 2;    // MD type 2
	f[17] = 0xfe; // next protocol: experimental (the inner EtherType is in the TLV)
	f[18] = uint8_t(spi >> 16);
	f[19] = uint8_t(spi >> 8);
	f[20] = uint8_t(spi);
	f[21] = si;
	f[22] = 0xff; // metadata class 0xfff6
	f[23] = 0xf6;
	f[24] = 1; // TLV type: tenant
	f[25] = 4;
	f[26] = uint8_t(tenant >> 8);
	f[27] = uint8_t(tenant);
	return true;
}

// Frames bound for port index `to`, sent from the lcore handling (`from`, `hwq`).
struct Outbox {
	struct rte_mbuf *own[kNfpInlineBurst];
	uint16_t n_own = 0;
};

void emit(Stage *s, uint16_t from, Outbox &ob, uint32_t wire, struct rte_mbuf *m)
{
	const int32_t to = wire < s->index_of_wire.size() ? s->index_of_wire[wire] : -1;
	InlineStats &st = *s->stats;
	if (to < 0) {
		st.no_port++;
		rte_pktmbuf_free(m);
	} else if (uint16_t(to) == from && ob.n_own < kNfpInlineBurst) {
		ob.own[ob.n_own++] = m;
	} else if (rte_ring_mp_enqueue(s->ring[size_t(to)], m) != 0) {
		st.tx_full++;
		rte_pktmbuf_free(m);
	} else {
		st.cross_port++;
	}
}

void send_own(Stage *s, uint16_t index, uint16_t hwq, Outbox &ob)
{
	if (ob.n_own == 0) return;
	const uint16_t sent = rte_eth_tx_burst(s->port_id[index], hwq, ob.own, ob.n_own);
	s->stats->to_wire.fetch_add(sent, std::memory_order_relaxed);
	if (sent < ob.n_own) {
		s->stats->tx_full.fetch_add(ob.n_own - sent, std::memory_order_relaxed);
		rte_pktmbuf_free_bulk(ob.own + sent, ob.n_own - sent);
	}
	ob.n_own = 0;
}

// One packet through the engine from P4 port `in`: nullptr when it was consumed (dropped, or
// sent towards a wire port), else the packet rewritten for the host.
struct rte_mbuf *run_engine(Stage *s, uint16_t index, Outbox &ob, uint32_t in, struct rte_mbuf *m, uint64_t now)
{
	InlineStats &st = *s->stats;
	if (m->nb_segs != 1) {
		st.multi_segment++;
		rte_pktmbuf_free(m);
		return nullptr;
	}
	const uint32_t len = m->data_len;
	if (s->out.size() < s->eng->max_output(len)) s->out.resize(s->eng->max_output(len)); // grows once
	ProcessResult r = s->eng->process(in, rte_pktmbuf_mtod(m, const uint8_t *), len, s->out.data(), now);
	if (r.verdict != Verdict::Forward) {
		st.dropped++;
		rte_pktmbuf_free(m);
		return nullptr;
	}
	if (!rewrite(m, s->out.data(), r.len)) {
		st.too_long++;
		rte_pktmbuf_free(m);
		return nullptr;
	}
	if (r.port < s->is_host_port.size() && s->is_host_port[r.port]) return m;
	emit(s, index, ob, r.port, m);
	return nullptr;
}

// Whether the NIC hardware's verdict on a frame may stand: rte_flow matches headers but checks no
// lengths, so a frame the pipeline's parser checks would drop (longer than 1522 bytes, a stacked
// VLAN tag, a header cut short or whose lengths lie; partitioner/frame.ts is the reference) or
// that IP-aware NFs refuse (an IPv4 fragment, IPv4 options) runs the whole pipeline instead, which
// gives it its named drop reason or the fate its IP fault calls for. NSH is never trusted either,
// nor an IPv4 header with a wrong checksum (the pipeline's output carries a right one).
bool wire_frame_trusted(const uint8_t *f, uint32_t len)
{
	auto u16 = [f](uint32_t at) { return uint32_t(f[at] << 8 | f[at + 1]); };
	auto stacked = [](uint32_t t) { return t == 0x88a8 || t == 0x9100; };
	if (len > kMaxWireFrame || len < 14) return false;
	uint32_t type = u16(12), off = 14;
	if (stacked(type) || type == kEtherNsh) return false;
	if (type == 0x8100) {
		if (len < off + 4) return false;
		type = u16(off + 2);
		off += 4;
		if (stacked(type) || type == 0x8100) return false;
	}
	uint32_t proto, l4_len, at;
	if (type == 0x0800) {
		if (len < off + 20) return false;
		const uint32_t ihl = (f[off] & 0x0f) * 4u, total = u16(off + 2);
		if (f[off] >> 4 != 4 || ihl != 20) return false; // IHL below 5 lies; above 5: options
		if (total < ihl || off + total > len) return false;
		if ((u16(off + 6) & 0x3fff) != 0) return false; // MF or a fragment offset
		// A wrong header checksum: the pipeline writes a right one on the way out, a NIC rule does not.
		uint32_t sum = 0;
		for (uint32_t i = 0; i < 20; i += 2) sum += u16(off + i);
		while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
		if (sum != 0xffff) return false;
		proto = f[off + 9];
		l4_len = total - ihl;
		at = off + 20;
	} else if (type == 0x86dd) {
		if (len < off + 40) return false;
		l4_len = u16(off + 4);
		if (f[off] >> 4 != 6 || off + 40 + l4_len > len) return false;
		proto = f[off + 6] == 58 ? 1 : f[off + 6];
		at = off + 40;
	} else {
		return true;
	}
	switch (proto) {
	case 6:
		if (len < at + 20) return false;
		return (f[at + 12] >> 4) * 4u >= 20 && (f[at + 12] >> 4) * 4u <= l4_len;
	case 17:
		if (len < at + 8) return false;
		return u16(at + 4) >= 8 && u16(at + 4) <= l4_len;
	case 1:
		return len >= at + 4 && l4_len >= 8;
	default:
		return true;
	}
}

uint16_t stage_rx(void *ctx, uint16_t index, uint16_t hwq, struct rte_mbuf **pkts, uint16_t n, uint16_t)
{
	Stage *s = static_cast<Stage *>(ctx);
	InlineStats &st = *s->stats;
	Outbox ob;
	uint16_t kept = 0;
	if (n > 0) {
		const uint64_t now = now_ns(s);
		const uint32_t in = uint32_t(s->wire_port[index]);
		const int32_t by_queue = hwq < s->dispatch.by_queue.size() ? s->dispatch.by_queue[hwq] : kNfpNoDispatch;
		rte_spinlock_lock(s->lock);
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			// What the NIC hardware decided: its MARK, else what this queue stands for.
			int32_t what = by_queue;
			if (m->ol_flags & RTE_MBUF_F_RX_FDIR_ID) what = int32_t(m->hash.fdir.hi & 0xffffff);
			Dispatch d = s->dispatch.decode(what);
			if (d.kind != Dispatch::Software &&
			    (m->nb_segs != 1 || !wire_frame_trusted(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len))) {
				st.rechecked++;
				d = Dispatch{};
			}
			if (d.kind == Dispatch::HostPath && push_nsh(m, d.spi, d.si, d.tenant)) {
				st.offloaded++;
				pkts[kept++] = m;
			} else if (d.kind == Dispatch::Wire) {
				st.offloaded++;
				emit(s, index, ob, d.port, m);
			} else {
				st.software++;
				struct rte_mbuf *h = run_engine(s, index, ob, in, m, now);
				if (h != nullptr) pkts[kept++] = h;
			}
		}
		rte_spinlock_unlock(s->lock);
		st.to_host.fetch_add(kept, std::memory_order_relaxed);
	}
	// Frames other lcores left for this port go out here, on queue 0's lcore.
	if (hwq == 0) {
		struct rte_mbuf *wait[kDrain];
		const unsigned room = std::min<unsigned>(kDrain, kNfpInlineBurst - ob.n_own);
		const unsigned w = rte_ring_sc_dequeue_burst(s->ring[index], reinterpret_cast<void **>(wait), room, nullptr);
		for (unsigned k = 0; k < w; k++) ob.own[ob.n_own++] = wait[k];
	}
	send_own(s, index, hwq, ob);
	return kept;
}

uint16_t stage_tx(void *ctx, uint16_t index, uint16_t hwq, struct rte_mbuf **pkts, uint16_t n)
{
	Stage *s = static_cast<Stage *>(ctx);
	Outbox ob;
	const uint64_t now = now_ns(s);
	const uint32_t in = uint32_t(hwq < s->return_port.size() ? s->return_port[hwq] : s->return_port[0]);
	uint16_t keep = 0;
	rte_spinlock_lock(s->lock);
	for (uint16_t i = 0; i < n; i++) {
		s->stats->returned++;
		struct rte_mbuf *m = run_engine(s, index, ob, in, pkts[i], now);
		if (m != nullptr) { // the return path never sends to the host; count it and drop it
			s->stats->dropped++;
			rte_pktmbuf_free(m);
		}
	}
	rte_spinlock_unlock(s->lock);
	// What leaves on this port goes back to the caller, which sends it on its own queue.
	for (uint16_t k = 0; k < ob.n_own; k++) pkts[keep++] = ob.own[k];
	s->stats->to_wire.fetch_add(keep, std::memory_order_relaxed);
	return keep;
}

void stage_release(void *ctx)
{
	Stage *s = static_cast<Stage *>(ctx);
	for (rte_ring *r : s->ring) {
		struct rte_mbuf *m;
		while (rte_ring_sc_dequeue(r, reinterpret_cast<void **>(&m)) == 0) rte_pktmbuf_free(m);
		rte_ring_free(r);
	}
	s->stats->attached = false;
	s->owner.Unref();
	delete s;
}

std::vector<int32_t> int32s(const Napi::Object &o, const char *key, bool required) {
	Napi::Value v = o.Get(key);
	if (v.IsUndefined() && !required) return {};
	if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
		throw std::runtime_error(std::string("attachInline: ") + key + " must be an Int32Array");
	Napi::Int32Array a = v.As<Napi::Int32Array>();
	return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

uint32_t g_rings = 0;

} // namespace

Dispatch DispatchTable::decode(int32_t what) const
{
	if (what == kNfpNoDispatch || what == kNfpMarkSoftware) return {};
	if (what & kNfpMarkWire) return {Dispatch::Wire, 0, 0, 0, uint32_t(what & 0x1ff)};
	const uint32_t spi = uint32_t(what);
	if (spi < tenant_of_spi.size() && tenant_of_spi[spi] >= 0)
		return {Dispatch::HostPath, spi, uint8_t(si_of_spi[spi]), uint16_t(tenant_of_spi[spi]), 0};
	return {}; // not a mark this table knows: the software pipeline decides
}

// attachInline(hostHandle, { wirePorts, hostPorts, returnPorts, tenantOfSpi?, siOfSpi?, byQueue? })
// wirePorts[i]: the P4 wire port of the plan's i-th DPDK port; hostPorts: the P4 ports that lead
// to the host; returnPorts[q]: the P4 host port frames transmitted on hardware queue q re-enter
// on; tenantOfSpi/siOfSpi: by SPI, what a MARK of a host path stands for (-1: not one);
// byQueue[q]: what an unmarked frame on hardware queue q stands for (a MARK value; -1: nothing).
void attach_inline(Engine &eng, rte_spinlock_t &lock, std::shared_ptr<InlineStats> &stats, Napi::Object self,
                   const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsObject())
		throw Napi::TypeError::New(env, "attachInline(hostHandle: number, config: object)");
	if (!eng.loaded()) throw Napi::Error::New(env, "attachInline: no pipeline loaded");
	if (stats && stats->attached) throw Napi::Error::New(env, "attachInline: this engine is attached to a host plan already");
	nfp_host *h = nfp_host_get(uint64_t(info[0].As<Napi::Number>().DoubleValue()));
	if (h == nullptr) throw Napi::Error::New(env, "attachInline: no host plan with this handle is loaded");
	Napi::Object cfg = info[1].As<Napi::Object>();
	auto s = std::make_unique<Stage>();
	try {
		s->wire_port = int32s(cfg, "wirePorts", true);
		s->return_port = int32s(cfg, "returnPorts", true);
		s->dispatch.tenant_of_spi = int32s(cfg, "tenantOfSpi", false);
		s->dispatch.si_of_spi = int32s(cfg, "siOfSpi", false);
		s->dispatch.by_queue = int32s(cfg, "byQueue", false);
		std::vector<int32_t> host = int32s(cfg, "hostPorts", true);
		s->is_host_port.assign(kDropPort, 0);
		for (int32_t p : host)
			if (p >= 0 && uint32_t(p) < kDropPort) s->is_host_port[size_t(p)] = 1;
	} catch (const std::exception &e) {
		throw Napi::TypeError::New(env, e.what());
	}
	if (s->dispatch.si_of_spi.size() < s->dispatch.tenant_of_spi.size())
		throw Napi::RangeError::New(env, "attachInline: siOfSpi is shorter than tenantOfSpi");
	if (s->return_port.empty()) throw Napi::RangeError::New(env, "attachInline: returnPorts is empty");
	const uint32_t ports = nfp_host_port_count(h);
	if (ports == 0) throw Napi::Error::New(env, "attachInline: the host plan has no DPDK ports (in-memory rings)");
	if (s->wire_port.size() != ports)
		throw Napi::RangeError::New(env, "attachInline: " + std::to_string(s->wire_port.size()) + " wire ports given for " +
		                                     std::to_string(ports) + " DPDK ports");
	s->index_of_wire.assign(kDropPort, -1);
	for (uint32_t i = 0; i < ports; i++) {
		const int32_t w = s->wire_port[i];
		if (w < 0 || uint32_t(w) >= kDropPort || s->is_host_port[size_t(w)])
			throw Napi::RangeError::New(env, "attachInline: wire port " + std::to_string(w) + " is not a wire port");
		s->index_of_wire[size_t(w)] = int32_t(i);
		nfp_host_port hp;
		nfp_host_port_get(h, i, &hp);
		s->port_id.push_back(hp.port_id);
	}
	s->eng = &eng;
	s->lock = &lock;
	s->out.resize(eng.max_output(RTE_MBUF_DEFAULT_DATAROOM));
	s->ns_per_kcycle = uint64_t(1e12 / double(rte_get_tsc_hz()));
	for (uint32_t i = 0; i < ports; i++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof name, "nfp_inl%u_%u", g_rings++, i);
		rte_ring *r = rte_ring_create(name, kRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (r == nullptr) {
			for (rte_ring *x : s->ring) rte_ring_free(x);
			throw Napi::Error::New(env, "attachInline: cannot create a port ring");
		}
		s->ring.push_back(r);
	}
	stats = std::make_shared<InlineStats>();
	s->stats = stats;
	s->owner = Napi::Persistent(self);
	nfp_host_stage st{s.get(), stage_rx, stage_tx, stage_release};
	const int rc = nfp_host_stage_attach(h, &st);
	if (rc == -EIO) { // registered but inert: released with the plan
		s.release();
		throw Napi::Error::New(env, "attachInline: DPDK refused a receive callback on a port");
	}
	if (rc < 0) {
		for (rte_ring *x : s->ring) rte_ring_free(x);
		s->owner.Unref();
		throw Napi::Error::New(env, rc == -EBUSY ? "attachInline: the host plan runs a NIC stage already"
		                                         : "attachInline: the host plan's queues are in-memory rings");
	}
	stats->attached = true;
	s.release(); // owned by the host plan from now on (stage_release)
}

// wireFramesTrusted(frames: Buffer[]) → boolean[]: whether the receive hook lets the NIC
// hardware's verdict on each frame stand (wire_frame_trusted).
Napi::Value wire_frames_trusted(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "wireFramesTrusted(frames: Buffer[])");
	Napi::Array in = info[0].As<Napi::Array>();
	Napi::Array out = Napi::Array::New(env, in.Length());
	for (uint32_t i = 0; i < in.Length(); i++) {
		Napi::Value v = in.Get(i);
		if (!v.IsBuffer()) throw Napi::TypeError::New(env, "wireFramesTrusted: every frame must be a Buffer");
		Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
		out.Set(i, Napi::Boolean::New(env, wire_frame_trusted(b.Data(), uint32_t(b.Length()))));
	}
	return out;
}

// decodeMarks({ tenantOfSpi, siOfSpi }, marks: Int32Array) → [{ kind, spi?, si?, tenant?, port? }]:
// what the receive hook makes of each MARK value (the same DispatchTable::decode).
Napi::Value decode_marks(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() < 2 || !info[0].IsObject()) throw Napi::TypeError::New(env, "decodeMarks(config, marks: Int32Array)");
	DispatchTable t;
	std::vector<int32_t> marks;
	try {
		t.tenant_of_spi = int32s(info[0].As<Napi::Object>(), "tenantOfSpi", true);
		t.si_of_spi = int32s(info[0].As<Napi::Object>(), "siOfSpi", true);
		Napi::Object holder = Napi::Object::New(env);
		holder.Set("marks", info[1]);
		marks = int32s(holder, "marks", true);
	} catch (const std::exception &e) {
		throw Napi::TypeError::New(env, e.what());
	}
	Napi::Array out = Napi::Array::New(env, marks.size());
	for (uint32_t i = 0; i < marks.size(); i++) {
		const Dispatch d = t.decode(marks[i]);
		Napi::Object o = Napi::Object::New(env);
		o.Set("kind", d.kind == Dispatch::HostPath ? "host" : d.kind == Dispatch::Wire ? "wire" : "software");
		if (d.kind == Dispatch::HostPath) {
			o.Set("spi", d.spi);
			o.Set("si", d.si);
			o.Set("tenant", d.tenant);
		}
		if (d.kind == Dispatch::Wire) o.Set("port", d.port);
		out.Set(i, o);
	}
	return out;
}

Napi::Value inline_stats(Napi::Env env, const std::shared_ptr<InlineStats> &stats)
{
	Napi::Object o = Napi::Object::New(env);
	InlineStats z;
	const InlineStats &s = stats ? *stats : z;
	o.Set("attached", s.attached.load());
	o.Set("software", double(s.software.load()));
	o.Set("offloaded", double(s.offloaded.load()));
	o.Set("toHost", double(s.to_host.load()));
	o.Set("returned", double(s.returned.load()));
	o.Set("toWire", double(s.to_wire.load()));
	o.Set("crossPort", double(s.cross_port.load()));
	o.Set("dropped", double(s.dropped.load()));
	o.Set("rechecked", double(s.rechecked.load()));
	o.Set("txFull", double(s.tx_full.load()));
	o.Set("noPort", double(s.no_port.load()));
	o.Set("multiSegment", double(s.multi_segment.load()));
	o.Set("tooLong", double(s.too_long.load()));
	return o;
}

} // namespace nfp_softnic
