import { afterEach, describe, expect, it } from 'vitest';
import { Code, insert, NotPrimaryError, P4RuntimeClient, P4RuntimeError } from '../../p4runtime';
import { fixtureP4Info, next, primaryWithPipeline, startRig, type Rig } from './helpers';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const lpm = (c: P4RuntimeClient, prefix: string) =>
  insert(c.entities.tableEntry({ table: 'ipv4_lpm', match: { 'hdr.ipv4.dstAddr': prefix }, action: 'drop' }));

describe('arbitration over the StreamChannel', () => {
  it('two clients compete: the higher election id is primary, the other a backup', async () => {
    rig = await startRig();
    const a = rig.client({ electionId: 5 });
    const b = rig.client({ electionId: 9 });
    expect(await a.connect()).toBe(true);
    const demoted = next(a, 'demoted');
    expect(await b.connect()).toBe(true);
    await demoted;
    expect(a.isPrimary).toBe(false);
    expect(b.isPrimary).toBe(true);
  });

  it('a lower election id joins as backup and cannot write (PERMISSION_DENIED)', async () => {
    rig = await startRig();
    const primary = await primaryWithPipeline(rig);
    const backup = rig.client({ electionId: 3 });
    const backupEvent = next(backup, 'backup');
    expect(await backup.connect()).toBe(false);
    const [status, primaryId] = await backupEvent;
    expect(status.code).toBe(Code.ALREADY_EXISTS);
    expect(primaryId).toBe(10n);
    backup.useP4Info(fixtureP4Info);
    const err = await backup.write([lpm(backup, '10.0.0.0/8')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotPrimaryError);
    expect((err as P4RuntimeError).code).toBe(Code.PERMISSION_DENIED);
    await primary.write([lpm(primary, '10.0.0.0/8')]);
  });

  it('demotion mid-session: the old primary is told, and its writes are refused', async () => {
    rig = await startRig();
    const a = await primaryWithPipeline(rig, { electionId: 10 });
    await a.write([lpm(a, '10.0.0.0/8')]);
    const demoted = next(a, 'demoted');
    const b = rig.client({ electionId: 20 });
    await b.connect();
    const [reason] = await demoted;
    expect(reason).toMatch(/backup/);
    await expect(a.write([lpm(a, '11.0.0.0/8')])).rejects.toMatchObject({ code: Code.PERMISSION_DENIED });
    await b.loadPipeline();
    await b.write([lpm(b, '11.0.0.0/8')]);
  });

  it('when the primary leaves, a backup takes over by arbitrating with the highest id seen', async () => {
    rig = await startRig();
    const a = rig.client({ electionId: 10 });
    const b = rig.client({ electionId: 7 });
    await a.connect();
    expect(await b.connect()).toBe(false);
    const told = next(b, 'backup');
    a.close();
    const [status, highest] = await told;
    expect([status.code, highest]).toEqual([Code.NOT_FOUND, 10n]);
    const promoted = next(b, 'primary');
    b.setElectionId(highest);
    expect((await promoted)[0]).toBe(10n);
    expect(b.isPrimary).toBe(true);
  });

  it('a client raising its election id on the open stream takes over', async () => {
    rig = await startRig();
    const a = rig.client({ electionId: 10 });
    const b = rig.client({ electionId: 7 });
    await a.connect();
    await b.connect();
    const aDemoted = next(a, 'demoted');
    const bPrimary = next(b, 'primary');
    b.setElectionId(11);
    await Promise.all([aDemoted, bPrimary]);
    expect(b.isPrimary).toBe(true);
  });

  it('refuses a duplicate election id (INVALID_ARGUMENT) and an unknown device (NOT_FOUND)', async () => {
    rig = await startRig();
    await rig.client({ electionId: 4 }).connect();
    await expect(rig.client({ electionId: 4 }).connect()).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
    });
    await expect(rig.client({ deviceId: 99 }).connect()).rejects.toMatchObject({ code: Code.NOT_FOUND });
  });

  it('an unreachable server is UNAVAILABLE; sending a packet without a stream is refused', async () => {
    rig = await startRig();
    const port = Number(rig.server.address.split(':')[1]);
    await rig.server.stop(50);
    const c = rig.client({ address: `127.0.0.1:${port}` });
    await expect(c.connect()).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    expect(() => c.sendPacketOut({ payload: Buffer.from('x') })).toThrow(/stream is not open/);
  });

  it('whilePrimary runs a handler while primary and restarts it after a demotion', async () => {
    rig = await startRig();
    const a = rig.client({ electionId: 10 });
    const runs: string[] = [];
    const stop = a.whilePrimary(async (signal) => {
      runs.push('start');
      await new Promise<void>((r) => signal.addEventListener('abort', () => r()));
      runs.push('aborted');
    });
    await a.connect();
    const b = rig.client({ electionId: 20 });
    const demoted = next(a, 'demoted');
    await b.connect();
    await demoted;
    const promoted = next(a, 'primary');
    b.close();
    a.setElectionId(20); // nobody is promoted when the primary leaves
    await promoted;
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toEqual(['start', 'aborted', 'start']);
    stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toEqual(['start', 'aborted', 'start', 'aborted']);
  });

  it('election id 0 is a backup that never becomes primary', async () => {
    rig = await startRig();
    const c = rig.client({ electionId: 0 });
    expect(await c.connect()).toBe(false);
    expect(c.isPrimary).toBe(false);
  });

  it('arbitration is per role: each role has its own primary', async () => {
    rig = await startRig();
    const a = rig.client({ electionId: 10 });
    const b = rig.client({ electionId: 5, role: 'tenant-a' });
    expect(await a.connect()).toBe(true);
    expect(await b.connect()).toBe(true);
    expect(a.isPrimary && b.isPrimary).toBe(true);
  });

  it('reconnects with backoff after the server restarts, and is primary again', async () => {
    rig = await startRig();
    const port = Number(rig.server.address.split(':')[1]);
    const c = new P4RuntimeClient({
      address: rig.server.address,
      electionId: 3,
      reconnect: { initialMs: 50, maxMs: 200 },
    });
    rig.clients.push(c);
    await c.connect();
    const disconnected = next(c, 'disconnected');
    let reconnects = 0;
    c.on('reconnected', () => reconnects++);
    const reconnected = next(c, 'reconnected', 10_000);
    await rig.server.stop(50);
    await disconnected;
    expect(c.isPrimary).toBe(false);
    const { MemoryDevice, P4RuntimeServer } = await import('../../p4runtime');
    const server = new P4RuntimeServer({ device: new MemoryDevice(), address: `127.0.0.1:${port}` });
    await server.start();
    rig.server = server;
    await reconnected;
    await c.waitForPrimary();
    expect(c.isPrimary).toBe(true);
    // Later arbitration changes on the same stream are not reconnections.
    const rival = new P4RuntimeClient({ address: server.address, electionId: 9, reconnect: false });
    rig.clients.push(rival);
    const demoted = next(c, 'demoted');
    await rival.connect();
    await demoted;
    expect(reconnects).toBe(1);
  });
});
