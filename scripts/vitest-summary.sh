#!/usr/bin/env bash
# Runs the vitest suites and ends with one plain closing line, "Tests: N passed, N failed, N skipped",
# which CI reads; exits with vitest's own status. This is `npm test`'s runner: the whole build is
# required (NFP_REQUIRE_BUILD, see test/setup/global.ts), so a failed native build fails the run
# instead of skipping the suites that need it.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p out
report=out/vitest-report.json
rm -f "$report"
NFP_REQUIRE_BUILD=1 npx vitest run --reporter=default --reporter=./test/setup/summary-reporter.ts \
  --reporter=json --outputFile="$report" "$@"
status=$?
if [ -f "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  ' "$report"
fi
exit "$status"
