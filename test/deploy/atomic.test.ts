/**
 * Atomic deployment: a failure in mid-deploy leaves nothing half-deployed. On a running P4Runtime
 * device the previous pipeline and entries come back; with the embedded softnic, everything is
 * torn down. The error names the step that failed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as host from '../../host-runtime/lib';
import type { NicArtifacts } from '../../p4';
import { P4RuntimeClient } from '../../p4runtime/client';
import type { TableEntry } from '../../p4runtime/messages';
import { P4RuntimeServer } from '../../p4runtime/server';
import { SoftnicDevice } from '../../targets/softnic/device';
import { deploy, DeployError, prepareDeploy, type Prepared } from '../../deploy';

const EXAMPLES = join(__dirname, '..', '..', 'examples');

/** The artifacts with their first table entry written twice: the second insert must fail. */
function withDuplicateEntry(nic: NicArtifacts): NicArtifacts {
  const entries = nic.entries.tableEntries;
  return { ...nic, entries: { ...nic.entries, tableEntries: [...entries, entries[0]] } };
}

async function readState(address: string): Promise<{ tables: string[]; entries: TableEntry[] }> {
  const reader = new P4RuntimeClient({ address, deviceId: 1, electionId: 0, reconnect: false });
  try {
    await reader.connect(5000);
    const config = await reader.getPipeline();
    const entries: TableEntry[] = [];
    for await (const e of reader.read({ tableEntry: {} })) if (e.tableEntry) entries.push(e.tableEntry);
    return { tables: (config.p4info?.tables ?? []).map((t) => t.preamble?.name ?? '').sort(), entries };
  } finally {
    reader.close();
  }
}

describe('atomic deployment', () => {
  let server: P4RuntimeServer;
  let multi: Prepared;
  let edge: Prepared;

  beforeAll(async () => {
    server = new P4RuntimeServer({ device: new SoftnicDevice(), deviceId: 1 });
    await server.start();
    const req = { target: { kind: 'softnic' as const }, durationSeconds: 0 };
    multi = await prepareDeploy({ ...req, input: join(EXAMPLES, 'multi-tenant.yaml') });
    edge = await prepareDeploy({ ...req, input: join(EXAMPLES, 'enterprise-edge.yaml') });
  });

  afterAll(async () => {
    host.stop();
    await server.stop(100);
  });

  it('a failing entry write on a running device restores its previous pipeline and entries', async () => {
    const opts = {
      target: { kind: 'softnic' as const, grpc: server.address, deviceId: 1 },
      durationSeconds: 0,
      traffic: [],
    };
    await deploy(multi.plan, multi.nic, opts);
    const before = await readState(server.address);
    expect(before.entries.length).toBe(multi.nic.entries.tableEntries.length);

    const failure = await deploy(edge.plan, withDuplicateEntry(edge.nic), {
      ...opts,
      target: { ...opts.target, electionId: 2 },
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeployError);
    expect((failure as DeployError).step).toBe('write-entries');
    expect((failure as DeployError).message).toMatch(
      /^deploy failed at step "write-entries": the device rejected 1 of \d+ entries; the write was rolled back\n {2}entry \d+ \(.+\): ALREADY_EXISTS/,
    );

    const after = await readState(server.address);
    expect(after.tables).toEqual(before.tables);
    expect(after.entries.length).toBe(before.entries.length);
    const key = (e: TableEntry): string => JSON.stringify([e.tableId, e.priority, e.match, e.action]);
    expect(after.entries.map(key).sort()).toEqual(before.entries.map(key).sort());
  });

  it('a failing entry write on the embedded softnic tears everything down', async () => {
    const failure = await deploy(edge.plan, withDuplicateEntry(edge.nic), {
      target: { kind: 'softnic' },
      durationSeconds: 0,
      traffic: edge.traffic,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeployError);
    expect((failure as DeployError).step).toBe('write-entries');
    // The host half was never started, and no plan is left loaded.
    expect(() => host.stats()).toThrow(/no host plan is loaded/);
  });

  it('a pipeline the target rejects fails at push-pipeline and names the construct', async () => {
    const bmv2 = JSON.parse(JSON.stringify(edge.nic.bmv2)) as {
      actions: Array<{ primitives: Array<{ op: string }> }>;
    };
    bmv2.actions[0].primitives.push({ op: 'clone_ingress_pkt_to_egress' });
    const failure = await deploy(
      edge.plan,
      { ...edge.nic, bmv2: bmv2 as unknown as NicArtifacts['bmv2'] },
      {
        target: { kind: 'softnic' },
        durationSeconds: 0,
        traffic: [],
      },
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeployError);
    expect((failure as DeployError).step).toBe('push-pipeline');
    expect((failure as DeployError).message).toMatch(/INVALID_ARGUMENT.*clone_ingress_pkt_to_egress/);
  });

  it('a host plan the runtime cannot run fails at start-host and leaves no plan loaded', async () => {
    const failure = await deploy(edge.plan, edge.nic, {
      target: { kind: 'softnic' },
      durationSeconds: 0,
      traffic: edge.traffic,
      workers: 64,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeployError);
    expect((failure as DeployError).step).toBe('start-host');
    expect(() => host.stats()).toThrow(/no host plan is loaded/);
  });
});
