/**
 * NSH (RFC 8300) in the layout shared with the P4 pipeline (p4/headers.ts `nsh_t`) and the native
 * runtime (host-runtime/src/nsh.h): Ethernet (EtherType 0x894F), NSH base + service path header,
 * one MD type 2 TLV carrying the tenant id and the displaced inner EtherType, then the L3 packet.
 */
export const ETHERTYPE_NSH = 0x894f;
export const NSH_LENGTH = 16;
export const NSH_MD_CLASS = 0xfff6;
export const NSH_TLV_TENANT = 0x01;
export const NSH_NEXT_PROTO = 0xfe;
export const NSH_TTL = 63;

export interface NshTag {
  /** Service path id (plan path id). */
  spi: number;
  /** Service index: host hops still to run. */
  si: number;
  tenant: number;
}

/** Encapsulates a plain Ethernet frame: NSH goes between the MACs and the L3 packet. */
export function encapNsh(tag: NshTag, frame: Buffer): Buffer {
  if (frame.length < 14) throw new RangeError('encapNsh: an Ethernet frame has at least 14 bytes');
  const out = Buffer.alloc(frame.length + NSH_LENGTH);
  frame.copy(out, 0, 0, 12);
  out.writeUInt16BE(ETHERTYPE_NSH, 12);
  out.writeUInt16BE((NSH_TTL << 6) | (NSH_LENGTH / 4), 14);
  out[16] = 2; // MD type 2
  out[17] = NSH_NEXT_PROTO;
  out.writeUIntBE(tag.spi, 18, 3);
  out[21] = tag.si;
  out.writeUInt16BE(NSH_MD_CLASS, 22);
  out[24] = NSH_TLV_TENANT;
  out[25] = 4;
  out.writeUInt16BE(tag.tenant, 26);
  frame.copy(out, 28, 12); // inner EtherType, then the L3 packet
  return out;
}

/** Splits an NSH frame back into its tag and the plain Ethernet frame; null when it carries no NSH. */
export function decapNsh(buf: Buffer): { tag: NshTag; frame: Buffer } | null {
  if (buf.length < 14 + NSH_LENGTH || buf.readUInt16BE(12) !== ETHERTYPE_NSH) return null;
  const tag: NshTag = { spi: buf.readUIntBE(18, 3), si: buf[21], tenant: buf.readUInt16BE(26) };
  const frame = Buffer.concat([buf.subarray(0, 12), buf.subarray(28)]);
  return { tag, frame };
}
