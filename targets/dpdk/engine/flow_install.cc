// Installs an rte_flow rule set on a loaded host plan's DPDK ports, all or nothing:
//   1. meters (rte_mtr: an srTCM profile, a policy that drops red, the meter object),
//   2. rte_flow_validate on every rule, before any is created,
//   3. rte_flow_create on every rule;
// any failure destroys what was created, in reverse, and leaves the ports as they were. The
// error names the rule (its index; TypeScript adds its tenant, path and NF) and the PMD's message.
//
// The DPDK calls go through a table of operations: the real one, and for tests of the rollback a
// recording one that accepts every call, keeps count of what lives, and fails the call chosen by
// the test (the injectable failure point). The real table is what every deployment uses.
//
// exports.dpdk: flowInstall(hostHandle, ruleSet, options?) → id; flowRead(id) → counters;
// flowRemove(id); flowLive() → what the recording table holds; portInfo(hostHandle).
#include <napi.h>

#include <errno.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_mtr.h>

#include "nfp/host.h"

namespace nfp_dpdk {
namespace {

// ---- the DPDK operations, real and recording -------------------------------------------------

struct FlowOps {
	virtual ~FlowOps() = default;
	virtual int validate(uint16_t port, const rte_flow_attr *a, const rte_flow_item *p, const rte_flow_action *x,
	                     std::string *err) = 0;
	virtual void *create(uint16_t port, const rte_flow_attr *a, const rte_flow_item *p, const rte_flow_action *x,
	                     std::string *err) = 0;
	virtual void destroy(uint16_t port, void *flow) = 0;
	virtual int query_count(uint16_t port, void *flow, uint64_t *hits) = 0;
	virtual int meter_create(uint16_t port, uint32_t id, uint64_t cir, uint64_t cbs, std::string *err) = 0;
	virtual void meter_destroy(uint16_t port, uint32_t id) = 0;
	virtual int meter_red(uint16_t port, uint32_t id, uint64_t *red) = 0;
};

std::string flow_message(int rc, const rte_flow_error &e) {
	std::string m = e.message != nullptr ? e.message : "";
	std::string s = rte_strerror(-rc);
	return m.empty() ? s : m + " (" + s + ")";
}

struct RteFlowOps : FlowOps {
	int validate(uint16_t port, const rte_flow_attr *a, const rte_flow_item *p, const rte_flow_action *x,
	             std::string *err) override {
		rte_flow_error e{};
		int rc = rte_flow_validate(port, a, p, x, &e);
		if (rc != 0) *err = flow_message(rc, e);
		return rc;
	}
	void *create(uint16_t port, const rte_flow_attr *a, const rte_flow_item *p, const rte_flow_action *x,
	             std::string *err) override {
		rte_flow_error e{};
		rte_flow *f = rte_flow_create(port, a, p, x, &e);
		if (f == nullptr) *err = flow_message(-rte_errno, e);
		return f;
	}
	void destroy(uint16_t port, void *flow) override {
		rte_flow_error e{};
		rte_flow_destroy(port, static_cast<rte_flow *>(flow), &e);
	}
	int query_count(uint16_t port, void *flow, uint64_t *hits) override {
		rte_flow_query_count q{};
		rte_flow_action count[2] = {{RTE_FLOW_ACTION_TYPE_COUNT, nullptr}, {RTE_FLOW_ACTION_TYPE_END, nullptr}};
		rte_flow_error e{};
		int rc = rte_flow_query(port, static_cast<rte_flow *>(flow), count, &q, &e);
		if (rc == 0) *hits = q.hits;
		return rc;
	}
	int meter_create(uint16_t port, uint32_t id, uint64_t cir, uint64_t cbs, std::string *err) override {
		rte_mtr_error e{};
		rte_mtr_meter_profile prof{};
		prof.alg = RTE_MTR_SRTCM_RFC2697;
		prof.srtcm_rfc2697.cir = cir;
		prof.srtcm_rfc2697.cbs = cbs;
		prof.srtcm_rfc2697.ebs = 0;
		int rc = rte_mtr_meter_profile_add(port, id, &prof, &e);
		if (rc != 0) {
			*err = std::string("meter profile: ") + (e.message ? e.message : rte_strerror(-rc));
			return rc;
		}
		// Green and yellow go on with the rule's other actions; red is dropped.
		const rte_flow_action drop[2] = {{RTE_FLOW_ACTION_TYPE_DROP, nullptr}, {RTE_FLOW_ACTION_TYPE_END, nullptr}};
		rte_mtr_meter_policy_params pol{};
		pol.actions[RTE_COLOR_GREEN] = nullptr;
		pol.actions[RTE_COLOR_YELLOW] = nullptr;
		pol.actions[RTE_COLOR_RED] = drop;
		rc = rte_mtr_meter_policy_add(port, id, &pol, &e);
		if (rc != 0) {
			*err = std::string("meter policy: ") + (e.message ? e.message : rte_strerror(-rc));
			rte_mtr_meter_profile_delete(port, id, &e);
			return rc;
		}
		rte_mtr_params p{};
		p.meter_profile_id = id;
		p.meter_policy_id = id;
		p.meter_enable = 1;
		p.stats_mask = RTE_MTR_STATS_N_PKTS_RED | RTE_MTR_STATS_N_PKTS_DROPPED;
		rc = rte_mtr_create(port, id, &p, 0, &e);
		if (rc != 0) {
			*err = std::string("meter: ") + (e.message ? e.message : rte_strerror(-rc));
			rte_mtr_meter_policy_delete(port, id, &e);
			rte_mtr_meter_profile_delete(port, id, &e);
		}
		return rc;
	}
	void meter_destroy(uint16_t port, uint32_t id) override {
		rte_mtr_error e{};
		rte_mtr_destroy(port, id, &e);
		rte_mtr_meter_policy_delete(port, id, &e);
		rte_mtr_meter_profile_delete(port, id, &e);
	}
	int meter_red(uint16_t port, uint32_t id, uint64_t *red) override {
		rte_mtr_stats st{};
		uint64_t mask = 0;
		rte_mtr_error e{};
		int rc = rte_mtr_stats_read(port, id, &st, &mask, 0, &e);
		if (rc == 0) *red = st.n_pkts_dropped;
		return rc;
	}
};

// Accepts everything and keeps count of what lives, except the call it is told to fail.
struct RecordingOps : FlowOps {
	std::string fail_phase; // "meter", "validate", "create", or empty
	int fail_index = -1;
	int calls_validate = 0, calls_create = 0, calls_meter = 0;
	std::map<void *, uint16_t> live_flows;
	std::map<std::pair<uint16_t, uint32_t>, int> live_meters;
	uintptr_t next = 1;

