/**
 * A corpus of hostile frames, as a capture from the wild holds them: runts, headers cut short at
 * every boundary, lying lengths (IPv4 total length, UDP length, IPv6 payload length), bad IHL and
 * TCP data offsets, IPv4 options, fragments, stacked VLAN tags, jumbo frames, NSH from the wire,
 * frames that are not IP, and bad checksums. Each is derived from a valid packet of a plan's own
 * traffic, so that it reaches tenants and their host paths rather than dying as `no-tenant`.
 *
 * The expected fate of each frame is not here: it is the reference semantics'
 * (partitioner/reference.ts `frameFate`), which every data path must agree with.
 */
import { encapNsh } from '../../host-runtime/lib/nsh';
import { buildPacket, internetChecksum, PROTO_ICMP, PROTO_TCP, PROTO_UDP } from '../../deploy/packet';
import { rng } from '../../partitioner/synthetic';
import type { TrafficPacket } from '../../targets';

export const HOSTILE_CLASSES = [
  'valid',
  'runt',
  'truncated',
  'lying-length',
  'bad-ihl',
  'bad-tcp-offset',
  'ip-options',
  'fragment',
  'qinq',
  'jumbo',
  'nsh',
  'not-ip',
  'bad-checksum',
] as const;
/** The corpus's classes, and the fuzz test's random and mutated frames. */
export type HostileClass = (typeof HOSTILE_CLASSES)[number] | 'random' | 'mutated';

export interface HostileFrame extends TrafficPacket {
  class: HostileClass;
  /** What was done to the frame, for failure messages. */
  what: string;
}

/** Where the headers of a frame built by deploy/packet.ts buildPacket sit. */
interface Layout {
  ip: number;
  ihl: number;
  l4: number;
  proto: number;
  /** End of the IP packet (before Ethernet padding). */
  ipEnd: number;
}

function layout(b: Buffer): Layout | undefined {
  let off = 12;
  if (b.readUInt16BE(off) === 0x8100) off += 4;
  if (b.readUInt16BE(off) !== 0x0800) return undefined;
  const ip = off + 2;
  const ihl = (b[ip] & 0x0f) * 4;
  return { ip, ihl, l4: ip + ihl, proto: b[ip + 9], ipEnd: ip + b.readUInt16BE(ip + 2) };
}

/** The IPv4 header checksum redone, so that a mutation is the only thing wrong with the frame. */
function fixIpSum(b: Buffer, ip: number): Buffer {
  const ihl = Math.min((b[ip] & 0x0f) * 4, b.length - ip);
  if (ihl < 20) return b;
  b.writeUInt16BE(0, ip + 10);
  b.writeUInt16BE(internetChecksum(b, ip, ip + ihl), ip + 10);
  return b;
}

const l4HeaderLen = (proto: number): number => (proto === PROTO_TCP ? 20 : 8);

export interface CorpusOptions {
  /** At most this many base packets (valid traffic) are mutated; default 24. */
  bases?: number;
}

/**
 * The hostile corpus for a deployment whose valid traffic is `valid` (one or a few packets per
 * root path: the generator's). Frames keep their base packet's ingress port and expected tenant
 * and path, which the report uses to attribute them.
 */
