import { describe, expect, it } from 'vitest';
import type { NativeEngine, NativeOutcome } from '../../targets/softnic/native';
import { bits, fixture, ipBits, l2l3Engine, macBits } from './helpers';
import { nsh, parsePacket, udpPacket } from './packets';

function fwd(o: NativeOutcome): { port: number; data: Buffer } {
  if (!('port' in o)) throw new Error(`expected a forwarded packet, got drop at ${o.drop}`);
  return o;
}

function routed(): NativeEngine {
  const e = l2l3Engine();
  e.tableAdd('MyIngress.route', [{ value: ipBits('10.0.0.0'), prefixLen: 8 }], 0, 'MyIngress.set_nhop', [
    bits(2, 9),
    macBits('0a:00:00:00:00:02'),
  ]);
  e.tableAdd('MyIngress.route', [{ value: ipBits('10.1.0.0'), prefixLen: 16 }], 0, 'MyIngress.set_nhop', [
    bits(3, 9),
    macBits('0a:00:00:00:00:03'),
  ]);
  e.tableAdd('MyIngress.route', [{ value: ipBits('172.16.0.0'), prefixLen: 12 }], 0, 'MyIngress.to_host', [
    bits(7, 24),
    bits(2, 8),
    bits(5, 32),
    bits(8, 9),
  ]);
  e.tableAdd('MyEgress.smac', [{ value: bits(2, 9) }], 0, 'MyEgress.set_smac', [
    macBits('0e:00:00:00:00:02'),
  ]);
  return e;
}

