#!/usr/bin/env bash
# Builds NF C sources into one module for the host runtime's isolation backends.
#
#   nfp-nf-build.sh --backend sfi|native -o OUT.so [--bounds explicit|guard] [--segue auto|on|off]
#                   [--memory MiB] [-I DIR]... [-DNAME[=V]]... [--lib SHARED.c]... NF.c...
#
# Each NF.c is one NF (exporting `nfp_nf_v1`, see include/nfp/nf.h); several NFs make one module
# that runs them as a chain in that order (one sandbox per tenant chain). --lib sources are
# compiled once into the module and shared by its NFs (e.g. a JSON helper).
#   sfi:    clang --target=wasm32-wasi (wasi-libc) -> wasm2c -> cc -shared, with the back-edge
#           watchdog inserted, a fixed-size linear memory (--memory MiB, default 32) that never
#           moves, and bounds enforced by guard pages (the default: the runtime's SIGSEGV handler,
#           which chains to V8's, turns a guard fault into a trap) or explicit checks
#           (--bounds explicit); the memory is addressed through %gs (Segue) on x86-64 unless
#           --segue off (docs/isolation.md)
#   native: cc -shared (for `none`, `mpk` and `process`)
# Exit status: 0 built, 2 bad usage, 3 a tool is missing, 4 compile/link error, 5 forbidden import.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
backend="" out="" bounds="guard" segue="auto" mem_mib=32
incs=() srcs=() libs=()
die() { echo "nf build: $2" >&2; exit "$1"; }

while (($#)); do
  case "$1" in
    --backend) backend="${2:-}"; shift 2 ;;
    -o) out="${2:-}"; shift 2 ;;
    --bounds) bounds="${2:-}"; shift 2 ;;
    --segue) segue="${2:-}"; shift 2 ;;
    --memory) mem_mib="${2:-}"; shift 2 ;;
    --lib) libs+=("${2:-}"); shift 2 ;;
    -I) incs+=("-I$2"); shift 2 ;;
    -I*) incs+=("$1"); shift ;;
    -D*) incs+=("$1"); shift ;;
    -*) die 2 "unknown option $1" ;;
    *) srcs+=("$1"); shift ;;
  esac
