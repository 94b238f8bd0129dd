/**
 * Tenants' own NFs through plain `nfp deploy`: graphs/malicious.yaml puts a victim tenant beside
 * four tenants whose custom NF (nfs/evil.c, built by deploy from its manifest's source) attacks.
 * Under every isolating backend each attacker is quarantined and the victim forwards every one of
 * its packets. `none` runs tenants' NFs as trusted native code and contains no memory fault (see
 * docs/isolation.md), so there only the damage the runtime itself checks is deployed: a lying
 * length or header offsets cost the attacker its own packets and the victim nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isolationBuilt, warnIfSkipped } from './helpers';
import { isolationSupport } from '../../host-runtime/lib/isolation';

warnIfSkipped('isolation deploy tests');
const ROOT = join(__dirname, '..', '..');
const GRAPH = join(__dirname, 'graphs', 'malicious.yaml');
const built = existsSync(join(ROOT, 'dist', 'cli', 'commands', 'deploy.js'));
if (!built) console.warn('isolation deploy tests skipped: dist/ is not built (run `npm run build:ts`)');
const pku = isolationBuilt ? isolationSupport().pku : false;
if (isolationBuilt && !pku) console.warn(`mpk deploy test skipped: ${isolationSupport().pkuReason}`);

const tmp = mkdtempSync(join(tmpdir(), 'nfp-iso-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Report {
  totals: { input: number; forwarded: number; dropped: number };
  dropsByReason: Record<string, number>;
  tenants: Array<{
    name: string;
    input: number;
    forwarded: number;
    dropped: number;
    quarantined: boolean;
    fault?: string;
  }>;
}

function nfp(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'run.js'), ...args],
      // The built CLI: under vitest's NODE_ENV=test oclif would load the TypeScript sources, where
      // partition cannot import the P4 back end.
      { cwd: ROOT, encoding: 'utf8', timeout: 180_000, env: { ...process.env, NODE_ENV: 'production' } },
      (err, stdout, stderr) =>
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

async function deploy(input: string, backend: string): Promise<Report> {
  const r = await nfp(
    'deploy',
    input,
    '--isolation',
    backend,
    '--duration',
    '1',
    '--generate',
    'packets=100,flows=8',
    '--json',
  );
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  expect(r.status, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as Report;
  expect(report.totals.input).toBe(report.totals.forwarded + report.totals.dropped);
  return report;
}

function victimLosesNothing(report: Report): void {
  const victim = report.tenants.find((t) => t.name === 'victim')!;
  expect(victim.input).toBeGreaterThan(0);
  expect(victim.forwarded).toBe(victim.input);
  expect(victim.dropped).toBe(0);
  expect(victim.quarantined).toBe(false);
}

describe.skipIf(!built || !isolationBuilt)('malicious tenant NFs through nfp deploy', () => {
  const backends = (['sfi', 'mpk', 'process'] as const).filter((b) => b !== 'mpk' || pku);
  for (const backend of backends) {
    it(`${backend}: every attacker is quarantined, the victim keeps every packet`, async () => {
      // One backend deploys a plan folder (which carries the NF sources in nf/), the others the graph.
      let input = GRAPH;
      if (backend === 'process') {
        input = join(tmp, 'plan');
        const p = await nfp('partition', GRAPH, '-o', input);
        expect(p.status, p.stderr).toBe(0);
        expect(existsSync(join(input, 'nf', 'evil.c'))).toBe(true);
      }
      const report = await deploy(input, backend);
      victimLosesNothing(report);
      for (const name of ['oob', 'readonly', 'baddata', 'stack']) {
        const t = report.tenants.find((x) => x.name === name)!;
        expect(t.quarantined, name).toBe(true);
        expect(t.forwarded, name).toBe(0);
        expect(t.dropped, name).toBe(t.input);
        // The report says why, naming the NF.
        expect(t.fault, name).toMatch(/evil/);
      }
      expect(report.tenants.find((x) => x.name === 'readonly')!.fault).toMatch(/does not declare writable/);
      expect(report.tenants.find((x) => x.name === 'baddata')!.fault).toMatch(/moved a packet's data/);
      expect(report.tenants.find((x) => x.name === 'victim')!.fault).toBeUndefined();
      // Under mpk the NF runs on the worker's own stack: its guard catches the overflow.
      if (backend === 'mpk')
        expect(report.tenants.find((x) => x.name === 'stack')!.fault).toMatch(/stack overflow/);
      expect(report.dropsByReason['host:quarantined']).toBe(report.totals.dropped);
    }, 200_000);
  }

  it('none (trusted code): a lying length or offsets cost the attacker its own packets only', async () => {
    const graph = readFileSync(GRAPH, 'utf8')
      .replace('attack: write-oob', 'attack: bad-len')
      .replace('attack: write-ro', 'attack: bad-offsets')
      .replace('attack: bad-data', 'attack: none')
      .replace('attack: recurse', 'attack: none')
      .replaceAll('../nfs/', join(__dirname, 'nfs') + '/');
    const file = join(tmp, 'none.yaml');
    writeFileSync(file, graph);
    const report = await deploy(file, 'none');
    victimLosesNothing(report);
    // A length past the packet's buffer is a counted drop of that packet; offsets are the runtime's own.
    const badLen = report.tenants.find((t) => t.name === 'oob')!;
    expect(badLen.dropped).toBeGreaterThan(0);
    expect(badLen.forwarded + badLen.dropped).toBe(badLen.input);
    for (const name of ['readonly', 'baddata', 'stack']) {
      const t = report.tenants.find((x) => x.name === name)!;
      expect(t.forwarded, name).toBe(t.input);
    }
  }, 200_000);

  it('a tenant NF that does not build stops the deployment, named, with the compiler quoted', async () => {
    mkdirSync(join(tmp, 'bad', 'nf'), { recursive: true });
    writeFileSync(
      join(tmp, 'bad', 'nf', 'broken.c'),
      '#include "nfp/nf.h"\nstatic void p(nfp_ctx *c, void *s, struct nfp_batch *b) { undefined_thing(b); }\n' +
        'const struct nfp_nf_descriptor nfp_nf_v1 = { .manifest = { .abi_version = 1, .name = "broken" }, .process = p };\n',
    );
    const graph = join(tmp, 'bad', 'graph.yaml');
    writeFileSync(
      graph,
      [
        'version: 1',
        'tenants:',
        '  - name: t1',
        '    slice: { ingressPort: 0 }',
        '    egressPort: 1',
        '    nfs:',
        '      mine: { type: custom, config: { manifest: { name: broken, version: 1.0.0, source: nf/broken.c, reads: [l3], writes: [], stateful: false, cyclesPerPacket: 50, verdicts: [] } } }',
        '    graph: [{ from: entry, to: mine }, { from: mine, to: exit }]',
        '',
      ].join('\n'),
    );
    const r = await nfp('deploy', graph, '--isolation', 'sfi', '--duration', '1');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /failed at step "start-host": custom NF t1\.mine does not build for the sfi sandbox/,
    );
    expect(r.stderr).toMatch(/undefined symbol: undefined_thing/);
    expect(r.stderr).toMatch(/hint: fix .*broken\.c/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  }, 200_000);
});
