/*
 * Host side of an sfi module: compiled natively with wasm2c's output (module name `nfmod`) and
 * the wasm2c runtime. It exports `nfp_sfi_module_v1`, turns wasm traps into fault codes through
 * a setjmp per call, and implements the runtime-service imports: each one checks that the
 * pointers it is given lie inside this instance's linear memory and that the NF context names
 * one of the NF instances bound to this module instance, so an NF reaches nothing but its own
 * tenant's handles. Table values, counters and the clock never leave the sandbox (sfi_guest.c).
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "sfi_env.h"
#include "nfmod.h"

#define EXPORTED __attribute__((visibility("default")))

/* Back-edges between two clock reads: small enough to stop a runaway quickly, large enough to
 * keep the check off the profile. */
#define NFP_SFI_FUEL 4096

/* The env of the call in progress on this thread (traps from bounds checks carry no env). */
static __thread struct Z_env_instance_t *current __attribute__((tls_model("initial-exec")));

static uint64_t cycles_now(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

__attribute__((noreturn)) static void fault(struct Z_env_instance_t *env, int code)
{
	_longjmp(env->jb, code);
}

/* wasm2c's runtime calls this for every trap (built with WASM_RT_TRAP_HANDLER). */
__attribute__((noreturn)) void nfp_sfi_trap_handler(wasm_rt_trap_t trap)
{
	int code = NFP_SFI_FAULT_TRAP;
	if (trap == WASM_RT_TRAP_OOB)
		code = NFP_SFI_FAULT_OOB;
	else if (trap == WASM_RT_TRAP_EXHAUSTION)
		code = NFP_SFI_FAULT_EXHAUSTION;
	fault(current, code);
}

/* A call's clock starts at its first refuel, not at entry: most calls never run out of fuel, so
 * they read no clock at all, and a runaway is stopped at most NFP_SFI_FUEL back-edges late. */
void nfp_sfi_out_of_fuel(struct Z_env_instance_t *env)
{
	uint64_t now = cycles_now();
	if (env->deadline == 0)
		env->deadline = now + env->budget;
	else if (now > env->deadline)
		fault(env, NFP_SFI_FAULT_WATCHDOG);
	env->fuel = NFP_SFI_FUEL;
}

/* ---- runtime services, as wasm imports ---- */

static void *guest_ptr(struct Z_env_instance_t *env, u32 off, u32 len)
{
	if (off == 0 || (uint64_t)off + len > env->mem->size)
		fault(env, NFP_SFI_FAULT_BAD_POINTER);
	return env->mem->data + off;
}

/* The runtime context of the NF whose guest context (struct nfp_sfi_ctx) is at `ctx`. */
static void *ctx_of(struct Z_env_instance_t *env, u32 ctx)
{
	uint32_t id;
	memcpy(&id, guest_ptr(env, ctx, sizeof(struct nfp_sfi_ctx)), sizeof(id));
	if (id >= NFP_SFI_MAX_CTXS || env->ctxs[id] == NULL || env->ctx_at[id] != ctx)
		fault(env, NFP_SFI_FAULT_BAD_POINTER);
	return env->ctxs[id];
}

static const void *table_key(struct Z_env_instance_t *env, void *c, u32 table, u32 key)
{
	uint32_t bytes = env->svc->table_key_bytes(c, table);
	if (bytes == 0)
		return NULL;
	return guest_ptr(env, key, bytes);
}

u32 Z_envZ_nfp_table_lookup(struct Z_env_instance_t *env, u32 ctx, u32 table, u32 key)
{
	void *c = ctx_of(env, ctx);
	const void *k = table_key(env, c, table, key);
	return k == NULL ? (u32)-22 : (u32)env->svc->table_lookup(c, table, k);
}

u32 Z_envZ_nfp_table_lookup_bulk(struct Z_env_instance_t *env, u32 ctx, u32 table, u32 keys, u32 n, u32 slots)
{
	void *c = ctx_of(env, ctx);
	uint32_t bytes = env->svc->table_key_bytes(c, table);
	if (bytes == 0 || n > NFP_NF_MAX_BATCH)
		return (u32)-22;
	const uint8_t *offs = guest_ptr(env, keys, n * 4u);
	int32_t *out = guest_ptr(env, slots, n * 4u);
	const void *native_keys[NFP_NF_MAX_BATCH];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off;
		memcpy(&off, offs + 4u * i, 4);
		native_keys[i] = guest_ptr(env, off, bytes);
	}
	/* Slots go straight into the guest's array (checked above); an unaligned one, which a
	 * guest may pass, through an aligned copy. */
	if (((uintptr_t)out & (sizeof(int32_t) - 1)) == 0)
		return (u32)env->svc->table_lookup_bulk(c, table, native_keys, n, out);
	int32_t found[NFP_NF_MAX_BATCH];
	int32_t rc = env->svc->table_lookup_bulk(c, table, native_keys, n, found);
	if (rc >= 0)
		memcpy(out, found, n * sizeof(int32_t));
	return (u32)rc;
}