	bool failing(const char *phase, int *counter, std::string *err) {
		const bool f = fail_phase == phase && *counter == fail_index;
		(*counter)++;
		if (f) *err = std::string("injected failure (") + phase + ")";
		return f;
	}
	int validate(uint16_t, const rte_flow_attr *, const rte_flow_item *, const rte_flow_action *, std::string *err) override {
		return failing("validate", &calls_validate, err) ? -EIO : 0;
	}
	void *create(uint16_t port, const rte_flow_attr *, const rte_flow_item *, const rte_flow_action *, std::string *err) override {
		if (failing("create", &calls_create, err)) return nullptr;
		void *f = reinterpret_cast<void *>(next++);
		live_flows[f] = port;
		return f;
	}
	void destroy(uint16_t, void *flow) override { live_flows.erase(flow); }
	int query_count(uint16_t, void *, uint64_t *hits) override {
		*hits = 0;
		return 0;
	}
	int meter_create(uint16_t port, uint32_t id, uint64_t, uint64_t, std::string *err) override {
		if (failing("meter", &calls_meter, err)) return -EIO;
		live_meters[{port, id}] = 1;
		return 0;
	}
	void meter_destroy(uint16_t port, uint32_t id) override { live_meters.erase({port, id}); }
	int meter_red(uint16_t, uint32_t, uint64_t *red) override {
		*red = 0;
		return 0;
	}
};

RteFlowOps g_rte;
std::unique_ptr<RecordingOps> g_recording; // the last recording table, for flowLive()

// ---- one installed rule set -------------------------------------------------------------------

struct Installed {
	FlowOps *ops;
	struct Rule {
		uint16_t port;
		void *flow;
		int32_t counter; // -1: no COUNT action
	};
	std::vector<Rule> rules;
	struct Meter {
		uint16_t port;
		uint32_t id;
	};
	std::vector<Meter> meters;
	uint32_t n_counters = 0;

