// The `process` backend: each tenant's NFs run in a child process, fed over shared memory (a
// memfd mapped in both processes) through two single-producer/single-consumer DPDK rings, one per
// direction. It is the heavyweight baseline: every batch crosses cores or costs a context switch.
// The parent keeps the access checks (windows.h) and the watchdog: a child that overruns its
// budget is killed, one that dies is reported; either way only its tenant is quarantined.
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <unordered_map>
#include <vector>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "chain.h"
#include "iso.h"
#include "log.h"
#include "native.h"
#include "windows.h"

namespace {

enum Op : uint32_t { kLoad = 1, kProcess = 2, kUnload = 3, kStop = 4 };

constexpr uint32_t kRingSize = 16;

// A doorbell per direction: a waiter that has spun long enough sleeps on a futex in the shared
// area, and the other side rings it after enqueueing. Spinning first keeps the common case (the
// peer answers within microseconds on its own core) free of system calls.
struct Bell {
	std::atomic<uint32_t> seq;
	std::atomic<uint32_t> sleeping;
};


struct ProcPkt {
	uint32_t at; // where the packet is, as an offset into the shared area (in place or a window)
	uint16_t len, l3_off, l4_off, payload_off;
	uint32_t flow_hash;
	uint16_t tenant, path;
	int32_t front; // out: where the NF left `data`, relative to `at` (nf.h, front adjustment)
};

// Most NFs one request runs as a chain in the child.
constexpr uint32_t kMaxChain = 16;

// The request/response area; one request is in flight at a time (the worker waits for it).
struct Shared {
	Bell to_child_bell, to_parent_bell;
	uint32_t op, slot, count, config_len;
	uint32_t n_chain, chain[kMaxChain]; // kProcess: the slots run in turn (chain.h)
	int32_t result;
	uint64_t now_ns;
	char err[256];
	char artifact[1024];
	char config[16384];
	struct nfp_nf_manifest manifest;
	uint64_t counters[NFP_DOMAIN_MAX_NFS][NFP_NF_MAX_COUNTERS];
	ProcPkt pkts[NFP_NF_MAX_BATCH];
	uint8_t verdicts[NFP_NF_MAX_BATCH], reasons[NFP_NF_MAX_BATCH], hop[NFP_NF_MAX_BATCH];
	alignas(64) uint8_t windows[NFP_NF_MAX_BATCH][NFP_ISO_SLOT]; // window = slot + NFP_PKT_HEADROOM
};

// The tenant's packet buffers (shared access), after the request area in the same memory: the
// child reaches them and nothing else of the parent's. Backed only as used.
constexpr size_t kPacketBytes = 64u << 20;

struct Layout {
	struct rte_ring *to_child, *to_parent;
	Shared *shared;
};

size_t ring_bytes() { return (rte_ring_get_memsize(kRingSize) + 63) & ~(size_t)63; }
size_t area_bytes() { return (2 * ring_bytes() + sizeof(Shared) + 4095) & ~(size_t)4095; }
size_t shm_bytes() { return area_bytes() + kPacketBytes; }

Layout layout(uint8_t *base)
{
	return {(struct rte_ring *)base, (struct rte_ring *)(base + ring_bytes()),
		(Shared *)(base + 2 * ring_bytes())};
}

struct proc_domain {
	struct nfp_iso_domain iso;
	pid_t child;
	uint8_t *shm;
	Layout l;
	int shared;
	size_t pkt_used;          // of the packet buffers' region
	struct nfp_iso_area area; // the part given to the runtime
	uint32_t n_slots;
	struct nfp_nf_manifest manifests[NFP_DOMAIN_MAX_NFS];
	uint32_t readable[NFP_DOMAIN_MAX_NFS], writable[NFP_DOMAIN_MAX_NFS];
	struct nfp_iso_guard guard; // what the runtime keeps of a batch during a call
	uint8_t saved[NFP_NF_MAX_BATCH][NFP_ISO_WIN];
};

proc_domain *dom(struct nfp_domain *d) { return (proc_domain *)d->priv; }

void bell_ring(Bell *b)
{
	b->seq.fetch_add(1, std::memory_order_release);
	if (b->sleeping.load(std::memory_order_acquire))
		syscall(SYS_futex, &b->seq, FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

template <typename Ready> bool wait_for(Bell *b, Ready ready, uint64_t deadline_cycles)
{
	uint32_t polls = 0;
	while (!ready()) {
		if (deadline_cycles && rte_get_tsc_cycles() > deadline_cycles)
			return false;
		if (++polls < 4000) {
			rte_pause();
			continue;
		}
		uint32_t seen = b->seq.load(std::memory_order_acquire);
		b->sleeping.store(1, std::memory_order_seq_cst);
		if (!ready()) {
			struct timespec ts = {0, 10 * 1000 * 1000}; // wake now and then to check the deadline
			syscall(SYS_futex, &b->seq, FUTEX_WAIT, seen, &ts, nullptr, 0);
		}
		b->sleeping.store(0, std::memory_order_relaxed);
	}
	return true;
}

// ---- the child ----
//
// DPDK's memory (a shared memfd mapping with --no-huge, hugepages otherwise) would be shared with
// the parent after fork, so the child drops every shared mapping but its own ring area first and
// never touches DPDK memory: its flow tables are std::unordered_map indexes over value arrays in
// its private heap.

struct ChildTable {
	uint32_t key_bytes = 0, value_bytes = 0, max_entries = 0;
	std::unordered_map<std::string, int32_t> index;
	std::vector<int32_t> free_slots;
	std::vector<uint8_t> values;
};

// Exit status of a child whose NF named a meter it does not own: a fault, as under sfi.
constexpr int kExitBadHandle = 70;

struct ChildCtx {
	std::string name;
	std::vector<ChildTable> tables;
	std::vector<std::vector<uint64_t>> meter_mem; // one nfp_meter_set each, in the child's heap
	uint64_t counters[NFP_NF_MAX_COUNTERS] = {0};
	uint64_t now_ns = 0;
	uint32_t logged = 0;
	char last_error[160] = "";
};

ChildTable *child_table(void *ctx, uint32_t t)
{
	auto *c = (ChildCtx *)ctx;
	return t < c->tables.size() ? &c->tables[t] : nullptr;
}

int32_t child_lookup(void *ctx, uint32_t t, const void *key)
{
	ChildTable *tb = child_table(ctx, t);
	if (tb == nullptr)
		return -EINVAL;
	auto it = tb->index.find(std::string((const char *)key, tb->key_bytes));
	return it == tb->index.end() ? -ENOENT : it->second;
}

int32_t child_add(void *ctx, uint32_t t, const void *key)
{
	ChildTable *tb = child_table(ctx, t);
	if (tb == nullptr)
		return -EINVAL;
	std::string k((const char *)key, tb->key_bytes);
	auto it = tb->index.find(k);
	if (it != tb->index.end())
		return it->second;
	if (tb->free_slots.empty())
		return -ENOSPC;
	int32_t slot = tb->free_slots.back();
	tb->free_slots.pop_back();
	tb->index.emplace(std::move(k), slot);
	memset(tb->values.data() + (size_t)slot * tb->value_bytes, 0, tb->value_bytes);
	return slot;
}

int32_t child_del(void *ctx, uint32_t t, const void *key)
{
	ChildTable *tb = child_table(ctx, t);
	if (tb == nullptr)
		return -EINVAL;
	auto it = tb->index.find(std::string((const char *)key, tb->key_bytes));
	if (it == tb->index.end())
		return -ENOENT;
	tb->free_slots.push_back(it->second);
	tb->index.erase(it);
	return 0;
}

void *child_value(void *ctx, uint32_t t, int32_t slot)
{
	ChildTable *tb = child_table(ctx, t);
	if (tb == nullptr || slot < 0 || (uint32_t)slot >= tb->max_entries)
		return nullptr;
	return tb->values.data() + (size_t)slot * tb->value_bytes;
}

uint32_t child_key_bytes(void *ctx, uint32_t t)
{
	ChildTable *tb = child_table(ctx, t);
	return tb == nullptr ? 0 : tb->key_bytes;
}

void child_counter(void *ctx, uint32_t i, uint64_t n)
{
	if (i < NFP_NF_MAX_COUNTERS)
		((ChildCtx *)ctx)->counters[i] += n;
}

uint64_t child_now(void *ctx)
{
	uint64_t now = ((ChildCtx *)ctx)->now_ns;
	if (now != 0)
		return now;
	// As nfp_now_ns: a batch without a clock reading (the lab harness) gets the monotonic clock.
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// Meters: the same rte_meter core as the runtime's (services.h), in the child's private heap.
int32_t child_meter_create(void *ctx, uint64_t cir, uint32_t cbs, uint32_t ebs, uint32_t count)
{
	auto *c = (ChildCtx *)ctx;
	if (count == 0 || count > NFP_METER_MAX_COUNT)
		return -EINVAL;
	if (c->meter_mem.size() >= NFP_NF_MAX_METER_SETS)
		return -ENOSPC;
	std::vector<uint64_t> mem((nfp_meter_set_bytes(count) + 7) / 8, 0);
	int rc = nfp_meter_set_init((struct nfp_meter_set *)mem.data(), cir, cbs, ebs, count);
	if (rc < 0)
		return rc;
	c->meter_mem.push_back(std::move(mem));
	return (int32_t)c->meter_mem.size() - 1;
}

struct nfp_meter_set *child_meter_set(ChildCtx *c, int32_t meter)
{
	if (meter < 0 || (size_t)meter >= c->meter_mem.size())
		_exit(kExitBadHandle);
	return (struct nfp_meter_set *)c->meter_mem[meter].data();
}

int32_t child_meter_color(void *ctx, int32_t meter, uint32_t index, uint32_t pkt_len)
{
	auto *c = (ChildCtx *)ctx;
	int32_t color = nfp_meter_set_color(child_meter_set(c, meter), index, pkt_len, child_now(ctx));
	if (color < 0)
		_exit(kExitBadHandle);
	return color;
}

int32_t child_meter_reset(void *ctx, int32_t meter, uint32_t index)
{
	if (nfp_meter_set_reset(child_meter_set((ChildCtx *)ctx, meter), index) < 0)
		_exit(kExitBadHandle);
	return 0;
}

void child_log(void *ctx, int level, const char *msg, uint32_t len)
{
	auto *c = (ChildCtx *)ctx;
	if (level <= NFP_LOG_ERR)
		snprintf(c->last_error, sizeof(c->last_error), "%.*s", (int)len, msg);
	if (c->logged++ < 20)
		fprintf(nfp_log_stream(), "nfp %s [%s]: %.*s\n", level <= NFP_LOG_ERR ? "error" : "info", c->name.c_str(), (int)len, msg);
}

int32_t child_lookup_bulk(void *ctx, uint32_t t, const void *const *keys, uint32_t n, int32_t *slots)
{
	if (child_table(ctx, t) == nullptr || n > NFP_NF_MAX_BATCH)
		return -EINVAL;
	int32_t found = 0;
	for (uint32_t i = 0; i < n; i++)
		found += (slots[i] = child_lookup(ctx, t, keys[i])) >= 0;
	return found;
}

const struct nfp_iso_services child_services = {
	child_lookup, child_add, child_del, child_value, child_key_bytes, child_counter, child_now, child_log,
	child_lookup_bulk, child_meter_create, child_meter_color, child_meter_reset,
};

// Unmaps every shared mapping except [keep, keep + keep_len): what the parent shares, the child
// must not reach.
void drop_shared_mappings(const void *keep, size_t keep_len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == nullptr)
		_exit(3);
	std::vector<std::pair<uintptr_t, uintptr_t>> drop;
	char line[512];
	while (fgets(line, sizeof(line), f) != nullptr) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[3] == 's' &&
		    lo != (uintptr_t)keep)
			drop.emplace_back(lo, hi);
	}
	fclose(f);
	for (auto &r : drop)
		munmap((void *)r.first, r.second - r.first);
	(void)keep_len;
}

struct ChildSlot {
	nfp::NativeNf nf;
	ChildCtx ctx;
	std::vector<uint8_t> state;
};

int child_load(ChildSlot *s, Shared *sh, uint16_t tenant)
{
	int rc = nfp::native_open(sh->artifact, &s->nf, sh->err, sizeof(sh->err), &child_services);
	if (rc < 0)
		return rc;
	const struct nfp_nf_manifest *m = &s->nf.desc->manifest;
	s->ctx.name = "t" + std::to_string(tenant) + "." + m->name;
	if (m->n_tables > NFP_NF_MAX_TABLES) {
		snprintf(sh->err, sizeof(sh->err), "%s: too many tables", m->name);
		return -EINVAL;
	}
	s->ctx.tables.resize(m->n_tables);
	for (uint32_t t = 0; t < m->n_tables; t++) {
		ChildTable &tb = s->ctx.tables[t];
		tb.key_bytes = m->tables[t].key_bytes;
		tb.value_bytes = m->tables[t].value_bytes;
		tb.max_entries = m->tables[t].max_entries;
		tb.values.assign((size_t)tb.max_entries * tb.value_bytes, 0);
		for (uint32_t k = tb.max_entries; k > 0; k--)
			tb.free_slots.push_back((int32_t)(k - 1));
	}
	s->state.assign(m->state_bytes ? m->state_bytes : 8, 0);
	if (s->nf.desc->init != nullptr)
		rc = s->nf.desc->init((nfp_ctx *)&s->ctx, s->state.data(), sh->config, sh->config_len);
	if (rc < 0)
		snprintf(sh->err, sizeof(sh->err), "%s: %s", m->name, s->ctx.last_error[0] ? s->ctx.last_error : "init failed");
	return rc;
}

struct ChildChain {
	ChildSlot *slots[kMaxChain];
};

void child_run_nf(void *arg, uint32_t k, struct nfp_batch *sub)
{
	ChildSlot *s = ((ChildChain *)arg)->slots[k];
	s->nf.desc->process((nfp_ctx *)&s->ctx, s->state.data(), sub);
}

// Runs the requested chain on the batch; packets are in place in the shared area or in windows.
void child_process(Shared *sh, uint8_t *shm, ChildSlot *slots, uint32_t n)
{
	static struct nfp_chain_scratch scratch;
	ChildChain chain;
	uint32_t moves = 0;
	for (uint32_t k = 0; k < sh->n_chain; k++) {
		if (sh->chain[k] >= n) {
			sh->result = -EINVAL;
			return;
		}
		chain.slots[k] = &slots[sh->chain[k]];
		chain.slots[k]->ctx.now_ns = sh->now_ns;
		if (chain.slots[k]->nf.desc->manifest.writes & NFP_REGION_L2)
			moves |= 1u << k;
	}
	struct nfp_pkt pkts[NFP_NF_MAX_BATCH];
	uint32_t count = sh->count > NFP_NF_MAX_BATCH ? NFP_NF_MAX_BATCH : sh->count;
	for (uint32_t i = 0; i < count; i++) {
		const ProcPkt &p = sh->pkts[i];
		pkts[i] = {shm + (p.at < shm_bytes() ? p.at : 0), p.len, p.l3_off, p.l4_off, p.payload_off, p.flow_hash,
			   p.tenant, p.path};
	}
	struct nfp_batch b = {count, pkts, sh->verdicts, sh->reasons};
	nfp_chain_run(&b, sh->n_chain, moves, child_run_nf, &chain, sh->hop, &scratch);
	for (uint32_t i = 0; i < count; i++) {
		int64_t front = pkts[i].data - (shm + sh->pkts[i].at);
		sh->pkts[i].front = front < INT32_MIN || front > INT32_MAX ? INT32_MIN : (int32_t)front;
		sh->pkts[i].len = pkts[i].len;
	}
	for (uint32_t k = 0; k < sh->n_chain; k++)
		memcpy(sh->counters[sh->chain[k]], chain.slots[k]->ctx.counters, sizeof(chain.slots[k]->ctx.counters));
}

[[noreturn]] void child_main(Layout l, uint8_t *shm, uint16_t tenant)
{
	drop_shared_mappings(shm, shm_bytes());
	static ChildSlot slots[NFP_DOMAIN_MAX_NFS];
	uint32_t n = 0;
	Shared *sh = l.shared;
	for (;;) {
		void *msg;
		wait_for(&sh->to_child_bell, [&]() { return rte_ring_sc_dequeue(l.to_child, &msg) == 0; }, 0);
		uint32_t op = (uint32_t)(uintptr_t)msg;
		sh->result = 0;
		if (op == kStop)
			_exit(0);
		if (op == kLoad) {
			int rc = n >= NFP_DOMAIN_MAX_NFS ? -ENOSPC : child_load(&slots[n], sh, tenant);
			if (rc == 0) {
				sh->manifest = slots[n].nf.desc->manifest;
				sh->slot = n++;
			}
			sh->result = rc;
		} else if (op == kProcess && sh->n_chain >= 1 && sh->n_chain <= kMaxChain) {
			child_process(sh, shm, slots, n);
		} else if (op == kUnload && sh->slot < n) {
			ChildSlot *s = &slots[sh->slot];
			if (s->nf.desc != nullptr && s->nf.desc->fini != nullptr)
				s->nf.desc->fini((nfp_ctx *)&s->ctx, s->state.data());
		}
		rte_ring_sp_enqueue(l.to_parent, (void *)(uintptr_t)op);
		bell_ring(&sh->to_parent_bell);
	}
}

// ---- the parent ----

// Sends `op` and waits for the child's answer within `budget` cycles (0: no limit).
int call(proc_domain *d, uint32_t op, uint64_t budget, const char *who)
{
	if (d->child <= 0) {
		snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: its process is gone", who);
		return -ESRCH;
	}
	rte_ring_sp_enqueue(d->l.to_child, (void *)(uintptr_t)op);
	bell_ring(&d->l.shared->to_child_bell);
	uint64_t deadline = budget ? rte_get_tsc_cycles() + budget : 0;
	void *msg;
	int status = 0;
	pid_t gone = 0;
	bool ok = wait_for(
		&d->l.shared->to_parent_bell,
		[&]() {
			if (rte_ring_sc_dequeue(d->l.to_parent, &msg) == 0)
				return true;
			gone = waitpid(d->child, &status, WNOHANG);
			return gone == d->child;
		},
		deadline);
	if (ok && gone != d->child)
		return 0;
	if (!ok) {
		kill(d->child, SIGKILL);
		waitpid(d->child, &status, 0);
		snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: cycle budget exceeded (watchdog killed its process)", who);
	} else if (WIFSIGNALED(status)) {
		snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: its process died of signal %d (%s)", who,
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else if (WEXITSTATUS(status) == kExitBadHandle) {
		snprintf(d->iso.fault, sizeof(d->iso.fault),
			 "%s: runtime service called with a pointer or handle it does not own", who);
	} else {
		snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: its process exited with status %d", who,
			 WEXITSTATUS(status));
	}
	d->child = 0;
	return -EFAULT;
}

struct nfp_domain *proc_create(const struct nfp_domain_params *params, char *err, size_t errlen)
{
	auto *d = (proc_domain *)rte_zmalloc_socket("nfp_domain_proc", sizeof(proc_domain), 64, params->socket_id);
	if (d == nullptr) {
		snprintf(err, errlen, "cannot allocate a process domain for tenant %u", params->tenant);
		return nullptr;
	}
	char name[32];
	snprintf(name, sizeof(name), "nfp-tenant-%u", params->tenant);
	int fd = memfd_create(name, MFD_CLOEXEC);
	void *shm = MAP_FAILED;
	if (fd >= 0 && ftruncate(fd, (off_t)shm_bytes()) == 0)
		shm = mmap(nullptr, shm_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (shm == MAP_FAILED) {
		snprintf(err, errlen, "cannot map shared memory for tenant %u: %s", params->tenant, strerror(errno));
		rte_free(d);
		return nullptr;
	}
	d->shm = (uint8_t *)shm;
	d->l = layout(d->shm);
	d->shared = params->packet_access == NFP_PACKET_ACCESS_SHARED;
	rte_ring_init(d->l.to_child, "nfp_to_child", kRingSize, RING_F_SP_ENQ | RING_F_SC_DEQ);
	rte_ring_init(d->l.to_parent, "nfp_to_parent", kRingSize, RING_F_SP_ENQ | RING_F_SC_DEQ);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot start a process for tenant %u: %s", params->tenant, strerror(errno));
		munmap(shm, shm_bytes());
		rte_free(d);
		return nullptr;
	}
	if (pid == 0) {
		// The child touches only the shared area, its NFs and plain libc: never Node or V8.
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		prctl(PR_SET_NAME, name);
		child_main(d->l, d->shm, params->tenant);
	}
	d->child = pid;
	d->iso.base.ops = &nfp_domain_process_ops;
	d->iso.base.params = *params;
	d->iso.base.priv = d;
	d->iso.budget_cycles = NFP_ISO_DEFAULT_BUDGET_CYCLES;
	return &d->iso.base;
}

int proc_load(struct nfp_domain *base, const struct nfp_nf_descriptor *builtin, const char *artifact,
	      const char *config, uint32_t config_len, uint32_t *nf_slot, char *err, size_t errlen)
{
	proc_domain *d = dom(base);
	if (artifact == nullptr) {
		snprintf(err, errlen, "the process backend runs NFs built by `nfp nf build --backend native`; %s has no artifact",
			 builtin != nullptr ? builtin->manifest.name : "this NF");
		return -ENOTSUP;
	}
	Shared *sh = d->l.shared;
	if (strlen(artifact) >= sizeof(sh->artifact) || config_len >= sizeof(sh->config)) {
		snprintf(err, errlen, "artifact path or config too long for the process backend");
		return -E2BIG;
	}
	snprintf(sh->artifact, sizeof(sh->artifact), "%s", artifact);
	memcpy(sh->config, config, config_len);
	sh->config[config_len] = '\0';
	sh->config_len = config_len;
	sh->err[0] = '\0';
	// Starting an NF (dlopen, table set-up, init) is not per-batch work: give it seconds.
	uint64_t budget = d->iso.budget_cycles ? d->iso.budget_cycles + 10 * rte_get_tsc_hz() : 0;
	int rc = call(d, kLoad, budget, artifact);
	if (rc < 0) {
		snprintf(err, errlen, "%s", d->iso.fault);
		return rc;
	}
	if (sh->result < 0) {
		snprintf(err, errlen, "%s", sh->err);
		return sh->result;
	}
	uint32_t slot = sh->slot;
	if (slot != d->n_slots || slot >= NFP_DOMAIN_MAX_NFS) {
		snprintf(err, errlen, "process backend: child answered with slot %u, expected %u", slot, d->n_slots);
		return -EPROTO;
	}
	d->manifests[slot] = sh->manifest;
	d->manifests[slot].name[NFP_NF_NAME_MAX - 1] = '\0';
	d->readable[slot] = (sh->manifest.reads | sh->manifest.writes) & 0xfu;
	d->writable[slot] = sh->manifest.writes & 0xfu;
	*nf_slot = d->n_slots++;
	return 0;
}

const struct nfp_nf_manifest *proc_manifest(struct nfp_domain *base, uint32_t slot)
{
	proc_domain *d = dom(base);
	return slot < d->n_slots ? &d->manifests[slot] : nullptr;
}

// Runs `slot_ids` as a chain in the child: one round trip per batch.
int run(proc_domain *d, const uint32_t *slot_ids, uint32_t n, struct nfp_batch *batch, uint64_t now_ns, uint8_t *hop)
{
	Shared *sh = d->l.shared;
	uint32_t count = batch->count > NFP_NF_MAX_BATCH ? NFP_NF_MAX_BATCH : batch->count;
	uint32_t readable = 0, writable = 0;
	if (n == 0 || n > kMaxChain)
		return -EINVAL;
	for (uint32_t k = 0; k < n; k++) {
		if (slot_ids[k] >= d->n_slots)
			return -EINVAL;
		readable |= d->readable[slot_ids[k]];
		writable |= d->writable[slot_ids[k]];
		sh->chain[k] = slot_ids[k];
	}
	uint8_t *at[NFP_NF_MAX_BATCH];
	uint16_t len[NFP_NF_MAX_BATCH];
	nfp_iso_batch_in(&d->area, d->shared, batch->pkts, count, readable, writable, &sh->windows[0][0], d->saved,
			 &d->guard, at, len, nullptr);
	for (uint32_t i = 0; i < count; i++) {
		const struct nfp_pkt *p = &batch->pkts[i];
		sh->pkts[i] = {(uint32_t)(at[i] - d->shm), len[i], p->l3_off, p->l4_off, p->payload_off, p->flow_hash,
			       p->tenant, p->path, 0};
	}
	sh->n_chain = n;
	sh->count = count;
	sh->now_ns = now_ns;
	const struct nfp_nf_manifest *m0 = &d->manifests[slot_ids[0]];
	int rc = call(d, kProcess, d->iso.budget_cycles, m0->name);
	if (rc < 0)
		return rc;
	if (sh->result < 0) {
		snprintf(d->iso.fault, sizeof(d->iso.fault), "%s: its process refused the batch", m0->name);
		return -EFAULT;
	}
	const struct nfp_nf_manifest *m[kMaxChain];
	for (uint32_t k = 0; k < n; k++)
		m[k] = &d->manifests[slot_ids[k]];
	// Verdicts are read once into the runtime's arrays: the child may still be writing the shared memory.
	return nfp_iso_after_call(&d->iso, sh->hop, sh->verdicts, sh->reasons, n, m, hop, batch, count, d->shared,
				  readable, writable, at, d->saved, &d->guard, [&](uint32_t i, int64_t *front, uint32_t *l) {
					  *front = sh->pkts[i].front;
					  *l = sh->pkts[i].len;
				  });
}

int proc_process(struct nfp_domain *base, uint32_t slot, struct nfp_batch *batch, uint64_t now_ns)
{
	return run(dom(base), &slot, 1, batch, now_ns, nullptr);
}

// The tenant's packet buffers, in the memory the child shares with the runtime.
void *proc_packet_memory(struct nfp_domain *base, size_t bytes, char *err, size_t errlen)
{
	proc_domain *d = dom(base);
	if (!d->shared) {
		snprintf(err, errlen, "tenant %u uses packet windows", base->params.tenant);
		return nullptr;
	}
	if (d->area.lo != d->area.hi || bytes > kPacketBytes) {
		snprintf(err, errlen, "tenant %u: %s", base->params.tenant,
			 bytes > kPacketBytes ? "more packet buffers than its shared memory holds"
					      : "its packet memory is already given out");
		return nullptr;
	}
	uint8_t *p = d->shm + area_bytes();
	d->area = {p, p + bytes};
	return p;
}

void proc_counters(struct nfp_domain *base, uint32_t slot, uint64_t *out)
{
	proc_domain *d = dom(base);
	if (slot < d->n_slots)
		memcpy(out, d->l.shared->counters[slot], sizeof(uint64_t) * NFP_NF_MAX_COUNTERS);
}

void proc_unload(struct nfp_domain *base, uint32_t slot)
{
	proc_domain *d = dom(base);
	if (slot >= d->n_slots || d->child <= 0)
		return;
	d->l.shared->slot = slot;
	call(d, kUnload, d->iso.budget_cycles, d->manifests[slot].name);
}

void proc_destroy(struct nfp_domain *base)
{
	proc_domain *d = dom(base);
	if (d->child > 0) {
		rte_ring_sp_enqueue(d->l.to_child, (void *)(uintptr_t)kStop);
		bell_ring(&d->l.shared->to_child_bell);
		int status;
		uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz();
		while (waitpid(d->child, &status, WNOHANG) == 0) {
			if (rte_get_tsc_cycles() > deadline) {
				kill(d->child, SIGKILL);
				waitpid(d->child, &status, 0);
				break;
			}
			usleep(1000);
		}
	}
	munmap(d->shm, shm_bytes());
	rte_free(d);
}

} // namespace

int nfp_proc_process_chain(struct nfp_domain *d, const uint32_t *slots, uint32_t n, struct nfp_batch *batch,
			   uint64_t now_ns, uint8_t *hop)
{
	if (d->ops != &nfp_domain_process_ops)
		return -ENOTSUP;
	return run(dom(d), slots, n, batch, now_ns, hop);
}

extern "C" const struct nfp_domain_ops nfp_domain_process_ops = {
	"process",	proc_create,  proc_load,   proc_manifest,	proc_process,
	proc_counters, proc_unload, proc_destroy, proc_packet_memory, nullptr, nfp_proc_process_chain,
	nfp_iso_fault,
};
