// The softnic linked to the host runtime in one native call: the softnic's host ports are the
// runtime's host queues (DPDK rings), reached through the published host link API
// (host-runtime/include/nfp/host.h) and the plan's handle, which JavaScript passes in. A batch of wire frames goes through the engine; host-bound
// outputs are injected into their queue, collected back (transmitted or dropped with a reason),
// and transmitted ones run through the engine again on their host port (the return path).
// JavaScript hands over the batch and gets every frame's fate back, packed.
#include <napi.h>

#include <errno.h>
#include <sched.h>
#include <time.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine.h"
#include "nfp/host.h"

namespace nfp_softnic {
namespace {

constexpr int32_t kNicDrop = -1;
constexpr int32_t kHostDrop = -2;
constexpr int32_t kUncountedIngress = -1;
constexpr int32_t kUncountedEgress = -2;
constexpr uint32_t kHostOverflow = 0; // host reason indexes 0 and 1 are fixed
constexpr uint32_t kHostLost = 1;
constexpr size_t kLinkBurst = 64; // frames per queue handed to the host at once

uint64_t mono_ns() {
	return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
	                    std::chrono::steady_clock::now().time_since_epoch())
	                    .count());
}

// A frame the NIC sent to a host queue: its input index and its bytes in LinkScratch::staged.
struct Staged {
	uint32_t index;
	uint32_t off, len;
	uint16_t queue;
};

// A frame the host transmitted: its input index, host queue and bytes in LinkScratch::back_data.
struct Back {
	uint32_t index;
	uint16_t queue;
	uint32_t off, len;
};

// Working memory of runLinked, grown as needed and kept between calls (one JS thread).
struct LinkScratch {
	std::vector<uint8_t> nic_out;  // one engine output
	std::vector<uint8_t> staged;   // host-bound frames, back to back
	std::vector<Staged> to_host;
	std::vector<nfp_host_frame> pkts;
	std::vector<std::vector<uint32_t>> pending; // by host queue: to_host items not yet injected
	std::vector<int32_t> slot;     // seq - base -> index into to_host, -1: done or not ours
	std::vector<nfp_host_done> done; // one nfp_host_collect's worth
	std::vector<uint8_t> back_data; // frames transmitted by the host, back to back
	std::vector<Back> back;         // ... awaiting the return path

	std::vector<uint8_t> fwd;      // forwarded outputs, back to back
	std::vector<uint64_t> snap;    // drop-reason counter values after the last packet
	std::vector<uint32_t> group_ports;
	std::vector<std::string> host_reasons;
};

LinkScratch g_link;

uint32_t host_reason_index(const std::string &r) {
	for (uint32_t i = 0; i < g_link.host_reasons.size(); i++)
		if (g_link.host_reasons[i] == r) return i;
	g_link.host_reasons.push_back(r);
	return uint32_t(g_link.host_reasons.size() - 1);
}

// The per-input results, filled as fates become known.
struct Fates {
	int32_t *port;    // >= 0 forwarded; kNicDrop / kHostDrop
	int32_t *reason;  // NIC: index into the drop reasons (or kUncounted*); host: host_reasons index
	uint32_t *off, *len;
	int32_t *path;    // the plan path the host last had it on; -1: it never reached a host path
};

// Runs one frame through the engine and reads its NIC drop reason from the per-reason counter
// deltas since the previous frame (so the reason is exact per packet).
struct NicStep {
	Engine &eng;
	const CounterArray *counter;
	const std::vector<int32_t> &codes;

	void snapshot() {
		if (!counter) return;
		for (size_t k = 0; k < codes.size(); k++) g_link.snap[k] = counter->packets[size_t(codes[k])];
	}

	// Returns the engine result; for a drop, *reason is the reason's index or kUncounted*.
	ProcessResult run(uint32_t port, const uint8_t *data, uint32_t len, uint64_t now, int32_t *reason) {
		g_link.nic_out.resize(eng.max_output(len));
		ProcessResult res = eng.process(port, data, len, g_link.nic_out.data(), now);
		if (res.verdict != Verdict::Forward) {
			*reason = res.verdict == Verdict::DropIngress ? kUncountedIngress : kUncountedEgress;
			if (counter) {
				for (size_t k = 0; k < codes.size(); k++) {
					if (counter->packets[size_t(codes[k])] > g_link.snap[k]) {
						*reason = int32_t(k);
						break;
					}
				}
			}
		}
		snapshot();
		return res;
	}
};