export function hostileCorpus(valid: TrafficPacket[], o: CorpusOptions = {}): HostileFrame[] {
  const out: HostileFrame[] = [];
  const bases = spread(
    valid.filter((p) => layout(p.data) !== undefined),
    o.bases ?? 24,
  );
  const add = (base: TrafficPacket, cls: HostileClass, what: string, data: Buffer): void => {
    out.push({ port: base.port, tenant: base.tenant, path: base.path, data, class: cls, what });
  };
  for (const base of bases) {
    const b = base.data;
    const L = layout(b)!;
    const hdr =
      L.proto === PROTO_TCP || L.proto === PROTO_UDP || L.proto === PROTO_ICMP ? l4HeaderLen(L.proto) : 0;
    add(base, 'valid', 'as generated', Buffer.from(b));

    // Cut short at every byte up to one past the L4 header, which covers every header boundary.
    for (let n = 0; n <= Math.min(b.length - 1, L.l4 + hdr + 1); n++) {
      add(base, n < 14 ? 'runt' : 'truncated', `first ${n} bytes`, Buffer.from(b.subarray(0, n)));
    }
    // ... and just before the end of the IP packet.
    add(base, 'truncated', 'IP packet minus its last byte', Buffer.from(b.subarray(0, L.ipEnd - 1)));

    // IPv4 total length: below the header, below IHL*4, one past the frame, the maximum, one short.
    const total = L.ipEnd - L.ip;
    for (const t of [0, 19, L.ihl - 1, total - 1, total + 1, b.length - L.ip + 1, 0xffff]) {
      const m = Buffer.from(b);
      m.writeUInt16BE(t & 0xffff, L.ip + 2);
      add(base, 'lying-length', `IPv4 total length ${t} (really ${total})`, fixIpSum(m, L.ip));
    }
    if (L.proto === PROTO_UDP) {
      const ulen = total - L.ihl;
      for (const u of [0, 7, 8, ulen - 1, ulen + 1, 0xffff]) {
        const m = Buffer.from(b);
        m.writeUInt16BE(u, L.l4 + 4);
        add(base, 'lying-length', `UDP length ${u} (really ${ulen})`, m);
      }
    }

    // Version and IHL.
    for (const ihl of [0, 1, 4, 6, 15]) {
      const m = Buffer.from(b);
      m[L.ip] = 0x40 | ihl;
      add(base, 'bad-ihl', `IHL ${ihl} without options`, fixIpSum(m, L.ip));
    }
    for (const v of [0, 5, 6, 15]) {
      const m = Buffer.from(b);
      m[L.ip] = (v << 4) | (L.ihl / 4);
      add(base, 'bad-ihl', `IP version ${v} under EtherType 0x0800`, fixIpSum(m, L.ip));
    }
    // Real options: IHL 6..15, NOPs ending in an EOL, lengths consistent.
    for (const words of [1, 3, 10]) {
      add(base, 'ip-options', `${words * 4} bytes of IPv4 options`, withOptions(b, L, words));
    }

    if (L.proto === PROTO_TCP) {
      for (const off of [0, 4, 6, 15]) {
        const m = Buffer.from(b);
        m[L.l4 + 12] = (off << 4) | (m[L.l4 + 12] & 0x0f);
        add(base, 'bad-tcp-offset', `TCP data offset ${off} with ${total - L.ihl} L4 bytes`, m);
      }
    }

    // Fragments: first (MF), a tiny first one, a middle one, the last one, DF and the reserved bit.
    const frag = (flags: number, offset: number, what: string, cut?: number): void => {
      const m = Buffer.from(b.subarray(0, cut ?? b.length));
      m.writeUInt16BE(((flags & 7) << 13) | (offset & 0x1fff), L.ip + 6);
      if (cut !== undefined) m.writeUInt16BE(cut - L.ip, L.ip + 2);
      add(base, 'fragment', what, fixIpSum(m, L.ip));
    };
    frag(1, 0, 'first fragment (MF)');
    frag(1, 0, 'tiny first fragment: 8 bytes of L4', L.l4 + 8);
    frag(1, 1, 'middle fragment at offset 8 (overlapping the L4 header)');
    frag(1, 185, 'middle fragment at offset 1480');
    frag(0, 185, 'last fragment');
    frag(2, 0, 'DF set: a whole packet');
    frag(4, 0, 'reserved flag set: a whole packet');

    // Stacked VLAN tags.
    const qinq = (outer: number, inner: number | undefined, what: string): void => {
      add(base, 'qinq', what, pushTags(b, outer, inner));
    };
    qinq(0x88a8, 0x8100, '802.1ad S-tag over a C-tag');
    qinq(0x8100, 0x8100, 'two 802.1Q tags');
    qinq(0x9100, 0x8100, 'TPID 0x9100 over a C-tag');
    qinq(0x88a8, undefined, 'a lone S-tag');
    add(base, 'qinq', 'S-tag over C-tag, cut after the tags', pushTags(b, 0x88a8, 0x8100).subarray(0, 22));

    // NSH arriving from the wire: nfp's own layout (a path's SPI), MD type 1, and cut short.
    const nsh = encapNsh({ spi: base.path, si: 1, tenant: base.tenant }, b.subarray(0, L.ipEnd));
    add(base, 'nsh', `NSH for path ${base.path} from the wire`, nsh);
    const md1 = Buffer.from(nsh);
    md1[16] = 1;
    add(base, 'nsh', 'NSH MD type 1 from the wire', md1);
    for (const n of [15, 20, 29]) add(base, 'nsh', `NSH cut at ${n} bytes`, Buffer.from(nsh.subarray(0, n)));
    const nshBadInner = Buffer.from(nsh);
    nshBadInner[30] = 0x4f; // inner IHL 15
    add(base, 'nsh', 'NSH over an IPv4 header with IHL 15', nshBadInner);

    // Bad checksums: the NIC and the NFs neither check nor need them.
    const ipSum = Buffer.from(b);
    ipSum[L.ip + 10] ^= 0x5a;
    add(base, 'bad-checksum', 'IPv4 header checksum wrong', ipSum);
    if (L.proto === PROTO_TCP || L.proto === PROTO_UDP) {
      const l4Sum = Buffer.from(b);
      l4Sum[L.l4 + (L.proto === PROTO_TCP ? 16 : 6)] ^= 0x5a;
      add(base, 'bad-checksum', 'L4 checksum wrong', l4Sum);
    }
  }

  // Jumbo frames and frames not IP, built from the first base packets' addresses.
  for (const base of bases.slice(0, 4)) {
    const L = layout(base.data)!;
    const fields = {
      vlan: base.data.readUInt16BE(12) === 0x8100 ? base.data.readUInt16BE(14) & 0x0fff : undefined,
      srcIp: ipText(base.data, L.ip + 12),
      dstIp: ipText(base.data, L.ip + 16),
      proto: L.proto,
      srcPort: L.proto === PROTO_ICMP ? 0 : base.data.readUInt16BE(L.l4),
      dstPort: L.proto === PROTO_ICMP ? 0 : base.data.readUInt16BE(L.l4 + 2),
    };
    for (const size of [1514, 1518, 1522, 1523, 1600, 4000, 9000, 9018]) {
      const payload = Buffer.alloc(
        Math.max(0, size - 14 - (fields.vlan !== undefined ? 4 : 0) - 20 - 20),
        0x61,
      );
      const data = buildPacket({ ...fields, payload, minLength: size });
      add(base, 'jumbo', `${data.length}-byte frame`, data.subarray(0, size));
    }
    for (const [type, what] of [
      [0x0806, 'ARP'],
      [0x88cc, 'LLDP'],
      [0x0040, '802.3 length field (LLC)'],
      [0x1234, 'unknown EtherType'],
    ] as const) {
      const m = Buffer.alloc(60, 0x11);
      base.data.copy(m, 0, 0, 12);
      m.writeUInt16BE(type, 12);
      add(base, 'not-ip', what, m);
    }
    for (const next of [6, 17, 58, 0, 44]) {
      add(base, 'not-ip', `IPv6 next header ${next}`, ipv6Frame(base.data, next));
    }
  }
  return out;
}