	void remove() {
		for (auto r = rules.rbegin(); r != rules.rend(); ++r) ops->destroy(r->port, r->flow);
		rules.clear();
		for (auto m = meters.rbegin(); m != meters.rend(); ++m) ops->meter_destroy(m->port, m->id);
		meters.clear();
	}
};

std::map<uint32_t, std::unique_ptr<Installed>> g_installed;
uint32_t g_next_id = 1;

// The rte_flow structs one rule points into; they live until the rule is created.
struct RuleBuild {
	rte_flow_attr attr{};
	std::vector<rte_flow_item> items;
	std::vector<rte_flow_action> actions;
	std::vector<std::shared_ptr<void>> blobs;
	int32_t counter = -1;

	template <typename T> T *blob() {
		auto p = std::make_shared<T>();
		std::memset(p.get(), 0, sizeof(T));
		blobs.push_back(p);
		return p.get();
	}
};

uint32_t u32(const Napi::Object &o, const char *k, uint32_t dflt = 0) {
	Napi::Value v = o.Get(k);
	return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
}

// [value, mask] of a field: numbers, or Buffers (IPv6 addresses).
bool masked(const Napi::Object &o, const char *k, uint32_t *v, uint32_t *m) {
	Napi::Value x = o.Get(k);
	if (!x.IsArray()) return false;
	Napi::Array a = x.As<Napi::Array>();
	*v = a.Get(uint32_t(0)).As<Napi::Number>().Uint32Value();
	*m = a.Get(uint32_t(1)).As<Napi::Number>().Uint32Value();
	return true;
}

bool masked16(const Napi::Object &o, const char *k, uint8_t *v, uint8_t *m) {
	Napi::Value x = o.Get(k);
	if (!x.IsArray()) return false;
	Napi::Array a = x.As<Napi::Array>();
	auto b0 = a.Get(uint32_t(0)).As<Napi::Buffer<uint8_t>>(), b1 = a.Get(uint32_t(1)).As<Napi::Buffer<uint8_t>>();
	if (b0.Length() != 16 || b1.Length() != 16) throw std::runtime_error("an IPv6 address needs 16 bytes");
	std::memcpy(v, b0.Data(), 16);
	std::memcpy(m, b1.Data(), 16);
	return true;
}

// A TCP or UDP item: the same ports, in their own header struct.
template <typename T> rte_flow_item l4_item(RuleBuild &b, const Napi::Object &it, rte_flow_item_type type) {
	T *s = b.blob<T>();
	T *k = b.blob<T>();
	uint32_t v = 0, m = 0;
	if (masked(it, "srcPort", &v, &m)) {
		s->hdr.src_port = rte_cpu_to_be_16(uint16_t(v));
		k->hdr.src_port = rte_cpu_to_be_16(uint16_t(m));
	}
	if (masked(it, "dstPort", &v, &m)) {
		s->hdr.dst_port = rte_cpu_to_be_16(uint16_t(v));
		k->hdr.dst_port = rte_cpu_to_be_16(uint16_t(m));
	}
	return {type, s, nullptr, k};
}

void add_item(RuleBuild &b, const Napi::Object &it) {
	const std::string type = it.Get("type").As<Napi::String>().Utf8Value();
	rte_flow_item item{};
	uint32_t v = 0, m = 0;
	if (type == "eth") {
		auto *s = b.blob<rte_flow_item_eth>();
		auto *k = b.blob<rte_flow_item_eth>();
		if (it.Get("etherType").IsNumber()) {
			s->type = rte_cpu_to_be_16(uint16_t(u32(it, "etherType")));
			k->type = 0xffff;
		}
		if (it.Get("hasVlan").IsBoolean()) {
			s->has_vlan = it.Get("hasVlan").As<Napi::Boolean>().Value() ? 1 : 0;
			k->has_vlan = 1;
		}
		item = {RTE_FLOW_ITEM_TYPE_ETH, s, nullptr, k};
	} else if (type == "vlan") {
		auto *s = b.blob<rte_flow_item_vlan>();
		auto *k = b.blob<rte_flow_item_vlan>();
		if (masked(it, "vid", &v, &m)) {
			s->tci = rte_cpu_to_be_16(uint16_t(v & 0xfff));
			k->tci = rte_cpu_to_be_16(uint16_t(m & 0xfff));
		}
		item = {RTE_FLOW_ITEM_TYPE_VLAN, s, nullptr, k};
	} else if (type == "ipv4") {
		auto *s = b.blob<rte_flow_item_ipv4>();
		auto *k = b.blob<rte_flow_item_ipv4>();
		if (masked(it, "src", &v, &m)) s->hdr.src_addr = rte_cpu_to_be_32(v), k->hdr.src_addr = rte_cpu_to_be_32(m);
		if (masked(it, "dst", &v, &m)) s->hdr.dst_addr = rte_cpu_to_be_32(v), k->hdr.dst_addr = rte_cpu_to_be_32(m);
		if (masked(it, "proto", &v, &m)) s->hdr.next_proto_id = uint8_t(v), k->hdr.next_proto_id = uint8_t(m);
		if (masked(it, "dscp", &v, &m)) s->hdr.type_of_service = uint8_t(v << 2), k->hdr.type_of_service = uint8_t(m << 2);
		if (masked(it, "versionIhl", &v, &m)) s->hdr.version_ihl = uint8_t(v), k->hdr.version_ihl = uint8_t(m);
		if (masked(it, "fragmentOffset", &v, &m))
			s->hdr.fragment_offset = rte_cpu_to_be_16(uint16_t(v)), k->hdr.fragment_offset = rte_cpu_to_be_16(uint16_t(m));
		item = {RTE_FLOW_ITEM_TYPE_IPV4, s, nullptr, k};
	} else if (type == "ipv6") {
		auto *s = b.blob<rte_flow_item_ipv6>();
		auto *k = b.blob<rte_flow_item_ipv6>();
		masked16(it, "src", s->hdr.src_addr, k->hdr.src_addr);
		masked16(it, "dst", s->hdr.dst_addr, k->hdr.dst_addr);
		if (masked(it, "proto", &v, &m)) s->hdr.proto = uint8_t(v), k->hdr.proto = uint8_t(m);
		if (masked(it, "dscp", &v, &m)) {
			s->hdr.vtc_flow = rte_cpu_to_be_32(v << 22);
			k->hdr.vtc_flow = rte_cpu_to_be_32(m << 22);
		}
		item = {RTE_FLOW_ITEM_TYPE_IPV6, s, nullptr, k};
	} else if (type == "tcp") {
		item = l4_item<rte_flow_item_tcp>(b, it, RTE_FLOW_ITEM_TYPE_TCP);
	} else if (type == "udp") {
		item = l4_item<rte_flow_item_udp>(b, it, RTE_FLOW_ITEM_TYPE_UDP);
	} else if (type == "icmp") {
		item = {RTE_FLOW_ITEM_TYPE_ICMP, nullptr, nullptr, nullptr};
	} else {
		throw std::runtime_error("unknown item " + type);
	}
	b.items.push_back(item);
}

void add_action(RuleBuild &b, const Napi::Object &a) {
	const std::string type = a.Get("type").As<Napi::String>().Utf8Value();
	const uint32_t v = u32(a, "value");
	rte_flow_action act{};
	if (type == "jump") {
		auto *c = b.blob<rte_flow_action_jump>();
		c->group = v;
		act = {RTE_FLOW_ACTION_TYPE_JUMP, c};
	} else if (type == "queue") {
		auto *c = b.blob<rte_flow_action_queue>();
		c->index = uint16_t(v);
		act = {RTE_FLOW_ACTION_TYPE_QUEUE, c};
	} else if (type == "mark") {
		auto *c = b.blob<rte_flow_action_mark>();
		c->id = v;
		act = {RTE_FLOW_ACTION_TYPE_MARK, c};
	} else if (type == "drop") {
		act = {RTE_FLOW_ACTION_TYPE_DROP, nullptr};
	} else if (type == "count") {
		auto *c = b.blob<rte_flow_action_count>();
		b.counter = int32_t(v);
		act = {RTE_FLOW_ACTION_TYPE_COUNT, c};
	} else if (type == "meter") {
		auto *c = b.blob<rte_flow_action_meter>();
		c->mtr_id = v;
		act = {RTE_FLOW_ACTION_TYPE_METER, c};
	} else if (type == "set_ipv4_dscp" || type == "set_ipv6_dscp") {
		auto *c = b.blob<rte_flow_action_set_dscp>();
		c->dscp = uint8_t(v);
		act = {type == "set_ipv4_dscp" ? RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP : RTE_FLOW_ACTION_TYPE_SET_IPV6_DSCP, c};
	} else if (type == "of_pop_vlan") {
		act = {RTE_FLOW_ACTION_TYPE_OF_POP_VLAN, nullptr};
	} else if (type == "of_push_vlan") {
		auto *c = b.blob<rte_flow_action_of_push_vlan>();
		c->ethertype = rte_cpu_to_be_16(uint16_t(v));
		act = {RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN, c};
	} else if (type == "of_set_vlan_vid") {
		auto *c = b.blob<rte_flow_action_of_set_vlan_vid>();
		c->vlan_vid = rte_cpu_to_be_16(uint16_t(v));
		act = {RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID, c};
	} else if (type == "set_mac_src" || type == "set_mac_dst") {
		auto *c = b.blob<rte_flow_action_set_mac>();
		Napi::Buffer<uint8_t> mac = a.Get("mac").As<Napi::Buffer<uint8_t>>();
		if (mac.Length() != 6) throw std::runtime_error("a MAC address needs 6 bytes");
		std::memcpy(c->mac_addr, mac.Data(), 6);
		act = {type == "set_mac_src" ? RTE_FLOW_ACTION_TYPE_SET_MAC_SRC : RTE_FLOW_ACTION_TYPE_SET_MAC_DST, c};
	} else {
		throw std::runtime_error("unknown action " + type);
	}
	b.actions.push_back(act);
}

Napi::Error install_error(Napi::Env env, const std::string &phase, int index, const std::string &msg) {
	Napi::Error e = Napi::Error::New(env, msg);
	e.Set("phase", phase);
	e.Set("index", Napi::Number::New(env, index));
	return e;
}

void remove_with_plan(void *ctx) {
	auto it = g_installed.find(uint32_t(reinterpret_cast<uintptr_t>(ctx)));
	if (it == g_installed.end()) return; // removed already
	it->second->remove();
	g_installed.erase(it);
}

// flowInstall(hostHandle, { rules, meters, counters }, { recording?: {phase, index} }) → id
Napi::Value FlowInstall(const Napi::CallbackInfo &info) {
	Napi::Env env = info.Env();
	if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsObject())
		throw Napi::TypeError::New(env, "flowInstall(hostHandle: number, ruleSet: object, options?: object)");
	nfp_host *h = nfp_host_get(uint64_t(info[0].As<Napi::Number>().DoubleValue()));
	if (h == nullptr) throw Napi::Error::New(env, "flowInstall: no host plan with this handle is loaded");
	std::vector<uint16_t> port_ids;
	for (uint32_t i = 0; i < nfp_host_port_count(h); i++) {
		nfp_host_port p;
		nfp_host_port_get(h, i, &p);
		port_ids.push_back(p.port_id);
	}
	auto port_of = [&](uint32_t index) {
		if (index >= port_ids.size()) throw Napi::RangeError::New(env, "flowInstall: port index " + std::to_string(index) + " out of range");
		return port_ids[index];
	};
	FlowOps *ops = &g_rte;
	if (info.Length() > 2 && info[2].IsObject() && info[2].As<Napi::Object>().Get("recording").IsObject()) {
		Napi::Object r = info[2].As<Napi::Object>().Get("recording").As<Napi::Object>();
		g_recording = std::make_unique<RecordingOps>();
		if (r.Get("phase").IsString()) g_recording->fail_phase = r.Get("phase").As<Napi::String>().Utf8Value();
		g_recording->fail_index = int(u32(r, "index", 0));
		ops = g_recording.get();
	}
	Napi::Object rs = info[1].As<Napi::Object>();
	Napi::Array rules = rs.Get("rules").As<Napi::Array>();
	Napi::Array meters = rs.Get("meters").As<Napi::Array>();
	auto inst = std::make_unique<Installed>();
	inst->ops = ops;
	inst->n_counters = u32(rs, "counters");

