/**
 * The less common constructs the softnic accepts, each observable in the output packet:
 * lookahead select, parser verify, checksum verify+update, valid and optional match kinds, key
 * masks, hit/miss next tables, shifts, `?:`, two_comp_mod, `_jump_if_zero`, `exit` (ends ingress
 * only), a single-rate packets meter and a drop in egress.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, type NativeEngine, type NativeOutcome } from '../../targets/softnic/native';
import { bits, fixture, ipBits } from './helpers';
import { ethernet, parsePacket, udpPacket } from './packets';

function engine(): NativeEngine {
  const e = createEngine();
  e.load(fixture('constructs.json'));
  e.tableAdd('MyIngress.t_valid', [{ value: bits(1, 1) }], 0, 'MyIngress.set_c', [bits(5, 8)]);
  // Optional source (exact 1.2.3.4 or don't care) and the destination's top 24 bits (key mask).
  e.tableAdd(
    'MyIngress.t_opt',
    [{ value: ipBits('1.2.3.4'), mask: ipBits('255.255.255.255') }, { value: ipBits('10.0.0.0') }],
    10,
    'MyIngress.fwd',
    [bits(4, 9)],
  );
  e.tableAdd('MyIngress.t_opt', [{ wildcard: true }, { value: ipBits('10.0.0.0') }], 1, 'MyIngress.fwd', [
    bits(3, 9),
  ]);
  return e;
}

function fwd(o: NativeOutcome): { port: number; data: Buffer } {
  if (!('port' in o)) throw new Error(`dropped in ${o.drop}`);
  return o;
}

function tcpish(src: string, dst: string, ttl: number): Buffer {
  const p = udpPacket({ src, dst, ttl });
  p[14 + 9] = 6; // protocol TCP
  p.writeUInt16BE(0, 14 + 10);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += p.readUInt16BE(i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  p.writeUInt16BE(~sum & 0xffff, 14 + 10);
  return p;
}

describe('softnic: less common BMv2 constructs', () => {
  it('computes with shifts, ?:, two_comp_mod and a conditional jump (exposed in the source MAC)', () => {
    const e = engine();
    const [udp20, tcp5, udp1] = e.process(1, [
      udpPacket({ src: '9.9.9.9', dst: '10.0.0.7', ttl: 20 }),
      tcpish('9.9.9.9', '10.0.0.200', 5),
      udpPacket({ src: '9.9.9.9', dst: '10.0.0.7', ttl: 1 }),
    ]);
    // a = ttl<<4 | ihl; b = ttl > 10 ? 0x1111 : 0x2222; e = (a - 0x20) mod 2^8; flag = UDP
    expect(parsePacket(fwd(udp20).data).srcMac).toBe('01:45:11:11:25:01');
    expect(parsePacket(fwd(tcp5).data).srcMac).toBe('00:55:22:22:35:00');
    expect(parsePacket(fwd(udp1).data).srcMac).toBe('00:15:22:22:f5:01'); // wraps below zero
    expect(fwd(udp20).port).toBe(3);
    expect(fwd(tcp5).port).toBe(3); // key mask: 10.0.0.200 matches 10.0.0.0/24's entry
  });

  it('matches an optional key by priority', () => {
    const [a, b] = engine().process(1, [
      udpPacket({ src: '1.2.3.4', dst: '10.0.0.1' }),
      udpPacket({ src: '1.2.3.5', dst: '10.0.0.1' }),
    ]);
    expect(fwd(a).port).toBe(4);
    expect(fwd(b).port).toBe(3);
  });

  it('exit ends ingress only: the marking after it is skipped, egress still runs', () => {
    const e = engine();
    const pkt = udpPacket({ src: '9.9.9.9', dst: '10.0.0.7', ttl: 20 });
    const marked = fwd(e.process(1, [pkt])[0]).data;
    expect(marked[15]).toBe(0x2e); // without exit, diffserv is marked
    const id = e.tableFind('MyIngress.t_valid', [{ value: bits(1, 1) }], 0);
    e.tableModify('MyIngress.t_valid', id, 'MyIngress.set_c', [bits(7, 8)]);
    const after = fwd(e.process(1, [pkt])[0]);
    expect(after.data[15]).toBe(0); // exit came first: diffserv untouched
    expect(parsePacket(after.data).srcMac).toBe('01:45:11:11:25:01'); // egress ran
    expect(parsePacket(after.data).ipv4?.checksumOk).toBe(true);
    expect(parsePacket(marked).ipv4?.checksumOk).toBe(true); // updated after the rewrite
  });

  it('verifies checksums and parser conditions, dropping on checksum_error and parser_error', () => {
    const e = engine();
    const bad = udpPacket({ src: '9.9.9.9', dst: '10.0.0.7' });
    bad[14 + 11] ^= 0xff;
    const ttl0 = udpPacket({ src: '9.9.9.9', dst: '10.0.0.7', ttl: 0 });
    const out = e.process(1, [bad, ttl0]);
    expect(out).toEqual([{ drop: 'ingress' }, { drop: 'ingress' }]);
  });

  it('selects on lookahead: IPv4 with options and non-IPv4 are not parsed, and the table misses', () => {
    const e = engine();
    const opts = udpPacket({ src: '9.9.9.9', dst: '10.0.0.7' });
    opts[14] = 0x46; // IHL 6
    const v6 = Buffer.concat([ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x86dd), Buffer.alloc(40)]);
    for (const p of [opts, v6]) {
      const o = fwd(e.process(1, [p])[0]);
      expect(o.port).toBe(0); // t_valid missed (__MISS__ → end); egress_spec stayed 0
      expect(o.data.subarray(12).equals(p.subarray(12))).toBe(true);
      expect(parsePacket(o.data).srcMac).toBe('00:00:00:00:00:00'); // egress ran on zeroed metadata
    }
  });

  it('drops in egress on a red single-rate packets meter', () => {
    const e = engine();
    e.meterSet('MyEgress.pk_meter', 0, { cir: 2, cburst: 2, pir: 0, pburst: 0 });
    const pkt = udpPacket({ src: '9.9.9.9', dst: '10.0.0.7' });
    const out = e.process(1, [pkt, pkt, pkt], 5e9);
    expect(out.map((o) => ('port' in o ? o.port : o.drop))).toEqual([3, 3, 'egress']);
    expect(fwd(e.process(1, [pkt], 6e9)[0]).port).toBe(3); // refilled a second later
  });
});
