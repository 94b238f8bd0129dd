// `nfp partition --cluster` end to end: the built CLI (dist/) writes the cluster plan, every
// node's plan and NIC artifacts and the steering switch's program; --json prints the cluster plan.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nfp } from './cli-run';
import { validatePlan } from '../../partitioner';
import { validateClusterPlan } from '../../partitioner/cluster-output';

const built = existsSync('dist/cli/commands/partition.js');
if (!built) console.warn('cluster-cli.test: skipping: dist/ is not built (run `npm run build:ts`)');

const tmp = mkdtempSync(join(tmpdir(), 'nfp-cluster-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!built)('nfp partition --cluster', () => {
  it('writes cluster.json, node plans with NIC artifacts and the steering program; --json prints the plan', async () => {
    const out = join(tmp, 'edge');
    const r = await nfp(
      'partition',
      'examples/multi-tenant.yaml',
      '--cluster',
      'examples/clusters/edge.yaml',
      '--out',
      out,
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout.slice(0, 500)).toBe(0);
    const printed = validateClusterPlan(JSON.parse(r.stdout));
    const written = validateClusterPlan(JSON.parse(readFileSync(join(out, 'cluster.json'), 'utf8')));
    expect({ ...printed, seconds: 0 }).toEqual({ ...written, seconds: 0 });
    for (const n of written.nodes) {
      expect(n.plan).toBe(`nodes/${n.name}/plan.json`);
      const plan = validatePlan(JSON.parse(readFileSync(join(out, n.plan!), 'utf8')));
      expect(plan.tenants.map((t) => t.id)).toEqual(n.tenants);
      expect(existsSync(join(out, 'nodes', n.name, 'nic', 'bmv2.json'))).toBe(true);
    }
    const tor = validatePlan(JSON.parse(readFileSync(join(out, 'tor', 'plan.json'), 'utf8')));
    expect(tor.tenants.length).toBe(written.steering.rules.length);
    expect(readFileSync(join(out, 'tor', 'nic', 'program.p4'), 'utf8')).toContain('V1Switch');
  });

  it('prints per node what it serves and the steering rules', async () => {
    const r = await nfp(
      'partition',
      'examples/multi-tenant.yaml',
      '-c',
      'examples/clusters/edge.yaml',
      '--out',
      join(tmp, 'text'),
      '--no-nic',
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^cluster plan for examples\/multi-tenant\.yaml on examples\/clusters\/edge\.yaml: 3 tenants on 3 nodes/,
    );
    expect(r.stdout).toMatch(/\nnode edge-1 \(softnic, 1 core at 2\.40 GHz\): 1 tenant,/);
    expect(r.stdout).toContain('acme [port 0, vlan 10] offload: pinned by examples/clusters/edge.yaml:');
    expect(r.stdout).toMatch(/\n {2}in 0, vlan 10 → port 8 \(edge-1 wire port 0; tenant acme\)/);
    expect(existsSync(join(tmp, 'text', 'nodes', 'edge-1', 'nic'))).toBe(false);
  });

  it('refuses --target beside --cluster, and explains a tenant that fits nowhere', async () => {
    const both = await nfp(
      'partition',
      'examples/multi-tenant.yaml',
      '-c',
      'examples/clusters/edge.yaml',
      '-t',
      'bmv2',
    );
    expect(both.status).toBe(2);
    expect(both.stderr.replace(/\s+›\s+/g, ' ')).toMatch(
      /--(cluster|target)=\S+ cannot also be provided when using --(target|cluster)/,
    );
    const tight = join(tmp, 'tight.yaml');
    writeFileSync(
      tight,
      'version: 1\nofferedLoad: 100Mpps\nnodes:\n  - { name: solo, nic: softnic, hostCores: 1 }\n',
    );
    const r = await nfp('partition', 'examples/multi-tenant.yaml', '-c', tight, '--out', join(tmp, 'x'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^error: examples\/multi-tenant\.yaml:\d+:\d+: tenant "globex": fits on no node of the cluster:\n {2}solo \(softnic\): host cycles\/s: needs/,
    );
    expect(r.stderr).toMatch(/\nhint: add a node/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
