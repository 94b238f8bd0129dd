import { afterEach, describe, expect, it } from 'vitest';
import {
  Code,
  insert,
  P4RUNTIME_API_VERSION,
  PipelineAction,
  PipelineResponseType,
  type P4Info,
} from '../../p4runtime';
import { collect, fixtureP4Info, startRig, type Rig } from './helpers';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function primary() {
  rig = await startRig();
  const c = rig.client({ electionId: 2 });
  await c.connect();
  await c.waitForPrimary();
  return c;
}

const route = (c: Awaited<ReturnType<typeof primary>>, prefix: string) =>
  insert(c.entities.tableEntry({ table: 'ipv4_lpm', match: { 'hdr.ipv4.dstAddr': prefix }, action: 'drop' }));

/** The fixture with one extra table, so a reconcile has something to keep and something new. */
function widened(): P4Info {
  return {
    ...fixtureP4Info,
    tables: [
      ...(fixtureP4Info.tables ?? []),
      {
        preamble: { id: 33554440, name: 'ingress.extra', alias: 'extra' },
        matchFields: [{ id: 1, name: 'meta.y', bitwidth: 8, matchType: 2 }],
        actionRefs: [{ id: 16777219 }],
        size: 8,
      },
    ],
  };
}

describe('Capabilities', () => {
  it('reports the implemented P4Runtime version', async () => {
    rig = await startRig();
    const c = rig.client();
    expect(await c.capabilities()).toMatchObject({ p4runtimeApiVersion: P4RUNTIME_API_VERSION });
  });
});

describe('SetForwardingPipelineConfig actions', () => {
  it('VERIFY checks without changing the device; a bad P4Info is INVALID_ARGUMENT', async () => {
    const c = await primary();
    await c.setPipeline({ p4info: fixtureP4Info }, PipelineAction.VERIFY);
    expect(await c.getPipeline()).toEqual({}); // nothing committed: config unset
    const broken: P4Info = { tables: [{ preamble: { name: 'no_id' } }] };
    await expect(c.setPipeline({ p4info: broken }, PipelineAction.VERIFY)).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
    });
    await expect(c.setPipeline(undefined, PipelineAction.VERIFY)).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
    });
  });

  it('VERIFY_AND_COMMIT realises the config and clears forwarding state; Get returns it by response type', async () => {
    const c = await primary();
    await c.setPipeline({ p4info: fixtureP4Info, deviceConfig: '{"bmv2":1}', cookie: 42 });
    await c.write([route(c, '10.0.0.0/8')]);
    const all = await c.getPipeline();
    expect(all.p4info?.tables).toHaveLength(fixtureP4Info.tables!.length);
    expect(Buffer.from(all.p4DeviceConfig!).toString()).toBe('{"bmv2":1}');
    expect(String(all.cookie?.cookie)).toBe('42');
    const cookieOnly = await c.getPipeline(PipelineResponseType.COOKIE_ONLY);
    expect(cookieOnly.p4info).toBeFalsy();
    expect(String(cookieOnly.cookie?.cookie)).toBe('42');
    const info = await c.getPipeline(PipelineResponseType.P4INFO_AND_COOKIE);
    expect(info.p4info?.actions).toHaveLength(5);
    expect(info.p4DeviceConfig?.length ?? 0).toBe(0);
    const dev = await c.getPipeline(PipelineResponseType.DEVICE_CONFIG_AND_COOKIE);
    expect(dev.p4info).toBeFalsy();
    expect(Buffer.from(dev.p4DeviceConfig!).toString()).toBe('{"bmv2":1}');
    await c.setPipeline({ p4info: fixtureP4Info });
    expect(await collect(c.readTable('ipv4_lpm'))).toHaveLength(0);
  });

  it('VERIFY_AND_SAVE then COMMIT replays the writes made in between', async () => {
    const c = await primary();
    await c.setPipeline({ p4info: fixtureP4Info, cookie: 1 });
    await c.write([route(c, '10.0.0.0/8')]);
    await c.setPipeline({ p4info: widened(), cookie: 2 }, PipelineAction.VERIFY_AND_SAVE);
    // Still the old pipeline on the device.
    expect(String((await c.getPipeline(PipelineResponseType.COOKIE_ONLY)).cookie?.cookie)).toBe('1');
    await c.write([
      insert(c.entities.tableEntry({ table: 'extra', match: { 'meta.y': 1 }, action: 'NoAction' })),
    ]);
    await c.setPipeline(undefined, PipelineAction.COMMIT);
    expect(String((await c.getPipeline(PipelineResponseType.COOKIE_ONLY)).cookie?.cookie)).toBe('2');
    expect(await collect(c.readTable('extra'))).toHaveLength(1);
    expect(await collect(c.readTable('ipv4_lpm'))).toHaveLength(0);
  });

  it('COMMIT without a saved config is NOT_FOUND; with a config INVALID_ARGUMENT', async () => {
    const c = await primary();
    await expect(c.setPipeline(undefined, PipelineAction.COMMIT)).rejects.toMatchObject({
      code: Code.NOT_FOUND,
    });
    await expect(c.setPipeline({ p4info: fixtureP4Info }, PipelineAction.COMMIT)).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
    });
  });

  it('RECONCILE_AND_COMMIT keeps forwarding state, and refuses when a table with entries would vanish', async () => {
    const c = await primary();
    await c.setPipeline({ p4info: fixtureP4Info });
    await c.write([route(c, '10.0.0.0/8')]);
    await c.setPipeline({ p4info: widened() }, PipelineAction.RECONCILE_AND_COMMIT);
    expect(await collect(c.readTable('ipv4_lpm'))).toHaveLength(1);
    await c.write([
      insert(c.entities.tableEntry({ table: 'extra', match: { 'meta.y': 1 }, action: 'NoAction' })),
    ]);
    await expect(
      c.setPipeline({ p4info: fixtureP4Info }, PipelineAction.RECONCILE_AND_COMMIT),
    ).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      message: expect.stringMatching(/ingress.extra/),
    });
    expect(await collect(c.readTable('extra'))).toHaveLength(1);
  });

  it('UNSPECIFIED is INVALID_ARGUMENT and a backup may not set the pipeline', async () => {
    const c = await primary();
    await expect(c.setPipeline({ p4info: fixtureP4Info }, PipelineAction.UNSPECIFIED)).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
    });
    const b = rig!.client({ electionId: 1 });
    await b.connect();
    await expect(b.setPipeline({ p4info: fixtureP4Info })).rejects.toMatchObject({
      code: Code.PERMISSION_DENIED,
    });
  });
});
