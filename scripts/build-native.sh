#!/usr/bin/env bash
# Builds the native host runtime addon (node-gyp + node-addon-api, DPDK through pkg-config).
# The addon also compiles host-runtime/src/isolation, targets/softnic/engine and targets/dpdk/engine
# when present.
#
# Incremental: nothing runs when no native source changed since the last build (so `npm test`
# after set-up does not compile again); a changed source recompiles only what depends on it
# (make, with the compiler's dependency files); an added or removed source, or a changed
# binding.gyp, reconfigures first. The compiler's output goes to out/logs/native-build.log;
# the console gets one line, and the log's end when the build fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/host-runtime"
if [ ! -f binding.gyp ]; then
  echo "nfp build: host-runtime/binding.gyp not present yet; skipping the native addon"
  exit 0
fi
if ! pkg-config --exists libdpdk; then
  echo "nfp build: DPDK not found (pkg-config libdpdk); run scripts/setup.sh as root" >&2
  exit 1
fi
addon=build/Release/nfp_host.node
list=build/.nfp-sources
watch=(. ../targets/softnic/engine ../targets/dpdk/engine)
sources() {
  find "${watch[@]}" -path ./build -prune -o -path ./node_modules -prune -o \
    \( -name '*.c' -o -name '*.cc' -o -name '*.h' -o -name 'binding.gyp' \) -print 2>/dev/null | sort
  # A build that left parts out is not up to date for one that wants them.
  echo "skip-isolation=${NFP_SKIP_ISOLATION:-} skip-softnic=${NFP_SKIP_SOFTNIC:-}"
}
# One native build at a time in this clone: concurrent node-gyp runs wipe each other's build/.
# The lock lives beside build/ (a rebuild deletes build/), not in a shared /tmp.
exec 9>.nfp-build.lock
flock 9
changed() {
  [ -n "$(find "${watch[@]}" -path ./build -prune -o \( -name '*.c' -o -name '*.cc' -o -name '*.h' -o -name 'binding.gyp' \) -newer "$addon" -print -quit 2>/dev/null)" ]
}
if [ -f "$addon" ] && [ -f "$list" ] && cmp -s "$list" <(sources) && ! changed; then
  exit 0
fi
# Node's headers ship with Debian's nodejs (/usr/include/node); use them rather than a download.
nodedir=()
if [ -f /usr/include/node/common.gypi ]; then nodedir=(--nodedir=/usr); fi
jobs="$(nproc)"
if [ "$jobs" -gt 2 ]; then jobs=2; fi
mkdir -p "$root/out/logs"
log="$root/out/logs/native-build.log"
gyp() { npx --no-install node-gyp "$@" "${nodedir[@]}" --loglevel=warn >>"$log" 2>&1; }
started=$SECONDS
: >"$log"
if [ -f build/Makefile ] && [ binding.gyp -ot build/Makefile ] && [ -f "$list" ] && cmp -s "$list" <(sources); then
  echo "nfp build: recompiling the changed native sources (log: out/logs/native-build.log)"
  step=build
else
  echo "nfp build: compiling the native addon, a few minutes on 2 cores (log: out/logs/native-build.log)"
  step=configure
fi
if { [ "$step" = build ] || gyp configure; } && gyp build --jobs="$jobs"; then
  sources >"$list"
  echo "nfp build: native addon built in $((SECONDS - started)) s"
else
  echo "nfp build: the native addon failed to build; the end of out/logs/native-build.log:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi
