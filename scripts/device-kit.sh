#!/usr/bin/env bash
# Assembles .device-kit/ (git-ignored through .git/info/exclude) from the built tree here: what
# scripts/device-check.sh needs to run the mpk checks and the worker scaling bench on a machine
# that has no node, no DPDK, no compiler and no network. Idempotent; run after `npm run build:native`.
#
#   bash scripts/device-kit.sh [KIT_DIR]        (default: .device-kit)
#
# The kit:
#   node.xz            this machine's node binary (debug info stripped), xz -9
#   payload.tar.xz     lib/   DPDK and every other shared library nfp_host.node and node load,
#                             glibc excepted (LD_LIBRARY_PATH on the device)
#                      tree/  the sources the checks run (tests, bench, host-runtime/lib, partitioner,
#                             scripts/device), the addon, and node_modules cut to what vitest and
#                             tsx load
#                      tmp/nfp-test-nfs, nf-cache/  every NF module the checks load, prebuilt
#   MANIFEST           commit, node version, the newest glibc symbol version the kit needs
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
kit="$(realpath -m "${1:-$root/.device-kit}")"
addon="$root/host-runtime/build/Release/nfp_host.node"
die() { echo "device-kit: $*" >&2; exit 1; }

command -v node >/dev/null || die "node not found"
command -v xz >/dev/null || die "xz not found"
[[ -f "$addon" ]] || die "$addon is not built (npm run build:native)"
[[ -f "$root/node_modules/vitest/vitest.mjs" && -f "$root/node_modules/tsx/dist/cli.mjs" ]] ||
  die "node_modules lacks vitest or tsx (npm ci)"
mkdir -p "$kit"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# One copy of the addon, taken first, for everything below (a rebuild may replace it meanwhile).
cp "$addon" "$stage/nfp_host.node" || die "cannot copy $addon (is it being rebuilt?)"
addon="$stage/nfp_host.node"

# --- node: xz -9 takes over a minute, so reuse the last one while the binary is unchanged.
node_bin="$(command -v node)"
node_sum="$(sha256sum "$node_bin" | cut -d' ' -f1)"
if [[ ! -f "$kit/node.xz" || "$(cat "$kit/node.sha256" 2>/dev/null)" != "$node_sum" ]]; then
  echo "device-kit: compressing $node_bin ($(node --version))..."
  strip --strip-debug -o "$stage/node" "$node_bin" 2>/dev/null || cp "$node_bin" "$stage/node"
  xz -9 -T2 -c "$stage/node" >"$stage/node.xz"
  mv "$stage/node.xz" "$kit/node.xz"
  echo "$node_sum" >"$kit/node.sha256"
  rm -f "$stage/node"
fi

# --- the tree the checks run in: sources as they are in this working tree, plus the addon.
t="$stage/payload/tree"
mkdir -p "$t"
(
  cd "$root"
  cp --parents package.json tsconfig.json vitest.config.ts "$t/"
  cp -r --parents bench partitioner scripts/device test/isolation test/host-runtime "$t/"
  cp -r --parents host-runtime/lib host-runtime/include host-runtime/nf-build host-runtime/src "$t/"
)
mkdir -p "$t/host-runtime/build/Release"
cp "$addon" "$t/host-runtime/build/Release/"

# --- node_modules: vitest (the real test file) and tsx (bench/run.ts, the check script), with
# their runtime dependencies; type packages are compile-time only.
mapfile -t pkgs < <(node "$root/scripts/device/npm-closure.js" "$root" vitest tsx yaml |
  grep -v -E '^node_modules/(@types/|undici-types$)')
(cd "$root" && cp -r --parents "${pkgs[@]}" "$t/")

# --- NF modules, built by the real build script into the caches the code reads.
mkdir -p "$stage/payload/tmp" "$stage/payload/nf-cache"
(cd "$t" && TMPDIR="$stage/payload/tmp" NFP_NF_CACHE="$stage/payload/nf-cache" \
  node node_modules/tsx/dist/cli.mjs scripts/device/prebuild-nfs.ts) >/dev/null ||
  die "building the NF modules failed (scripts/setup.sh installs the toolchain)"
# The tests that also run under mpk build their modules on first use: run them here once (their
# mpk cases skip on this CPU) so the caches hold every module they load there.
(cd "$t" && TMPDIR="$stage/payload/tmp" NFP_NF_CACHE="$stage/payload/nf-cache" \
  node node_modules/vitest/vitest.mjs run test/isolation/ratelimiter.test.ts test/host-runtime/rewrite-nfs.test.ts) \
  >/tmp/nfp-device-kit-warm.log 2>&1 || die "warming the NF caches failed (see /tmp/nfp-device-kit-warm.log)"

# --- shared libraries: every one the addon, node and the NF modules load, glibc excepted.
lib="$stage/payload/lib"
mkdir -p "$lib"
glibc='^(libc|libm|libdl|libpthread|librt|libresolv|libutil|ld-linux-x86-64)\.so'
for f in "$addon" "$node_bin" "$stage"/payload/tmp/nfp-test-nfs/*.so "$stage"/payload/nf-cache/*.so; do
  ldd "$f" | awk '/=> \//{print $1, $3}'
done | sort -u | while read -r name path; do
  [[ "$name" =~ $glibc ]] || cp -L "$path" "$lib/$name"
done
if ldd "$addon" | grep -q 'not found'; then die "the addon has unresolved libraries: $(ldd "$addon" | grep 'not found')"; fi

# The newest glibc symbol version anything in the kit asks for: the device's glibc must be as new.
glibc_need="$(for f in "$lib"/* "$addon" "$node_bin"; do objdump -T "$f" 2>/dev/null; done |
  grep -o 'GLIBC_[0-9.]*' | sort -u -V | tail -1)"

tar -C "$stage/payload" -cf - tree lib tmp nf-cache | xz -6 -T2 >"$kit/payload.tar.xz"
{
  echo "commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- . 2>/dev/null || echo ' (working tree differs)')"
  echo "built $(date -u +%FT%TZ) on $(uname -r)"
  echo "node $(node --version)"
  echo "needs ${glibc_need#GLIBC_} or newer glibc"
  echo "libs $(ls "$lib" | tr '\n' ' ')"
} >"$kit/MANIFEST"
cat "$kit/MANIFEST"
du -b "$kit"/node.xz "$kit"/payload.tar.xz
echo "device-kit: $kit is $(du -sb "$kit" | cut -f1) bytes ($(du -sh "$kit" | cut -f1))"
