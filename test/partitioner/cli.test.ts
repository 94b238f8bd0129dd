// `nfp partition` end to end: the built CLI (dist/) on the examples, --json, errors and help.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nfp } from './cli-run';
import { validatePlan } from '../../partitioner';
import { partitionToDir } from '../../partitioner/output';

const built = existsSync('dist/cli/commands/partition.js');
if (!built) console.warn('cli.test: skipping the CLI runs: dist/ is not built (run `npm run build:ts`)');
const hasP4 = existsSync('p4/index.ts');
if (!hasP4)
  console.warn('cli.test: skipping the NIC artifact check: p4/index.ts (the P4 back end) is absent');

const tmp = mkdtempSync(join(tmpdir(), 'nfp-partition-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('nfp partition', () => {
  // One example through the CLI; the library tests partition every example on every profile.
  for (const example of ['branch-heavy']) {
    it.skipIf(!built)(`writes a valid plan and a picture for ${example}`, async () => {
      const out = join(tmp, example);
      const r = await nfp('partition', `examples/${example}.yaml`, '--out', out, '--no-nic');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const plan = validatePlan(JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')));
      expect(plan.graphFile).toBe(`examples/${example}.yaml`);
      expect(readFileSync(join(out, 'graph.dot'), 'utf8')).toMatch(/^digraph nfp \{/);
      // The summary says where each NF runs and why, and the NIC resources used.
      for (const nf of plan.nfs) expect(r.stdout).toContain(nf.reason);
      expect(r.stdout).toMatch(/NIC resources \(used \/ available\):\n {2}stages \d+\/16/);
      expect(r.stdout).toContain(`wrote ${join(out, 'plan.json')}`);
    });
  }

  it.skipIf(!built)('prints the plan with --json', async () => {
    const r = await nfp(
      'partition',
      'examples/enterprise-edge.yaml',
      '--out',
      join(tmp, 'json'),
      '--no-nic',
      '--json',
      '-t',
      'hw-small',
    );
    expect(r.status).toBe(0);
    const plan = validatePlan(JSON.parse(r.stdout));
    expect(plan.profile.name).toBe('hw-small');
  });

  it.skipIf(!built)(
    'reports every problem of a bad graph as file:line:col, without a stack trace',
    async () => {
      const r = await nfp('partition', 'test/partitioner/bad/several-errors.yaml', '--out', join(tmp, 'bad'));
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toBe(
        'error: test/partitioner/bad/several-errors.yaml:8:57: tenants[0].nfs.fw.config.rules[0].action: must be one of allow, deny, not "permit"',
      );
      expect(lines.filter((l) => l.includes('several-errors.yaml:'))).toHaveLength(4);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(tmp, 'bad'))).toBe(false);
    },
  );

  it.skipIf(!built)('explains a missing file', async () => {
    const missing = await nfp('partition', 'nope.yaml');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('error: cannot read nope.yaml: no such file');
    expect(missing.stderr).toContain('hint: give the path of a service graph');
  });

  it.skipIf(!built)('teaches with its help', async () => {
    const r = await nfp('partition', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('$ nfp partition examples/enterprise-edge.yaml');
    expect(r.stdout).toContain('--target');
    expect(r.stdout).toContain('plan.json');
  });
});

describe('NIC artifacts', () => {
  it.skipIf(!hasP4)('are written under nic/ when the P4 back end is present', async () => {
    const out = join(tmp, 'nic');
    const run = await partitionToDir('examples/enterprise-edge.yaml', { out });
    expect(run.files).toContain(join(out, 'plan.json'));
    expect(readdirSync(join(out, 'nic')).length).toBeGreaterThan(0);
  });
});
