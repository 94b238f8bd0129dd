/**
 * `nfp deploy --target bmv2 --grpc ADDR` against a real simple_switch_grpc, when one is on PATH:
 * the NIC half is pushed over P4Runtime and reads back entry for entry, and a failing entry write
 * restores the switch's previous pipeline (BMv2 has no atomic writes, so the rollback re-commits).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NicArtifacts } from '../../p4';
import { deploy, DeployError, prepareDeploy, type Prepared } from '../../targets/deploy';
import { P4RuntimeClient } from '../../targets/p4runtime/client';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const haveBmv2 = spawnSync('sh', ['-c', 'command -v simple_switch_grpc']).status === 0;
if (!haveBmv2) console.warn('test/deploy/bmv2: skipped: simple_switch_grpc is not on PATH');

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
    const req = { target: 'bmv2' as const, deviceId: 1, durationSeconds: 0, profile: 'bmv2' };
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
    target: 'bmv2',
    grpc: address,
    deviceId: 1,
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
    const failure = await deploy(edge.plan, bad, { ...opts(), electionId: 2 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeployError);
    expect((failure as DeployError).step).toBe('write-entries');
    expect((failure as DeployError).message).toMatch(
      /previous pipeline was restored\n {2}entry \d+ .*ALREADY_EXISTS/,
    );
    expect(await entryCount(address)).toEqual(before);
  });
});