u32 Z_envZ_nfp_table_add(struct Z_env_instance_t *env, u32 ctx, u32 table, u32 key)
{
	void *c = ctx_of(env, ctx);
	const void *k = table_key(env, c, table, key);
	return k == NULL ? (u32)-22 : (u32)env->svc->table_add(c, table, k);
}

u32 Z_envZ_nfp_table_del(struct Z_env_instance_t *env, u32 ctx, u32 table, u32 key)
{
	void *c = ctx_of(env, ctx);
	const void *k = table_key(env, c, table, key);
	return k == NULL ? (u32)-22 : (u32)env->svc->table_del(c, table, k);
}

u64 Z_envZ_nfp_sfi_now(struct Z_env_instance_t *env, u32 ctx)
{
	return env->svc->now_ns(ctx_of(env, ctx));
}

/* Meters live in runtime memory, out of the sandbox's reach; the NF names them by handle and
 * index, and a handle or index it does not own is a fault, like a pointer outside its memory. */
u32 Z_envZ_nfp_meter_create(struct Z_env_instance_t *env, u32 ctx, u64 cir, u32 cbs, u32 ebs, u32 count)
{
	return (u32)env->svc->meter_create(ctx_of(env, ctx), cir, cbs, ebs, count);
}

u32 Z_envZ_nfp_meter_color(struct Z_env_instance_t *env, u32 ctx, u32 meter, u32 index, u32 pkt_len)
{
	int32_t c = env->svc->meter_color(ctx_of(env, ctx), (int32_t)meter, index, pkt_len);
	if (c < 0)
		fault(env, NFP_SFI_FAULT_BAD_POINTER);
	return (u32)c;
}

u32 Z_envZ_nfp_meter_reset(struct Z_env_instance_t *env, u32 ctx, u32 meter, u32 index)
{
	if (env->svc->meter_reset(ctx_of(env, ctx), (int32_t)meter, index) < 0)
		fault(env, NFP_SFI_FAULT_BAD_POINTER);
	return 0;
}

void Z_envZ_nfp_log(struct Z_env_instance_t *env, u32 ctx, u32 level, u32 msg)
{
	void *c = ctx_of(env, ctx);
	const char *s = guest_ptr(env, msg, 1);
	uint32_t room = env->mem->size - msg, len = 0;
	while (len < room && len < 256 && s[len] != '\0')
		len++;
	env->svc->log(c, (int)level, s, len);
}

/* ---- the module ---- */

struct holder {
	struct Z_env_instance_t env;
	Z_nfmod_instance_t inst;
};

#if NFP_SFI_GUARD
/* Guard pages: wasm2c reserves this much address space per memory (PROT_NONE past the memory),
 * so any 32-bit address plus 32-bit offset lands in it. */
#define NFP_SFI_RESERVED 0x200000000ull
#else
#define NFP_SFI_RESERVED 0ull
#endif

#if NFP_SFI_SEGUE
/*
 * Segue: the generated code addresses linear memory through %gs, whose base is the memory for the
 * duration of a call. WRGSBASE when the kernel allows it (Linux >= 5.9 sets CR4.FSGSBASE and says
 * so in AT_HWCAP2), else arch_prctl. The runtime itself never uses %gs (%fs holds its TLS).
 */
#include <asm/prctl.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

static int fsgsbase = -1;

static uint64_t gs_get(void)
{
	unsigned long v = 0;
	if (fsgsbase) {
		__asm__ volatile("rdgsbase %0" : "=r"(v));
		return v;
	}
	syscall(SYS_arch_prctl, ARCH_GET_GS, &v);
	return v;
}

static void gs_set(uint64_t v)
{
	if (fsgsbase)
		__asm__ volatile("wrgsbase %0" ::"r"(v) : "memory");
	else
		syscall(SYS_arch_prctl, ARCH_SET_GS, v);
}
#define SEGUE_ENTER(env) uint64_t volatile gs_saved = gs_get(); gs_set((uint64_t)(uintptr_t)(env)->mem->data)
#define SEGUE_LEAVE() gs_set(gs_saved)
#else
#define SEGUE_ENTER(env) (void)0
#define SEGUE_LEAVE() (void)0
#endif

