import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Atomicity,
  Code,
  insert,
  modify,
  P4RuntimeClient,
  P4RuntimeReadError,
  P4RuntimeWriteError,
  P4SchemaError,
  remove,
  type Entity,
} from '../../p4runtime';
import { collect, primaryWithPipeline, startRig, type Rig } from './helpers';

let rig: Rig;
let c: P4RuntimeClient;
beforeAll(async () => {
  rig = await startRig();
  c = await primaryWithPipeline(rig);
});
afterAll(async () => {
  await rig.stop();
});
// Each test starts from an empty table state: re-commit the pipeline.
beforeEach(async () => {
  await c.setPipeline({ p4info: c.schema.p4info, deviceConfig: '{}' });
});

const route = (prefix: string, port = 1): Entity =>
  c.entities.tableEntry({
    table: 'ipv4_lpm',
    match: { 'hdr.ipv4.dstAddr': prefix },
    action: 'forward',
    params: { port },
  });

async function writeError(p: Promise<void>): Promise<P4RuntimeWriteError> {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(P4RuntimeWriteError);
  return e as P4RuntimeWriteError;
}

describe('Write semantics', () => {
  it('INSERT, MODIFY, DELETE round-trip through Read', async () => {
    await c.write([insert(route('10.0.0.0/8', 1))]);
    await c.write([modify(route('10.0.0.0/8', 2))]);
    let entries = await collect(c.readTable('ipv4_lpm'));
    expect(entries.map((e) => c.entities.describe(e).params)).toEqual([{ port: 2n }]);
    await c.write([remove(route('10.0.0.0/8'))]);
    entries = await collect(c.readTable('ipv4_lpm'));
    expect(entries).toEqual([]);
  });

  it('INSERT of an existing entry is ALREADY_EXISTS; MODIFY/DELETE of a missing one NOT_FOUND', async () => {
    await c.write([insert(route('10.0.0.0/8'))]);
    const e = await writeError(
      c.write([insert(route('10.0.0.0/8')), modify(route('11.0.0.0/8')), remove(route('12.0.0.0/8'))]),
    );
    expect(e.failures.map((f) => [f.index, f.error.canonicalCode])).toEqual([
      [0, Code.ALREADY_EXISTS],
      [1, Code.NOT_FOUND],
      [2, Code.NOT_FOUND],
    ]);
  });

  it('decodes per-update errors from a partly failing batch, one per failed update with the update', async () => {
    await c.write([insert(route('10.0.0.0/8'))]);
    const bad: Entity = {
      tableEntry: {
        tableId: 33554433,
        match: [{ fieldId: 1, lpm: { value: Buffer.from([10, 0, 0, 1]), prefixLen: 8 } }],
        action: { action: { actionId: 16777218 } },
      },
    };
    const updates = [
      insert(route('11.0.0.0/8')),
      insert(route('10.0.0.0/8')),
      insert(route('12.0.0.0/8')),
      insert(bad),
      insert(route('13.0.0.0/8')),
    ];
    const e = await writeError(c.write(updates));
    expect(e.code).toBe(Code.UNKNOWN);
    expect(e.total).toBe(5);
    expect(e.failures.map((f) => f.index)).toEqual([1, 3]);
    expect(e.failures[0].update).toBe(updates[1]);
    expect(e.failures[0].error.canonicalCode).toBe(Code.ALREADY_EXISTS);
    expect(e.failures[1].error.canonicalCode).toBe(Code.INVALID_ARGUMENT);
    expect(e.failures[1].error.message).toMatch(/match field "hdr.ipv4.dstAddr".*beyond the \/8 prefix/);
    expect(e.message).toMatch(/2 of 5 updates failed/);
    // Non-atomic: the good updates went in.
    const entries = await collect(c.readTable('ipv4_lpm'));
    expect(entries).toHaveLength(4);
  });

  it('validates raw entities against P4Info, naming the field (OUT_OF_RANGE for bytestrings)', async () => {
    const cases: [Entity, RegExp][] = [
      [{ tableEntry: { tableId: 999, match: [] } }, /unknown table id 999/],
      [
        {
          tableEntry: {
            tableId: 33554435,
            match: [{ fieldId: 1, exact: { value: Buffer.alloc(7, 0xff) } }],
            action: { action: { actionId: 16777219 } },
          },
        },
        /match field "hdr.ethernet.dstAddr": value does not fit in 48 bits/,
      ],
      [
        {
          tableEntry: {
            tableId: 33554433,
            match: [{ fieldId: 1, lpm: { value: Buffer.from([10]), prefixLen: 40 } }],
            action: { action: { actionId: 16777218 } },
          },
        },
        /prefix length 40/,
      ],
      [
        {
          tableEntry: {
            tableId: 33554434,
            match: [{ fieldId: 1, ternary: { value: Buffer.from([3]), mask: Buffer.from([1]) } }],
            priority: 1,
            action: { action: { actionId: 16777218 } },
          },
        },
        /"hdr.ipv4.srcAddr": value has bits set outside the mask/,
      ],
      [
        { tableEntry: { tableId: 33554434, match: [], action: { action: { actionId: 16777218 } } } },
        /need a priority/,
      ],
      [
        {
          tableEntry: {
            tableId: 33554433,
            match: [{ fieldId: 1, lpm: { value: Buffer.from([10, 0, 0, 0]), prefixLen: 8 } }],
            action: { action: { actionId: 16777217, params: [{ paramId: 1, value: Buffer.from([2, 0]) }] } },
          },
        },
        /parameter "port": value does not fit in 9 bits/,
      ],
      [
        {
          tableEntry: {
            tableId: 33554433,
            match: [{ fieldId: 1, lpm: { value: Buffer.from([10, 0, 0, 0]), prefixLen: 8 } }],
            action: { action: { actionId: 16777220, params: [] } },
          },
        },
        /not one of the table's actions/,
      ],
      [
        {
          tableEntry: {
            tableId: 33554433,
            match: [{ fieldId: 1, lpm: { value: Buffer.from([10, 0, 0, 0]), prefixLen: 8 } }],
          },
        },
        /INSERT needs an action/,
      ],
      [{}, /entity is empty/],
    ];
    const e = await writeError(c.write(cases.map(([x]) => insert(x))));
    expect(e.failures).toHaveLength(cases.length);
    e.failures.forEach((f, i) => {
      const bytestring = /does not fit/.test(String(cases[i][1]));
      expect(f.error.canonicalCode).toBe(bytestring ? Code.OUT_OF_RANGE : Code.INVALID_ARGUMENT);
      expect(f.error.message).toMatch(cases[i][1]);
    });
  });

  it('a const table is PERMISSION_DENIED', async () => {
    const e = await writeError(
      c.write([
        insert({
          tableEntry: {
            tableId: 33554436,
            match: [{ fieldId: 1, exact: { value: Buffer.from([1]) } }],
            action: { action: { actionId: 16777219 } },
          },
        }),
      ]),
    );
    expect(e.failures[0].error.canonicalCode).toBe(Code.PERMISSION_DENIED);
  });

  it('sets and reads back a default action; INSERT of a default entry is refused', async () => {
    await c.write([
      modify(c.entities.tableEntry({ table: 'ipv4_lpm', isDefault: true, action: 'NoAction' })),
    ]);
    const [d] = await collect(c.read({ tableEntry: { tableId: 33554433, isDefaultAction: true } }));
    expect(c.entities.describe(d.tableEntry!)).toMatchObject({ isDefault: true, action: 'NoAction' });
    const e = await writeError(
      c.write([insert(c.entities.tableEntry({ table: 'ipv4_lpm', isDefault: true, action: 'drop' }))]),
    );
    expect(e.failures[0].error.message).toMatch(/can only be modified/);
  });

  it('ROLLBACK_ON_ERROR undoes the whole batch and marks the others ABORTED', async () => {
    await c.write([insert(route('10.0.0.0/8'))]);
    const e = await writeError(
      c.write([insert(route('11.0.0.0/8')), insert(route('10.0.0.0/8')), insert(route('12.0.0.0/8'))], {
        atomicity: Atomicity.ROLLBACK_ON_ERROR,
      }),
    );
    expect(e.failures.map((f) => f.error.canonicalCode)).toEqual([
      Code.ABORTED,
      Code.ALREADY_EXISTS,
      Code.ABORTED,
    ]);
    expect(await collect(c.readTable('ipv4_lpm'))).toHaveLength(1);
    await c.write([insert(route('11.0.0.0/8')), insert(route('12.0.0.0/8'))], {
      atomicity: Atomicity.DATAPLANE_ATOMIC,
    });
    expect(await collect(c.readTable('ipv4_lpm'))).toHaveLength(3);
  });

  it('splits a large batch under the message-size limit and maps errors to the caller’s indices', async () => {
    const small = new P4RuntimeClient({
      address: rig.server.address,
      electionId: 10,
      maxMessageSize: 4096,
      reconnect: false,
    });
    rig.clients.push(small);
    small.useP4Info(c.schema.p4info);
    const updates = Array.from({ length: 600 }, (_, i) => insert(route(`10.${i >> 8}.${i & 255}.0/24`)));
    updates[450] = insert(route('10.0.5.0/24')); // duplicate of index 5
    const e = await writeError(small.write(updates));
    expect(e.failures.map((f) => [f.index, f.error.canonicalCode])).toEqual([[450, Code.ALREADY_EXISTS]]);
    expect(rig.device.entryCount(33554433)).toBe(599);
    await expect(small.write(updates, { atomicity: Atomicity.ROLLBACK_ON_ERROR })).rejects.toThrow(
      P4SchemaError,
    );
  });

  it('an empty Write succeeds; a Write before any pipeline is FAILED_PRECONDITION', async () => {
    await c.write([]);
    const fresh = await startRig();
    try {
      const f = fresh.client({ electionId: 1 });
      await f.connect();
      f.useP4Info(c.schema.p4info);
      await expect(f.write([insert(route('10.0.0.0/8'))])).rejects.toMatchObject({
        code: Code.FAILED_PRECONDITION,
      });
    } finally {
      await fresh.stop();
    }
  });
});

