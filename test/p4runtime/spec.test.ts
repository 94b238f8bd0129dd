/**
 * The P4Runtime specification's rules, one test each, over real gRPC on loopback: the twelve
 * deviations third-party controllers (p4runtime-shell, finsy) found in nfp's server, and the
 * neighbouring rules of the same sections. Section names are those of
 * p4lang/p4runtime docs/v1/P4Runtime-Spec.adoc.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Code,
  codecs,
  insert,
  MeterType,
  modify,
  P4RuntimeClient,
  P4RuntimeError,
  P4RuntimeWriteError,
  PipelineAction,
  p4runtimeClientService,
  type Entity,
  type MasterArbitrationUpdate,
  type P4Info,
  type Update,
} from '../../p4runtime';
import { collect, fixtureP4Info, next, primaryWithPipeline, rawUnary, startRig, type Rig } from './helpers';

/** The fixture with what a p4c-compiled program declares beyond it (spec 1.4+ P4Info fields). */
const ids = {
  lpm: 33554433,
  acl: 33554434,
  smac: 33554435,
  forward: 16777217,
  drop: 16777218,
  noAction: 16777219,
  portCounter: 302120961,
  tenantMeter: 335544321,
};
const p4info: P4Info = {
  ...fixtureP4Info,
  pkgInfo: {
    ...fixtureP4Info.pkgInfo,
    platformProperties: { multicastGroupTableSize: 64, multicastGroupTableMaxReplicasPerEntry: 8 },
  },
  tables: (fixtureP4Info.tables ?? []).map((t) =>
    t.preamble?.id === ids.lpm ? { ...t, initialDefaultAction: { actionId: ids.noAction } } : t,
  ),
  meters: [
    ...(fixtureP4Info.meters ?? []),
    {
      preamble: { id: 335544322, name: 'ingress.sr3', alias: 'sr3' },
      spec: { unit: 1, type: MeterType.SINGLE_RATE_THREE_COLOR },
      size: 2,
    },
    {
      preamble: { id: 335544323, name: 'ingress.sr2', alias: 'sr2' },
      spec: { unit: 1, type: MeterType.SINGLE_RATE_TWO_COLOR },
      size: 2,
    },
  ],
};

let rig: Rig;
let c: P4RuntimeClient;

async function setUp(): Promise<void> {
  rig = await startRig();
  c = rig.client({ electionId: 10 });
  await c.connect();
  await c.waitForPrimary();
  await c.setPipeline({ p4info, deviceConfig: '{}', cookie: 7 });
}

const route = (prefix: string, action: 'forward' | 'drop' = 'forward', port = 1): Entity =>
  c.entities.tableEntry({
    table: 'ipv4_lpm',
    match: { 'hdr.ipv4.dstAddr': prefix },
    action,
    params: action === 'forward' ? { port } : {},
  });

const acl = (src: string, priority: number): Entity =>
  c.entities.tableEntry({ table: 'acl', match: { 'hdr.ipv4.srcAddr': src }, action: 'drop', priority });

async function failure(p: Promise<unknown>): Promise<P4RuntimeError> {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(P4RuntimeError);
  return e as P4RuntimeError;
}

/** The canonical code of each failed update of a write, in order. */
async function updateCodes(updates: Update[]): Promise<number[]> {
  const e = await failure(c.write(updates));
  expect(e).toBeInstanceOf(P4RuntimeWriteError);
  return (e as P4RuntimeWriteError).failures.map((f) => f.error.canonicalCode ?? -1);
}

