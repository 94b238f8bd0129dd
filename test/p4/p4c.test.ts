/**
 * Cross-checks with the real compiler. When p4test / p4c-bm2-ss are on PATH, the emitted P4_16
 * compiles for both architectures and p4c's P4Info names match nfp's; otherwise these tests are
 * skipped and say why.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emitNicArtifacts } from '../../p4/index';
import { fileText, onPath } from './helpers';
import { twoTenantPlan } from './fixtures/plans';

const P4TEST = onPath('p4test');
const BM2SS = onPath('p4c-bm2-ss');
if (!P4TEST)
  console.warn(
    'test/p4/p4c: skipping p4test compiles of program.p4 and program.pna.p4: p4test is not on PATH',
  );
if (!BM2SS) console.warn('test/p4/p4c: skipping the p4c P4Info name comparison: p4c-bm2-ss is not on PATH');

const dir = mkdtempSync(join(tmpdir(), 'nfp-p4c-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const artifacts = emitNicArtifacts(twoTenantPlan());
for (const f of ['program.p4', 'program.pna.p4']) writeFileSync(join(dir, f), fileText(artifacts, f));

/** Preamble names in a P4Info text file. */
function preambleNames(txt: string): string[] {
  return [...txt.matchAll(/preamble \{\s*id: \d+\s*name: "([^"]+)"/g)].map((m) => m[1]).sort();
}

describe('p4c cross-checks', () => {
  it.skipIf(!P4TEST)('p4test accepts program.p4 (v1model)', () => {
    expect(() => execFileSync(P4TEST as string, [join(dir, 'program.p4')], { stdio: 'pipe' })).not.toThrow();
  });

  it.skipIf(!P4TEST)('p4test accepts program.pna.p4 (PNA)', () => {
    expect(() =>
      execFileSync(P4TEST as string, [join(dir, 'program.pna.p4')], { stdio: 'pipe' }),
    ).not.toThrow();
  });

  it.skipIf(!BM2SS)('p4c-bm2-ss compiles program.p4 and its P4Info names equal ours', () => {
    const out = join(dir, 'p4c.json');
    const info = join(dir, 'p4c.p4info.txtpb');
    execFileSync(
      BM2SS as string,
      ['--arch', 'v1model', '-o', out, '--p4runtime-files', info, join(dir, 'program.p4')],
      {
        stdio: 'pipe',
      },
    );
    expect(preambleNames(readFileSync(info, 'utf8'))).toEqual(
      preambleNames(fileText(artifacts, 'p4info.txtpb')),
    );
  });

  it('reads names back from a P4Info text file (the comparison itself works)', () => {
    const names = preambleNames(fileText(artifacts, 'p4info.txtpb'));
    expect(names).toContain('MyIngress.steer');
    expect(names).toContain('NoAction');
    expect(names.length).toBe(
      (artifacts.p4info.tables?.length ?? 0) +
        (artifacts.p4info.actions?.length ?? 0) +
        (artifacts.p4info.counters?.length ?? 0) +
        (artifacts.p4info.meters?.length ?? 0),
    );
  });
});
