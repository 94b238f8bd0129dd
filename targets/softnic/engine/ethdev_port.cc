// A DPDK ethdev as a softnic wire port, for the stand-alone softnic's `N@ethdev:DEVARGS` ports:
// `exports.softnic.EthdevPort(devargs)` with non-blocking recv(max) and send(frame).
//
// DEVARGS is either a vdev spec, `driver<id>[,key=value...]` such as
// `net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap`, which the port creates with rte_vdev_init and
// removes again at close, or the name of a device the EAL already probed, which the port only
// configures, starts and stops. Either way the port owns one rx and one tx queue and the mempool
// behind them. It is polled from JavaScript (control rate, like RawSocket); deploy's fast path is
// the host runtime's own DPDK ports. The EAL must be up: TypeScript initialises it first, once per
// process, through the host runtime (ensureEal in host-runtime/lib/index.ts).
#include <napi.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "nfp/host.h"

namespace nfp_softnic {
namespace {

constexpr uint16_t kRingSize = 512; // rx and tx descriptors, before the driver adjusts them
constexpr unsigned kPoolSize = 2047; // rx ring + frames in flight; 2^n - 1 suits the mempool
constexpr unsigned kPoolCache = 32;
constexpr uint16_t kBurst = 32;

// One opened device. Built by ethdev_open, torn down by ethdev_close; no other owner.
struct EthdevPort {
	std::string devargs;
	std::string name;         // the device name: devargs up to the first comma
	uint16_t port_id = 0;
	bool created = false;     // a vdev this port created: closed and removed at close
	bool started = false;
	rte_mempool *pool = nullptr;
	bool queues_set = false; // the device's receive queue holds mbufs of `pool` from now on
};

uint32_t g_pool_generation = 0; // mempool names must be unique for the life of the process

std::string errno_text(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

// Collects what DPDK logs while a device is created, so that a failure can say the driver's reason
// (such as a pcap file it cannot open). On success the lines go on to stderr as they would have.
// The log stream is process-wide; this runs on the control path only, for the call's duration.
class LogCapture {
public:
	LogCapture() {
		mem_ = open_memstream(&buf_, &len_);
		if (mem_ != nullptr)
			rte_openlog_stream(mem_);
	}
	~LogCapture() { finish(true); }

	// Restores the log stream; returns the captured lines joined by "; ", and writes them to stderr
	// when `pass_on` is set.
	std::string finish(bool pass_on) {
		if (mem_ == nullptr)
			return "";
		rte_openlog_stream(nullptr);
		std::fclose(mem_);
		mem_ = nullptr;
		std::string text(buf_ != nullptr ? buf_ : "", len_);
		std::free(buf_);
		buf_ = nullptr;
		if (pass_on)
			std::fputs(text.c_str(), stderr);
		std::string joined;
		for (size_t b = 0; b < text.size();) {
			size_t e = text.find('\n', b);
			if (e == std::string::npos)
				e = text.size();
			if (e > b)
				joined += (joined.empty() ? "" : "; ") + text.substr(b, e - b);
			b = e + 1;
		}
		return joined;
	}

private:
	FILE *mem_ = nullptr;
	char *buf_ = nullptr;
	size_t len_ = 0;
};

// Finds or creates the device. Throws std::runtime_error saying what failed.
void ethdev_attach(EthdevPort &p) {
	const size_t comma = p.devargs.find(',');
	p.name = p.devargs.substr(0, comma);
	const std::string args = comma == std::string::npos ? "" : p.devargs.substr(comma + 1);
	if (p.name.empty())
		throw std::runtime_error("no device name (write a vdev such as net_pcap0,rx_pcap=in.pcap or a probed device)");
	uint16_t id;
	if (rte_eth_dev_get_port_by_name(p.name.c_str(), &id) == 0) {
		if (!args.empty())
			throw std::runtime_error("a device named " + p.name +
			                         " already exists; give its name alone to use it, or another vdev name");
		p.port_id = id;
		return;
	}
	LogCapture log;
	const int rc = rte_vdev_init(p.name.c_str(), args.c_str());
	const std::string said = log.finish(rc == 0);
	if (rc != 0) {
		// rte_vdev_init returns -1 both when no driver matches and when the driver refuses; a
		// refusing driver usually logs why, so its words go into the message.
		std::string why;
		if (rc == -EEXIST)
			why = "a device with that name exists already";
		else if (rc == -EINVAL)
			why = "malformed devargs";
		else if (said.empty())
			why = "no vdev driver matches the name (a vdev name starts with its driver, such as net_pcap0, "
			      "net_af_packet0 or net_tap0), or the driver refused the arguments";
		else
			why = "the driver refused the arguments (DPDK: " + said + ")";
		throw std::runtime_error("cannot create vdev " + p.name + ": " + why);
	}
	p.created = true;
	if (rte_eth_dev_get_port_by_name(p.name.c_str(), &id) != 0)
		throw std::runtime_error("vdev " + p.name + " was created but is not an ethdev");
	p.port_id = id;
}

// One rx and one tx queue on a mempool of the port's own, then start.
void ethdev_configure(EthdevPort &p) {
	rte_eth_conf conf;
	std::memset(&conf, 0, sizeof conf);
	int rc = rte_eth_dev_configure(p.port_id, 1, 1, &conf);
	if (rc < 0)
		throw std::runtime_error("cannot configure " + p.name + ": " + errno_text(rc));
	uint16_t nb_rx = kRingSize, nb_tx = kRingSize;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p.port_id, &nb_rx, &nb_tx);
	if (rc < 0)
		throw std::runtime_error("cannot size the queues of " + p.name + ": " + errno_text(rc));
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	std::snprintf(pool_name, sizeof pool_name, "snic_eth%u_%u", unsigned(p.port_id), g_pool_generation++);
	const int socket = rte_eth_dev_socket_id(p.port_id);
	p.pool = rte_pktmbuf_pool_create(pool_name, kPoolSize, kPoolCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (p.pool == nullptr)
		throw std::runtime_error("cannot create the mbuf pool of " + p.name + ": " + rte_strerror(rte_errno));
	rc = rte_eth_rx_queue_setup(p.port_id, 0, nb_rx, socket, nullptr, p.pool);
	if (rc < 0)
		throw std::runtime_error("cannot set up the receive queue of " + p.name + ": " + errno_text(rc));
	p.queues_set = true;
	rc = rte_eth_tx_queue_setup(p.port_id, 0, nb_tx, socket, nullptr);
	if (rc < 0)
		throw std::runtime_error("cannot set up the transmit queue of " + p.name + ": " + errno_text(rc));
	rc = rte_eth_dev_start(p.port_id);
	if (rc < 0)
		throw std::runtime_error("cannot start " + p.name + ": " + errno_text(rc));
	p.started = true;
	// A wire port sees every frame, as a switch port does; drivers without the notion say so.
	(void)rte_eth_promiscuous_enable(p.port_id);
}

// Stops the device; a vdev this port created is closed and removed, with the pool. A probed
// device stays (stopped, for later use), and so does the pool its queues may still hold mbufs of.
void ethdev_close(EthdevPort &p) {
	if (p.started)
		(void)rte_eth_dev_stop(p.port_id);
	p.started = false;
	if (p.created) {
		(void)rte_eth_dev_close(p.port_id);
		(void)rte_vdev_uninit(p.name.c_str());
		p.created = false;
		p.queues_set = false;
	}
	if (!p.queues_set)
		rte_mempool_free(p.pool); // (null is a no-op)
	p.pool = nullptr;
}

void ethdev_open(EthdevPort &p) {
	if (!nfp_host_eal_ready())
		throw std::runtime_error("the EAL is not initialised (the host runtime's ensureEal() starts it)");
	try {
		ethdev_attach(p);
		ethdev_configure(p);
	} catch (...) {
		ethdev_close(p);
		throw;
	}
}

class EthdevPortWrap : public Napi::ObjectWrap<EthdevPortWrap> {
public:
	static Napi::Function Define(Napi::Env env) {
		return DefineClass(env, "SoftnicEthdevPort",
		                   {
		                       InstanceMethod("recv", &EthdevPortWrap::Recv),
		                       InstanceMethod("send", &EthdevPortWrap::Send),
		                       InstanceMethod("close", &EthdevPortWrap::Close),
		                   });
	}

	explicit EthdevPortWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<EthdevPortWrap>(info) {
		Napi::Env env = info.Env();
		if (info.Length() < 1 || !info[0].IsString()) {
			Napi::TypeError::New(env, "EthdevPort(devargs: string)").ThrowAsJavaScriptException();
			return;
		}
		port_.devargs = info[0].As<Napi::String>().Utf8Value();
		try {
			ethdev_open(port_);
			open_ = true;
		} catch (const std::exception &e) {
			Napi::Error::New(env, "ethdev " + port_.devargs + ": " + e.what()).ThrowAsJavaScriptException();
		}
	}

	~EthdevPortWrap() override {
		if (open_)
			ethdev_close(port_);
	}

private:
	EthdevPort port_;
	bool open_ = false;

	// recv(max) → Buffer[] of the frames waiting now (at most `max`), copied out; never blocks.
	Napi::Value Recv(const Napi::CallbackInfo &info) {
		Napi::Env env = info.Env();
		uint32_t max = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 256;
		Napi::Array out = Napi::Array::New(env);
		uint32_t n = 0;
		rte_mbuf *burst[kBurst];
		while (open_ && n < max) {
			const uint16_t want = uint16_t(max - n < kBurst ? max - n : kBurst);
			const uint16_t got = rte_eth_rx_burst(port_.port_id, 0, burst, want);
			for (uint16_t i = 0; i < got; i++) {
				rte_mbuf *m = burst[i];
				Napi::Buffer<uint8_t> frame = Napi::Buffer<uint8_t>::New(env, m->pkt_len);
				uint32_t off = 0;
				for (rte_mbuf *s = m; s != nullptr && off < m->pkt_len; s = s->next) {
					std::memcpy(frame.Data() + off, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
					off += s->data_len;
				}
				out.Set(n++, frame);
			}
			rte_pktmbuf_free_bulk(burst, got);
			if (got < want)
				break; // the queue is empty for now
		}
		return out;
	}

	// send(frame) → whether the device took it (false: closed, too long for one mbuf, no mbuf,
	// or the transmit queue is full).
	Napi::Value Send(const Napi::CallbackInfo &info) {
		Napi::Env env = info.Env();
		if (!open_ || info.Length() < 1 || !info[0].IsBuffer())
			return Napi::Boolean::New(env, false);
		Napi::Buffer<uint8_t> b = info[0].As<Napi::Buffer<uint8_t>>();
		rte_mbuf *m = rte_pktmbuf_alloc(port_.pool);
		if (m == nullptr)
			return Napi::Boolean::New(env, false);
		char *data = b.Length() <= 0xffff ? rte_pktmbuf_append(m, uint16_t(b.Length())) : nullptr;
		if (data == nullptr) {
			rte_pktmbuf_free(m);
			return Napi::Boolean::New(env, false);
		}
		std::memcpy(data, b.Data(), b.Length());
		if (rte_eth_tx_burst(port_.port_id, 0, &m, 1) == 1)
			return Napi::Boolean::New(env, true);
		rte_pktmbuf_free(m);
		return Napi::Boolean::New(env, false);
	}

	Napi::Value Close(const Napi::CallbackInfo &info) {
		if (open_)
			ethdev_close(port_);
		open_ = false;
		return info.Env().Undefined();
	}
};

} // namespace

void softnic_register_ethdev_port(Napi::Env env, Napi::Object softnic) {
	softnic.Set("EthdevPort", EthdevPortWrap::Define(env));
}

} // namespace nfp_softnic
