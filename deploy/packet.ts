/**
 * Builds and parses the wire packets that deploy's traffic generator sends and its report reads:
 * Ethernet, an optional 802.1Q tag, IPv4, and TCP/UDP/ICMP, with valid checksums.
 */

export interface PacketSpec {
  srcMac?: string;
  dstMac?: string;
  vlan?: number;
  srcIp: string;
  dstIp: string;
  proto: number;
  srcPort?: number;
  dstPort?: number;
  dscp?: number;
  ttl?: number;
  payload?: Buffer;
  /** Pad the frame to at least this many bytes (64 B frames without FCS are 60 bytes). */
  minLength?: number;
}

export interface ParsedPacket {
  vlan?: number;
  etherType: number;
  srcIp?: string;
  dstIp?: string;
  proto?: number;
  srcPort?: number;
  dstPort?: number;
  dscp?: number;
  ipChecksumOk?: boolean;
  l4ChecksumOk?: boolean;
  payload?: Buffer;
  /** NSH service path id and index, when an NSH header follows Ethernet. */
  nsh?: { spi: number; si: number };
}

const ETH_P_IPV4 = 0x0800;
const ETH_P_8021Q = 0x8100;
const ETH_P_NSH = 0x894f;
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6) throw new Error(`bad MAC address "${mac}"`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`bad IPv4 address "${ip}"`);
  }
  return Buffer.from(parts);
}

