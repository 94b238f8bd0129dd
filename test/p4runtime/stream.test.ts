import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, insert, P4RuntimeClient } from '../../p4runtime';
import { collect, fixtureP4Info, next, primaryWithPipeline, startRig, type Rig } from './helpers';

let rig: Rig;
let c: P4RuntimeClient;
beforeAll(async () => {
  rig = await startRig();
  c = await primaryWithPipeline(rig);
});
afterAll(async () => {
  await rig.stop();
});

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('packet I/O', () => {
  it('PacketOut with controller metadata reaches the device', async () => {
    c.packetOut(Buffer.from('ping'), { egress_port: 7 });
    await until(() => rig.device.packetOuts.length === 1);
    const p = rig.device.packetOuts[0];
    expect(Buffer.from(p.payload!).toString()).toBe('ping');
    expect(p.metadata!.map((m) => [m.metadataId, Buffer.from(m.value!).toString('hex')])).toEqual([
      [1, '07'],
    ]);
  });

  it('PacketIn arrives with metadata decodable by name', async () => {
    const got = next(c, 'packetIn');
    rig.device.injectPacketIn({
      payload: Buffer.from('pong'),
      metadata: [
        { metadataId: 1, value: Buffer.from([1, 2]) },
        { metadataId: 2, value: Buffer.from([3]) },
      ],
    });
    const [p] = await got;
    expect(c.entities.decodePacketIn(p)).toEqual({
      payload: expect.anything(),
      metadata: { ingress_port: 258n, reason: 3n },
    });
  });

  it('bad packet metadata and packets from a backup come back as stream errors', async () => {
    const err1 = next(c, 'streamError');
    c.sendPacketOut({ payload: Buffer.from('x'), metadata: [{ metadataId: 1, value: Buffer.from([4, 0]) }] });
    const [e1] = await err1;
    expect(e1.canonicalCode).toBe(Code.OUT_OF_RANGE); // spec: Bytestrings
    expect(e1.message).toMatch(/"egress_port" does not fit in 9 bits/);
    expect(e1.packetOut?.packetOut?.payload).toBeTruthy();
    const backup = rig.client({ electionId: 1 });
    await backup.connect();
    const err2 = next(backup, 'streamError');
    backup.sendPacketOut({ payload: Buffer.from('y') });
    expect((await err2)[0].canonicalCode).toBe(Code.PERMISSION_DENIED);
    backup.close();
  });
});

describe('digests', () => {
  it('delivers digest lists and acknowledges them automatically', async () => {
    const got = next(c, 'digest');
    rig.device.emitDigest(385888293, [
      {
        struct: {
          members: [{ bitstring: Buffer.from([0, 1, 2, 3, 4, 5]) }, { bitstring: Buffer.from([1]) }],
        },
      },
    ]);
    const [d] = await got;
    expect(d.digestId).toBe(385888293);
    expect(d.data).toHaveLength(1);
    await until(() => rig.server.unackedDigests === 0);
  });

  it('manual acks; an ack for an unknown list is a NOT_FOUND stream error', async () => {
    const m = rig.client({ electionId: 50, autoAckDigests: false });
    await m.connect();
    m.useP4Info(fixtureP4Info);
    const got = next(m, 'digest');
    rig.device.emitDigest(385888293, [{ bitstring: Buffer.from([9]) }]);
    const [d] = await got;
    expect(rig.server.unackedDigests).toBe(1);
    m.ackDigest(d);
    await until(() => rig.server.unackedDigests === 0);
    const err = next(m, 'streamError');
    m.ackDigest({ digestId: 385888293, listId: 999999 });
    const [e] = await err;
    expect(e.canonicalCode).toBe(Code.NOT_FOUND);
    expect(e.digestListAck?.digestListAck?.digestId).toBe(385888293);
    m.close();
    // Nobody is promoted when the primary leaves: c takes over with an id above 50.
    c.setElectionId(60);
    await c.waitForPrimary();
  });

  it('digest configs are written and read as DigestEntry', async () => {
    await c.write([
      insert({
        digestEntry: {
          digestId: 385888293,
          config: { maxTimeoutNs: 1000, maxListSize: 10, ackTimeoutNs: 5000 },
        },
      }),
    ]);
    const [e] = await collect(c.read({ digestEntry: { digestId: 0 } }));
    expect(e.digestEntry?.config?.maxListSize).toBe(10);
  });
});

describe('idle timeout', () => {
  it('notifies the primary once an entry has not been hit for its timeout, again after a new hit', async () => {
    const entity = c.entities.tableEntry({
      table: 'ipv4_lpm',
      match: { 'hdr.ipv4.dstAddr': '192.168.0.0/16' },
      action: 'drop',
      idleTimeoutNs: 30_000_000,
    });
    const got = next(c, 'idleTimeout');
    await c.write([insert(entity)]);
    const [n] = await got;
    expect(n.tableEntry).toHaveLength(1);
    expect(c.entities.describe(n.tableEntry![0]).match['hdr.ipv4.dstAddr']).toMatchObject({ prefixLen: 16 });
    const again = next(c, 'idleTimeout');
    rig.device.hit(entity.tableEntry!);
    expect((await again)[0].tableEntry).toHaveLength(1);
  });

  it('idle_timeout_ns on a table without NOTIFY_CONTROL is refused', async () => {
    const e = c.entities.tableEntry({
      table: 'smac',
      match: { 'hdr.ethernet.dstAddr': 1 },
      action: 'set_smac',
      params: { mac: 2 },
      idleTimeoutNs: 5,
    });
    await expect(c.write([insert(e)])).rejects.toThrow(/does not support idle timeout/);
  });
});
