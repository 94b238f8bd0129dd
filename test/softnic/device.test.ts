/**
 * The softnic as a P4Runtime device: a real grpc-js server on loopback with the SoftnicDevice
 * under it, driven by nfp's P4Runtime client, with packets through in-process ports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P4RuntimeClient } from '../../p4runtime/client';
import { P4RuntimeError } from '../../p4runtime/errors';
import { Atomicity } from '../../p4runtime/messages';
import { p4infoFromJson } from '../../p4runtime/proto';
import { P4RuntimeServer } from '../../p4runtime/server';
import { insert, modify, remove } from '../../p4runtime/updates';
import { SoftnicDevice } from '../../targets/softnic/device';
import { MemoryPort } from '../../targets/softnic/ports';
import { fixture } from './helpers';
import { parsePacket, udpPacket } from './packets';

const p4info = p4infoFromJson(JSON.parse(fixture('l2l3.p4info.json')));
const bmv2 = fixture('l2l3.json');

describe('softnic device over P4Runtime', () => {
  const device = new SoftnicDevice({ cpuPort: 64 });
  const server = new P4RuntimeServer({ device, address: '127.0.0.1:0' });
  let client: P4RuntimeClient;
  const ports = new Map<number, MemoryPort>();

  beforeAll(async () => {
    await server.start();
    client = new P4RuntimeClient({ address: server.address, electionId: 10, reconnect: false });
    await client.connect();
    await client.waitForPrimary();
    for (const id of [0, 1, 2, 3, 8]) {
      const p = new MemoryPort(id);
      ports.set(id, p);
      await device.addPort(p);
    }
  });

  afterAll(async () => {
    client?.close();
    await server.stop();
  });

  function drain(id: number): Buffer[] {
    const p = ports.get(id)!;
    return p.sent.splice(0, p.sent.length);
  }

  it('rejects a BMv2 JSON outside the subset with INVALID_ARGUMENT naming the construct', async () => {
    const prog = JSON.parse(bmv2) as { actions: Array<{ name: string; primitives: unknown[] }> };
    prog.actions[1].primitives.push({ op: 'clone_ingress_pkt_to_egress', parameters: [] });
    const err = await client
      .setPipeline({ p4info, deviceConfig: JSON.stringify(prog) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(P4RuntimeError);
    expect((err as P4RuntimeError).code).toBe(3);
    expect((err as Error).message).toContain(
      'unsupported primitive "clone_ingress_pkt_to_egress" in action MyIngress.drop',
    );
  });

  it('rejects a P4Info that disagrees with the BMv2 JSON', async () => {
    const bad = JSON.parse(fixture('l2l3.p4info.json')) as {
      tables: Array<{ matchFields: Array<{ bitwidth: number }> }>;
    };
    bad.tables[2].matchFields[0].bitwidth = 16;
    const err = await client
      .setPipeline({ p4info: p4infoFromJson(bad), deviceConfig: bmv2 })
      .catch((e: unknown) => e as P4RuntimeError);
    expect((err as P4RuntimeError).code).toBe(3);
    expect((err as Error).message).toContain(
      'table "MyIngress.route" match field "hdr.ipv4.dstAddr": P4Info width 16',
    );
  });

  it('loads the pipeline and forwards packets by entries written by name', async () => {
    await client.setPipeline({ p4info, deviceConfig: bmv2 });
    const b = client.entities;
    await client.write([
      insert(
        b.tableEntry({
          table: 'route',
          match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
          action: 'set_nhop',
          params: { port: 2, dmac: '0a:00:00:00:00:02' },
        }),
      ),
      insert(
        b.tableEntry({
          table: 'route',
          match: { 'hdr.ipv4.dstAddr': '172.16.0.0/12' },
          action: 'to_host',
          params: { spi: 7, si: 2, tenant: 5, port: 8 },
        }),
      ),
      insert(
        b.tableEntry({
          table: 'nsh_pop',
          match: { 'hdr.nsh.spi': 7 },
          action: 'pop_nsh',
          params: { port: 3 },
        }),
      ),
      insert(
        b.tableEntry({
          table: 'smac',
          match: { 'standard_metadata.egress_port': 2 },
          action: 'set_smac',
          params: { smac: '0e:00:00:00:00:02' },
        }),
      ),
    ]);
    ports
      .get(1)!
      .inject([
        udpPacket({ src: '1.1.1.1', dst: '10.2.3.4' }),
        udpPacket({ src: '1.1.1.1', dst: '8.8.8.8' }),
      ]);
    const out = drain(2);
    expect(out).toHaveLength(1);
    expect(parsePacket(out[0]).srcMac).toBe('0e:00:00:00:00:02');
    // Host path out and back.
    const original = udpPacket({ src: '1.1.1.1', dst: '172.16.0.1' });
    ports.get(1)!.inject([original]);
    const toHost = drain(8);
    expect(parsePacket(toHost[0]).nsh?.spi).toBe(7);
    ports.get(8)!.inject(toHost);
    expect(drain(3)[0].equals(original)).toBe(true);
    const stats = device.getStats();
    expect(stats.drops.ingress).toBe(1);
    expect(stats.tx[2]).toBe(1);
  });

  it('reads entries, counters and direct counters back', async () => {
    const entries = [];
    for await (const e of client.readTable('route')) entries.push(e);
    expect(entries).toHaveLength(2);
    const cells = await client.readCounter('port_counter', 2);
    expect(cells[0].packets).toBe(1n);
    const withCounters = [];
    for await (const e of client.readTable('nsh_pop', { counters: true })) withCounters.push(e);
    expect(BigInt(String(withCounters[0].counterData?.packetCount))).toBe(1n);
  });

  it('modifies and deletes entries and rolls back a failed atomic batch', async () => {
    const b = client.entities;
    await client.write([
      modify(b.tableEntry({ table: 'route', match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' }, action: 'drop' })),
    ]);
    ports.get(1)!.inject([udpPacket({ src: '1.1.1.1', dst: '10.2.3.4' })]);
    expect(drain(2)).toHaveLength(0);
    const batch = [
      remove(b.tableEntry({ table: 'route', match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' } })),
      insert(
        b.tableEntry({
          table: 'route',
          match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
          action: 'set_nhop',
          params: { port: 1, dmac: 1 },
        }),
      ),
      insert(
        b.tableEntry({ table: 'route', match: { 'hdr.ipv4.dstAddr': '172.16.0.0/12' }, action: 'drop' }),
      ),
    ];
    const err = await client
      .write(batch, { atomicity: Atomicity.ROLLBACK_ON_ERROR })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(P4RuntimeError);
    // Rolled back: 10/8 still drops, nothing went to port 1.
    ports.get(1)!.inject([udpPacket({ src: '1.1.1.1', dst: '10.2.3.4' })]);
    expect(drain(1)).toHaveLength(0);
    expect(device.getStats().drops.ingress).toBe(3);
    await client.write([
      remove(b.tableEntry({ table: 'route', match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' } })),
    ]);
    const left = [];
    for await (const e of client.readTable('route')) left.push(e);
    expect(left).toHaveLength(1);
  });

  it('configures meters and writes counters over P4Runtime', async () => {
    const b = client.entities;
    await client.write([
      modify(b.meterEntry('tenant_meter', 1, { cir: 1000, cburst: 100, pir: 2000, pburst: 200 })),
    ]);
    expect(device.engine?.meterGet('MyIngress.tenant_meter', 1)).toMatchObject({ cir: 1000, pburst: 200 });
    await client.write([modify(b.counterEntry('drop_reasons', 1, { packets: 5, bytes: 500 }))]);
    const [cell] = await client.readCounter('drop_reasons', 1);
    expect(cell).toEqual({ index: 1, packets: 5n, bytes: 500n });
  });

  it('runs PacketOut through the pipeline from the CPU port and returns CPU-port egress as PacketIn', async () => {
    const b = client.entities;
    await client.write([
      insert(
        b.tableEntry({
          table: 'route',
          match: { 'hdr.ipv4.dstAddr': '192.168.0.0/16' },
          action: 'set_nhop',
          params: { port: 64, dmac: 1 },
        }),
      ),
      insert(
        b.tableEntry({
          table: 'route',
          match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
          action: 'set_nhop',
          params: { port: 2, dmac: 2 },
        }),
      ),
    ]);
    drain(2);
    const got: Buffer[] = [];
    client.on('packetIn', (p) => got.push(Buffer.from(p.payload ?? new Uint8Array())));
    client.packetOut(udpPacket({ src: '1.1.1.1', dst: '10.9.9.9' }));
    ports.get(1)!.inject([udpPacket({ src: '1.1.1.1', dst: '192.168.1.1', ttl: 5 })]);
    for (let i = 0; i < 100 && (got.length === 0 || ports.get(2)!.sent.length === 0); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(drain(2)).toHaveLength(1); // the PacketOut, routed like any packet
    expect(got).toHaveLength(1);
    expect(parsePacket(got[0]).ipv4?.ttl).toBe(4);
    expect(device.getStats().rx[64]).toBe(1);
  });

  it('keeps entries across RECONCILE_AND_COMMIT', async () => {
    const { PipelineAction } = await import('../../p4runtime/messages');
    await client.setPipeline({ p4info, deviceConfig: bmv2 }, PipelineAction.RECONCILE_AND_COMMIT);
    ports.get(1)!.inject([udpPacket({ src: '1.1.1.1', dst: '172.16.9.9' })]);
    expect(drain(8)).toHaveLength(1);
    await client.setPipeline({ p4info, deviceConfig: bmv2 });
    ports.get(1)!.inject([udpPacket({ src: '1.1.1.1', dst: '172.16.9.9' })]);
    expect(drain(8)).toHaveLength(0); // a plain commit clears the forwarding state
  });
});