	// 1. Meters.
	for (uint32_t i = 0; i < meters.Length(); i++) {
		Napi::Object m = meters.Get(i).As<Napi::Object>();
		const uint16_t port = port_of(u32(m, "port"));
		const uint32_t id = u32(m, "id");
		std::string err;
		const double cir = m.Get("cir").As<Napi::Number>().DoubleValue(), cbs = m.Get("cbs").As<Napi::Number>().DoubleValue();
		if (ops->meter_create(port, id, uint64_t(cir), uint64_t(cbs), &err) != 0) {
			inst->remove();
			throw install_error(env, "meter", int(i), err);
		}
		inst->meters.push_back({port, id});
	}
	// 2. Build every rule and validate it, before any is created.
	std::vector<RuleBuild> built(rules.Length());
	std::vector<uint16_t> ports(rules.Length());
	for (uint32_t i = 0; i < rules.Length(); i++) {
		Napi::Object r = rules.Get(i).As<Napi::Object>();
		RuleBuild &b = built[i];
		try {
			ports[i] = port_of(u32(r, "port"));
			b.attr.group = u32(r, "group");
			b.attr.priority = u32(r, "priority");
			b.attr.ingress = 1;
			Napi::Array items = r.Get("pattern").As<Napi::Array>();
			for (uint32_t k = 0; k < items.Length(); k++) add_item(b, items.Get(k).As<Napi::Object>());
			b.items.push_back({RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr});
			Napi::Array acts = r.Get("actions").As<Napi::Array>();
			for (uint32_t k = 0; k < acts.Length(); k++) add_action(b, acts.Get(k).As<Napi::Object>());
			b.actions.push_back({RTE_FLOW_ACTION_TYPE_END, nullptr});
		} catch (const std::exception &e) {
			inst->remove();
			throw install_error(env, "build", int(i), e.what());
		}
		std::string err;
		if (ops->validate(ports[i], &b.attr, b.items.data(), b.actions.data(), &err) != 0) {
			inst->remove();
			throw install_error(env, "validate", int(i), err);
		}
	}
	// 3. Create them; a failure takes back every rule and meter created.
	for (uint32_t i = 0; i < built.size(); i++) {
		std::string err;
		void *f = ops->create(ports[i], &built[i].attr, built[i].items.data(), built[i].actions.data(), &err);
		if (f == nullptr) {
			inst->remove();
			throw install_error(env, "create", int(i), err);
		}
		inst->rules.push_back({ports[i], f, built[i].counter});
	}
	const uint32_t id = g_next_id++;
	g_installed[id] = std::move(inst);
	// The rules go with the plan: removed once its workers stopped, before its ports close.
	nfp_host_on_stop(h, remove_with_plan, reinterpret_cast<void *>(uintptr_t(id)));
	return Napi::Number::New(env, id);
}

Installed *need(const Napi::CallbackInfo &info) {
	if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected an installation id");
	auto it = g_installed.find(info[0].As<Napi::Number>().Uint32Value());
	if (it == g_installed.end()) throw Napi::Error::New(info.Env(), "no rule set installed with this id");
	return it->second.get();
}

// flowRead(id) → { counters: number[] (hits per counter id, summed over its rules), unread }
Napi::Value FlowRead(const Napi::CallbackInfo &info) {
	Napi::Env env = info.Env();
	Installed *in = need(info);
	std::vector<uint64_t> hits(in->n_counters, 0);
	uint32_t unread = 0;
	for (const auto &r : in->rules) {
		if (r.counter < 0 || uint32_t(r.counter) >= hits.size()) continue;
		uint64_t n = 0;
		if (in->ops->query_count(r.port, r.flow, &n) == 0) hits[size_t(r.counter)] += n;
		else unread++;
	}
	Napi::Array c = Napi::Array::New(env, hits.size());
	for (uint32_t i = 0; i < hits.size(); i++) c.Set(i, double(hits[i]));
	Napi::Array red = Napi::Array::New(env, in->meters.size());
	for (uint32_t i = 0; i < in->meters.size(); i++) {
		uint64_t n = 0;
		in->ops->meter_red(in->meters[i].port, in->meters[i].id, &n);
		red.Set(i, double(n));
	}
	Napi::Object o = Napi::Object::New(env);
	o.Set("counters", c);
	o.Set("meterRed", red);
	o.Set("unread", unread);
	return o;
}

Napi::Value FlowRemove(const Napi::CallbackInfo &info) {
	Installed *in = need(info);
	in->remove();
	g_installed.erase(info[0].As<Napi::Number>().Uint32Value());
	return info.Env().Undefined();
}

// flowLive() → { flows, meters, validated, created }: what the recording table holds.
Napi::Value FlowLive(const Napi::CallbackInfo &info) {
	Napi::Object o = Napi::Object::New(info.Env());
	const RecordingOps *r = g_recording.get();
	o.Set("flows", r ? double(r->live_flows.size()) : 0);
	o.Set("meters", r ? double(r->live_meters.size()) : 0);
	o.Set("validated", r ? r->calls_validate : 0);
	o.Set("created", r ? r->calls_create : 0);
	return o;
}

// flowIsolate(hostHandle, on) → rte_flow_isolate's answer per port (0 or a negative errno).
// Leaving isolation may not be possible on every PMD; the caller decides what that means.
Napi::Value FlowIsolate(const Napi::CallbackInfo &info) {
	Napi::Env env = info.Env();
	if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean())
		throw Napi::TypeError::New(env, "flowIsolate(hostHandle: number, on: boolean)");
	nfp_host *h = nfp_host_get(uint64_t(info[0].As<Napi::Number>().DoubleValue()));
	if (h == nullptr) throw Napi::Error::New(env, "flowIsolate: no host plan with this handle is loaded");
	const uint32_t n = nfp_host_port_count(h);
	Napi::Array out = Napi::Array::New(env, n);
	for (uint32_t i = 0; i < n; i++) {
		nfp_host_port p;
		nfp_host_port_get(h, i, &p);
		rte_flow_error e{};
		out.Set(i, rte_flow_isolate(p.port_id, info[1].As<Napi::Boolean>().Value() ? 1 : 0, &e));
	}
	return out;
}

