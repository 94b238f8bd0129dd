/**
 * The P4Runtime specification's rules on the softnic device (the device behind `nfp softnic
 * --grpc`), over real gRPC on loopback: the deviations third-party controllers met there, and
 * the exact request sequence of finsy's `Switch.delete_all()`, which many finsy programs call
 * when they become primary.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Code,
  insert,
  modify,
  P4RuntimeClient,
  P4RuntimeError,
  P4RuntimeServer,
  P4RuntimeWriteError,
  p4infoFromJson,
  remove,
  UpdateType,
  type Entity,
  type Update,
} from '../../p4runtime';
import { SoftnicDevice } from '../../targets/softnic/device';
import { MemoryPort } from '../../targets/softnic/ports';
import { fixture } from './helpers';
import { udpPacket } from './packets';
import { collect } from '../p4runtime/helpers';

const p4info = p4infoFromJson(JSON.parse(fixture('l2l3.p4info.json')));
const bmv2 = fixture('l2l3.json');
const ids = {
  nshPop: 33554433,
  acl: 33554434,
  route: 33554435,
  drop: 16777218,
  setNhop: 16777220,
  dropReasons: 301989889,
};

const device = new SoftnicDevice({ cpuPort: 64 });
const server = new P4RuntimeServer({ device });
let c: P4RuntimeClient;
const port1 = new MemoryPort(1);

beforeAll(async () => {
  await server.start();
  c = new P4RuntimeClient({ address: server.address, electionId: 10, reconnect: false });
  await c.connect();
  await c.waitForPrimary();
  await device.addPort(port1);
  await device.addPort(new MemoryPort(2));
});
afterAll(async () => {
  c.close();
  await server.stop();
});
beforeEach(async () => {
  await c.setPipeline({ p4info, deviceConfig: bmv2 });
});

const route = (prefix: string, action: 'set_nhop' | 'drop' = 'set_nhop'): Entity =>
  c.entities.tableEntry({
    table: 'route',
    match: { 'hdr.ipv4.dstAddr': prefix },
    action,
    params: action === 'set_nhop' ? { port: 2, dmac: 2 } : {},
  });
const acl = (src: string, priority: number): Entity =>
  c.entities.tableEntry({ table: 'acl', match: { 'hdr.ipv4.srcAddr': src }, action: 'acl_drop', priority });
const pop = (spi: number, counterData?: { packetCount: number; byteCount: number }): Entity => ({
  tableEntry: {
    ...c.entities.tableEntry({
      table: 'nsh_pop',
      match: { 'hdr.nsh.spi': spi },
      action: 'pop_nsh',
      params: { port: 3 },
    }).tableEntry!,
    counterData,
  },
});

async function updateCodes(updates: Update[]): Promise<number[]> {
  const e = await c.write(updates).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(P4RuntimeWriteError);
  return (e as P4RuntimeWriteError).failures.map((f) => f.error.canonicalCode ?? -1);
}

describe('P4Runtime spec rules on the softnic', () => {
  it('1: a table read filters by priority and by action id', async () => {
    await c.write([
      insert(acl('10.0.0.0&&&255.0.0.0', 10)),
      insert(acl('11.0.0.0&&&255.0.0.0', 20)),
      insert(acl('12.0.0.0&&&255.0.0.0', 10)),
    ]);
    await c.write([insert(route('10.0.0.0/8')), insert(route('11.0.0.0/8', 'drop'))]);
    const byPriority = await collect(c.read({ tableEntry: { tableId: ids.acl, priority: 20 } }));
    expect(byPriority.map((e) => e.tableEntry?.priority)).toEqual([20]);
    const byAction = await collect(
      c.read({ tableEntry: { tableId: ids.route, action: { action: { actionId: ids.drop } } } }),
    );
    expect(byAction).toHaveLength(1);
    expect(byAction[0].tableEntry?.action?.action?.actionId).toBe(ids.drop);
  });

  it('2: MODIFY of a default entry with no action resets it to the program default', async () => {
    const readDefault = async (): Promise<number | undefined> => {
      const [d] = await collect(c.read({ tableEntry: { tableId: ids.route, isDefaultAction: true } }));
      return d.tableEntry?.action?.action?.actionId;
    };
    const initial = await readDefault();
    await c.write([
      modify(
        c.entities.tableEntry({
          table: 'route',
          isDefault: true,
          action: 'set_nhop',
          params: { port: 2, dmac: 1 },
        }),
      ),
    ]);
    expect(await readDefault()).toBe(ids.setNhop);
    await c.write([modify({ tableEntry: { tableId: ids.route, isDefaultAction: true } })]);
    expect(await readDefault()).toBe(initial);
    // and the data plane follows: 8.8.8.8 hits the default again (a drop in this program)
    port1.inject([udpPacket({ src: '1.1.1.1', dst: '8.8.8.8' })]);
    expect(device.getStats().tx[2] ?? 0).toBe(0);
  });

  it('3: wildcard reads of PRE entries, action profiles, digests and registers are empty, not errors', async () => {
    const read = await collect(
      c.read([
        { packetReplicationEngineEntry: { multicastGroupEntry: {} } },
        { packetReplicationEngineEntry: { cloneSessionEntry: {} } },
        { actionProfileMember: {} },
        { actionProfileGroup: {} },
        { digestEntry: {} },
        { registerEntry: {} },
        { valueSetEntry: {} },
      ]),
    );
    expect(read).toEqual([]);
    // the softnic does not replicate packets: writing a group is refused, clearly
    const codes = await updateCodes([
      insert({
        packetReplicationEngineEntry: {
          multicastGroupEntry: { multicastGroupId: 1, replicas: [{ port: Buffer.from([1]) }] },
        },
      }),
    ]);
    expect(codes).toEqual([Code.UNIMPLEMENTED]);
  });

  it("3: finsy's Switch.delete_all() request sequence succeeds and clears the device", async () => {
    await c.write([insert(route('10.0.0.0/8')), insert(acl('10.0.0.0&&&255.0.0.0', 5)), insert(pop(7))]);
    await c.write([modify(c.entities.tableEntry({ table: 'route', isDefault: true, action: 'drop' }))]);
    // delete_many([P4TableEntry(), P4MulticastGroupEntry(), P4CloneSessionEntry()])
    const found = await collect(
      c.read([
        { tableEntry: {} },
        { packetReplicationEngineEntry: { multicastGroupEntry: {} } },
        { packetReplicationEngineEntry: { cloneSessionEntry: {} } },
      ]),
    );
    expect(found).toHaveLength(3);
    await c.write(found.map((e) => remove(e)));
    // reset every default entry: MODIFY with is_default_action and no action
    const tables = (p4info.tables ?? []).filter((t) => !t.constDefaultActionId && !t.implementationId);
    await c.write(
      tables.map((t) => modify({ tableEntry: { tableId: t.preamble!.id, isDefaultAction: true } })),
    );
    // delete_many([P4ActionProfileGroup(), P4ActionProfileMember()])
    expect(await collect(c.read([{ actionProfileGroup: {} }, { actionProfileMember: {} }]))).toEqual([]);
    expect(await collect(c.read({ tableEntry: {} }))).toEqual([]);
  });

  it('4: MODIFY of a counter or direct counter without data leaves the value', async () => {
    await c.write([
      modify({
        counterEntry: {
          counterId: ids.dropReasons,
          index: { index: 1 },
          data: { packetCount: 5, byteCount: 50 },
        },
      }),
    ]);
    await c.write([modify({ counterEntry: { counterId: ids.dropReasons, index: { index: 1 } } })]);
    expect((await c.readCounter('drop_reasons', 1))[0]).toMatchObject({ packets: 5n, bytes: 50n });
    await c.write([insert(pop(7))]);
    const key = pop(7).tableEntry!;
    await c.write([
      modify({ directCounterEntry: { tableEntry: key, data: { packetCount: 3, byteCount: 30 } } }),
    ]);
    await c.write([modify({ directCounterEntry: { tableEntry: key } })]);
    const [d] = await collect(c.read({ directCounterEntry: { tableEntry: key } }));
    expect(Number(d.directCounterEntry?.data?.packetCount)).toBe(3);
  });

  it('5: MODIFY of a table entry writes its counter_data, and leaves the counter when unset', async () => {
    await c.write([insert(pop(7))]);
    await c.write([modify(pop(7, { packetCount: 11, byteCount: 110 }))]);
    const counted = async (): Promise<number> => {
      const [e] = await collect(c.readTable('nsh_pop', { counters: true }));
      return Number(e.counterData?.packetCount);
    };
    expect(await counted()).toBe(11);
    await c.write([modify(pop(7))]);
    expect(await counted()).toBe(11);
  });

  it('6: a counter index past the end is OUT_OF_RANGE', async () => {
    const codes = await updateCodes([
      modify({ counterEntry: { counterId: ids.dropReasons, index: { index: 4 }, data: {} } }),
    ]);
    expect(codes).toEqual([Code.OUT_OF_RANGE]);
  });

  it('a DELETE needs only the key; INSERT of a default entry is INVALID_ARGUMENT', async () => {
    await c.write([insert(route('10.0.0.0/8'))]);
    await c.write([
      remove({ tableEntry: { tableId: ids.route, match: route('10.0.0.0/8').tableEntry!.match } }),
    ]);
    const e = await c
      .write([
        { type: UpdateType.INSERT, entity: { tableEntry: { tableId: ids.route, isDefaultAction: true } } },
      ])
      .catch((x: unknown) => x);
    expect((e as P4RuntimeWriteError).failures[0].error.canonicalCode).toBe(Code.INVALID_ARGUMENT);
    expect(e).toBeInstanceOf(P4RuntimeError);
  });
});

describe('roles, digests and idle timeouts on the softnic', () => {
  it('roles limit a controller to its tables, its reads and its packet I/O', async () => {
    const d = new SoftnicDevice({ cpuPort: 64 });
    const s = new P4RuntimeServer({
      device: d,
      roles: { 'acl-admin': { tables: ['acl'] }, 'route-admin': { tables: ['route'], packetIo: true } },
    });
    await s.start();
    const admin = new P4RuntimeClient({ address: s.address, electionId: 1, reconnect: false });
    const aclAdmin = new P4RuntimeClient({
      address: s.address,
      electionId: 1,
      role: 'acl-admin',
      reconnect: false,
    });
    const routeAdmin = new P4RuntimeClient({
      address: s.address,
      electionId: 1,
      role: 'route-admin',
      reconnect: false,
    });
    try {
      for (const x of [admin, aclAdmin, routeAdmin]) expect(await x.connect()).toBe(true);
      await admin.setPipeline({ p4info, deviceConfig: bmv2 });
      aclAdmin.useP4Info(p4info);
      routeAdmin.useP4Info(p4info);
      const b = aclAdmin.entities;
      await aclAdmin.write([
        insert(
          b.tableEntry({
            table: 'acl',
            match: { 'hdr.ipv4.srcAddr': '10.0.0.0&&&255.0.0.0' },
            action: 'acl_drop',
            priority: 1,
          }),
        ),
      ]);
      const denied = await aclAdmin
        .write([
          insert(
            b.tableEntry({ table: 'route', match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' }, action: 'drop' }),
          ),
        ])
        .catch((x: unknown) => x);
      expect((denied as P4RuntimeWriteError).failures[0].error.canonicalCode).toBe(Code.PERMISSION_DENIED);
      await routeAdmin.write([
        insert(
          b.tableEntry({
            table: 'route',
            match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
            action: 'set_nhop',
            params: { port: 64, dmac: 1 },
          }),
        ),
      ]);
      expect((await collect(aclAdmin.read({ tableEntry: {} }))).map((e) => e.tableEntry?.tableId)).toEqual([
        ids.acl,
      ]);
      expect(await collect(admin.read({ tableEntry: {} }))).toHaveLength(2);
      // a packet the route sends to the CPU port reaches only the role with packet I/O
      let aclGot = 0;
      aclAdmin.on('packetIn', () => aclGot++);
      const got = new Promise((r) => routeAdmin.once('packetIn', r));
      d.inject(1, [udpPacket({ src: '9.9.9.9', dst: '10.1.1.1' })]);
      await got;
      expect(aclGot).toBe(0);
    } finally {
      for (const x of [admin, aclAdmin, routeAdmin]) x.close();
      await s.stop(50);
    }
  });

  it('a pipeline with digests or idle-timeout tables is refused with the reason (the softnic serves neither)', async () => {
    const withDigest = { ...p4info, digests: [{ preamble: { id: 385875969, name: 'learn_t' } }] };
    const e1 = await c.setPipeline({ p4info: withDigest, deviceConfig: bmv2 }).catch((x: unknown) => x);
    expect((e1 as P4RuntimeError).code).toBe(Code.INVALID_ARGUMENT);
    expect((e1 as Error).message).toMatch(/digest "learn_t" is not supported by the softnic/);
    const withIdle = {
      ...p4info,
      tables: (p4info.tables ?? []).map((t) =>
        t.preamble?.id === ids.route ? { ...t, idleTimeoutBehavior: 1 } : t,
      ),
    };
    const e2 = await c.setPipeline({ p4info: withIdle, deviceConfig: bmv2 }).catch((x: unknown) => x);
    expect((e2 as Error).message).toMatch(/idle-timeout notifications/);
  });
});