describe('P4Runtime spec rules (MemoryDevice)', () => {
  beforeAll(setUp);
  afterAll(() => rig.stop());
  beforeEach(async () => {
    await c.setPipeline({ p4info, deviceConfig: '{}', cookie: 7 });
  });

  // 1. Wildcard Reads (TableEntry): priority, action, metadata and controller_metadata filter.
  it('1: a table read filters by priority and by action id', async () => {
    await c.write([
      insert(acl('10.0.0.0&&&255.0.0.0', 10)),
      insert(acl('11.0.0.0&&&255.0.0.0', 20)),
      insert(acl('12.0.0.0&&&255.0.0.0', 10)),
    ]);
    await c.write([insert(route('10.0.0.0/8', 'forward')), insert(route('11.0.0.0/8', 'drop'))]);
    const byPriority = await collect(c.read({ tableEntry: { tableId: ids.acl, priority: 10 } }));
    expect(byPriority.map((e) => e.tableEntry?.priority)).toEqual([10, 10]);
    const byAction = await collect(
      c.read({ tableEntry: { tableId: ids.lpm, action: { action: { actionId: ids.drop } } } }),
    );
    expect(byAction.map((e) => c.entities.describe(e.tableEntry!).action)).toEqual(['ingress.drop']);
    const tagged = { ...route('12.0.0.0/8').tableEntry!, metadata: Buffer.from('cookie') };
    await c.write([insert({ tableEntry: tagged })]);
    const byMetadata = await collect(
      c.read({ tableEntry: { tableId: ids.lpm, metadata: Buffer.from('cookie') } }),
    );
    expect(byMetadata.map((e) => c.entities.describe(e.tableEntry!).match['hdr.ipv4.dstAddr'])).toMatchObject(
      [{ value: 0x0c000000n, prefixLen: 8 }],
    );
  });

  // 2. Default Entry: MODIFY without an action resets the default entry to the program's.
  it('2: MODIFY of a default entry with no action resets it to the initial default action', async () => {
    await c.write([modify(c.entities.tableEntry({ table: 'ipv4_lpm', isDefault: true, action: 'drop' }))]);
    const read = async (): Promise<string | undefined> => {
      const [d] = await collect(c.read({ tableEntry: { tableId: ids.lpm, isDefaultAction: true } }));
      return c.entities.describe(d.tableEntry!).action;
    };
    expect(await read()).toBe('ingress.drop');
    await c.write([modify({ tableEntry: { tableId: ids.lpm, isDefaultAction: true } })]);
    expect(await read()).toBe('NoAction');
    // idle timeouts are not supported for default entries
    const codes = await updateCodes([
      modify({ tableEntry: { tableId: ids.lpm, isDefaultAction: true, idleTimeoutNs: 5 } }),
    ]);
    expect(codes).toEqual([Code.INVALID_ARGUMENT]);
  });

  // 3. PacketReplicationEngineEntry: wildcard reads of multicast groups and clone sessions.
  it('3: wildcard reads of multicast groups and clone sessions answer, empty or with the groups', async () => {
    await c.write([insert(route('10.0.0.0/8'))]);
    // finsy's Switch.delete_all() reads these three in one request.
    const all = await collect(
      c.read([
        { tableEntry: {} },
        { packetReplicationEngineEntry: { multicastGroupEntry: {} } },
        { packetReplicationEngineEntry: { cloneSessionEntry: {} } },
      ]),
    );
    expect(all.map((e) => Object.keys(e).filter((k) => (e as Record<string, unknown>)[k]))).toEqual([
      ['tableEntry'],
    ]);
    const group = {
      multicastGroupId: 1,
      replicas: [
        { port: Buffer.from([5]), instance: 1 },
        { port: Buffer.from([12]), instance: 2, backupReplicas: [{ port: Buffer.from([13]), instance: 5 }] },
      ],
      metadata: Buffer.from('m'),
    };
    await c.write([
      insert({ packetReplicationEngineEntry: { multicastGroupEntry: group } }),
      insert({
        packetReplicationEngineEntry: {
          cloneSessionEntry: { sessionId: 100, replicas: [{ port: Buffer.from([255]), instance: 1 }] },
        },
      }),
    ]);
    const pre = await collect(
      c.read([
        { packetReplicationEngineEntry: { multicastGroupEntry: {} } },
        { packetReplicationEngineEntry: { cloneSessionEntry: { sessionId: 100 } } },
      ]),
    );
    expect(pre).toHaveLength(2);
    const mg = pre[0].packetReplicationEngineEntry!.multicastGroupEntry!;
    expect(mg.multicastGroupId).toBe(1);
    expect(Buffer.from(mg.metadata!).toString()).toBe('m');
    expect(mg.replicas![1].backupReplicas![0].instance).toBe(5);
    expect(pre[1].packetReplicationEngineEntry!.cloneSessionEntry!.sessionId).toBe(100);
    // id 0 is the wildcard and never written; a replica may not share a port with its backups
    const codes = await updateCodes([
      insert({ packetReplicationEngineEntry: { multicastGroupEntry: { multicastGroupId: 0 } } }),
      insert({
        packetReplicationEngineEntry: {
          multicastGroupEntry: {
            multicastGroupId: 2,
            replicas: [{ port: Buffer.from([5]), instance: 1, backupReplicas: [{ port: Buffer.from([5]) }] }],
          },
        },
      }),
      insert({ packetReplicationEngineEntry: { multicastGroupEntry: group } }),
    ]);
    expect(codes).toEqual([Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, Code.ALREADY_EXISTS]);
    // a wildcard read of an entity kind the pipeline has none of is empty, not an error
    expect(await collect(c.read([{ registerEntry: {} }, { valueSetEntry: {} }]))).toEqual([]);
  });

  // 4. CounterEntry / DirectCounterEntry: MODIFY without data leaves the value unchanged.
  it('4: MODIFY of a counter or direct counter without data leaves the value', async () => {
    await c.write([
      modify({
        counterEntry: {
          counterId: ids.portCounter,
          index: { index: 3 },
          data: { packetCount: 5, byteCount: 500 },
        },
      }),
    ]);
    await c.write([modify({ counterEntry: { counterId: ids.portCounter, index: { index: 3 } } })]);
    const [cell] = await c.readCounter('port_counter', 3);
    expect([cell.packets, cell.bytes]).toEqual([5n, 500n]);
    await c.write([insert(route('10.0.0.0/8'))]);
    const key = route('10.0.0.0/8').tableEntry!;
    await c.write([
      modify({ directCounterEntry: { tableEntry: key, data: { packetCount: 9, byteCount: 90 } } }),
    ]);
    await c.write([modify({ directCounterEntry: { tableEntry: key } })]);
    const [d] = await collect(c.read({ directCounterEntry: { tableEntry: key } }));
    expect([
      Number(d.directCounterEntry!.data!.packetCount),
      Number(d.directCounterEntry!.data!.byteCount),
    ]).toEqual([9, 90]);
  });

  // 5. Direct Resources: counter_data of a TableEntry MODIFY is written; unset leaves it.
  it('5: MODIFY of a table entry writes its counter_data, and leaves the counter when unset', async () => {
    await c.write([insert(route('10.0.0.0/8'))]);
    const withData = {
      ...route('10.0.0.0/8', 'forward', 2).tableEntry!,
      counterData: { packetCount: 7, byteCount: 70 },
    };
    await c.write([modify({ tableEntry: withData })]);
    const counted = async (): Promise<number[]> => {
      const [e] = await collect(c.readTable('ipv4_lpm', { counters: true }));
      return [Number(e.counterData!.packetCount), Number(e.counterData!.byteCount)];
    };
    expect(await counted()).toEqual([7, 70]);
    await c.write([modify(route('10.0.0.0/8', 'forward', 3))]);
    expect(await counted()).toEqual([7, 70]);
  });

  // 6. CounterEntry / MeterEntry: an index past the end is OUT_OF_RANGE, a negative one INVALID_ARGUMENT.
  it('6: a counter or meter index past the end is OUT_OF_RANGE; a negative one INVALID_ARGUMENT', async () => {
    const codes = await updateCodes([
      modify({ counterEntry: { counterId: ids.portCounter, index: { index: 16 }, data: {} } }),
      modify({ meterEntry: { meterId: ids.tenantMeter, index: { index: 4 } } }),
      modify({ counterEntry: { counterId: ids.portCounter, index: { index: -1 }, data: {} } }),
    ]);
    expect(codes).toEqual([Code.OUT_OF_RANGE, Code.OUT_OF_RANGE, Code.INVALID_ARGUMENT]);
    const e = await failure(
      collect(c.read({ counterEntry: { counterId: ids.portCounter, index: { index: 99 } } })),
    );
    expect(e.message).toMatch(/OUT_OF_RANGE/);
  });

  // 7. Bytestrings: too wide or empty is OUT_OF_RANGE; malformed entries stay INVALID_ARGUMENT.
  it('7: a bytestring wider than its field, or empty, is OUT_OF_RANGE; a malformed entry INVALID_ARGUMENT', async () => {
    const raw = (value: Buffer, port: Buffer): Update => ({
      type: 1,
      entity: {
        tableEntry: {
          tableId: ids.lpm,
          match: [{ fieldId: 1, lpm: { value, prefixLen: 8 } }],
          action: { action: { actionId: ids.forward, params: [{ paramId: 1, value: port }] } },
        },
      },
    });
    const codes = await updateCodes([
      raw(Buffer.from([1, 0x0a, 0, 0, 0]), Buffer.from([1])), // 33 bits of value
      raw(Buffer.from([0x0a, 0, 0, 0]), Buffer.from([2, 0])), // port 512 in 9 bits
      raw(Buffer.alloc(0), Buffer.from([1])), // empty value
      raw(Buffer.from([0x0a, 0, 0, 0]), Buffer.alloc(0)), // empty parameter
      raw(Buffer.from([0, 0x0a, 0, 0, 0]), Buffer.from([0, 1])), // leading zeros are fine
      { type: 1, entity: { tableEntry: { tableId: ids.smac, action: { action: { actionId: 16777220 } } } } },
    ]);
    expect(codes).toEqual([
      Code.OUT_OF_RANGE,
      Code.OUT_OF_RANGE,
      Code.OUT_OF_RANGE,
      Code.OUT_OF_RANGE,
      Code.INVALID_ARGUMENT, // smac: exact field missing
    ]);
    expect(await collect(c.readTable('ipv4_lpm'))).toHaveLength(1);
  });

  // 8. SetForwardingPipelineConfig: COMMIT without a saved config is NOT_FOUND.
  it('8: COMMIT with no saved config is NOT_FOUND; with a config INVALID_ARGUMENT', async () => {
    expect((await failure(c.setPipeline(undefined, PipelineAction.COMMIT))).code).toBe(Code.NOT_FOUND);
    expect((await failure(c.setPipeline({ p4info }, PipelineAction.COMMIT))).code).toBe(
      Code.INVALID_ARGUMENT,
    );
  });

  // 12. The P4Info fields of 1.4+ survive a Set/Get round trip; MeterSpec.type restricts MeterConfig.
  it('12: Get returns initial_default_action and platform_properties as set', async () => {
    const got = await c.getPipeline();
    const back = codecs.P4Info.decode(codecs.P4Info.encode(got.p4info!));
    expect(back.pkgInfo?.platformProperties?.multicastGroupTableSize).toBe(64);
    expect(back.tables?.find((t) => t.preamble?.id === ids.lpm)?.initialDefaultAction?.actionId).toBe(
      ids.noAction,
    );
    expect(Buffer.from(codecs.P4Info.encode(got.p4info!))).toEqual(Buffer.from(codecs.P4Info.encode(p4info)));
  });

  it('12: a MeterConfig must fit the meter type: eburst only for single-rate three-colour meters', async () => {
    const cfg = (cir: number, pir: number, eburst?: number) => ({
      cir,
      cburst: 100,
      pir,
      pburst: 100,
      eburst,
    });
    const meter = (name: string, config: ReturnType<typeof cfg>): Update =>
      modify({
        meterEntry: { meterId: c.schema.meters.find(name)!.preamble!.id, index: { index: 0 }, config },
      });
    const codes = await updateCodes([
      meter('tenant_meter', cfg(10, 20, 50)), // two-rate: eburst must be unset
      meter('sr3', cfg(10, 20, 50)), // single-rate: pir must equal cir
      meter('sr3', cfg(10, 10, 50)), // ok
      meter('sr2', cfg(10, 10, 50)), // two-colour: no eburst
      meter('sr2', cfg(10, 10)), // ok
      meter('tenant_meter', cfg(10, 20)), // ok
    ]);
    expect(codes).toEqual([Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT]);
    const [m] = await collect(
      c.read({ meterEntry: { meterId: c.schema.meters.find('sr3')!.preamble!.id, index: { index: 0 } } }),
    );
    expect(Number(m.meterEntry!.config!.eburst)).toBe(50);
  });
});

