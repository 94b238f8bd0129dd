#!/usr/bin/env bash
# Installs everything nfp needs on Debian 12 (as root), idempotently, then builds it.
#   apt packages: DPDK 22.11, the wasm toolchain for the `sfi` isolation backend, libpcap,
#                 Graphviz (graph.svg), iproute2 and ethtool (namespaces/veth for end-to-end
#                 tests and the launched BMv2)
#   npm packages: from package-lock.json
#   build:        TypeScript to dist/, the native host runtime addon
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential python3 pkg-config
  libdpdk-dev dpdk libnuma-dev libpcap-dev
  clang lld wasi-libc libclang-rt-14-dev-wasm32 wabt
  graphviz iproute2 ethtool tcpdump
)

# Node.js 20 is on the machines nfp targets; on a bare Debian 12, take Debian's own.
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "nfp setup: installing apt packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "nfp setup: need root to install apt packages (run as root, or install: ${missing[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.nfp-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "nfp setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

echo "nfp setup: building"
npm run --silent build
echo "nfp setup: ready"