/** Up to `n` items spread evenly over the list (every path gets some). */
function spread<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);
}

function ipText(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The packet with `words` 4-byte words of options (NOP ... EOL) after its IPv4 header. */
function withOptions(b: Buffer, L: Layout, words: number): Buffer {
  const opts = Buffer.alloc(words * 4, 1); // NOP
  opts[opts.length - 1] = 0; // EOL
  const m = Buffer.concat([b.subarray(0, L.ip + 20), opts, b.subarray(L.ip + 20)]);
  m[L.ip] = 0x40 | (5 + words);
  m.writeUInt16BE(L.ipEnd - L.ip + words * 4, L.ip + 2);
  return fixIpSum(m, L.ip);
}

/** The frame with its tag (if any) replaced by `outer` (+ `inner`) tags. */
function pushTags(b: Buffer, outer: number, inner: number | undefined): Buffer {
  const tagged = b.readUInt16BE(12) === 0x8100;
  const rest = b.subarray(tagged ? 16 : 12); // from the (inner) EtherType on
  const tags = [outer, ...(inner !== undefined ? [inner] : [])].map((tpid, i) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tpid, 0);
    t.writeUInt16BE(100 + i, 2);
    return t;
  });
  return Buffer.concat([b.subarray(0, 12), ...tags, rest]);
}