describe('P4Runtime spec rules that need a fresh server', () => {
  let fresh: Rig | undefined;
  beforeEach(async () => {
    fresh = await startRig();
  });
  afterEach(async () => {
    await fresh?.stop();
    fresh = undefined;
  });

  // 9. GetForwardingPipelineConfig before any Set: OK with config unset.
  it('9: Get before any Set answers OK with config unset', async () => {
    const res = await rawUnary(fresh!.server.address, p4runtimeClientService.GetForwardingPipelineConfig, {
      deviceId: '1',
    });
    expect(res.config ?? null).toBeNull();
    expect(await fresh!.client().getPipeline()).toEqual({});
  });

  // 10. Rules for Handling MasterArbitrationUpdate: primary only with the highest id ever seen.
  it('10: when the primary leaves, no backup is promoted; all are told there is no primary', async () => {
    const a = fresh!.client({ electionId: 10 });
    const b = fresh!.client({ electionId: 5 });
    expect(await a.connect()).toBe(true);
    expect(await b.connect()).toBe(false);
    const told = next(b, 'arbitration');
    a.close();
    const [u] = await told;
    expect(u.status?.code).toBe(Code.NOT_FOUND);
    expect(BigInt(String(u.electionId?.low))).toBe(10n);
    expect(b.isPrimary).toBe(false);
    b.useP4Info(fixtureP4Info);
    expect((await failure(b.setPipeline({ p4info: fixtureP4Info }))).code).toBe(Code.PERMISSION_DENIED);
    // a newcomer below the highest id ever seen stays a backup; at or above it becomes primary
    const lower = fresh!.client({ electionId: 7 });
    expect(await lower.connect()).toBe(false);
    const higher = fresh!.client({ electionId: 12 });
    const bTold = next(b, 'arbitration');
    expect(await higher.connect()).toBe(true);
    expect((await bTold)[0].status?.code).toBe(Code.ALREADY_EXISTS);
  });

  it('10: a primary that lowers its election id becomes a backup, and everyone is told', async () => {
    const a = fresh!.client({ electionId: 10 });
    const b = fresh!.client({ electionId: 5 });
    expect(await a.connect()).toBe(true);
    expect(await b.connect()).toBe(false);
    const aTold = next(a, 'arbitration');
    const bTold = next(b, 'arbitration');
    a.setElectionId(3);
    expect((await aTold)[0].status?.code).toBe(Code.NOT_FOUND);
    expect((await bTold)[0].status?.code).toBe(Code.NOT_FOUND);
    expect(a.isPrimary || b.isPrimary).toBe(false);
    expect((await failure(a.setPipeline({ p4info: fixtureP4Info }))).code).toBe(Code.PERMISSION_DENIED);
    // raising it back to the highest id ever seen makes it primary again
    const again = next(a, 'primary');
    a.setElectionId(10);
    await again;
    await a.setPipeline({ p4info: fixtureP4Info });
  });

  // 11. Client Arbitration Notifications: no election id before any primary ever existed.
  it('11: a notification sent before any primary existed leaves election_id unset', async () => {
    const backup = fresh!.client({ electionId: 0 });
    const told = next(backup, 'arbitration');
    expect(await backup.connect()).toBe(false);
    const [u]: [MasterArbitrationUpdate] = await told;
    expect(u.status?.code).toBe(Code.NOT_FOUND);
    expect(u.electionId ?? null).toBeNull();
  });

  // Write / SetForwardingPipelineConfig: an unknown role is NOT_FOUND (checked before primary).
  it('an unknown role in Write or SetForwardingPipelineConfig is NOT_FOUND', async () => {
    await fresh!.stop();
    fresh = await startRig({ roles: { 'tenant-a': { tables: ['ipv4_lpm'] } } });
    const owner = await primaryWithPipeline(fresh);
    const stranger = fresh.client({ electionId: 10, role: 'nobody' });
    stranger.useP4Info(fixtureP4Info);
    expect((await failure(stranger.setPipeline({ p4info: fixtureP4Info }))).code).toBe(Code.NOT_FOUND);
    const e = await failure(
      stranger.write([insert(owner.entities.tableEntry({ table: 'ipv4_lpm', match: {}, action: 'drop' }))]),
    );
    expect(e.code).toBe(Code.NOT_FOUND);
  });

  // Capabilities: an unknown device id is NOT_FOUND.
  it('Capabilities with an unknown device_id is NOT_FOUND', async () => {
    const other = fresh!.client({ deviceId: 9 });
    expect((await failure(other.capabilities())).code).toBe(Code.NOT_FOUND);
  });

  // Packet I/O: exactly one metadata field for each packet_out field, or the packet is dropped.
  it('a PacketOut missing a metadata field is dropped with a stream error', async () => {
    const p = await primaryWithPipeline(fresh!);
    const err = next(p, 'streamError');
    p.sendPacketOut({ payload: Buffer.from('x'), metadata: [] });
    expect((await err)[0].canonicalCode).toBe(Code.INVALID_ARGUMENT);
    await new Promise((r) => setTimeout(r, 50));
    expect(fresh!.device.packetOuts).toHaveLength(0);
  });
});
