#!/usr/bin/env bash
# Builds the native host runtime addon (node-gyp + node-addon-api, DPDK through pkg-config).
set -euo pipefail
cd "$(dirname "$0")/../host-runtime"
if [ ! -f binding.gyp ]; then
  echo "nfp build: host-runtime/binding.gyp not present yet; skipping the native addon"
  exit 0
fi
# Rebuild only when a native source is newer than the addon.
addon=build/Release/nfp_host.node
if [ -f "$addon" ] && [ -z "$(find . -path ./build -prune -o \( -name '*.c' -o -name '*.cc' -o -name '*.h' -o -name 'binding.gyp' \) -newer "$addon" -print -quit)" ]; then
  exit 0
fi
npx --no-install node-gyp rebuild --jobs="$(nproc)" --loglevel=warn
