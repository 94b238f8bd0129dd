/**
 * Packet-level checks of the emitted pipeline, executed by the softnic (which runs the same
 * bmv2.json that simple_switch would): NSH push and exact pop, the security drops (NSH on the
 * wire, wrong SPI/tenant from the host, no NSH from the host), offloaded rewrites with a correct
 * IPv4 checksum, and drops counted by reason.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { emitNicArtifacts, type NicArtifacts } from '../../p4/index';
import { buildPacket, parsePacket, PROTO_TCP, PROTO_UDP } from '../../deploy/packet';
import { SoftnicDevice } from '../../targets/softnic/device';
import { installArtifacts } from '../../targets/softnic/install';
import type { NativeOutcome } from '../../targets/softnic/native';
import { twoTenantPlan } from './fixtures/plans';

const WIRE = 0;
const HOST_Q0 = 8;

let a: NicArtifacts;
let device: SoftnicDevice;

beforeAll(async () => {
  a = emitNicArtifacts(twoTenantPlan());
  device = new SoftnicDevice();
  await installArtifacts(device, a);
});

function send(port: number, frame: Buffer): NativeOutcome {
  const [out] = device.inject(port, [frame]);
  return out;
}

function dropCount(reason: string): number {
  const code = a.entries.dropReasons.find((r) => r.name === reason)?.code ?? -1;
  return device.engine?.counterRead(a.entries.dropCounter.name, code).packets ?? -1;
}

function expectDrop(out: NativeOutcome, reason: string, before: number): void {
  expect('port' in out).toBe(false);
  expect(dropCount(reason)).toBe(before + 1);
}

const acmeUdp = (): Buffer =>
  buildPacket({ srcIp: '198.51.100.7', dstIp: '203.0.113.9', proto: PROTO_UDP, srcPort: 4000, dstPort: 53 });

describe('the emitted pipeline on the softnic', () => {
  it('pushes NSH for a host path (SPI = path, SI = host hops, tenant) and sends it to the queue port', () => {
    const out = send(WIRE, acmeUdp());
    if (!('port' in out)) throw new Error('dropped');
    expect(out.port).toBe(HOST_Q0);
    expect(out.data.readUInt16BE(12)).toBe(0x894f);
    const p = parsePacket(out.data);
    expect(p.nsh).toEqual({ spi: 1, si: 1 });
    // Context TLV: class 0xFFF6, type 1, length 4, tenant 1, then the displaced EtherType.
    expect(out.data.readUInt16BE(14 + 8)).toBe(0xfff6);
    expect(out.data.readUInt16BE(14 + 12)).toBe(1);
    expect(out.data.readUInt16BE(14 + 14)).toBe(0x0800);
  });

  it('pops NSH on the way back and restores the original frame exactly', () => {
    const original = acmeUdp();
    const toHost = send(WIRE, original);
    if (!('port' in toHost)) throw new Error('dropped');
    const back = send(HOST_Q0, toHost.data);
    if (!('port' in back)) throw new Error('dropped on return');
    expect(back.port).toBe(1);
    expect(back.data.equals(original)).toBe(true);
  });

  it('drops NSH arriving on a wire port, counted as nsh-on-wire', () => {
    const toHost = send(WIRE, acmeUdp());
    if (!('port' in toHost)) throw new Error('dropped');
    const before = dropCount('nsh-on-wire');
    expectDrop(send(WIRE, toHost.data), 'nsh-on-wire', before);
  });

  it('drops a host packet whose NSH names another tenant, counted as bad-spi', () => {
    const toHost = send(WIRE, acmeUdp());
    if (!('port' in toHost)) throw new Error('dropped');
    const forged = Buffer.from(toHost.data);
    forged.writeUInt16BE(2, 14 + 12);
    const before = dropCount('bad-spi');
    expectDrop(send(HOST_Q0, forged), 'bad-spi', before);
  });

  it('drops a packet without NSH from a host port, counted as no-nsh-from-host', () => {
    const before = dropCount('no-nsh-from-host');
    expectDrop(send(HOST_Q0, acmeUdp()), 'no-nsh-from-host', before);
  });

  it('runs a fully offloaded path on the NIC only: ACL allow, monitor count, out of the exit port', () => {
    const counter = 'MyIngress.nf2_acme_mon_packets';
    const before = device.engine?.counterRead(counter, 2).packets ?? -1;
    const pkt = buildPacket({
      srcIp: '198.51.100.7',
      dstIp: '203.0.113.9',
      proto: PROTO_TCP,
      srcPort: 999,
      dstPort: 80,
    });
    const out = send(WIRE, pkt);
    if (!('port' in out)) throw new Error('dropped');
    expect(out.port).toBe(1);
    expect(out.data.equals(pkt)).toBe(true);
    expect(device.engine?.counterRead(counter, 2).packets).toBe(before + 1);
  });

  it('drops what the offloaded ACL denies, counted as acl-deny', () => {
    const before = dropCount('acl-deny');
    const pkt = buildPacket({
      srcIp: '192.0.2.5',
      dstIp: '203.0.113.9',
      proto: PROTO_TCP,
      srcPort: 999,
      dstPort: 80,
    });
    expectDrop(send(WIRE, pkt), 'acl-deny', before);
  });

  it('pushes a VLAN tag, marks DSCP and routes by LPM, with a correct IPv4 checksum', () => {
    const pkt = buildPacket({
      srcIp: '198.51.100.7',
      dstIp: '10.1.2.3',
      proto: PROTO_TCP,
      srcPort: 1,
      dstPort: 2,
      dscp: 10,
    });
    const out = send(1, pkt);
    if (!('port' in out)) throw new Error('dropped');
    expect(out.port).toBe(3); // 10.1.2.0/24 beats 10.1.0.0/16
    const p = parsePacket(out.data);
    expect(p.vlan).toBe(100);
    expect(p.dscp).toBe(46);
    expect(p.ipChecksumOk).toBe(true);
    expect(p.l4ChecksumOk).toBe(true);
  });

  it('rewrites the VID when a VLAN push meets an already tagged frame (one tag, as the reference does)', () => {
    const pkt = buildPacket({
      vlan: 7,
      srcIp: '198.51.100.7',
      dstIp: '10.1.2.3',
      proto: PROTO_TCP,
      srcPort: 1,
      dstPort: 2,
      dscp: 10,
    });
    const out = send(WIRE, pkt);
    if (!('port' in out)) throw new Error('dropped');
    expect(out.port).toBe(3);
    expect(out.data.length).toBe(pkt.length);
    const p = parsePacket(out.data);
    expect(p.vlan).toBe(100);
    expect(p.dscp).toBe(46);
    expect(p.ipChecksumOk).toBe(true);
  });

  it('drops a path that ends in drop on the NIC, counted as graph-drop', () => {
    const before = dropCount('graph-drop');
    const pkt = buildPacket({
      srcIp: '198.51.100.7',
      dstIp: '10.5.5.5',
      proto: PROTO_UDP,
      srcPort: 5500,
      dstPort: 9,
    });
    expectDrop(send(1, pkt), 'graph-drop', before);
  });

  it('drops wire packets that match no tenant, counted as no-tenant', () => {
    const before = dropCount('no-tenant');
    const pkt = buildPacket({
      srcIp: '198.51.100.7',
      dstIp: '172.16.0.1',
      proto: PROTO_UDP,
      srcPort: 1,
      dstPort: 2,
    });
    expectDrop(send(2, pkt), 'no-tenant', before);
  });

  it('routes after the host when a router precedes host NFs: the route, not the exit port, wins', async () => {
    const plan = twoTenantPlan();
    plan.paths[3].hops.splice(1, 0, { nf: 5, spot: 'nic-pre' });
    const b = emitNicArtifacts(plan);
    const dev = new SoftnicDevice();
    await installArtifacts(dev, b);
    const pkt = buildPacket({
      srcIp: '198.51.100.7',
      dstIp: '10.1.2.3',
      proto: PROTO_TCP,
      srcPort: 1,
      dstPort: 2,
    });
    const [toHost] = dev.inject(1, [pkt]);
    if (!('port' in toHost)) throw new Error('dropped');
    expect(toHost.port).toBe(9);
    expect(parsePacket(toHost.data).nsh).toEqual({ spi: 4, si: 1 });
    const [back] = dev.inject(9, [toHost.data]);
    if (!('port' in back)) throw new Error('dropped on return');
    expect(back.port).toBe(3);
    expect(back.data.equals(pkt)).toBe(true);
  });
});
