/**
 * Crafted packets for the host runtime tests, and an independent checksum check: the IPv4 header
 * and TCP/UDP checksums are recomputed here from scratch (RFC 1071), not incrementally.
 */
export interface Flow {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto?: 'tcp' | 'udp' | 'icmp';
}

const SRC_MAC = Buffer.from('020000000001', 'hex');
const DST_MAC = Buffer.from('020000000002', 'hex');

export function ip4(s: string): Buffer {
  return Buffer.from(s.split('.').map((x) => Number(x)));
}

export function ipText(b: Buffer, off: number): string {
  return [b[off], b[off + 1], b[off + 2], b[off + 3]].join('.');
}

/** RFC 1071 one's-complement sum of `parts`, folded and inverted. */
export function checksum(...parts: Buffer[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += p.readUInt16BE(i);
    if (p.length % 2) sum += p[p.length - 1] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Ethernet + IPv4 (+ TCP/UDP/ICMP) + payload, with valid checksums. */
export function ipv4Packet(
  flow: Flow,
  payload: Buffer | string = Buffer.alloc(0),
  opts: { vlan?: number } = {},
): Buffer {
  const pl = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const proto = flow.proto ?? 'udp';
  const l4len = proto === 'tcp' ? 20 : 8;
  const l4 = Buffer.alloc(l4len + pl.length);
  pl.copy(l4, l4len);
  const protoNum = proto === 'tcp' ? 6 : proto === 'udp' ? 17 : 1;
  if (proto === 'icmp') {
    l4[0] = 8; // echo request
    l4.writeUInt16BE(checksum(l4), 2);
  } else {
    l4.writeUInt16BE(flow.sport, 0);
    l4.writeUInt16BE(flow.dport, 2);
    if (proto === 'tcp') {
      l4[12] = 5 << 4;
      l4[13] = 0x02; // SYN
      l4.writeUInt16BE(65535, 14);
    } else {
      l4.writeUInt16BE(l4.length, 4);
    }
  }
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(0x1234, 4);
  ip[8] = 64;
  ip[9] = protoNum;
  ip4(flow.src).copy(ip, 12);
  ip4(flow.dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  if (proto !== 'icmp') l4.writeUInt16BE(l4Checksum(ip, l4), proto === 'tcp' ? 16 : 6);
  const eth = Buffer.alloc(opts.vlan === undefined ? 14 : 18);
  DST_MAC.copy(eth, 0);
  SRC_MAC.copy(eth, 6);
  if (opts.vlan === undefined) eth.writeUInt16BE(0x0800, 12);
  else {
    eth.writeUInt16BE(0x8100, 12);
    eth.writeUInt16BE(opts.vlan, 14);
    eth.writeUInt16BE(0x0800, 16);
  }
  return Buffer.concat([eth, ip, l4]);
}

function l4Checksum(ip: Buffer, l4: Buffer): number {
  const pseudo = Buffer.alloc(12);
  ip.copy(pseudo, 0, 12, 20);
  pseudo[9] = ip[9];
  pseudo.writeUInt16BE(l4.length, 10);
  const zeroed = Buffer.from(l4);
  zeroed.writeUInt16BE(0, ip[9] === 6 ? 16 : 6);
  const c = checksum(pseudo, zeroed);
  return ip[9] === 17 && c === 0 ? 0xffff : c;
}

export interface Parsed {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  ipChecksumOk: boolean;
  l4ChecksumOk: boolean;
}

/** Parses an untagged Ethernet/IPv4/TCP-or-UDP frame and verifies both checksums from scratch. */
export function parse(frame: Buffer): Parsed {
  const ip = frame.subarray(14, 14 + frame.readUInt16BE(16));
  const hdr = ip.subarray(0, 20);
  const l4 = ip.subarray(20);
  const storedIp = hdr.readUInt16BE(10);
  const h = Buffer.from(hdr);
  h.writeUInt16BE(0, 10);
  const proto = ip[9];
  const stored = l4.readUInt16BE(proto === 6 ? 16 : 6);
  return {
    src: ipText(ip, 12),
    dst: ipText(ip, 16),
    sport: l4.readUInt16BE(0),
    dport: l4.readUInt16BE(2),
    proto,
    ipChecksumOk: checksum(h) === storedIp,
    l4ChecksumOk: l4Checksum(hdr, l4) === stored,
  };
}

/** The malformed set every IP-aware NF must survive, with the drop reason each must give. */
export function malformedSet(): Array<{ name: string; pkt: Buffer; reason: string }> {
  const good = ipv4Packet(
    { src: '10.0.0.1', dst: '10.0.0.2', sport: 1000, dport: 80, proto: 'tcp' },
    'hello',
  );
  const badIhl = Buffer.from(good);
  badIhl[14] = 0x43;
  const options = Buffer.concat([good.subarray(0, 34), Buffer.alloc(4), good.subarray(34)]);
  options[14] = 0x46;
  options.writeUInt16BE(options.length - 14, 16);
  const fragment = Buffer.from(good);
  fragment.writeUInt16BE(0x2000, 20); // MF
  const laterFragment = Buffer.from(good);
  laterFragment.writeUInt16BE(0x0010, 20); // offset 128
  const arp = Buffer.alloc(42);
  arp.writeUInt16BE(0x0806, 12);
  const ipv6 = Buffer.alloc(60);
  ipv6.writeUInt16BE(0x86dd, 12);
  ipv6[14] = 0x60;
  const longTotal = Buffer.from(good);
  longTotal.writeUInt16BE(1400, 16);
  const tcpShort = Buffer.from(good.subarray(0, 14 + 20 + 10));
  tcpShort.writeUInt16BE(30, 16);
  return [
    { name: 'zero-length', pkt: Buffer.alloc(0), reason: 'truncated' },
    { name: 'short Ethernet', pkt: good.subarray(0, 10), reason: 'truncated' },
    { name: 'truncated IPv4 header', pkt: good.subarray(0, 14 + 12), reason: 'truncated' },
    { name: 'bad IHL', pkt: badIhl, reason: 'bad-ihl' },
    { name: 'IPv4 options', pkt: options, reason: 'ip-options' },
    { name: 'first fragment', pkt: fragment, reason: 'fragment' },
    { name: 'later fragment', pkt: laterFragment, reason: 'fragment' },
    { name: 'non-IP (ARP)', pkt: arp, reason: 'not-ipv4' },
    { name: 'IPv6', pkt: ipv6, reason: 'not-ipv4' },
    { name: 'total length beyond the frame', pkt: longTotal, reason: 'truncated' },
    { name: 'truncated TCP header', pkt: tcpShort, reason: 'truncated' },
  ];
}
