/**
 * Once per vitest run (vitest.config.ts `globalSetup`):
 *
 * - A required build. Under `npm test` (NFP_REQUIRE_BUILD=1, set by scripts/vitest-summary.sh) or
 *   CI=true, a missing or broken dist/ or native addon fails the run here, instead of turning
 *   the suites gated on them into skips. A plain `npx vitest` still skips them, saying why.
 * - Temporary files. TMPDIR points into out/test-tmp (unless the caller chose another TMPDIR than
 *   /tmp), so every `os.tmpdir()` of a test, and of the processes it starts, lands there and not
 *   in /tmp. At the end, whatever the tests left there besides the build caches is listed and
 *   removed.
 * - Native log lines. The faults tests provoke on purpose (a quarantined tenant, an NF's error
 *   log) are written by the runtime to out/logs/test-native.log (NFP_LOG_FILE), not amid the
 *   test output; the summary reporter says how many there were.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const ADDON = join(ROOT, 'host-runtime', 'build', 'Release', 'nfp_host.node');
/** Build caches kept across runs (test NFs, tsx's transform cache); built-ins go to ~/.cache/nfp. */
const CACHES = [/^nfp-test-nfs$/, /^tsx-\d+$/];

function requireBuild(): void {
  const problems: string[] = [];
  if (!existsSync(join(ROOT, 'dist', 'cli', 'commands', 'deploy.js')))
    problems.push('dist/ is not built (npm run build:ts)');
  if (!existsSync(ADDON)) problems.push('the native addon is not built (npm run build:native)');
  else {
    // In a child: loading the addon here would start nothing, but a crash must not take vitest.
    const probe = spawnSync(
      process.execPath,
      [
        '-e',
        `const a = require(${JSON.stringify(ADDON)});
         const missing = ['isolation', 'softnic'].filter((k) => !a[k]);
         if (missing.length) { console.error('the addon was built without ' + missing.join(' and ')); process.exit(1); }`,
      ],
      { encoding: 'utf8' },
    );
    if (probe.status !== 0)
      problems.push(`the native addon does not load: ${probe.stderr.trim().split('\n')[0]}`);
  }
  if (problems.length) {
    throw new Error(
      `npm test and CI need the whole build, and it is not there: ${problems.join('; ')}. ` +
        'Its log: out/logs/native-build.log. (A plain `npx vitest run` skips the suites that need it.)',
    );
  }
}

/** Removes everything in `dir` but the caches; returns what it removed. */
function sweep(dir: string): string[] {
  const left = readdirSync(dir).filter((n) => !CACHES.some((c) => c.test(n)));
  for (const n of left) rmSync(join(dir, n), { recursive: true, force: true });
  return left;
}

export default function setup(): () => void {
  if (process.env.CI === 'true' || process.env.NFP_REQUIRE_BUILD === '1') requireBuild();

  let tmp: string | undefined;
  const callerTmp = process.env.TMPDIR;
  if (!callerTmp || resolve(callerTmp) === '/tmp') {
    tmp = join(ROOT, 'out', 'test-tmp');
    mkdirSync(tmp, { recursive: true });
    sweep(tmp); // what a killed run left
    process.env.TMPDIR = tmp;
  }

  if (!process.env.NFP_LOG_FILE) {
    const log = join(ROOT, 'out', 'logs', 'test-native.log');
    mkdirSync(join(ROOT, 'out', 'logs'), { recursive: true });
    writeFileSync(log, '');
    process.env.NFP_LOG_FILE = log;
  }

  return () => {
    if (!tmp) return;
    const left = sweep(tmp);
    if (left.length) {
      console.warn(
        `tests left ${left.length} entries in their TMPDIR (now removed): ${left.slice(0, 20).join(', ')}`,
      );
    }
  };
}