void forward(Fates &f, uint32_t i, uint32_t port, const uint8_t *data, uint32_t len) {
	f.port[i] = int32_t(port);
	f.off[i] = uint32_t(g_link.fwd.size());
	f.len[i] = len;
	g_link.fwd.insert(g_link.fwd.end(), data, data + len);
}

void drop(Fates &f, uint32_t i, int32_t where, int32_t reason) {
	f.port[i] = where;
	f.reason[i] = reason;
	f.off[i] = f.len[i] = 0;
}

Napi::Int32Array int32_arg(const Napi::CallbackInfo &info, size_t i, const char *what) {
	if (info.Length() <= i || !info[i].IsTypedArray() ||
	    info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
		throw Napi::TypeError::New(info.Env(), std::string("runLinked: ") + what + " must be an Int32Array");
	return info[i].As<Napi::Int32Array>();
}

} // namespace

// runLinked(hostHandle: number, inPorts: Int32Array, frames: Buffer[], hostQueueOfPort: Int32Array,
//           returnPortOfQueue: Int32Array, dropCounter: string, dropCodes: Int32Array,
//           nowNs?: number, timeoutMs?: number)
//   → {ports: Int32Array, reasons: Int32Array, offs: Uint32Array, lens: Uint32Array,
//      paths: Int32Array, data: Buffer, hostReasons: string[]}
// ports[i] >= 0: frame i left on that wire port, its bytes data[offs[i], +lens[i]); -1: dropped
// on the NIC, reasons[i] indexes dropCodes (-1/-2: uncounted ingress/egress drop); -2: dropped on
// the host, reasons[i] indexes hostReasons ("rx-overflow", "lost" or the runtime's reason).
// paths[i]: the plan path the host last had frame i on (a branch it took), -1 when none.
Napi::Value run_linked(Engine &eng, const Napi::CallbackInfo &info) {
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "runLinked: hostHandle must be a number");
	nfp_host *rt = nfp_host_get(uint64_t(info[0].As<Napi::Number>().DoubleValue()));
	if (rt == nullptr) throw Napi::Error::New(env, "runLinked: no host plan with this handle is loaded");
	const uint32_t n_queues = nfp_host_queue_count(rt);
	Napi::Int32Array in_ports = int32_arg(info, 1, "inPorts");
	if (info.Length() < 3 || !info[2].IsArray()) throw Napi::TypeError::New(env, "runLinked: frames must be an array");
	Napi::Array frames_js = info[2].As<Napi::Array>();
	Napi::Int32Array queue_of_port = int32_arg(info, 3, "hostQueueOfPort");
	Napi::Int32Array port_of_queue = int32_arg(info, 4, "returnPortOfQueue");
	if (info.Length() < 6 || !info[5].IsString()) throw Napi::TypeError::New(env, "runLinked: dropCounter must be a string");
	std::string counter_name = info[5].As<Napi::String>().Utf8Value();
	Napi::Int32Array codes_js = int32_arg(info, 6, "dropCodes");
	const bool fixed_now = info.Length() > 7 && info[7].IsNumber();
	const uint64_t given_now = fixed_now ? uint64_t(info[7].As<Napi::Number>().DoubleValue()) : 0;
	const double timeout_ms = info.Length() > 8 && info[8].IsNumber() ? info[8].As<Napi::Number>().DoubleValue() : 10000;
	if (port_of_queue.ElementLength() == 0) throw Napi::RangeError::New(env, "runLinked: returnPortOfQueue is empty");

	const uint32_t n = frames_js.Length();
	if (in_ports.ElementLength() != n) throw Napi::RangeError::New(env, "runLinked: inPorts and frames differ in length");
	std::vector<Napi::Buffer<uint8_t>> frames;
	frames.reserve(n);
	for (uint32_t i = 0; i < n; i++) {
		Napi::Value v = frames_js.Get(i);
		if (!v.IsBuffer()) throw Napi::TypeError::New(env, "runLinked: frame " + std::to_string(i) + " is not a Buffer");
		frames.push_back(v.As<Napi::Buffer<uint8_t>>());
		if (in_ports[i] < 0 || uint32_t(in_ports[i]) >= kDropPort)
			throw Napi::RangeError::New(env, "runLinked: ingress port of frame " + std::to_string(i) + " is not in 0..510");
	}
	if (!eng.loaded()) throw Napi::Error::New(env, "runLinked: no pipeline loaded");
	const Program &prog = eng.program();
	int32_t c = prog.find_counter(counter_name);
	if (c < 0) throw Napi::Error::New(env, "runLinked: no counter named \"" + counter_name + "\"");
	const CounterArray *counter = &prog.counters[size_t(c)];
	std::vector<int32_t> codes(codes_js.Data(), codes_js.Data() + codes_js.ElementLength());
	for (int32_t code : codes)
		if (code < 0 || uint32_t(code) >= counter->size)
			throw Napi::RangeError::New(env, "runLinked: drop reason code " + std::to_string(code) + " is outside " + counter_name);

	Napi::Int32Array ports = Napi::Int32Array::New(env, n);
	Napi::Int32Array reasons = Napi::Int32Array::New(env, n);
	Napi::Uint32Array offs = Napi::Uint32Array::New(env, n);
	Napi::Uint32Array lens = Napi::Uint32Array::New(env, n);
	Napi::Int32Array paths = Napi::Int32Array::New(env, n);
	Fates f{ports.Data(), reasons.Data(), offs.Data(), lens.Data(), paths.Data()};
	for (uint32_t i = 0; i < n; i++) f.path[i] = -1;

	LinkScratch &s = g_link;
	s.staged.clear();
	s.to_host.clear();
	s.fwd.clear();
	s.back.clear();
	s.back_data.clear();
	s.snap.resize(codes.size());
	s.host_reasons.assign({"rx-overflow", "lost"});
	NicStep nic{eng, counter, codes};
	nic.snapshot();

	for (auto &p : s.pending) p.clear();
	uint32_t base = 0, span = 0; // seqs run on from the first injected one; span: still out
	bool have_base = false;
	s.slot.clear();
	// NIC -> host queue q: what is pending for it, in one runtime_inject.
	auto flush = [&](uint16_t q) {
		std::vector<uint32_t> &members = s.pending[q];
		if (members.empty()) return;
		s.pkts.clear();
		for (uint32_t m : members) s.pkts.push_back({s.staged.data() + s.to_host[m].off, s.to_host[m].len});
		uint32_t first = 0;
		const int32_t rc = nfp_host_inject(rt, q, s.pkts.data(), uint32_t(s.pkts.size()), &first);
		if (rc == -ENOTSUP) throw Napi::Error::New(env, "runLinked: the host plan's queues are not in-memory rings");
		if (rc < 0) throw Napi::Error::New(env, "runLinked: host queue " + std::to_string(q) + " refused the frames");
		const uint32_t ok = uint32_t(rc);
		if (!have_base) {
			base = first;
			have_base = true;
		}
		for (uint32_t k = 0; k < members.size(); k++) {
			if (k >= ok) {
				drop(f, s.to_host[members[k]].index, kHostDrop, int32_t(kHostOverflow));
				continue;
			}
			uint32_t at = first + k - base;
			if (at >= s.slot.size()) s.slot.resize(at + 1, -1);
			s.slot[at] = int32_t(members[k]);
			span++;
		}
		members.clear();
	};
	// Host -> here: whatever the workers have finished; false when nothing was there.
	s.done.resize(kLinkBurst * 4);
	auto drain = [&]() {
		if (span == 0) return false;
		bool any = false;
		for (;;) {
			const uint32_t got = nfp_host_collect(rt, s.done.data(), uint32_t(s.done.size()));
			if (got == 0) break;
			any = true;
			for (uint32_t k = 0; k < got; k++) {
				const nfp_host_done &col = s.done[k];
				uint32_t at = col.seq - base;
				if (at >= s.slot.size() || s.slot[at] < 0) continue; // an earlier batch's straggler
				const Staged &h = s.to_host[size_t(s.slot[at])];
				s.slot[at] = -1;
				span--;
				f.path[h.index] = col.path;
				if (!col.transmitted) {
					drop(f, h.index, kHostDrop, int32_t(host_reason_index(col.reason)));
					continue;
				}
				s.back.push_back({h.index, col.queue, uint32_t(s.back_data.size()), col.len});
				s.back_data.insert(s.back_data.end(), col.data, col.data + col.len);
			}
		}
		return any;
	};

	// Wire -> NIC, one ingress port after another in order of first appearance (as the JS path).
	s.group_ports.clear();
	for (uint32_t i = 0; i < n; i++) {
		uint32_t p = uint32_t(in_ports[i]);
		bool seen = false;
		for (uint32_t g : s.group_ports) seen = seen || g == p;
		if (!seen) s.group_ports.push_back(p);
	}
	for (uint32_t gp : s.group_ports) {
		const uint64_t now = fixed_now ? given_now : mono_ns();
		for (uint32_t i = 0; i < n; i++) {
			if (uint32_t(in_ports[i]) != gp) continue;
			int32_t reason = 0;
			ProcessResult r = nic.run(gp, frames[i].Data(), uint32_t(frames[i].Length()), now, &reason);
			if (r.verdict != Verdict::Forward) {
				drop(f, i, kNicDrop, reason);
				continue;
			}
			int32_t q = r.port < queue_of_port.ElementLength() ? queue_of_port[r.port] : -1;
			if (q < 0) {
				forward(f, i, r.port, s.nic_out.data(), r.len);
				continue;
			}
			s.to_host.push_back({i, uint32_t(s.staged.size()), r.len, uint16_t(q)});
			s.staged.insert(s.staged.end(), s.nic_out.data(), s.nic_out.data() + r.len);
			if (uint32_t(q) >= n_queues)
				throw Napi::RangeError::New(env, "runLinked: host queue " + std::to_string(q) + " does not exist (the plan has " +
				                                     std::to_string(n_queues) + ")");
			if (uint32_t(q) >= s.pending.size()) s.pending.resize(uint32_t(q) + 1);
			s.pending[size_t(q)].push_back(uint32_t(s.to_host.size() - 1));
			// Hand the host a burst as soon as one is ready, so it works while the NIC does.
			if (s.pending[size_t(q)].size() >= kLinkBurst) {
				flush(uint16_t(q));
				drain();
			}
		}
	}

	if (!s.to_host.empty()) {
		for (uint32_t q = 0; q < s.pending.size(); q++) flush(uint16_t(q));

		// Collect until every accepted frame is back, transmitted or dropped (drops are captured).
		const uint64_t deadline = mono_ns() + uint64_t(timeout_ms * 1e6);
		uint32_t idle = 0;
		while (span > 0) {
			const bool got = drain();
			if (span == 0 || mono_ns() > deadline) break;
			if (got) {
				idle = 0;
			} else if (++idle < 64) {
				sched_yield();
			} else {
				// The workers run on other lcores; on a shared core let them have it.
				struct timespec ts = {0, 20000};
				nanosleep(&ts, nullptr);
			}
		}
		for (int32_t left : s.slot)
			if (left >= 0) drop(f, s.to_host[size_t(left)].index, kHostDrop, int32_t(kHostLost));

		// Host -> NIC return path, one host port after another in order of first appearance.
		s.group_ports.clear();
		auto port_of = [&](uint16_t queue) {
			return uint32_t(queue < port_of_queue.ElementLength() ? port_of_queue[queue] : port_of_queue[0]);
		};
		for (const Back &col : s.back) {
			uint32_t p = port_of(col.queue);
			bool seen = false;
			for (uint32_t g : s.group_ports) seen = seen || g == p;
			if (!seen) s.group_ports.push_back(p);
		}
		for (uint32_t gp : s.group_ports) {
			const uint64_t now = fixed_now ? given_now : mono_ns();
			for (const Back &col : s.back) {
				if (port_of(col.queue) != gp) continue;
				uint32_t i = col.index;
				int32_t reason = 0;
				ProcessResult r = nic.run(gp, s.back_data.data() + col.off, col.len, now, &reason);
				if (r.verdict != Verdict::Forward) drop(f, i, kNicDrop, reason);
				else forward(f, i, r.port, s.nic_out.data(), r.len);
			}
		}
	}

	Napi::Object out = Napi::Object::New(env);
	out.Set("ports", ports);
	out.Set("reasons", reasons);
	out.Set("offs", offs);
	out.Set("lens", lens);
	out.Set("paths", paths);
	out.Set("data", Napi::Buffer<uint8_t>::Copy(env, s.fwd.data(), s.fwd.size()));
	Napi::Array hr = Napi::Array::New(env, s.host_reasons.size());
	for (uint32_t k = 0; k < s.host_reasons.size(); k++) hr.Set(k, s.host_reasons[k]);
	out.Set("hostReasons", hr);
	return out;
}

} // namespace nfp_softnic
