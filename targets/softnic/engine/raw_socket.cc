// An AF_PACKET socket on one network interface, for the stand-alone softnic's `N@iface:NAME`
// ports and deploy's wire data path: `exports.softnic.RawSocket(name, netns?)` with non-blocking
// recv(max) and send(frame). With `netns` (a name under /var/run/netns) the socket is created
// in that network namespace and stays bound there; the calling thread returns to its own at once.
// Control-rate packet I/O from JavaScript; deploy's fast path is the host runtime's DPDK ports.
#include <napi.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <cerrno>
#include <cstring>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace nfp_softnic {
namespace {

// Runs `make` with the calling thread in network namespace `netns` (empty: this one) and returns
// its result; the thread is back in its own namespace before this returns. Throws on failure.
template <typename F> auto in_netns(const std::string &netns, F make) -> decltype(make()) {
	if (netns.empty()) return make();
	const int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) throw std::runtime_error(std::string("cannot open this thread's network namespace: ") + std::strerror(errno));
	const std::string path = "/var/run/netns/" + netns;
	const int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (target < 0 || setns(target, CLONE_NEWNET) != 0) {
		const int e = errno;
		if (target >= 0) ::close(target);
		::close(self);
		throw std::runtime_error("cannot enter network namespace " + netns + ": " + std::strerror(e));
	}
	::close(target);
	auto restore = [&]() {
		if (setns(self, CLONE_NEWNET) != 0) std::abort(); // never leave the JS thread elsewhere
		::close(self);
	};
	try {
		auto r = make();
		restore();
		return r;
	} catch (...) {
		restore();
		throw;
	}
}

class RawSocketWrap : public Napi::ObjectWrap<RawSocketWrap> {
public:
	static Napi::Function Define(Napi::Env env) {
		return DefineClass(env, "SoftnicRawSocket",
		                   {
		                       InstanceMethod("recv", &RawSocketWrap::Recv),
		                       InstanceMethod("send", &RawSocketWrap::Send),
		                       InstanceMethod("close", &RawSocketWrap::Close),
		                   });
	}

	explicit RawSocketWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RawSocketWrap>(info) {
		Napi::Env env = info.Env();
		if (info.Length() < 1 || !info[0].IsString() || (info.Length() > 1 && !info[1].IsString() && !info[1].IsUndefined())) {
			Napi::TypeError::New(env, "RawSocket(interfaceName: string, netns?: string)").ThrowAsJavaScriptException();
			return;
		}
		const std::string name = info[0].As<Napi::String>().Utf8Value();
		const std::string netns = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
		const std::string where = netns.empty() ? name : name + " (namespace " + netns + ")";
		unsigned idx = 0;
		int err = 0;
		try {
			// The interface index and the socket both belong to the namespace.
			fd_ = in_netns(netns, [&]() {
				idx = if_nametoindex(name.c_str());
				if (idx == 0) return -1;
				int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
				err = errno;
				return fd;
			});
		} catch (const std::exception &e) {
			Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
			return;
		}
		if (idx == 0) {
			Napi::Error::New(env, "no network interface named \"" + where + "\"").ThrowAsJavaScriptException();
			return;
		}
		if (fd_ < 0) {
			Napi::Error::New(env, "cannot open a packet socket on " + where + ": " + std::strerror(err) +
			                          " (needs root or CAP_NET_RAW)")
			    .ThrowAsJavaScriptException();
			return;
		}
		sockaddr_ll sll{};
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_ALL);
		sll.sll_ifindex = int(idx);
		if (bind(fd_, reinterpret_cast<sockaddr *>(&sll), sizeof sll) < 0) {
			const int e = errno;
			close_fd();
			Napi::Error::New(env, "cannot bind a packet socket to " + name + ": " + std::strerror(e))
			    .ThrowAsJavaScriptException();
			return;
		}
		// The kernel takes a VLAN tag out of a received frame into metadata; ask for it back so
		// frames are seen as they were on the wire.
		int aux = 1;
		setsockopt(fd_, SOL_PACKET, PACKET_AUXDATA, &aux, sizeof aux);
#ifdef PACKET_IGNORE_OUTGOING
		int one = 1; // do not read back what this port sends
		setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#endif
	}

	~RawSocketWrap() override { close_fd(); }

private:
	int fd_ = -1;
	uint8_t buf_[65536 + 4];

	void close_fd() {
		if (fd_ >= 0) ::close(fd_);
		fd_ = -1;
	}

	// recv(max) → Buffer[] of the frames waiting now (at most `max`), never blocking.
	Napi::Value Recv(const Napi::CallbackInfo &info) {
		Napi::Env env = info.Env();
		uint32_t max = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 256;
		Napi::Array out = Napi::Array::New(env);
		uint32_t n = 0;
		while (fd_ >= 0 && n < max) {
			sockaddr_ll from{};
			alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(tpacket_auxdata))];
			iovec iov{buf_ + 4, sizeof buf_ - 4}; // room in front to put a VLAN tag back
			msghdr msg{};
			msg.msg_name = &from;
			msg.msg_namelen = sizeof from;
			msg.msg_iov = &iov;
			msg.msg_iovlen = 1;
			msg.msg_control = control;
			msg.msg_controllen = sizeof control;
			ssize_t r = recvmsg(fd_, &msg, 0);
			if (r < 0) break; // EAGAIN: nothing more now
			if (from.sll_pkttype == PACKET_OUTGOING) continue;
			uint8_t *frame = buf_ + 4;
			size_t len = size_t(r);
			for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
				if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA || len < 12) continue;
				tpacket_auxdata aux;
				std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
				if (!(aux.tp_status & TP_STATUS_VLAN_VALID)) continue;
				const uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : 0x8100;
				std::memmove(buf_, frame, 12); // MAC addresses move 4 bytes forward
				frame = buf_;
				frame[12] = uint8_t(tpid >> 8);
				frame[13] = uint8_t(tpid);
				frame[14] = uint8_t(aux.tp_vlan_tci >> 8);
				frame[15] = uint8_t(aux.tp_vlan_tci);
				len += 4;
			}
			out.Set(n++, Napi::Buffer<uint8_t>::Copy(env, frame, len));
		}
		return out;
	}

	Napi::Value Send(const Napi::CallbackInfo &info) {
		Napi::Env env = info.Env();
		if (fd_ < 0 || info.Length() < 1 || !info[0].IsBuffer()) return Napi::Boolean::New(env, false);
		Napi::Buffer<uint8_t> b = info[0].As<Napi::Buffer<uint8_t>>();
		ssize_t r = ::send(fd_, b.Data(), b.Length(), 0);
		return Napi::Boolean::New(env, r == ssize_t(b.Length()));
	}

	Napi::Value Close(const Napi::CallbackInfo &info) {
		close_fd();
		return info.Env().Undefined();
	}
};

} // namespace

void softnic_register_raw_socket(Napi::Env env, Napi::Object softnic) {
	softnic.Set("RawSocket", RawSocketWrap::Define(env));
}

} // namespace nfp_softnic
