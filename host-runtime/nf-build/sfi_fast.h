/*
 * Inserted by nf-build into wasm2c's output after its own load/store helpers. The linear memory
 * has a fixed size and never moves, so each function reads its base once into a local (`nfp_mb`):
 * a store through the memory can then no longer force the base and size to be reloaded.
 *
 * Bounds (NFP_SFI_GUARD): 0, explicit checks against the constant size; 1, none here: the memory
 * is followed by a guard reservation covering every 32-bit address plus 32-bit offset, and an
 * access past the memory faults there (the runtime's signal handler turns it into a trap).
 * Addressing (NFP_SFI_SEGUE): 1, through %gs, whose base is the memory during a call (Segue,
 * ASPLOS '25): one register and one addition less per access; 0, base + address.
 */
#ifndef NFP_SFI_FAST_H
#define NFP_SFI_FAST_H

#if NFP_SFI_GUARD
#define NFP_SFI_CHECK(a, t) (void)0
#else
#define NFP_SFI_CHECK(a, t)                                              \
	if (UNLIKELY((a) + (uint64_t)sizeof(t) > (uint64_t)NFP_SFI_MEM_BYTES)) \
		TRAP(OOB);
#endif

#if NFP_SFI_SEGUE
typedef u16 __attribute__((aligned(1))) nfp_u16u;
typedef u32 __attribute__((aligned(1))) nfp_u32u;
typedef u64 __attribute__((aligned(1))) nfp_u64u;
typedef s16 __attribute__((aligned(1))) nfp_s16u;
typedef s32 __attribute__((aligned(1))) nfp_s32u;
typedef f32 __attribute__((aligned(1))) nfp_f32u;
typedef f64 __attribute__((aligned(1))) nfp_f64u;
typedef u8 nfp_u8u;
typedef s8 nfp_s8u;
#define NFP_SFI_READ(t, b, a) (*(const __seg_gs nfp_##t##u *)(uintptr_t)(a))
#define NFP_SFI_WRITE(t, b, a, v) (*(__seg_gs nfp_##t##u *)(uintptr_t)(a) = (v))
#else
#define NFP_SFI_READ(t, b, a)                         \
	({                                            \
		t nfp_r;                              \
		wasm_rt_memcpy(&nfp_r, (b) + (a), sizeof(t)); \
		nfp_r;                                \
	})
#define NFP_SFI_WRITE(t, b, a, v)                     \
	do {                                          \
		t nfp_w = (v);                        \
		wasm_rt_memcpy((b) + (a), &nfp_w, sizeof(t)); \
	} while (0)
#endif

#define NFP_SFI_LOAD(name, t1, t2, t3)                   \
	static inline t3 nfp_##name(const u8 *b, u64 a) \
	{                                                \
		NFP_SFI_CHECK(a, t1);                    \
		return (t3)(t2)NFP_SFI_READ(t1, b, a);   \
	}

#define NFP_SFI_STORE(name, t1, t2)                         \
	static inline void nfp_##name(u8 *b, u64 a, t2 v) \
	{                                                   \
		NFP_SFI_CHECK(a, t1);                       \
		NFP_SFI_WRITE(t1, b, a, (t1)v);             \
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
