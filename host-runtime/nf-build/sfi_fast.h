/*
 * Inserted by nf-build into wasm2c's output after its own load/store helpers (explicit bounds
 * checks only). The linear memory has a fixed size and never moves, so each function reads its
 * base once into a local (`nfp_mb`) and checks addresses against the constant size: a store
 * through the memory can then no longer force the base and size to be reloaded from the instance.
 */
#ifndef NFP_SFI_FAST_H
#define NFP_SFI_FAST_H

#define NFP_SFI_CHECK(a, t)                                              \
	if (UNLIKELY((a) + (uint64_t)sizeof(t) > (uint64_t)NFP_SFI_MEM_BYTES)) \
		TRAP(OOB);

#define NFP_SFI_LOAD(name, t1, t2, t3)                            \
	static inline t3 nfp_##name(const u8 *b, u64 a)          \
	{                                                         \
		NFP_SFI_CHECK(a, t1);                             \
		t1 r;                                             \
		wasm_rt_memcpy(&r, b + a, sizeof(t1));            \
		return (t3)(t2)r;                                 \
	}

#define NFP_SFI_STORE(name, t1, t2)                               \
	static inline void nfp_##name(u8 *b, u64 a, t2 v)        \
	{                                                         \
		NFP_SFI_CHECK(a, t1);                             \
		t1 w = (t1)v;                                     \
		wasm_rt_memcpy(b + a, &w, sizeof(t1));            \
	}

NFP_SFI_LOAD(i32_load, u32, u32, u32)
NFP_SFI_LOAD(i64_load, u64, u64, u64)
NFP_SFI_LOAD(f32_load, f32, f32, f32)
NFP_SFI_LOAD(f64_load, f64, f64, f64)
NFP_SFI_LOAD(i32_load8_s, s8, s32, u32)
NFP_SFI_LOAD(i64_load8_s, s8, s64, u64)
NFP_SFI_LOAD(i32_load8_u, u8, u32, u32)
NFP_SFI_LOAD(i64_load8_u, u8, u64, u64)
NFP_SFI_LOAD(i32_load16_s, s16, s32, u32)
NFP_SFI_LOAD(i64_load16_s, s16, s64, u64)
NFP_SFI_LOAD(i32_load16_u, u16, u32, u32)
NFP_SFI_LOAD(i64_load16_u, u16, u64, u64)
NFP_SFI_LOAD(i64_load32_s, s32, s64, u64)
NFP_SFI_LOAD(i64_load32_u, u32, u64, u64)
NFP_SFI_STORE(i32_store, u32, u32)
NFP_SFI_STORE(i64_store, u64, u64)
NFP_SFI_STORE(f32_store, f32, f32)
NFP_SFI_STORE(f64_store, f64, f64)
NFP_SFI_STORE(i32_store8, u8, u32)
NFP_SFI_STORE(i32_store16, u16, u32)
NFP_SFI_STORE(i64_store8, u8, u64)
NFP_SFI_STORE(i64_store16, u16, u64)
NFP_SFI_STORE(i64_store32, u32, u64)

/* memory.grow: the memory is as large as it will ever be (initial = maximum). */
static inline u32 nfp_sfi_grow(wasm_rt_memory_t *m, u32 delta) { return delta == 0 ? m->pages : (u32)-1; }

#endif
