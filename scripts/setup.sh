#!/usr/bin/env bash
# Installs everything nfp needs on Debian 12 (as root), idempotently, then builds it.
#   apt packages: DPDK 22.11, the wasm toolchain for the `sfi` isolation backend, libpcap,
#                 Graphviz (graph.svg), iproute2 and ethtool (namespaces/veth for end-to-end
#                 tests and the launched BMv2)
#   npm packages: from package-lock.json
#   build:        TypeScript to dist/, the native host runtime addon (incremental)
#   PATH:         /usr/local/bin/nfp, a link to this clone's bin/run.js
# One line per step on the console; each step's full output in out/logs/, whose end is printed
# when the step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
mkdir -p out/logs
started=$SECONDS

say() { echo "nfp setup: $*"; }
# Runs a step with its output in out/logs/NAME.log; on failure prints the log's end and stops.
logged() {
  local name=$1
  shift
  if ! "$@" >>"out/logs/$name.log" 2>&1; then
    say "$name failed; the end of out/logs/$name.log:" >&2
    tail -n 30 "out/logs/$name.log" >&2
    exit 1
  fi
}

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
  if [ "$(id -u)" != 0 ]; then
    say "need root to install apt packages (run as root, or install: ${missing[*]})" >&2
    exit 1
  fi
  say "installing ${#missing[@]} apt packages (DPDK, the sfi toolchain, Graphviz, …), a minute or two: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  : >out/logs/apt.log
  logged apt apt-get update -q
  logged apt apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "apt packages: all ${#APT_PACKAGES[@]} present"
fi

# npm ci only when the lockfile changed since the last install. Its install scripts are skipped:
# `npm run build` below builds the addon once (the package's own `prepare` would build it too).
stamp=node_modules/.nfp-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  say "installing npm packages from package-lock.json"
  : >out/logs/npm.log
  logged npm npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
else
  say "npm packages: up to date"
fi

say "building (TypeScript, then the native addon if a native source changed)"
npm run --silent build:ts
bash scripts/build-native.sh

# `nfp` on PATH. A link to another clone that still exists is left alone (say which is used).
link=/usr/local/bin/nfp
target="$root/bin/run.js"
if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
  say "nfp on PATH: $link"
elif [ -w "$(dirname "$link")" ] && [ ! -e "$link" ]; then # absent, or a link to a removed clone
  ln -sfn "$target" "$link"
  say "nfp on PATH: $link -> $target"
elif [ -L "$link" ]; then
  say "nfp on PATH is another clone's ($(readlink "$link")); this one: ./bin/run.js (or: ln -sfn $target $link)"
else
  say "nfp is not on PATH (cannot write $link); use ./bin/run.js, or link it: ln -s $target <a folder on PATH>/nfp"
fi
say "ready in $((SECONDS - started)) s"
