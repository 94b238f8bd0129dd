#!/usr/bin/env bash
# Runs the vitest suites and ends with one plain closing line, "Tests: N passed, N failed, N skipped",
# which CI reads; exits with vitest's own status.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p out
report=out/vitest-report.json
rm -f "$report"
npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@"
status=$?
if [ -f "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  ' "$report"
fi
exit "$status"
