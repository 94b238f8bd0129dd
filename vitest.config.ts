import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Native DPDK EAL may be initialised once per process; isolate suites in forks.
    pool: 'forks',
    // test/setup: the required build, TMPDIR and runtime log for the run, and the skip summary.
    globalSetup: ['./test/setup/global.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
  },
});
