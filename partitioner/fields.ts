/**
 * Parsers for the header fields that predicates, ACL rules and slices share (YAML → typed values).
 * Each reports through the Reader and returns undefined on a bad value.
 */
import type { HeaderMatch, PortRange, Prefix } from './nf-config';
import { parsePrefix } from './ip';
import { sub, type MapEntry, type Reader, type YNode } from './reader';

export const PROTO_NAMES: Record<string, number> = { icmp: 1, tcp: 6, udp: 17 };

export const MATCH_KEYS = ['proto', 'srcPrefix', 'dstPrefix', 'srcPort', 'dstPort', 'dscp', 'vlan'] as const;

export function parseProto(r: Reader, node: YNode, key: string): number | undefined {
  const v = r.scalar(node);
  if (typeof v === 'string' && v.toLowerCase() in PROTO_NAMES) return PROTO_NAMES[v.toLowerCase()];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return v;
  r.error(node, key, `must be tcp, udp, icmp or an IP protocol number 0..255, not ${JSON.stringify(v)}`);
  return undefined;
}

export function parsePrefixNode(r: Reader, node: YNode, key: string): Prefix | undefined {
  const v = r.scalar(node);
  if (typeof v !== 'string') {
    r.error(node, key, `must be a prefix like 10.0.0.0/8, not ${JSON.stringify(v)}`);
    return undefined;
  }
  const p = parsePrefix(v);
  if ('error' in p) {
    r.error(node, key, p.error);
    return undefined;
  }
  return p.prefix;
}

/** A port (`80`) or an inclusive range (`"1024-65535"`). */
export function parsePortRange(r: Reader, node: YNode, key: string): PortRange | undefined {
  const v = r.scalar(node);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535) return { lo: v, hi: v };
  if (typeof v === 'string') {
    const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(v);
    if (m) {
      const lo = Number(m[1]);
      const hi = Number(m[2]);
      if (lo <= hi && hi <= 65535) return { lo, hi };
      r.error(node, key, `port range "${v}" must have 0 <= lo <= hi <= 65535`);
      return undefined;
    }
  }
  r.error(node, key, `must be a port 0..65535 or a range like "1024-65535", not ${JSON.stringify(v)}`);
  return undefined;
}

/** Reads the match fields present in `entries` into a HeaderMatch. */
export function parseMatchFields(r: Reader, entries: Map<string, MapEntry>, key: string): HeaderMatch {
  const m: HeaderMatch = {};
  const get = (k: string): YNode | undefined =>
    entries.has(k) ? (entries.get(k)?.value ?? null) : undefined;
  const proto = get('proto');
  if (proto !== undefined) m.proto = parseProto(r, proto, sub(key, 'proto'));
  for (const k of ['srcPrefix', 'dstPrefix'] as const) {
    const n = get(k);
    if (n !== undefined) m[k] = parsePrefixNode(r, n, sub(key, k));
  }
  for (const k of ['srcPort', 'dstPort'] as const) {
    const n = get(k);
    if (n !== undefined) m[k] = parsePortRange(r, n, sub(key, k));
  }
  const dscp = get('dscp');
  if (dscp !== undefined) m.dscp = r.int(dscp, sub(key, 'dscp'), 0, 63);
  const vlan = get('vlan');
  if (vlan !== undefined) m.vlan = r.int(vlan, sub(key, 'vlan'), 1, 4094);
  for (const k of Object.keys(m) as Array<keyof HeaderMatch>) if (m[k] === undefined) delete m[k];
  return m;
}

const RATE_UNITS: Record<string, number> = { bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** `"100Mbps"`, `"1.5Gbps"` or a number of bits per second. */
export function parseRate(r: Reader, node: YNode, key: string): number | undefined {
  const v = r.scalar(node);
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?bps)\s*$/i.exec(v);
    if (m && Number(m[1]) > 0) return Math.round(Number(m[1]) * RATE_UNITS[m[2].toLowerCase()]);
  }
  r.error(
    node,
    key,
    `must be a rate like "100Mbps" (bps, Kbps, Mbps, Gbps) or bits per second, not ${JSON.stringify(v)}`,
  );
  return undefined;
}

/** `"64KB"`, `"1500B"` or a number of bytes. */
export function parseSize(r: Reader, node: YNode, key: string): number | undefined {
  const v = r.scalar(node);
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  if (typeof v === 'string') {
    const m = /^\s*(\d+)\s*(b|kb|mb)\s*$/i.exec(v);
    if (m && Number(m[1]) > 0) return Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
  }
  r.error(node, key, `must be a size like "64KB" (B, KB, MB) or a number of bytes, not ${JSON.stringify(v)}`);
  return undefined;
}

/** Default burst: 10 ms at the rate, at least one full-size frame. */
export function defaultBurst(bitsPerSecond: number): number {
  return Math.max(1518, Math.round(bitsPerSecond / 8 / 100));
}