export function ipv4String(b: Buffer, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 1071 one's-complement sum, folded, not inverted. */
function onesSum(buf: Buffer, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i + 1 < end; i += 2) sum += buf.readUInt16BE(i);
  if ((end - start) % 2 === 1) sum += buf[end - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function internetChecksum(buf: Buffer, start: number, end: number, initial = 0): number {
  return ~onesSum(buf, start, end, initial) & 0xffff;
}

function pseudoHeaderSum(ip: Buffer, ipOff: number, proto: number, l4Len: number): number {
  const ph = Buffer.alloc(12);
  ip.copy(ph, 0, ipOff + 12, ipOff + 20);
  ph[9] = proto;
  ph.writeUInt16BE(l4Len, 10);
  return onesSum(ph, 0, 12);
}

export function buildPacket(spec: PacketSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const l4Len = spec.proto === PROTO_TCP ? 20 : spec.proto === PROTO_UDP || spec.proto === PROTO_ICMP ? 8 : 0;
  const l2Len = 14 + (spec.vlan !== undefined ? 4 : 0);
  const ipLen = 20 + l4Len + payload.length;
  const frameLen = Math.max(l2Len + ipLen, spec.minLength ?? 60);
  const b = Buffer.alloc(frameLen);
  macBytes(spec.dstMac ?? '02:00:00:00:00:02').copy(b, 0);
  macBytes(spec.srcMac ?? '02:00:00:00:00:01').copy(b, 6);
  let off = 12;
  if (spec.vlan !== undefined) {
    b.writeUInt16BE(ETH_P_8021Q, off);
    b.writeUInt16BE(spec.vlan & 0x0fff, off + 2);
    off += 4;
  }
  b.writeUInt16BE(ETH_P_IPV4, off);
  const ip = off + 2;
  b[ip] = 0x45;
  b[ip + 1] = ((spec.dscp ?? 0) & 0x3f) << 2;
  b.writeUInt16BE(ipLen, ip + 2);
  b.writeUInt16BE(0, ip + 4);
  b.writeUInt16BE(0x4000, ip + 6); // DF, no fragment
  b[ip + 8] = spec.ttl ?? 64;
  b[ip + 9] = spec.proto;
  ipv4Bytes(spec.srcIp).copy(b, ip + 12);
  ipv4Bytes(spec.dstIp).copy(b, ip + 16);
  b.writeUInt16BE(internetChecksum(b, ip, ip + 20), ip + 10);
  const l4 = ip + 20;
  if (spec.proto === PROTO_TCP) {
    b.writeUInt16BE(spec.srcPort ?? 0, l4);
    b.writeUInt16BE(spec.dstPort ?? 0, l4 + 2);
    b[l4 + 12] = 5 << 4;
    b[l4 + 13] = 0x18; // PSH|ACK
    b.writeUInt16BE(0xffff, l4 + 14);
  } else if (spec.proto === PROTO_UDP) {
    b.writeUInt16BE(spec.srcPort ?? 0, l4);
    b.writeUInt16BE(spec.dstPort ?? 0, l4 + 2);
    b.writeUInt16BE(8 + payload.length, l4 + 4);
  } else if (spec.proto === PROTO_ICMP) {
    b[l4] = 8; // echo request
  }
  payload.copy(b, l4 + l4Len);
  const l4End = l4 + l4Len + payload.length;
  if (spec.proto === PROTO_TCP) {
    b.writeUInt16BE(internetChecksum(b, l4, l4End, pseudoHeaderSum(b, ip, PROTO_TCP, l4End - l4)), l4 + 16);
  } else if (spec.proto === PROTO_UDP) {
    const c = internetChecksum(b, l4, l4End, pseudoHeaderSum(b, ip, PROTO_UDP, l4End - l4));
    b.writeUInt16BE(c === 0 ? 0xffff : c, l4 + 6);
  } else if (spec.proto === PROTO_ICMP) {
    b.writeUInt16BE(internetChecksum(b, l4, l4End), l4 + 2);
  }
  return b;
}

/** Parses what the generator builds (and NSH-tagged frames); never throws on short input. */
export function parsePacket(b: Buffer): ParsedPacket {
  if (b.length < 14) return { etherType: 0 };
  let off = 12;
  let etherType = b.readUInt16BE(off);
  const out: ParsedPacket = { etherType };
  if (etherType === ETH_P_8021Q && b.length >= 18) {
    out.vlan = b.readUInt16BE(off + 2) & 0x0fff;
    off += 4;
    etherType = b.readUInt16BE(off);
    out.etherType = etherType;
  }
  let ip = off + 2;
  if (etherType === ETH_P_NSH && b.length >= ip + 8) {
    const sp = b.readUInt32BE(ip + 4);
    out.nsh = { spi: sp >>> 8, si: sp & 0xff };
    const nshLen = (b.readUInt16BE(ip) & 0x3f) * 4;
    const next = b[ip + 3];
    if (next !== 1) return out; // only IPv4 inside NSH is parsed
    ip += nshLen;
    etherType = ETH_P_IPV4;
  }
  if (etherType !== ETH_P_IPV4 || b.length < ip + 20) return out;
  const ihl = (b[ip] & 0x0f) * 4;
  const totalLen = b.readUInt16BE(ip + 2);
  out.dscp = b[ip + 1] >> 2;
  out.proto = b[ip + 9];
  out.srcIp = ipv4String(b, ip + 12);
  out.dstIp = ipv4String(b, ip + 16);
  // Whatever the frame claims, nothing is read past its end (a wire frame may lie).
  if (ihl < 20 || ip + ihl > b.length) return out;
  out.ipChecksumOk = internetChecksum(b, ip, ip + ihl) === 0;
  const l4 = ip + ihl;
  const l4End = Math.min(ip + totalLen, b.length);
  if ((out.proto === PROTO_TCP || out.proto === PROTO_UDP) && l4End >= l4 + 8) {
    out.srcPort = b.readUInt16BE(l4);
    out.dstPort = b.readUInt16BE(l4 + 2);
    const hdr = out.proto === PROTO_TCP && l4End >= l4 + 13 ? ((b[l4 + 12] >> 4) & 0xf) * 4 : 8;
    out.l4ChecksumOk = internetChecksum(b, l4, l4End, pseudoHeaderSum(b, ip, out.proto, l4End - l4)) === 0;
    out.payload = b.subarray(Math.min(l4 + hdr, l4End), l4End);
  } else if (out.proto === PROTO_ICMP && l4End >= l4 + 8) {
    // What follows the 8-byte ICMP header is payload too (an IDS inspects it).
    out.payload = b.subarray(l4 + 8, l4End);
  }
  return out;
}
