#!/usr/bin/env bash
# Runs scripts/device-check.sh KIT here as if on a bare machine (root only): in a private mount
# namespace, node, cc, gcc and clang are replaced by a stub that logs the call and fails, the DPDK
# libraries and driver directory are hidden, and the environment is emptied. Afterwards it fails
# if anything called the stubs: the kit must bring everything it runs.
#
#   bash scripts/device/simulate.sh [KIT_DIR]     (default: .device-kit, copied to /tmp/kit-sim)
set -uo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
src="${1:-$root/.device-kit}"
sim=/tmp/kit-sim
calls=/tmp/kit-sim-forbidden-calls.log
rm -rf "$sim" && cp -r "$src" "$sim"
: >"$calls"
stub="$(mktemp)"
empty="$(mktemp -d)"
printf '#!/bin/sh\necho "${NFP_CHECK_PART:-}: $0 $*" >>%s\necho "simulated device: $0 is not installed" >&2\nexit 127\n' "$calls" >"$stub"
chmod +x "$stub"
for d in /node_modules /tmp/node_modules; do [[ -e "$d" ]] && echo "simulate: $d exists and would leak modules" && exit 2; done

unshare -m --propagation private bash -s "$stub" "$empty" "$root" "$sim" <<'EOF'
set -u
stub="$1" empty="$2" root="$3" sim="$4"
for tool in node cc gcc clang; do
  for p in $(which -a "$tool" 2>/dev/null | xargs -r -n1 realpath | sort -u); do mount --bind "$stub" "$p"; done
done
[[ -d /usr/lib/x86_64-linux-gnu/dpdk ]] && mount --bind "$empty" /usr/lib/x86_64-linux-gnu/dpdk
for f in /usr/lib/x86_64-linux-gnu/librte_*.so* /usr/lib/x86_64-linux-gnu/lib{numa,fdt,pcap,bsd,md}.so.*; do
  [[ -f "$f" && ! -L "$f" ]] && mount --bind /dev/null "$f"
done
echo "simulate: node -> $(node --version 2>&1 | head -1); librte_eal: $(wc -c </usr/lib/x86_64-linux-gnu/librte_eal.so.23) bytes"
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp OUT=/tmp/kit-sim-logs \
  bash "$root/scripts/device-check.sh" "$sim"
echo "simulate: device-check exit status $?"
EOF
rm -rf "$stub" "$empty"
# The probe above calls the node stub once on purpose. The isolation bench's guard-page variant
# compiles on the spot by design (and reports "not measured"); any other call is a gap in the kit.
grep -v -e '^: /usr/bin/node --version' -e '^isolation-bench: /usr/bin/\(clang\|cc\|gcc\|x86_64-linux-gnu-gcc-[0-9]*\) ' "$calls" |
  grep . && { echo "simulate: FAIL, the checks called tools the kit does not bring"; exit 1; }
echo "simulate: no call to a host node, cc, gcc or clang (besides the isolation bench's guard-page build)"
