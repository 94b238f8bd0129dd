/**
 * `nfp deploy --target bmv2` against a real simple_switch_grpc, when one is on PATH:
 * - launched by nfp (namespace, veth pairs, host runtime on net_af_packet): every example graph's
 *   packets, one by one, against the reference semantics; the CLI's Ctrl-C leaves nothing behind;
 * - with --grpc ADDR: the NIC half is pushed over P4Runtime and reads back entry for entry, and a
 *   failing entry write restores the switch's previous pipeline (BMv2 has no atomic writes, so
 *   the rollback re-commits).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NicArtifacts } from '../../p4';
import { syntheticYaml } from '../../partitioner/synthetic';
import { deploy, DeployError, prepareDeploy, type Prepared } from '../../deploy';
import { P4RuntimeClient } from '../../p4runtime/client';
import { deployDifferential } from './differential';
import { leftovers } from './leftovers';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const ROOT = join(__dirname, '..', '..');
const haveBmv2 = spawnSync('sh', ['-c', 'command -v simple_switch_grpc']).status === 0;
const isRoot = process.getuid?.() === 0;
if (!haveBmv2) console.warn('test/deploy/bmv2: skipped: simple_switch_grpc is not on PATH');
else if (!isRoot)
  console.warn('test/deploy/bmv2: launched-switch tests skipped: need root (namespaces, veth)');
const graphs = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

describe.skipIf(!haveBmv2 || !isRoot)(
  'nfp deploy on a simple_switch_grpc it launches (veth, namespaces)',
  () => {
    afterAll(async () => {
      const host = await import('../../host-runtime/lib');
      host.stop();
    });

    it.each(graphs)(
      '%s: packet by packet against the reference semantics',
      async (file) => {
        const { traffic, report, failures, reportFailures, seen } = await deployDifferential(
          `bmv2 ${file}`,
          join(EXAMPLES, file),
          {
            target: { kind: 'bmv2' },
            packets: 2400,
          },
        );
        expect(traffic.length).toBeGreaterThan(1000);
        expect(report.totals.input).toBe(traffic.length);
        expect(report.totals.forwarded + report.totals.dropped).toBe(traffic.length);
        expect(report.dropsByReason['nic:lost'] ?? 0).toBe(0);
        console.log(`real BMv2, ${file}: ${traffic.length} packets`, JSON.stringify(seen));
        expect(failures.slice(0, 12)).toEqual([]);
        expect(reportFailures.slice(0, 12)).toEqual([]);
        expect(seen.forwarded).toBeGreaterThan(0);
        expect(leftovers(process.pid)).toEqual([]);
      },
      120_000,
    );

    it.each([3, 12, 26, 53, 94, 122])(
      'random graph of seed %i (as in fuzz.test.ts): packet by packet against the reference semantics',
      async (seed) => {
        const dir = mkdtempSync(join(tmpdir(), 'nfp-bmv2-fuzz-'));
        const file = join(dir, 'graph.yaml');
        writeFileSync(
          file,
          syntheticYaml({
            tenants: 1 + (seed % 3),
            nfsPerTenant: 2 + (seed % 5),
            seed,
            forks: seed % 4,
            idsRate: 0.2,
          }),
        );
        try {
          const { failures, reportFailures } = await deployDifferential(`bmv2 seed ${seed}`, file, {
            target: { kind: 'bmv2' },
            packets: 300,
          });
          expect(failures.slice(0, 8)).toEqual([]);
          expect(reportFailures.slice(0, 8)).toEqual([]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      120_000,
    );

    it('the CLI runs until Ctrl-C, prints the report and leaves no switch, namespace or veth', async () => {
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'bin', 'run.js'),
          'deploy',
          join(EXAMPLES, 'multi-tenant.yaml'),
          '--target',
          'bmv2',
          '--duration',
          '60',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      // Wait for the traffic to be flowing (the progress line goes to stderr).
      await new Promise<void>((resolve) => {
        let err = '';
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          if (/pps/.test(err)) resolve();
        });
        setTimeout(resolve, 30_000);
        child.once('exit', () => resolve());
      });
      // (If it already exited, the code it exited with is what the test checks.)
      const exited = new Promise<number | null>((resolve) =>
        child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (c) => resolve(c)),
      );
      child.kill('SIGINT');
      const code = await exited;
      expect(code).toBe(0);
      expect(stdout).toMatch(/every packet accounted for/);
      expect(leftovers(child.pid!)).toEqual([]);
      expect(spawnSync('pgrep', ['-f', `nfp-${child.pid}-`]).status).not.toBe(0);
    }, 60_000);
  },
);

async function entryCount(address: string): Promise<{ tables: number; entries: number }> {
  const reader = new P4RuntimeClient({ address, deviceId: 1, electionId: 0, reconnect: false });
  try {
    await reader.connect(5000);
    const config = await reader.getPipeline();
    let entries = 0;
    for await (const e of reader.read({ tableEntry: {} })) if (e.tableEntry) entries++;
    return { tables: config.p4info?.tables?.length ?? 0, entries };
  } finally {
    reader.close();
  }
}

describe.skipIf(!haveBmv2)('nfp deploy onto a real simple_switch_grpc', () => {
  let sw: ChildProcess;
  let address: string;
  let multi: Prepared;
  let edge: Prepared;

  beforeAll(async () => {
    const port = 52000 + Math.floor(Math.random() * 5000);
    address = `127.0.0.1:${port}`;
    sw = spawn('simple_switch_grpc', ['--no-p4', '--device-id', '1', '--', '--grpc-server-addr', address], {
      stdio: 'ignore',
    });
    const req = { target: { kind: 'bmv2' as const }, durationSeconds: 0 };
    multi = await prepareDeploy({ ...req, input: join(EXAMPLES, 'multi-tenant.yaml') });
    edge = await prepareDeploy({ ...req, input: join(EXAMPLES, 'enterprise-edge.yaml') });
    // Wait for its gRPC server.
    for (let i = 0; i < 50; i++) {
      try {
        await entryCount(address);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  });

  afterAll(() => {
    sw?.kill('SIGTERM');
  });

  const opts = (): Parameters<typeof deploy>[2] => ({
    target: { kind: 'bmv2', grpc: address, deviceId: 1 },
    durationSeconds: 0,
    traffic: [],
  });

  it('pushes the pipeline and every entry', async () => {
    await deploy(multi.plan, multi.nic, opts());
    const state = await entryCount(address);
    expect(state.tables).toBe(multi.nic.p4info.tables?.length);
    expect(state.entries).toBe(multi.nic.entries.tableEntries.length);
  });

  it('a failing entry write restores the previous pipeline and entries', async () => {
    const before = await entryCount(address);
    const entries = edge.nic.entries.tableEntries;
    const bad: NicArtifacts = {
      ...edge.nic,
      entries: { ...edge.nic.entries, tableEntries: [...entries, entries[0]] },
    };
    const failure = await deploy(edge.plan, bad, {
      ...opts(),
      target: { kind: 'bmv2', grpc: address, deviceId: 1, electionId: 2 },
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeployError);
    expect((failure as DeployError).step).toBe('write-entries');
    expect((failure as DeployError).message).toMatch(
      /previous pipeline was restored\n {2}entry \d+ .*ALREADY_EXISTS/,
    );
    expect(await entryCount(address)).toEqual(before);
  });
});