describe('Read', () => {
  it('wildcard reads every table; by-name reads one table; a match reads one entry', async () => {
    await c.write([
      insert(route('10.0.0.0/8')),
      insert(route('11.0.0.0/8')),
      insert(
        c.entities.tableEntry({
          table: 'smac',
          match: { 'hdr.ethernet.dstAddr': '00:00:00:00:00:01' },
          action: 'set_smac',
          params: { mac: '02:00:00:00:00:01' },
        }),
      ),
    ]);
    const all = await collect(c.read({ tableEntry: { tableId: 0 } }));
    expect(all).toHaveLength(3);
    expect(await collect(c.readTable('smac'))).toHaveLength(1);
    const one = await collect(c.read(route('11.0.0.0/8')));
    expect(one.map((e) => c.entities.describe(e.tableEntry!).match['hdr.ipv4.dstAddr'])).toEqual([
      { kind: 'lpm', value: 0x0b000000n, prefixLen: 8 },
    ]);
    // An empty read means everything: table entries, counters and meters.
    const everything = await collect(c.read());
    expect(everything.filter((e) => e.tableEntry)).toHaveLength(3);
    expect(everything.filter((e) => e.counterEntry)).toHaveLength(16);
    expect(everything.filter((e) => e.meterEntry)).toHaveLength(4);
  });

  it('streams a large read in several responses', async () => {
    const n = 2500;
    await c.write(Array.from({ length: n }, (_, i) => insert(route(`10.${i >> 8}.${i & 255}.0/24`))));
    const entries = await collect(c.readTable('ipv4_lpm'));
    expect(entries).toHaveLength(n);
  });

  it('answers the valid requests of a read and reports each invalid one (UNKNOWN + p4.Error per request)', async () => {
    await c.write([insert(route('10.0.0.0/8'))]);
    const got: Entity[] = [];
    const e = await (async () => {
      for await (const x of c.read([{ tableEntry: { tableId: 12345 } }, { tableEntry: { tableId: 0 } }]))
        got.push(x);
    })().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(P4RuntimeReadError);
    const err = e as P4RuntimeReadError;
    expect(err.code).toBe(Code.UNKNOWN);
    expect(err.failures.map((f) => [f.index, f.error.canonicalCode])).toEqual([[0, Code.INVALID_ARGUMENT]]);
    expect(err.message).toMatch(/unknown table id 12345/);
    expect(got).toHaveLength(1);
  });
});

