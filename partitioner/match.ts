/**
 * Set operations on header matches (the conjunctions that become classification rules) and their
 * evaluation against a packet's fields. Absent fields match anything.
 */
import type { HeaderMatch, PortRange } from './nf-config';
import { prefixContains, prefixCovers, prefixIntersect, type IpAddr } from './ip';

/**
 * The header fields a classification rule sees. Packets without TCP/UDP ports read ports as 0;
 * untagged packets read vlan as 0 (so they never match a vlan predicate, whose ids are 1..4094);
 * a frame that is not IP has no addresses, and no prefix matches it.
 */
export interface PacketFields {
  ingressPort: number;
  vlan: number;
  proto: number;
  srcIp?: IpAddr;
  dstIp?: IpAddr;
  srcPort: number;
  dstPort: number;
  dscp: number;
}

function rangeIntersect(a: PortRange, b: PortRange): PortRange | null {
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo <= hi ? { lo, hi } : null;
}

function eqIntersect(a: number | undefined, b: number | undefined): { ok: boolean; v?: number } {
  if (a === undefined) return { ok: true, v: b };
  if (b === undefined || a === b) return { ok: true, v: a };
  return { ok: false };
}

/** The conjunction of two matches, or null when no packet can satisfy both. */
export function intersectMatch(a: HeaderMatch, b: HeaderMatch): HeaderMatch | null {
  const out: HeaderMatch = {};
  for (const k of ['proto', 'dscp', 'vlan'] as const) {
    const r = eqIntersect(a[k], b[k]);
    if (!r.ok) return null;
    if (r.v !== undefined) out[k] = r.v;
  }
  for (const k of ['srcPrefix', 'dstPrefix'] as const) {
    const pa = a[k];
    const pb = b[k];
    if (pa && pb) {
      const p = prefixIntersect(pa, pb);
      if (!p) return null;
      out[k] = p;
    } else if (pa || pb) out[k] = pa ?? pb;
  }
  for (const k of ['srcPort', 'dstPort'] as const) {
    const ra = a[k];
    const rb = b[k];
    if (ra && rb) {
      const r = rangeIntersect(ra, rb);
      if (!r) return null;
      out[k] = r;
    } else if (ra || rb) out[k] = ra ?? rb;
  }
  return out;
}

/** True when every packet matching `inner` also matches `outer`. */
export function matchCovers(outer: HeaderMatch, inner: HeaderMatch): boolean {
  for (const k of ['proto', 'dscp', 'vlan'] as const) {
    if (outer[k] !== undefined && outer[k] !== inner[k]) return false;
  }
  for (const k of ['srcPrefix', 'dstPrefix'] as const) {
    const o = outer[k];
    const i = inner[k];
    if (o && (!i || !prefixCovers(o, i))) return false;
  }
  for (const k of ['srcPort', 'dstPort'] as const) {
    const o = outer[k];
    const i = inner[k];
    if (o && (!i || i.lo < o.lo || i.hi > o.hi)) return false;
  }
  return true;
}

export function matchesPacket(m: HeaderMatch, p: PacketFields): boolean {
  if (m.proto !== undefined && m.proto !== p.proto) return false;
  if (m.dscp !== undefined && m.dscp !== p.dscp) return false;
  if (m.vlan !== undefined && m.vlan !== p.vlan) return false;
  if (m.srcPrefix && !(p.srcIp && prefixContains(m.srcPrefix, p.srcIp))) return false;
  if (m.dstPrefix && !(p.dstIp && prefixContains(m.dstPrefix, p.dstIp))) return false;
  if (m.srcPort && (p.srcPort < m.srcPort.lo || p.srcPort > m.srcPort.hi)) return false;
  if (m.dstPort && (p.dstPort < m.dstPort.lo || p.dstPort > m.dstPort.hi)) return false;
  return true;
}

export function isFullRange(r: PortRange): boolean {
  return r.lo === 0 && r.hi === 0xffff;
}

/** A 16-bit ternary entry: the field matches when `(field & mask) === value`. */
export interface TernaryEntry {
  value: number;
  mask: number;
}

/** Lowers an inclusive 16-bit range to the minimal set of prefix (value/mask) entries. */
export function expandRange(r: PortRange): TernaryEntry[] {
  const out: TernaryEntry[] = [];
  let lo = r.lo;
  while (lo <= r.hi) {
    // Largest aligned block starting at lo that stays within hi.
    let size = lo === 0 ? 0x10000 : lo & -lo;
    while (lo + size - 1 > r.hi) size >>= 1;
    out.push({ value: lo, mask: 0xffff & ~(size - 1) });
    lo += size;
  }
  return out;
}

/** True when a match needs a range-capable (or expanded) entry: a port range that is not one port. */
export function hasRange(m: HeaderMatch): boolean {
  const isRange = (r?: PortRange): boolean => !!r && r.lo !== r.hi && !isFullRange(r);
  return isRange(m.srcPort) || isRange(m.dstPort);
}

/** Number of ternary entries a match lowers to when ranges must be expanded to prefixes. */
export function ternaryExpansion(m: HeaderMatch): number {
  const n = (r?: PortRange): number => (r && !isFullRange(r) ? expandRange(r).length : 1);
  return n(m.srcPort) * n(m.dstPort);
}
