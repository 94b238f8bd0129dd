#!/usr/bin/env bash
# The checks that need a CPU with memory protection keys (PKU) and many cores, in one go:
#   1. test/isolation/containment.test.ts (vitest): the mpk containment test, which skips on CPUs
#      without PKU, with the sfi and process suites of the same file
#   1b. test/isolation/ratelimiter.test.ts and test/host-runtime/rewrite-nfs.test.ts: the meter
#      service and the vlan/marker/encap NFs, each also under mpk
#   2. scripts/device/mpk-check.ts: mpk containment scenarios beyond the test (another tenant's
#      arena, quarantine and reload), FW -> NAT -> LB byte-identical under mpk and none, mpkOverNone
#   3. scripts/device/mpk-check.ts --runtime: the same chain under mpk on the host runtime's DPDK
#      worker threads (load(plan, { isolation: 'mpk' })), packet for packet against none
#   4. bench host --workers 1,2,4,8: worker scaling, Mpps and cycles per packet per worker count
#   5. bench isolation --quick: every isolation backend side by side, mpk included where there is PKU (its
#      guard-page variant builds an NF on the spot, so without a compiler it says "not measured")
#
#   bash scripts/device-check.sh            from this built tree (node, node_modules, the addon, cc)
#   bash scripts/device-check.sh KIT_DIR    from a kit made by scripts/device-kit.sh, on a machine
#                                           with nothing installed: node, libraries and NF modules
#                                           come from the kit, unpacked under $TMPDIR (or /tmp)
#
# Logs go to $OUT (else /tmp/nfp-device-check-logs). The last line is one line of JSON with every
# part's status and figures. Exit status: 0 all passed, 1 a part failed, 3 all passed but mpk could
# not run (no PKU). Each part has its own timeout (at most 6 minutes in all; about 2 minutes is
# usual on 16 cores). Set NFP_CHECK_QUICK=1 for short runs.
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
logs="${OUT:-/tmp/nfp-device-check-logs}"
mkdir -p "$logs"
quick=()
[[ "${NFP_CHECK_QUICK:-}" == 1 ]] && quick=(--quick)
say() { echo "== $*" | tee -a "$logs/summary.log"; }
: >"$logs/summary.log"