static int32_t call(struct nfp_sfi_env *e, uint32_t fn, const uint32_t a[5], uint64_t budget, uint32_t *ret)
{
	struct holder *h = (struct holder *)e;
	struct Z_env_instance_t *env = &h->env;
	struct Z_env_instance_t *volatile outer = current;
	current = env;
	env->depth = 0;
	env->fuel = NFP_SFI_FUEL;
	env->budget = budget;
	env->deadline = budget ? 0 : UINT64_MAX;
	SEGUE_ENTER(env);
	int code = _setjmp(env->jb);
	if (code != 0) {
		SEGUE_LEAVE();
		current = outer;
		return -code;
	}
	uint32_t r = 0;
	switch (fn) {
	case NFP_SFI_FN_ALLOC:
		r = Z_nfmodZ_nfp_sfi_alloc(&h->inst, a[0]);
		break;
	case NFP_SFI_FN_MANIFEST:
		r = Z_nfmodZ_nfp_sfi_manifest(&h->inst, a[0]);
		break;
	case NFP_SFI_FN_INIT:
		r = Z_nfmodZ_nfp_sfi_init(&h->inst, a[0], a[1], a[2], a[3], a[4]);
		break;
	case NFP_SFI_FN_PROCESS:
		r = Z_nfmodZ_nfp_sfi_process(&h->inst, a[0]);
		break;
	case NFP_SFI_FN_FINI:
		r = Z_nfmodZ_nfp_sfi_fini(&h->inst, a[0], a[1], a[2]);
		break;
	default:
		SEGUE_LEAVE();
		current = outer;
		return -NFP_SFI_FAULT_TRAP;
	}
	SEGUE_LEAVE();
	current = outer;
	if (ret != NULL)
		*ret = r;
	return 0;
}

static void trap(struct nfp_sfi_env *e, int32_t code)
{
	fault(&((struct holder *)e)->env, code > 0 ? code : NFP_SFI_FAULT_OOB);
}

static void destroy(struct nfp_sfi_env *e)
{
	struct holder *h = (struct holder *)e;
	if (h == NULL)
		return;
	uint8_t *data = h->env.mem != NULL ? h->env.mem->data : NULL;
	uint64_t size = h->env.mem != NULL ? h->env.mem->size : 0;
	Z_nfmod_free(&h->inst);
	/* wasm2c unmaps the memory only; the guard region behind it is ours to release. */
	if (NFP_SFI_RESERVED && data != NULL)
		munmap(data + size, NFP_SFI_RESERVED - size);
	free(h);
}

static struct nfp_sfi_env *create(const struct nfp_iso_services *svc)
{
	struct holder *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
#if NFP_SFI_SEGUE
	if (fsgsbase < 0)
		fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
#endif
	h->env.svc = svc;
	h->env.instance = &h->inst;
	Z_nfmod_instantiate(&h->inst, &h->env);
	h->env.mem = Z_nfmodZ_memory(&h->inst);
	/* A reactor's constructors (wasi-libc) run once per instance. */
	struct Z_env_instance_t *volatile outer = current;
	current = &h->env;
	h->env.depth = 0;
	h->env.fuel = NFP_SFI_FUEL;
	h->env.deadline = UINT64_MAX;
	SEGUE_ENTER(&h->env);
	if (_setjmp(h->env.jb) != 0) {
		SEGUE_LEAVE();
		current = outer;
		destroy((struct nfp_sfi_env *)h);
		return NULL;
	}
	Z_nfmodZ__initialize(&h->inst);
	SEGUE_LEAVE();
	current = outer;
	return (struct nfp_sfi_env *)h;
}

static uint8_t *memory(struct nfp_sfi_env *e, uint32_t *size, uint64_t *reserved)
{
	struct holder *h = (struct holder *)e;
	*size = h->env.mem->size;
	*reserved = NFP_SFI_RESERVED ? NFP_SFI_RESERVED : h->env.mem->size;
	return h->env.mem->data;
}

static int32_t bind(struct nfp_sfi_env *e, uint32_t id, void *ctx, uint32_t guest)
{
	if (id >= NFP_SFI_MAX_CTXS)
		return -22;
	((struct holder *)e)->env.ctxs[id] = ctx;
	((struct holder *)e)->env.ctx_at[id] = ctx != NULL ? guest : 0;
	return 0;
}

__attribute__((constructor)) static void module_load(void)
{
	wasm_rt_init();
	Z_nfmod_init_module();
}

EXPORTED const struct nfp_sfi_module nfp_sfi_module_v1 = {
	.abi_version = NFP_ISO_ABI_VERSION,
	.n_nfs = NFP_MODULE_N_NFS,
	.create = create,
	.destroy = destroy,
	.memory = memory,
	.bind = bind,
	.call = call,
	.trap = trap,
};
