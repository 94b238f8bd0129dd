/**
 * How nfp reads a frame that arrives on a wire port: the reference for the NIC pipeline's parser
 * and its checks (p4/headers.ts) and for what the host's IP-aware NFs accept
 * (host-runtime/src/nfs/nf_util.h). It is written from these rules, not from either of them, so
 * that the differential tests compare independent readings.
 *
 * A frame either gets a NIC drop reason here, before any tenant sees it:
 *   oversize     longer than MAX_FRAME_BYTES (a 1500-byte MTU with two VLAN tags; no FCS)
 *   qinq         a stacked VLAN tag: TPID 0x88a8 or 0x9100, or a second 802.1Q tag
 *   malformed    a header cut short, or one whose lengths lie: IPv4 version/IHL, total length
 *                below the header or beyond the frame, IPv6 payload beyond the frame, a TCP data
 *                offset below 5 or beyond the IP payload, a UDP length below 8 or (unfragmented)
 *                beyond the IP payload, an ICMP header shorter than 8 bytes
 *   nsh-on-wire  a well-formed frame that carries NSH (RFC 8300) from the wire
 * or becomes the headers the service graph is evaluated on. Ethernet padding (bytes after the IP
 * packet) is allowed. The L4 ports are read from unfragmented IPv4 without options and from first
 * fragments (and IPv6 with TCP/UDP right after its fixed header); other packets have none (they
 * read as 0). IP-aware NFs take only unfragmented IPv4 without options: `ipFault` says why a
 * packet is not that (`not-ipv4`, `fragment`, `ip-options`).
 */
import type { IpFault, PacketHeaders } from './reference';

/** The longest frame nfp accepts from a wire, in bytes without FCS. */
export const MAX_FRAME_BYTES = 1522;

/** Why the NIC drops a wire frame before classifying it. */
export type WireDrop = 'oversize' | 'qinq' | 'malformed' | 'nsh-on-wire';

export type FrameReading =
  { kind: 'drop'; reason: WireDrop; why: string } | { kind: 'packet'; headers: PacketHeaders; nsh: boolean };

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_NSH = 0x894f;
/** TPIDs of stacked tags (802.1ad S-tag and the older 0x9100); 0x8100 counts inside a tag. */
const STACK_TPIDS = new Set([0x88a8, 0x9100]);
const NSH_BYTES = 16;

class Malformed extends Error {
  constructor(
    readonly reason: 'malformed' | 'qinq',
    why: string,
  ) {
    super(why);
  }
}

/** Reads a wire frame the way the NIC does; never throws. */
export function readFrame(ingressPort: number, frame: Uint8Array): FrameReading {
  if (frame.length > MAX_FRAME_BYTES)
    return { kind: 'drop', reason: 'oversize', why: `${frame.length} bytes > ${MAX_FRAME_BYTES}` };
  try {
    const r = new Reader(frame);
    const headers = r.read(ingressPort);
    if (r.nsh) return { kind: 'drop', reason: 'nsh-on-wire', why: 'NSH from a wire port' };
    return { kind: 'packet', headers, nsh: false };
  } catch (err) {
    if (err instanceof Malformed) return { kind: 'drop', reason: err.reason, why: err.message };
    throw err;
  }
}

class Reader {
  nsh = false;
  private off = 0;

  constructor(private readonly b: Uint8Array) {}

  private need(bytes: number, what: string): void {
    if (this.off + bytes > this.b.length)
      throw new Malformed('malformed', `${what} cut short at byte ${this.b.length}`);
  }

  private u8(at: number): number {
    return this.b[at];
  }

  private u16(at: number): number {
    return (this.b[at] << 8) | this.b[at + 1];
  }

  private notStacked(type: number, inTag: boolean): void {
    if (STACK_TPIDS.has(type) || (inTag && type === ETH_VLAN))
      throw new Malformed('qinq', `stacked VLAN tag (TPID 0x${type.toString(16)})`);
  }

  read(ingressPort: number): PacketHeaders {
    const none: PacketHeaders = {
      ingressPort,
      l3: 'none',
      proto: 0,
      srcIp: '0.0.0.0',
      dstIp: '0.0.0.0',
      dscp: 0,
      ipFault: 'not-ipv4',
    };
    this.need(14, 'Ethernet header');
    let type = this.u16(12);
    this.off = 14;
    this.notStacked(type, false);
    if (type === ETH_NSH) {
      this.need(NSH_BYTES, 'NSH');
      type = this.u16(this.off + 14); // the EtherType NSH displaced, last in its context TLV
      this.off += NSH_BYTES;
      this.nsh = true;
      this.notStacked(type, false);
    }
    let vlan: number | undefined;
    if (type === ETH_VLAN) {
      this.need(4, '802.1Q tag');
      vlan = this.u16(this.off) & 0x0fff;
      type = this.u16(this.off + 2);
      this.off += 4;
      this.notStacked(type, true);
    }
    const l2 = { ...none, ...(vlan !== undefined ? { vlan } : {}) };
    if (type === ETH_IPV4) return this.ipv4(l2);
    if (type === ETH_IPV6) return this.ipv6(l2);
    return l2;
  }

