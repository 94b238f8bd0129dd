import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Code,
  insert,
  modify,
  P4RuntimeClient,
  P4RuntimeWriteError,
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
beforeEach(async () => {
  await c.setPipeline({ p4info: c.schema.p4info });
});

const member = (id: number, port: number): Entity =>
  c.entities.actionProfileMember('ecmp_selector', id, 'forward', { port });
const flow = (f: number, ref: { member?: number; group?: number }): Entity =>
  c.entities.tableEntry({ table: 'ecmp', match: { 'meta.flow': f }, ...ref });

async function failures(p: Promise<void>): Promise<[number, number | undefined][]> {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(P4RuntimeWriteError);
  return (e as P4RuntimeWriteError).failures.map((f) => [f.index, f.error.canonicalCode]);
}

describe('action profiles', () => {
  it('members, groups and indirect entries are written and read back', async () => {
    await c.write([insert(member(1, 1)), insert(member(2, 2))]);
    await c.write([
      insert(c.entities.actionProfileGroup('ecmp_selector', 10, [{ member: 1 }, { member: 2, weight: 3 }])),
    ]);
    await c.write([insert(flow(5, { member: 1 })), insert(flow(6, { group: 10 }))]);
    const members = await collect(c.read({ actionProfileMember: {} }));
    expect(members.map((e) => e.actionProfileMember!.memberId).sort()).toEqual([1, 2]);
    const [g] = await collect(c.read({ actionProfileGroup: { actionProfileId: 285212673, groupId: 10 } }));
    expect(g.actionProfileGroup!.members!.map((m) => [m.memberId, m.weight])).toEqual([
      [1, 1],
      [2, 3],
    ]);
    const views = (await collect(c.readTable('ecmp'))).map((e) => c.entities.describe(e));
    expect(views.map((v) => [v.member, v.group])).toEqual([
      [1, undefined],
      [undefined, 10],
    ]);
    await c.write([modify(member(1, 7))]);
    const [m1] = await collect(c.read({ actionProfileMember: { actionProfileId: 285212673, memberId: 1 } }));
    expect(Buffer.from(m1.actionProfileMember!.action!.params![0].value!).toString('hex')).toBe('07');
  });

  it('refuses dangling references and deleting what is still in use', async () => {
    await c.write([insert(member(1, 1))]);
    expect(
      await failures(
        c.write([
          insert(flow(5, { member: 9 })),
          insert(c.entities.actionProfileGroup('ecmp_selector', 10, [{ member: 9 }])),
          insert(member(1, 1)),
        ]),
      ),
    ).toEqual([
      [0, Code.NOT_FOUND],
      [1, Code.NOT_FOUND],
      [2, Code.ALREADY_EXISTS],
    ]);
    await c.write([insert(flow(5, { member: 1 }))]);
    expect(await failures(c.write([remove(member(1, 1))]))).toEqual([[0, Code.FAILED_PRECONDITION]]);
    await c.write([remove(flow(5, {})), remove(member(1, 1))]);
    expect(await collect(c.read({ actionProfileMember: {} }))).toEqual([]);
  });

  it('validates against P4Info: indirect tables take no direct action; members only the tables’ actions; group sizes', async () => {
    expect(() => c.entities.tableEntry({ table: 'ecmp', match: { 'meta.flow': 1 }, action: 'drop' })).toThrow(
      /indirect/,
    );
    expect(() => c.entities.actionProfileMember('ecmp_selector', 1, 'drop')).toThrow(
      /not an action of the tables/,
    );
    const raw: Entity[] = [
      {
        tableEntry: {
          tableId: 33554441,
          match: [{ fieldId: 1, exact: { value: Buffer.from([1]) } }],
          action: { action: { actionId: 16777219 } },
        },
      },
      { actionProfileMember: { actionProfileId: 285212673, memberId: 3, action: { actionId: 16777218 } } },
      { actionProfileGroup: { actionProfileId: 285212673, groupId: 1, maxSize: 9 } },
      {
        actionProfileGroup: { actionProfileId: 285212673, groupId: 2, members: [{ memberId: 1, weight: 0 }] },
      },
    ];
    const e = (await c.write(raw.map((x) => insert(x))).catch((x: unknown) => x)) as P4RuntimeWriteError;
    expect(e.failures.map((f) => f.error.canonicalCode)).toEqual([
      Code.INVALID_ARGUMENT,
      Code.INVALID_ARGUMENT,
      Code.INVALID_ARGUMENT,
      Code.INVALID_ARGUMENT,
    ]);
    expect(e.failures.map((f) => f.error.message)).toEqual([
      expect.stringMatching(/indirect/),
      expect.stringMatching(/not an action of its tables/),
      expect.stringMatching(/exceeds max_group_size 4/),
      expect.stringMatching(/weight > 0/),
    ]);
  });
});