done
[[ "$backend" == sfi || "$backend" == native ]] || die 2 "--backend must be sfi or native"
[[ -n "$out" ]] || die 2 "missing -o OUT.so"
((${#srcs[@]})) || die 2 "no NF source given"
((${#srcs[@]} <= 16)) || die 2 "at most 16 NFs per module"
[[ "$bounds" == explicit || "$bounds" == guard ]] || die 2 "--bounds must be explicit or guard"
[[ "$segue" == auto || "$segue" == on || "$segue" == off ]] || die 2 "--segue must be auto, on or off"
if [[ "$segue" == auto ]]; then [[ "$(uname -m)" == x86_64 ]] && segue=on || segue=off; fi
[[ "$segue" == off || "$(uname -m)" == x86_64 ]] || die 2 "--segue on needs x86-64 (%gs)"
[[ "$mem_mib" =~ ^[0-9]+$ ]] && ((mem_mib >= 2 && mem_mib <= 1024)) || die 2 "--memory must be 2..1024 (MiB)"
for s in "${srcs[@]}" "${libs[@]}"; do [[ -f "$s" ]] || die 2 "no such NF source: $s"; done

cc="${CC:-cc}"
need() { command -v "$1" >/dev/null || die 3 "$1 not found; install it (scripts/setup.sh installs $2)"; }
need "$cc" build-essential

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
n=${#srcs[@]}
# sfi-compat/ stands in for the few DPDK headers an NF may use (rte_acl): modules never reach
# DPDK memory (sandboxes cannot; process children drop it), so both kinds build against it.
common=(-I"$root/include" -I"$root/src/isolation" "${incs[@]}" -I"$here/sfi-compat")

# The module's NF list, in chain order; each NF's descriptor is renamed so several can link.
{
  echo '#include "nfp/nf.h"'
  for ((i = 0; i < n; i++)); do echo "extern const struct nfp_nf_descriptor nfp_nf_v1__$i;"; done
  printf 'const struct nfp_nf_descriptor *const nfp_module_nfs[] = {'
  for ((i = 0; i < n; i++)); do printf '&nfp_nf_v1__%d, ' "$i"; done
  echo '};'
  echo "const unsigned nfp_module_n_nfs = $n;"
} >"$work/list.c"

if [[ "$backend" == native ]]; then
  objs=()
  for ((i = 0; i < n; i++)); do
    "$cc" -O3 -fPIC -fvisibility=hidden -c "${common[@]}" -Dnfp_nf_v1="nfp_nf_v1__$i" \
      "${srcs[$i]}" -o "$work/nf$i.o" || die 4 "compiling ${srcs[$i]} failed"
    objs+=("$work/nf$i.o")
  done
  for ((i = 0; i < ${#libs[@]}; i++)); do
    "$cc" -O3 -fPIC -fvisibility=hidden -c "${common[@]}" "${libs[$i]}" -o "$work/lib$i.o" ||
      die 4 "compiling ${libs[$i]} failed"
    objs+=("$work/lib$i.o")
  done
  "$cc" -O3 -fPIC -shared -fvisibility=hidden "${common[@]}" -DNFP_MODULE_N_NFS="$n" \
    "${objs[@]}" "$work/list.c" "$here/native_host.c" -Wl,-z,defs -o "$out" ||
    die 4 "linking $out failed"
  exit 0
fi

need clang clang
need wasm2c wabt
need wasm-ld lld
rt=/usr/share/wabt/wasm2c
[[ -f "$rt/wasm-rt-impl.c" ]] || die 3 "wasm2c runtime not found in $rt (Debian package wabt)"
[[ -d /usr/include/wasm32-wasi ]] || die 3 "wasi-libc not found (Debian package wasi-libc)"
wcc=(clang --target=wasm32-wasi --sysroot=/usr -O3 -flto -fno-exceptions)

objs=()
for ((i = 0; i < n; i++)); do
  "${wcc[@]}" -c "${common[@]}" -Dnfp_nf_v1="nfp_nf_v1__$i" "${srcs[$i]}" -o "$work/nf$i.o" ||
    die 4 "compiling ${srcs[$i]} to wasm32 failed"
  objs+=("$work/nf$i.o")
done
for ((i = 0; i < ${#libs[@]}; i++)); do
  "${wcc[@]}" -c "${common[@]}" "${libs[$i]}" -o "$work/lib$i.o" || die 4 "compiling ${libs[$i]} to wasm32 failed"
  objs+=("$work/lib$i.o")
done
mem=$((mem_mib * 1048576))
# Stack first: a stack overflow runs below address 0 and traps instead of corrupting the heap.
"${wcc[@]}" -mexec-model=reactor "${common[@]}" "${objs[@]}" "$work/list.c" "$here/sfi_guest.c" "$here/sfi_wasi.c" \
  -Wl,--stack-first -Wl,-z,stack-size=131072 -Wl,--initial-memory=$mem -Wl,--max-memory=$mem \
  -Wl,--allow-undefined-file="$here/services.syms" -o "$work/nfmod.wasm" ||
  die 4 "linking the wasm32 module failed (only the nfp_* runtime services may stay undefined)"
wasm2c "$work/nfmod.wasm" -n nfmod -o "$work/nfmod.c" || die 4 "wasm2c failed"

# The sandbox offers the runtime services and nothing else (no WASI: no files, clocks, exit).
bad="$(sed -n "s/^\/\* import: '\([^']*\)' '\([^']*\)' \*\/$/\1.\2/p" "$work/nfmod.h" | grep -v '^env\.nfp_' || true)"
[[ -z "$bad" ]] || die 5 "the NF imports $(echo $bad | tr '\n' ' ')which the sfi sandbox does not provide; use only nfp_* services (no printf, files or exit)"

# Watchdog: every branch back to a loop head burns fuel; call depth is per instance.
# The linear memory never grows (initial = max), so explicit bounds checks compare against a
# constant rather than reloading the memory's size after every store that may alias it.
sed -i -e 's/goto \(w2c_L[0-9]*\);/{ NFP_SFI_BACKEDGE(); goto \1; }/g' \
  -e "s/^#define MEMCHECK(mem, a, t) RANGE_CHECK(mem, a, sizeof(t))$/#define MEMCHECK(mem, a, t) if (UNLIKELY((a) + (uint64_t)sizeof(t) > ${mem}ull)) TRAP(OOB);/" \
  -e 's/\bwasm_rt_call_stack_depth\b/instance->Z_env_instance->depth/g' "$work/nfmod.c"
# Memory accesses through a per-function base, or %gs (sfi_fast.h); the memory never moves.
sed -i -e '/^DEFINE_STORE(i64_store32, u32, u64)$/a #include "sfi_fast.h"' \
  -e 's/^\(  *\)FUNC_PROLOGUE;$/&\n\1u8 *const nfp_mb = instance->w2c_memory.data; (void)nfp_mb;/' \
  -e 's/\b\([if]\(32\|64\)_\(load\|store\)[0-9a-z_]*\)(&instance->w2c_memory, /nfp_\1(nfp_mb, /g' \
  -e 's/\bwasm_rt_grow_memory(/nfp_sfi_grow(/g' "$work/nfmod.c"
guard=0 segue_on=0
[[ "$bounds" == guard ]] && guard=1
[[ "$segue" == on ]] && segue_on=1
# Guard pages: wasm2c reserves 8 GiB behind the memory but installs no handler of its own (it
# would take V8's WebAssembly traps); call depth stays counted, so deep recursion traps instead
# of overflowing the native stack.
"$cc" ${NFP_SFI_CFLAGS:--O3} -fPIC -shared -fvisibility=hidden -DNDEBUG -w \
  -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=$guard -DWASM_RT_SKIP_SIGNAL_RECOVERY=1 -DWASM_RT_USE_STACK_DEPTH_COUNT=1 \
  -DNFP_SFI_GUARD=$guard -DNFP_SFI_SEGUE=$segue_on -DWASM_RT_TRAP_HANDLER=nfp_sfi_trap_handler \
  -DWASM_RT_MAX_CALL_STACK_DEPTH=1000 -DNFP_MODULE_N_NFS="$n" -DNFP_SFI_MEM_BYTES="${mem}ull" \
  -include "$here/sfi_env.h" -I"$here" -I"$work" -I"$rt" "${common[@]}" \
  "$work/nfmod.c" "$here/sfi_host.c" "$rt/wasm-rt-impl.c" -Wl,-z,defs -o "$out" ||
  die 4 "compiling the sandboxed module failed"
