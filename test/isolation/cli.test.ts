// `nfp nf build` and `nfp state dump` through the built CLI (dist/): results, --json, and bad input
// answered with one clear line and a non-zero exit.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IsolatedTenant } from '../../host-runtime/lib/isolation';
import { isolationBuilt, testNf } from './helpers';

const built = existsSync('dist/cli/commands/nf/build.js') && existsSync('dist/cli/commands/state/dump.js');
if (!built)
  console.warn('isolation cli tests skipped: dist/ has no nf/state commands (run `npm run build:ts`)');

const tmp = mkdtempSync(join(tmpdir(), 'nfp-iso-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function nfp(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/run.js', ...args],
      { encoding: 'utf8', timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      },
    );
  });
}

describe.skipIf(!built)('nfp nf build', () => {
  it('builds a sandboxed module and reports it as JSON', async () => {
    const out = join(tmp, 'heavy.sfi.so');
    const r = await nfp('nf', 'build', 'test/isolation/nfs/heavy.c', '-o', out, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ artifact: out, kind: 'sfi', nfs: [out] });
    expect(existsSync(out)).toBe(true);
  });

  it('names every NF of a chain module', async () => {
    const out = join(tmp, 'chain.so');
    const r = await nfp(
      'nf',
      'build',
      'test/isolation/nfs/heavy.c',
      'test/isolation/nfs/peek.c',
      '--backend',
      'native',
      '-o',
      out,
      '--json',
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).nfs).toEqual([`${out}#0`, `${out}#1`]);
  });

  it('refuses an NF that imports what the sandbox does not offer', async () => {
    const src = join(tmp, 'clock.c');
    writeFileSync(
      src,
      '#include <time.h>\n#include "nfp/nf.h"\nstatic void p(nfp_ctx *c, void *s, struct nfp_batch *b) { b->verdicts[0] = (uint8_t)time(0); }\n' +
        'const struct nfp_nf_descriptor nfp_nf_v1 = { .manifest = { .abi_version = 1, .name = "clock" }, .process = p };\n',
    );
    const r = await nfp('nf', 'build', src, '-o', join(tmp, 'clock.so'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: nf build: the NF imports wasi_snapshot_preview1\.clock_time_get/);
    expect(r.stderr).toMatch(/hint: an sfi NF may call only the nfp_\* runtime services/);
    expect(r.stderr).not.toMatch(/ at .*\.js:\d+/);
  });

  it('reports a compile error and a missing source clearly', async () => {
    const src = join(tmp, 'broken.c');
    writeFileSync(src, 'this is not C\n');
    const broken = await nfp('nf', 'build', src, '-o', join(tmp, 'broken.so'));
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/error: nf build: compiling .*broken\.c to wasm32 failed/);
    const missing = await nfp('nf', 'build', join(tmp, 'nope.c'), '-o', join(tmp, 'nope.so'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.c: no such file/);
    expect(missing.stderr).toMatch(/hint: give the path of an NF C source/);
  });
});

describe.skipIf(!built)('nfp state dump', () => {
  it.skipIf(!isolationBuilt)('prints a tenant’s NF state and flow-table entries', async () => {
    const t = new IsolatedTenant({
      id: 9,
      backend: 'sfi',
      nfs: [{ artifact: await testNf('secret', 'sfi'), config: { secret: 258 } }],
    });
    const f = join(tmp, 'tenant9.nfpsnap');
    writeFileSync(f, t.snapshot());
    t.close();
    const r = await nfp('state', 'dump', f, '--json');
    expect(r.status).toBe(0);
    const dump = JSON.parse(r.stdout);
    expect(dump.tenant).toBe(9);
    expect(dump.nfs).toHaveLength(1);
    expect(dump.nfs[0].name).toBe('secret');
    expect(dump.nfs[0].state.slice(0, 16)).toBe('0201000000000000'); // secret 258, little-endian
    expect(dump.nfs[0].tables[0]).toMatchObject({ name: 'vault', keyBytes: 16, valueBytes: 8 });
    expect(dump.nfs[0].tables[0].entries).toEqual([
      { key: '01' + '00'.repeat(15), value: '0201000000000000' },
    ]);
    const text = await nfp('state', 'dump', f);
    expect(text.stdout).toContain('table vault (key 16 B, value 8 B): 1 entries');
  });

  it('rejects a file that is not a snapshot', async () => {
    const f = join(tmp, 'junk.bin');
    writeFileSync(f, 'junk that is long enough to be read');
    const r = await nfp('state', 'dump', f);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('error: not an nfp state snapshot (magic NFPSNAP1 missing)');
    const none = await nfp('state', 'dump', join(tmp, 'absent.nfpsnap'));
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/cannot read .*absent\.nfpsnap/);
  });
});