  private ipv4(l2: PacketHeaders): PacketHeaders {
    this.need(20, 'IPv4 header');
    const ip = this.off;
    const version = this.u8(ip) >> 4;
    const ihl = (this.u8(ip) & 0x0f) * 4;
    if (version !== 4 || ihl < 20)
      throw new Malformed('malformed', `IPv4 version ${version}, IHL ${ihl / 4}`);
    const total = this.u16(ip + 2);
    if (total < ihl || ip + total > this.b.length)
      throw new Malformed(
        'malformed',
        `IPv4 total length ${total} (header ${ihl}, ${this.b.length - ip} bytes)`,
      );
    const mf = (this.u8(ip + 6) & 0x20) !== 0;
    const fragOffset = this.u16(ip + 6) & 0x1fff;
    const proto = this.u8(ip + 9);
    const h: PacketHeaders = {
      ...l2,
      l3: 'ipv4',
      proto,
      dscp: this.u8(ip + 1) >> 2,
      srcIp: dotted(this.b, ip + 12),
      dstIp: dotted(this.b, ip + 16),
    };
    delete h.ipFault;
    this.off = ip + 20;
    const l4Len = total - ihl;
    if (ihl > 20) return { ...h, ipFault: 'ip-options' };
    if (fragOffset !== 0) return { ...h, ipFault: 'fragment' };
    const l4 = this.l4(proto, l4Len, mf, ip + total);
    return { ...h, ...l4, ...(mf ? { ipFault: 'fragment' as IpFault } : {}) };
  }

  private ipv6(l2: PacketHeaders): PacketHeaders {
    this.need(40, 'IPv6 header');
    const ip = this.off;
    const version = this.u8(ip) >> 4;
    const payloadLen = this.u16(ip + 4);
    if (version !== 6 || ip + 40 + payloadLen > this.b.length)
      throw new Malformed('malformed', `IPv6 version ${version}, payload length ${payloadLen}`);
    const next = this.u8(ip + 6);
    const h: PacketHeaders = {
      ...l2,
      l3: 'ipv6',
      proto: next,
      dscp: ((this.u16(ip) >> 4) & 0xff) >> 2,
      srcIp: v6Text(this.b, ip + 8),
      dstIp: v6Text(this.b, ip + 24),
      ipFault: 'not-ipv4',
    };
    this.off = ip + 40;
    return { ...h, ...this.l4(next === 58 ? 1 : next, payloadLen, false, ip + 40 + payloadLen) };
  }

  /** The L4 header right here (TCP, UDP, ICMP or ICMPv6): ports and the payload after it. */
  private l4(
    proto: number,
    l4Len: number,
    firstFragment: boolean,
    ipEnd: number,
  ): Pick<PacketHeaders, 'srcPort' | 'dstPort' | 'payload'> {
    const at = this.off;
    switch (proto) {
      case 6: {
        this.need(20, 'TCP header');
        const hdr = (this.u8(at + 12) >> 4) * 4;
        if (hdr < 20 || hdr > l4Len)
          throw new Malformed('malformed', `TCP data offset ${hdr / 4} with ${l4Len} L4 bytes`);
        return this.ports(at, hdr, ipEnd);
      }
      case 17: {
        this.need(8, 'UDP header');
        const len = this.u16(at + 4);
        const bad = firstFragment ? len < 8 || l4Len < 8 : len < 8 || len > l4Len;
        if (bad) throw new Malformed('malformed', `UDP length ${len} with ${l4Len} L4 bytes`);
        return this.ports(at, 8, ipEnd);
      }
      case 1:
        this.need(4, 'ICMP header');
        if (l4Len < 8) throw new Malformed('malformed', `ICMP header in ${l4Len} bytes`);
        return { payload: this.b.subarray(Math.min(at + 8, ipEnd), ipEnd) };
      default:
        return { payload: this.b.subarray(at, ipEnd) };
    }
  }

  private ports(
    at: number,
    hdr: number,
    ipEnd: number,
  ): Pick<PacketHeaders, 'srcPort' | 'dstPort' | 'payload'> {
    return {
      srcPort: this.u16(at),
      dstPort: this.u16(at + 2),
      payload: this.b.subarray(Math.min(at + hdr, ipEnd), ipEnd),
    };
  }
}

function dotted(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function v6Text(b: Uint8Array, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[at + i] << 8) | b[at + i + 1]).toString(16));
  return groups.join(':');
}