# ---- where node and the tree come from
if [[ $# -ge 1 ]]; then
  kit="$(cd "$1" && pwd)" || { echo "device-check: no kit at $1" >&2; exit 2; }
  [[ -f "$kit/node.xz" && -f "$kit/payload.tar.xz" ]] || { echo "device-check: $kit is not a kit (run scripts/device-kit.sh)" >&2; exit 2; }
  run="${TMPDIR:-/tmp}/nfp-device-check"
  rm -rf "$run" && mkdir -p "$run/bin"
  t0=$SECONDS
  # xz and tar where the image has them, Python's lzma otherwise.
  if xz --version >/dev/null 2>&1 && tar --version >/dev/null 2>&1; then
    xz -dc "$kit/node.xz" >"$run/bin/node" && xz -dc "$kit/payload.tar.xz" | tar -C "$run" -xf -
  else
    python3 - "$kit" "$run" <<'EOF'
import lzma, shutil, sys, tarfile
kit, run = sys.argv[1], sys.argv[2]
with lzma.open(f"{kit}/node.xz") as src, open(f"{run}/bin/node", "wb") as dst:
    shutil.copyfileobj(src, dst)
with tarfile.open(f"{kit}/payload.tar.xz", "r:xz") as tar:
    tar.extractall(run, **({"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}))
EOF
  fi
  [[ $? -eq 0 ]] || { echo "device-check: unpacking the kit failed" >&2; exit 2; }
  # The kit's EAL loads every driver in its built-in plugin directory; where Debian's DPDK 22.11 is
  # installed those are second copies of the kit's own drivers, and registering twice aborts.
  pmds="$(grep -ao '/[a-z0-9_/.-]*/dpdk/pmds-[0-9.]*' "$run/lib/librte_eal.so.23" | head -1)"
  if [[ -n "$pmds" && -d "$pmds" ]]; then
    echo "device-check: this machine has DPDK installed ($pmds): run without a kit, from a built tree" >&2
    exit 2
  fi
  chmod +x "$run/bin/node"
  node="$run/bin/node"
  tree="$run/tree"
  export LD_LIBRARY_PATH="$run/lib"
  export TMPDIR="$run/tmp" NFP_NF_CACHE="$run/nf-cache"
  unpacked="unpacked $kit in $((SECONDS - t0)) s"
else
  node="$(command -v node)" || { echo "device-check: node not found (give a kit directory)" >&2; exit 2; }
  tree="$here"
  unpacked="running from $tree"
fi
[[ -x "$node" && -f "$tree/node_modules/vitest/vitest.mjs" && -f "$tree/node_modules/tsx/dist/cli.mjs" ]] ||
  { echo "device-check: $tree lacks node_modules (vitest, tsx)" >&2; exit 2; }
# No bare `node` below: every part runs this binary, and vitest and tsx re-launch process.execPath.
cd "$tree"

# ---- the machine
flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
has() { [[ " $flags " == *" $1 "* ]] && echo yes || echo no; }
say "$(date -u +%FT%TZ) $unpacked"
say "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); nproc $(nproc); kernel $(uname -r)"
say "pku in /proc/cpuinfo: $(has pku); ospke: $(has ospke); glibc $(getconf GNU_LIBC_VERSION 2>/dev/null | cut -d' ' -f2); node $("$node" --version 2>&1)"
if [[ -n "${kit:-}" ]]; then
  say "kit: $(head -1 "$kit/MANIFEST"); $(grep '^needs' "$kit/MANIFEST")"
  need="$(grep '^needs' "$kit/MANIFEST" | cut -d' ' -f2)"
  have="$(getconf GNU_LIBC_VERSION 2>/dev/null | cut -d' ' -f2)"
  if [[ -n "$need" && -n "$have" && "$(printf '%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]]; then
    say "WARNING: this glibc ($have) is older than the kit needs ($need): expect loader errors"
  fi
fi

status=()
json=()
# part NAME TIMEOUT_S COMMAND...: runs it with its own timeout, logs to $logs/NAME.log, keeps its
# exit status and its last line when that is JSON.
part() {
  local name="$1" limit="$2"
  shift 2
  local t0=$SECONDS rc
  echo "== $name: $*" >"$logs/$name.log"
  NFP_CHECK_PART="$name" timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$logs/$name.log"
  rc=${PIPESTATUS[0]}
  local last
  last="$(grep -v '^\s*$' "$logs/$name.log" | tail -1)"
  [[ "$last" == '{'* ]] || last=null
  local verdict=FAIL
  case "$rc" in
    0) verdict=PASS ;;
    3) [[ "$name" == mpk-* ]] && verdict=UNAVAILABLE ;;
    124 | 137) verdict="FAIL (timed out after ${limit}s)" ;;
  esac
  say "$name: $verdict (exit $rc, $((SECONDS - t0)) s)"
  status+=("\"$name\":\"${verdict%% *}\"")
  json+=("\"$name\":$last")
}

tsx=("$node" node_modules/tsx/dist/cli.mjs)
report="$logs/containment.json"
rm -f "$report"
part containment 75 "$node" node_modules/vitest/vitest.mjs run test/isolation/containment.test.ts \
  --reporter=default --reporter=json --outputFile="$report"
# The test's own counts, and whether the mpk containment test ran or was skipped.
if [[ -f "$report" ]]; then
  counts="$("$node" -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const tests = r.testResults.flatMap((f) => f.assertionResults);
    const mpk = tests.find((t) => /protection keys/.test(t.title));
    console.log(JSON.stringify({ passed: r.numPassedTests, failed: r.numFailedTests,
      skipped: r.numPendingTests + r.numTodoTests, mpkTest: mpk ? mpk.status : "absent" }));
  ' "$report")"
  say "containment tests: $counts"
  json[${#json[@]}-1]="\"containment\":$counts"
fi
# The rate limiter's meter service and the rewrite NFs (vlan/marker/encap), each also under mpk.
part mpk-tests 90 "$node" node_modules/vitest/vitest.mjs run test/isolation/ratelimiter.test.ts \
  test/host-runtime/rewrite-nfs.test.ts
part mpk-check 75 "${tsx[@]}" scripts/device/mpk-check.ts "${quick[@]}"
part mpk-runtime 45 "${tsx[@]}" scripts/device/mpk-check.ts --runtime
part host-scaling 100 "${tsx[@]}" bench/run.ts host --workers 1,2,4,8 "${quick[@]}"
part isolation-bench 60 "${tsx[@]}" bench/run.ts isolation --quick

fails=$(printf '%s\n' "${status[@]}" | grep -c '"FAIL"')
summary="{\"status\":{$(IFS=,; echo "${status[*]}")},\"figures\":{$(IFS=,; echo "${json[*]}")},\"nproc\":$(nproc)}"
say "logs in $logs"
echo "$summary" | tee "$logs/summary.json"
if ((fails > 0)); then exit 1; fi
if printf '%s\n' "${status[@]}" | grep -q UNAVAILABLE; then exit 3; fi
exit 0
