/**
 * The dpdk target as a user drives it: `nfp deploy X --target dpdk --duration 3 --json` with no
 * other flag (as root: its own veth ports in a namespace, net_af_packet, generated traffic, all
 * cleaned up), and `nfp partition --target dpdk --nic NIC` writing the testpmd rules.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFlowCreate } from '../../targets/dpdk/flow/check';
import { leftovers } from '../deploy/leftovers';

const ROOT = join(__dirname, '..', '..');
const NFP = join(ROOT, 'bin', 'run.js');
const root = process.getuid?.() === 0;
const out = mkdtempSync(join(tmpdir(), 'nfp-dpdk-cli-'));

function nfp(args: string[]): { status: number | null; stdout: string; stderr: string; pid: number } {
  const r = spawnSync(process.execPath, [NFP, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, pid: r.pid ?? 0 };
}

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('nfp with --target dpdk (CLI)', () => {
  it.skipIf(!root)(
    'deploy --target dpdk --duration 3 --json: its own ports, every packet accounted for, nothing left',
    () => {
      const r = nfp([
        'deploy',
        join(ROOT, 'examples', 'enterprise-edge.yaml'),
        '--target',
        'dpdk',
        '--duration',
        '3',
        '--json',
      ]);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout) as {
        target: string;
        seconds: number;
        totals: { input: number; forwarded: number; dropped: number };
        dropsByReason: Record<string, number>;
        nicPlacement: {
          nic: string;
          nfs: Array<{ name: string; where: string; reason: string }>;
          notices: string[];
        };
      };
      expect(report.target).toBe('dpdk');
      expect(report.seconds).toBeGreaterThanOrEqual(3);
      expect(report.totals.input).toBeGreaterThan(100);
      expect(report.totals.input).toBe(report.totals.forwarded + report.totals.dropped);
      expect(report.dropsByReason['nic:lost'] ?? 0).toBe(0);
      // What ran offloaded and what in software: net_af_packet has no flow API.
      expect(report.nicPlacement.nic).toBe('software');
      expect(report.nicPlacement.nfs).toEqual([
        expect.objectContaining({
          name: 'edge.fw',
          where: 'software',
          reason: expect.stringMatching(/no flow API/),
        }),
      ]);
      expect(leftovers(r.pid)).toEqual([]);
    },
    120_000,
  );

  it('partition --target dpdk --nic mlx5 writes testpmd flow rules an operator can read back', () => {
    const dir = join(out, 'mt');
    const r = nfp([
      'partition',
      join(ROOT, 'examples', 'multi-tenant.yaml'),
      '--target',
      'dpdk',
      '--nic',
      'mlx5',
      '--out',
      dir,
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/NIC half on mlx5:\n {2}acme\.fw +NIC +rte_flow on mlx5/);
    const file = join(dir, 'nic', 'flows.mlx5.testpmd');
    expect(existsSync(file)).toBe(true);
    expect(existsSync(join(dir, 'nic', 'flows.mlx5.json'))).toBe(true);
    const rules = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('flow create '));
    expect(rules.length).toBeGreaterThan(10);
    for (const l of rules) expect(() => parseFlowCreate(l)).not.toThrow();
    expect(rules.some((l) => /actions .*mark id \d+ \/ queue index \d+/.test(l))).toBe(true);
  });

  it('partition --nic without --target dpdk, or with an unknown family, says what to do', () => {
    const a = nfp([
      'partition',
      join(ROOT, 'examples', 'multi-tenant.yaml'),
      '--nic',
      'ice',
      '--out',
      join(out, 'x'),
    ]);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--nic ice needs --target dpdk/);
    expect(existsSync(join(out, 'x'))).toBe(false);
    const b = nfp([
      'partition',
      join(ROOT, 'examples', 'multi-tenant.yaml'),
      '--target',
      'dpdk',
      '--nic',
      'cx9',
    ]);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/cx9/);
    expect(b.stderr).toMatch(/mlx5, ice, i40e, software/);
  });

  it('deploy --port rejects a malformed port with one clear line', () => {
    const r = nfp([
      'deploy',
      join(ROOT, 'examples', 'multi-tenant.yaml'),
      '--target',
      'dpdk',
      '--port',
      '0:eth0',
      '--duration',
      '0',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--port 0:eth0: expected N@DEVARGS/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
