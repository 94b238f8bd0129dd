#!/usr/bin/env bash
# Builds the native host runtime addon (node-gyp + node-addon-api, DPDK through pkg-config).
# The addon also compiles host-runtime/src/isolation, targets/softnic/engine and targets/dpdk/engine
# when present.
set -euo pipefail
cd "$(dirname "$0")/../host-runtime"
if [ ! -f binding.gyp ]; then
  echo "nfp build: host-runtime/binding.gyp not present yet; skipping the native addon"
  exit 0
fi
if ! pkg-config --exists libdpdk; then
  echo "nfp build: DPDK not found (pkg-config libdpdk); run scripts/setup.sh as root" >&2
  exit 1
fi
# Rebuild only when a native source (here, in the isolation backends or in a target engine)
# is newer than the addon, or when a source was added or removed since the last build.
addon=build/Release/nfp_host.node
list=build/.nfp-sources
watch=(. ../targets/softnic/engine ../targets/dpdk/engine)
sources() {
  find "${watch[@]}" -path ./build -prune -o -path ./node_modules -prune -o \
    \( -name '*.c' -o -name '*.cc' -o -name '*.h' -o -name 'binding.gyp' \) -print 2>/dev/null | sort
  # A build that left parts out is not up to date for one that wants them.
  echo "skip-isolation=${NFP_SKIP_ISOLATION:-} skip-softnic=${NFP_SKIP_SOFTNIC:-}"
}
# One native build at a time: concurrent node-gyp runs wipe each other's build/.
exec 9>/tmp/nfp-native-build.lock
flock 9
if [ -f "$addon" ] && [ -f "$list" ] && cmp -s "$list" <(sources) &&
  [ -z "$(find "${watch[@]}" -path ./build -prune -o \( -name '*.c' -o -name '*.cc' -o -name '*.h' -o -name 'binding.gyp' \) -newer "$addon" -print -quit 2>/dev/null)" ]; then
  exit 0
fi
# Node's headers ship with Debian's nodejs (/usr/include/node); use them rather than a download.
nodedir=()
if [ -f /usr/include/node/common.gypi ]; then nodedir=(--nodedir=/usr); fi
jobs="$(nproc)"
if [ "$jobs" -gt 2 ]; then jobs=2; fi
npx --no-install node-gyp rebuild "${nodedir[@]}" --jobs="$jobs" --loglevel=warn
sources >"$list"