// portInfo(hostHandle) → [{ portId, driver, queues, isolate }] for the plan's DPDK ports.
Napi::Value PortInfo(const Napi::CallbackInfo &info) {
	Napi::Env env = info.Env();
	if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "portInfo(hostHandle: number)");
	nfp_host *h = nfp_host_get(uint64_t(info[0].As<Napi::Number>().DoubleValue()));
	if (h == nullptr) throw Napi::Error::New(env, "portInfo: no host plan with this handle is loaded");
	const uint32_t n = nfp_host_port_count(h);
	Napi::Array out = Napi::Array::New(env, n);
	for (uint32_t i = 0; i < n; i++) {
		nfp_host_port p;
		nfp_host_port_get(h, i, &p);
		rte_eth_dev_info di{};
		const char *driver = rte_eth_dev_info_get(p.port_id, &di) == 0 && di.driver_name ? di.driver_name : "";
		Napi::Object o = Napi::Object::New(env);
		o.Set("portId", p.port_id);
		o.Set("driver", driver);
		o.Set("queues", p.queues);
		o.Set("isolate", p.isolate_rc);
		out.Set(i, o);
	}
	return out;
}

} // namespace
} // namespace nfp_dpdk

void nfp_dpdk_register(Napi::Env env, Napi::Object exports) {
	Napi::Object d = Napi::Object::New(env);
	d.Set("flowInstall", Napi::Function::New(env, nfp_dpdk::FlowInstall));
	d.Set("flowRead", Napi::Function::New(env, nfp_dpdk::FlowRead));
	d.Set("flowRemove", Napi::Function::New(env, nfp_dpdk::FlowRemove));
	d.Set("flowLive", Napi::Function::New(env, nfp_dpdk::FlowLive));
	d.Set("portInfo", Napi::Function::New(env, nfp_dpdk::PortInfo));
	d.Set("flowIsolate", Napi::Function::New(env, nfp_dpdk::FlowIsolate));
	d.Set("abiVersion", 1);
	exports.Set("dpdk", d);
}
