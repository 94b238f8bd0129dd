import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Code,
  insert,
  modify,
  P4RuntimeClient,
  P4RuntimeReadError,
  P4RuntimeWriteError,
} from '../../p4runtime';
import { collect, fixtureP4Info, next, primaryWithPipeline, startRig, type Rig } from './helpers';

let rig: Rig;
let admin: P4RuntimeClient;
let tenantA: P4RuntimeClient;
let tenantB: P4RuntimeClient;

const classify = (c: P4RuntimeClient, table: string, vid: number) =>
  insert(
    c.entities.tableEntry({
      table,
      match: { 'hdr.vlan.vid': vid },
      action: 'set_path',
      params: { path: 1, tenant: 1 },
    }),
  );

beforeAll(async () => {
  rig = await startRig({
    roles: {
      'tenant-a': { tables: ['tenant_a_classify'], counters: ['port_counter'], packetIo: true },
      'tenant-b': { tables: ['ingress.tenant_b_classify'] },
    },
  });
  admin = await primaryWithPipeline(rig);
  tenantA = rig.client({ role: 'tenant-a', electionId: 1 });
  tenantB = rig.client({ role: 'tenant-b', electionId: 1 });
  await tenantA.connect();
  await tenantB.connect();
  tenantA.useP4Info(fixtureP4Info);
  tenantB.useP4Info(fixtureP4Info);
});
afterAll(async () => {
  await rig.stop();
});

describe('roles as access control', () => {
  it('each tenant primary writes its own table; outside its role is PERMISSION_DENIED per update', async () => {
    expect(tenantA.isPrimary && tenantB.isPrimary).toBe(true);
    await tenantA.write([classify(tenantA, 'tenant_a_classify', 10)]);
    const e = (await tenantA
      .write([classify(tenantA, 'tenant_a_classify', 11), classify(tenantA, 'tenant_b_classify', 11)])
      .catch((x: unknown) => x)) as P4RuntimeWriteError;
    expect(e).toBeInstanceOf(P4RuntimeWriteError);
    expect(e.failures.map((f) => [f.index, f.error.canonicalCode])).toEqual([[1, Code.PERMISSION_DENIED]]);
    expect(e.failures[0].error.message).toMatch(/table "ingress.tenant_b_classify" is outside/);
    await tenantB.write([classify(tenantB, 'tenant_b_classify', 10)]);
  });

  it('a wildcard read shows a tenant only its own tables; reading another table is refused', async () => {
    const mine = await collect(tenantA.read({ tableEntry: { tableId: 0 } }));
    expect(mine.map((e) => tenantA.entities.describe(e.tableEntry!).table)).toEqual([
      'ingress.tenant_a_classify',
      'ingress.tenant_a_classify',
    ]);
    const denied = await collect(tenantA.readTable('tenant_b_classify')).catch((x: unknown) => x);
    expect((denied as P4RuntimeReadError).failures[0].error.canonicalCode).toBe(Code.PERMISSION_DENIED);
    const everything = await collect(admin.read({ tableEntry: { tableId: 0 } }));
    expect(everything).toHaveLength(3);
  });

  it('counters follow the role; a tenant may not change the pipeline', async () => {
    await tenantA.write([modify(tenantA.entities.counterEntry('port_counter', 0, { packets: 1 }))]);
    expect((await tenantA.readCounter('port_counter', 0))[0].packets).toBe(1n);
    const e = (await tenantB
      .write([modify(tenantB.entities.counterEntry('port_counter', 0, { packets: 9 }))])
      .catch((x: unknown) => x)) as P4RuntimeWriteError;
    expect(e.failures[0].error.canonicalCode).toBe(Code.PERMISSION_DENIED);
    await expect(tenantA.setPipeline({ p4info: fixtureP4Info })).rejects.toMatchObject({
      code: Code.PERMISSION_DENIED,
    });
  });

  it('an unknown role is refused (NOT_FOUND) at arbitration and in Read', async () => {
    const x = rig.client({ role: 'tenant-z', electionId: 1 });
    await expect(x.connect()).rejects.toMatchObject({ code: Code.NOT_FOUND });
    await expect(collect(x.read({ tableEntry: {} }))).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });

  it('packet-in reaches the primaries whose role allows packet I/O', async () => {
    const gotA = next(tenantA, 'packetIn');
    let gotB = false;
    tenantB.on('packetIn', () => (gotB = true));
    rig.device.injectPacketIn({ payload: Buffer.from('hello'), metadata: [] });
    const [p] = await gotA;
    expect(Buffer.from(p.payload!).toString()).toBe('hello');
    expect(gotB).toBe(false);
  });
});