/** An IPv6 frame from the base's MACs: a TCP/UDP/ICMPv6 header or an extension header first. */
function ipv6Frame(base: Buffer, next: number): Buffer {
  const l4 = next === 6 ? 20 : next === 17 || next === 58 ? 8 : 8;
  const payload = 16;
  const b = Buffer.alloc(14 + 40 + l4 + payload, 0);
  base.copy(b, 0, 0, 12);
  b.writeUInt16BE(0x86dd, 12);
  b.writeUInt32BE(0x60000000, 14);
  b.writeUInt16BE(l4 + payload, 18);
  b[20] = next;
  b[21] = 64;
  b.writeUInt16BE(0x2001, 22);
  b.writeUInt16BE(0x0db8, 24);
  b[37] = 1;
  b.writeUInt16BE(0x2001, 38);
  b.writeUInt16BE(0x0db8, 40);
  b[53] = 2;
  if (next === 6) b[54 + 12] = 5 << 4;
  if (next === 17) {
    b.writeUInt16BE(40000, 54);
    b.writeUInt16BE(53, 56);
    b.writeUInt16BE(l4 + payload, 58);
  }
  if (next === 58) b[54] = 128; // echo request
  return b;
}

/**
 * Random frames for the fuzz test: `n` frames of random bytes (lengths 0..1600, a few jumbo),
 * and `n` valid packets with random bytes overwritten, from a seed.
 */
export function fuzzFrames(valid: TrafficPacket[], n: number, seed: number): HostileFrame[] {
  const rnd = rng(seed);
  const out: HostileFrame[] = [];
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  for (let i = 0; i < n; i++) {
    const base = pick(valid);
    const len = rnd() < 0.03 ? 1523 + Math.floor(rnd() * 8000) : Math.floor(rnd() * 1600);
    const data = Buffer.alloc(len);
    for (let k = 0; k < len; k++) data[k] = Math.floor(rnd() * 256);
    // Half get a plausible Ethernet + IPv4 start, so that the parser gets past its first state.
    if (len >= 34 && rnd() < 0.5) {
      data.writeUInt16BE(0x0800, 12);
      data[14] = 0x45;
    }
    out.push({
      port: base.port,
      tenant: base.tenant,
      path: base.path,
      data,
      class: 'random',
      what: `random ${len} bytes`,
    });
  }
  for (let i = 0; i < n; i++) {
    const base = pick(valid);
    const data = Buffer.from(base.data);
    const flips = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < flips; k++)
      data[Math.floor(rnd() * Math.min(data.length, 64))] = Math.floor(rnd() * 256);
    const cut = rnd() < 0.2 ? Math.floor(rnd() * data.length) : data.length;
    out.push({
      port: base.port,
      tenant: base.tenant,
      path: base.path,
      data: data.subarray(0, cut),
      class: 'mutated',
      what: `${flips} random byte(s) in a valid packet${cut < data.length ? `, cut at ${cut}` : ''}`,
    });
  }
  return out;
}