describe('softnic engine: L2/L3 fixture', () => {
  it('describes the loaded program', () => {
    const info = l2l3Engine().info();
    expect(info.tables.map((t) => t.name)).toContain('MyIngress.acl');
    const acl = info.tables.find((t) => t.name === 'MyIngress.acl');
    expect(acl?.keys.map((k) => k.kind)).toEqual(['ternary', 'ternary', 'range', 'ternary']);
    expect(acl?.hasPriority).toBe(true);
    expect(info.meters[0]).toMatchObject({ name: 'MyIngress.tenant_meter', unit: 'bytes', rateCount: 2 });
  });

  it('routes by longest prefix, rewrites MACs and TTL, and keeps the IPv4 checksum valid', () => {
    const e = routed();
    const [a, b] = e.process(1, [
      udpPacket({ src: '192.0.2.1', dst: '10.9.9.9', ttl: 64 }),
      udpPacket({ src: '192.0.2.1', dst: '10.1.2.3', ttl: 10 }),
    ]);
    const pa = parsePacket(fwd(a).data);
    expect(fwd(a).port).toBe(2);
    expect(pa.dstMac).toBe('0a:00:00:00:00:02');
    expect(pa.srcMac).toBe('0e:00:00:00:00:02'); // egress table hit on port 2
    expect(pa.ipv4?.ttl).toBe(63);
    expect(pa.ipv4?.checksumOk).toBe(true);
    const pb = parsePacket(fwd(b).data);
    expect(fwd(b).port).toBe(3);
    expect(pb.srcMac).toBe('02:00:00:00:00:02'); // egress miss: unchanged
    expect(pb.ipv4?.ttl).toBe(9);
    expect(pb.ipv4?.checksumOk).toBe(true);
    expect(e.counterRead('MyEgress.port_counter', 2).packets).toBe(1);
    expect(e.counterRead('MyEgress.port_counter', 3).packets).toBe(0);
  });

  it('drops on a route miss (default action mark_to_drop) in ingress', () => {
    const [o] = routed().process(1, [udpPacket({ src: '192.0.2.1', dst: '8.8.8.8' })]);
    expect(o).toEqual({ drop: 'ingress' });
  });

  it('applies the ternary/range ACL by priority and counts its drops', () => {
    const e = routed();
    e.tableAdd(
      'MyIngress.acl',
      [
        { value: ipBits('192.168.0.0'), mask: ipBits('255.255.0.0') },
        { wildcard: true },
        { value: bits(1000, 16), high: bits(2000, 16) },
        { value: bits(17, 8), mask: bits(0xff, 8) },
      ],
      10,
      'MyIngress.acl_drop',
      [],
    );
    const out = e.process(1, [
      udpPacket({ src: '192.168.1.1', dst: '10.0.0.1', dstPort: 1500 }),
      udpPacket({ src: '192.168.1.1', dst: '10.0.0.1', dstPort: 80 }),
      udpPacket({ src: '192.169.1.1', dst: '10.0.0.1', dstPort: 1500 }),
      udpPacket({ src: '192.168.1.1', dst: '10.0.0.1', dstPort: 2000 }),
      udpPacket({ src: '192.168.1.1', dst: '10.0.0.1', dstPort: 2001 }),
    ]);
    expect(out.map((o) => ('port' in o ? o.port : o.drop))).toEqual(['ingress', 2, 2, 'ingress', 2]);
    expect(e.counterRead('MyIngress.drop_reasons', 1).packets).toBe(2);
    // A higher-priority permit for one host wins over the drop.
    e.tableAdd(
      'MyIngress.acl',
      [
        { value: ipBits('192.168.1.1'), mask: ipBits('255.255.255.255') },
        { wildcard: true },
        { wildcard: true },
        { wildcard: true },
      ],
      20,
      'NoAction',
      [],
    );
    const [again] = e.process(1, [udpPacket({ src: '192.168.1.1', dst: '10.0.0.1', dstPort: 1500 })]);
    expect(fwd(again).port).toBe(2);
  });

  it('parses with a masked select: DF-flagged UDP is parsed, a fragment is not', () => {
    const e = routed();
    e.tableAdd(
      'MyIngress.acl',
      [
        { wildcard: true },
        { wildcard: true },
        { value: bits(1000, 16), high: bits(2000, 16) },
        { wildcard: true },
      ],
      1,
      'MyIngress.acl_drop',
      [],
    );
    const [df, frag] = e.process(1, [
      udpPacket({ src: '1.1.1.1', dst: '10.0.0.1', dstPort: 1500, flags: 0b010 }),
      udpPacket({ src: '1.1.1.1', dst: '10.0.0.1', dstPort: 1500, flags: 0b001 }),
    ]);
    expect(df).toEqual({ drop: 'ingress' }); // UDP parsed, ACL range matched
    expect(fwd(frag).port).toBe(2); // UDP not parsed (MF set): the range key reads 0
  });

  it('pushes NSH for a host path and pops it on return from the host', () => {
    const e = routed();
    e.tableAdd('MyIngress.nsh_pop', [{ value: bits(7, 24) }], 0, 'MyIngress.pop_nsh', [bits(1, 9)]);
    const original = udpPacket({ src: '192.0.2.9', dst: '172.16.5.5', ttl: 30 });
    const [toHost] = e.process(0, [original]);
    const h = fwd(toHost);
    expect(h.port).toBe(8);
    const ph = parsePacket(h.data);
    expect(ph.etherType).toBe(0x894f);
    expect(ph.nsh).toEqual({ spi: 7, si: 2, ctx1: 5, ttl: 63, mdType: 1, nextProto: 1 });
    expect(ph.ipv4?.ttl).toBe(30);
    expect(ph.ipv4?.checksumOk).toBe(true);
    expect(h.data.length).toBe(original.length + 24);
    // Back from the host on port 8: NSH removed, original bytes restored.
    const [back] = e.process(8, [h.data]);
    expect(fwd(back).port).toBe(1);
    expect(fwd(back).data.equals(original)).toBe(true);
    const entry = e.tableEntries('MyIngress.nsh_pop')[0];
    expect(e.directCounter('MyIngress.nsh_pop', entry.id)).toEqual({ packets: 1, bytes: h.data.length });
  });

  it('drops NSH arriving on a wire port and counts the reason', () => {
    const e = routed();
    e.tableAdd('MyIngress.nsh_pop', [{ value: bits(7, 24) }], 0, 'MyIngress.pop_nsh', [bits(1, 9)]);
    const inner = udpPacket({ src: '1.1.1.1', dst: '10.0.0.1' });
    const spoofed = Buffer.concat([
      inner.subarray(0, 12),
      Buffer.from([0x89, 0x4f]),
      nsh(7, 1),
      inner.subarray(14),
    ]);
    const [o] = e.process(2, [spoofed]);
    expect(o).toEqual({ drop: 'ingress' });
    expect(e.counterRead('MyIngress.drop_reasons', 0).packets).toBe(1);
  });

  it('colours packets with the trTCM meter and polices red', () => {
    const e = routed();
    e.meterSet('MyIngress.tenant_meter', 0, { cir: 1000, cburst: 200, pir: 2000, pburst: 400 });
    const pkt = udpPacket({ src: '1.1.1.1', dst: '10.0.0.1', payload: Buffer.alloc(75 - 42) });
    expect(pkt.length).toBe(75);
    const t0 = 1_000_000_000;
    const burst = e.process(1, Array(6).fill(pkt), t0);
    // tc 200, tp 400, 75 bytes each: G G Y Y Y R
    expect(burst.map((o) => ('port' in o ? 'fwd' : 'drop'))).toEqual([
      'fwd',
      'fwd',
      'fwd',
      'fwd',
      'fwd',
      'drop',
    ]);
    expect(e.counterRead('MyIngress.drop_reasons', 2).packets).toBe(1);
    const [later] = e.process(1, [pkt], t0 + 1e9); // buckets refilled after a second
    expect(fwd(later).port).toBe(2);
    expect(e.meterGet('MyIngress.tenant_meter', 0)).toMatchObject({ cir: 1000, pburst: 400 });
  });

  it('lets a truncated packet reach ingress with headers invalid (v1model parser error)', () => {
    const e = routed();
    const full = udpPacket({ src: '1.1.1.1', dst: '10.0.0.1' });
    const cut = full.subarray(0, 20); // Ethernet + 6 bytes of IPv4
    const [o] = e.process(1, [cut]);
    expect(fwd(o).port).toBe(0); // no table ran; egress_spec stayed 0
    expect(fwd(o).data.equals(cut)).toBe(true);
  });

  it('reports control-plane errors with gRPC codes', () => {
    const e = routed();
    const code = (f: () => unknown): number | undefined => {
      try {
        f();
      } catch (err) {
        return (err as { code?: number }).code;
      }
      return undefined;
    };
    const dup = () =>
      e.tableAdd('MyIngress.route', [{ value: ipBits('10.0.0.0'), prefixLen: 8 }], 0, 'MyIngress.drop', []);
    expect(code(dup)).toBe(6);
    expect(code(() => e.tableDelete('MyIngress.route', 999))).toBe(5);
    expect(
      code(() =>
        e.tableAdd('MyIngress.route', [{ value: ipBits('1.0.0.0'), prefixLen: 8 }], 0, 'MyEgress.set_smac', [
          bits(1, 48),
        ]),
      ),
    ).toBe(3);
    expect(
      code(() =>
        e.tableAdd(
          'MyIngress.acl',
          [{ wildcard: true }, { wildcard: true }, { wildcard: true }, { wildcard: true }],
          0,
          'NoAction',
          [],
        ),
      ),
    ).toBe(3);
    expect(
      code(() =>
        e.tableAdd('MyIngress.route', [{ value: ipBits('1.0.0.0'), prefixLen: 33 }], 0, 'MyIngress.drop', []),
      ),
    ).toBe(3);
    expect(code(() => e.tableAdd('MyIngress.nope', [], 0, 'NoAction', []))).toBe(5);
    expect(code(() => e.tableSetDefault('tbl_police_drop', 'NoAction', []))).toBe(3);
  });

  it('modifies, deletes and re-adds entries, and changes the default action', () => {
    const e = routed();
    const id = e.tableFind('MyIngress.route', [{ value: ipBits('10.1.0.0'), prefixLen: 16 }], 0);
    expect(id).toBeGreaterThanOrEqual(0);
    e.tableModify('MyIngress.route', id, 'MyIngress.drop', []);
    const pkt = udpPacket({ src: '1.1.1.1', dst: '10.1.0.1' });
    expect(e.process(1, [pkt])[0]).toEqual({ drop: 'ingress' });
    e.tableDelete('MyIngress.route', id);
    expect(fwd(e.process(1, [pkt])[0]).port).toBe(2); // falls back to 10/8
    expect(e.tableEntries('MyIngress.route')).toHaveLength(2);
    e.tableSetDefault('MyIngress.route', 'MyIngress.set_nhop', [bits(6, 9), macBits('00:00:00:00:00:06')]);
    expect(fwd(e.process(1, [udpPacket({ src: '1.1.1.1', dst: '9.9.9.9' })])[0]).port).toBe(6);
    expect(e.tableGetDefault('MyIngress.route').action).toBe('MyIngress.set_nhop');
  });

  it('keeps the old pipeline when a new one is rejected', () => {
    const e = routed();
    expect(() => e.load('{"header_types": [')).toThrow(/not valid JSON/);
    expect(fwd(e.process(1, [udpPacket({ src: '1.1.1.1', dst: '10.0.0.1' })])[0]).port).toBe(2);
    // Loading the same program again clears its state.
    e.load(fixture('l2l3.json'));
    expect(e.process(1, [udpPacket({ src: '1.1.1.1', dst: '10.0.0.1' })])[0]).toEqual({ drop: 'ingress' });
  });
});
