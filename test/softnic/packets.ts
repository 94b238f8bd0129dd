/**
 * A small packet builder and reader for softnic tests: Ethernet, IPv4, UDP and NSH (MD type 1),
 * with an IPv4 header checksum computed independently of the engine.
 */

export function mac(s: string): Buffer {
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

export function ip4(s: string): Buffer {
  return Buffer.from(s.split('.').map((d) => parseInt(d, 10)));
}

export function ethernet(dst: string, src: string, etherType: number): Buffer {
  const b = Buffer.alloc(14);
  mac(dst).copy(b, 0);
  mac(src).copy(b, 6);
  b.writeUInt16BE(etherType, 12);
  return b;
}

/** RFC 1071 ones' complement checksum over `b` (16-bit big-endian words). */
export function onesComplement(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Opts {
  src: string;
  dst: string;
  protocol?: number;
  ttl?: number;
  dscp?: number;
  flags?: number;
  fragOffset?: number;
  id?: number;
  payloadLength: number;
}

export function ipv4(o: Ipv4Opts): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x45;
  b[1] = (o.dscp ?? 0) << 2;
  b.writeUInt16BE(20 + o.payloadLength, 2);
  b.writeUInt16BE(o.id ?? 1, 4);
  b.writeUInt16BE(((o.flags ?? 0) << 13) | (o.fragOffset ?? 0), 6);
  b[8] = o.ttl ?? 64;
  b[9] = o.protocol ?? 17;
  ip4(o.src).copy(b, 12);
  ip4(o.dst).copy(b, 16);
  b.writeUInt16BE(onesComplement(b), 10);
  return b;
}

export function udp(srcPort: number, dstPort: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(srcPort, 0);
  b.writeUInt16BE(dstPort, 2);
  b.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([b, payload]);
}

/** NSH base + service path header + 4 context words (MD type 1), next protocol IPv4. */
export function nsh(spi: number, si: number, ctx1 = 0): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt16BE((63 << 6) | 6, 0); // ver 0, O 0, U 0, TTL 63, length 6 words
  b[2] = 0x01; // MD type 1
  b[3] = 0x01; // next protocol: IPv4
  b.writeUInt32BE(((spi & 0xffffff) << 8) | (si & 0xff), 4);
  b.writeUInt32BE(ctx1 >>> 0, 8);
  return b;
}

export interface UdpPacketOpts {
  dstMac?: string;
  srcMac?: string;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  ttl?: number;
  flags?: number;
  fragOffset?: number;
  payload?: Buffer;
}

/** Ethernet/IPv4/UDP with a correct IPv4 checksum. */
export function udpPacket(o: UdpPacketOpts): Buffer {
  const payload = o.payload ?? Buffer.from('nfp-softnic-payload');
  const l4 = udp(o.srcPort ?? 1234, o.dstPort ?? 80, payload);
  const l3 = ipv4({
    src: o.src,
    dst: o.dst,
    ttl: o.ttl,
    flags: o.flags,
    fragOffset: o.fragOffset,
    payloadLength: l4.length,
  });
  return Buffer.concat([
    ethernet(o.dstMac ?? '02:00:00:00:00:01', o.srcMac ?? '02:00:00:00:00:02', 0x0800),
    l3,
    l4,
  ]);
}

export interface ParsedPacket {
  dstMac: string;
  srcMac: string;
  etherType: number;
  nsh?: { spi: number; si: number; ctx1: number; ttl: number; mdType: number; nextProto: number };
  ipv4?: { ttl: number; protocol: number; checksum: number; checksumOk: boolean; src: string; dst: string };
  /** Bytes after the IPv4 header (or after Ethernet/NSH when no IPv4). */
  rest: Buffer;
}

function macStr(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parsePacket(b: Buffer): ParsedPacket {
  const p: ParsedPacket = {
    dstMac: macStr(b.subarray(0, 6)),
    srcMac: macStr(b.subarray(6, 12)),
    etherType: b.readUInt16BE(12),
    rest: b.subarray(14),
  };
  let off = 14;
  let isIp = p.etherType === 0x0800;
  if (p.etherType === 0x894f) {
    const w = b.readUInt32BE(off + 4);
    p.nsh = {
      ttl: (b.readUInt16BE(off) >> 6) & 0x3f,
      mdType: b[off + 2] & 0x0f,
      nextProto: b[off + 3],
      spi: w >>> 8,
      si: w & 0xff,
      ctx1: b.readUInt32BE(off + 8),
    };
    isIp = p.nsh.nextProto === 1;
    off += 24;
  }
  if (isIp) {
    const h = b.subarray(off, off + 20);
    p.ipv4 = {
      ttl: h[8],
      protocol: h[9],
      checksum: h.readUInt16BE(10),
      checksumOk: onesComplement(h) === 0,
      src: [...h.subarray(12, 16)].join('.'),
      dst: [...h.subarray(16, 20)].join('.'),
    };
    off += 20;
  }
  p.rest = b.subarray(off);
  return p;
}