describe('counters and meters', () => {
  it('writes and reads indirect counter cells', async () => {
    await c.write([modify(c.entities.counterEntry('port_counter', 3, { bytes: 1000, packets: 10 }))]);
    const cells = await c.readCounter('port_counter');
    expect(cells).toHaveLength(16);
    expect(cells[3]).toEqual({ index: 3, bytes: 1000n, packets: 10n });
    expect(await c.readCounter('port_counter', 4)).toEqual([{ index: 4, bytes: 0n, packets: 0n }]);
    const e = await writeError(c.write([insert(c.entities.counterEntry('port_counter', 1, { packets: 1 }))]));
    expect(e.failures[0].error.message).toMatch(/only MODIFY/);
    expect(() => c.entities.counterEntry('port_counter', 16)).toThrow(/outside 0..15/);
  });

  it('counts direct counter hits and reads them with the entry', async () => {
    await c.write([insert(route('10.0.0.0/8'))]);
    rig.device.hit(route('10.0.0.0/8').tableEntry!, 100);
    rig.device.hit(route('10.0.0.0/8').tableEntry!, 50);
    const [e] = await collect(c.readTable('ipv4_lpm', { counters: true }));
    expect(c.entities.describe(e).counterData).toEqual({ bytes: 150n, packets: 2n });
    await c.write([
      modify(
        c.entities.directCounterEntry(
          { table: 'ipv4_lpm', match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' } },
          { packets: 0, bytes: 0 },
        ),
      ),
    ]);
    const [d] = await collect(c.read({ directCounterEntry: { tableEntry: { tableId: 33554433 } } }));
    expect(d.directCounterEntry!.data).toMatchObject({ packetCount: expect.anything() });
    expect(String(d.directCounterEntry!.data!.packetCount)).toBe('0');
  });

  it('configures meters and direct meters, refusing pir < cir', async () => {
    await c.write([
      modify(c.entities.meterEntry('tenant_meter', 2, { cir: 1000, cburst: 100, pir: 2000, pburst: 200 })),
    ]);
    const [m] = await collect(c.read(c.entities.meterEntry('tenant_meter', 2)));
    expect(String(m.meterEntry!.config!.pir)).toBe('2000');
    const e = await writeError(
      c.write([modify(c.entities.meterEntry('tenant_meter', 1, { cir: 10, cburst: 1, pir: 5, pburst: 1 }))]),
    );
    expect(e.failures[0].error.message).toMatch(/pir.*must be ≥/);
    const acl = { table: 'acl', match: { 'hdr.ipv4.protocol': 17 }, priority: 5 };
    await c.write([insert(c.entities.tableEntry({ ...acl, action: 'drop' }))]);
    await c.write([modify(c.entities.directMeterEntry(acl, { cir: 1, cburst: 1, pir: 2, pburst: 2 }))]);
    const [dm] = await collect(c.read({ directMeterEntry: { tableEntry: { tableId: 33554434 } } }));
    expect(String(dm.directMeterEntry!.config!.cir)).toBe('1');
    const missing = await writeError(
      c.write([
        modify(
          c.entities.directMeterEntry({ ...acl, priority: 6 }, { cir: 1, cburst: 1, pir: 2, pburst: 2 }),
        ),
      ]),
    );
    expect(missing.failures[0].error.canonicalCode).toBe(Code.NOT_FOUND);
  });
});
