/**
 * IPv4/IPv6 addresses and prefixes as integers, for matching and for set operations on prefixes.
 * Text forms are the usual ones (`10.0.0.1`, `2001:db8::1`, `10.0.0.0/8`).
 */
import type { Prefix } from './nf-config';

export interface IpAddr {
  family: 4 | 6;
  value: bigint;
}

const BITS: Record<4 | 6, number> = { 4: 32, 6: 128 };

export function familyBits(family: 4 | 6): number {
  return BITS[family];
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const expand = (gs: string[]): string[] | undefined => {
    const last = gs[gs.length - 1];
    if (last !== undefined && last.includes('.')) {
      const v4 = parseV4(last);
      if (v4 === undefined) return undefined;
      return [...gs.slice(0, -1), (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    }
    return gs;
  };
  const h = halves.length === 2 ? head : expand(head);
  const t = expand(tail);
  if (!h || !t) return undefined;
  const missing = 8 - h.length - t.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...h, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...t];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

/** Parses an address; undefined when it is not a valid IPv4 or IPv6 address. */
export function parseIp(text: string): IpAddr | undefined {
  if (text.includes(':')) {
    const v = parseV6(text);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseV4(text);
  return v === undefined ? undefined : { family: 4, value: v };
}

export function formatIp(a: IpAddr): string {
  if (a.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((a.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function prefixMask(family: 4 | 6, len: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return len === 0 ? 0n : (all >> BigInt(BITS[family] - len)) << BigInt(BITS[family] - len);
}

export type PrefixParse = { prefix: Prefix } | { error: string };

/** Parses `addr/len` (or a bare address, a host prefix); host bits must be zero. */
export function parsePrefix(text: string): PrefixParse {
  const [addrText, lenText, extra] = text.split('/');
  if (extra !== undefined) return { error: `"${text}" is not a prefix like 10.0.0.0/8` };
  const addr = parseIp(addrText);
  if (!addr) return { error: `"${addrText}" is not an IPv4 or IPv6 address` };
  const max = BITS[addr.family];
  let len = max;
  if (lenText !== undefined) {
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
      return { error: `prefix length "${lenText}" must be 0..${max}` };
    }
    len = Number(lenText);
  }
  const masked = addr.value & prefixMask(addr.family, len);
  if (masked !== addr.value) {
    const fixed = formatIp({ family: addr.family, value: masked });
    return { error: `"${text}" has host bits set; did you mean ${fixed}/${len}?` };
  }
  return { prefix: { family: addr.family, addr: formatIp(addr), len } };
}

export function prefixValue(p: Prefix): bigint {
  const a = parseIp(p.addr);
  if (!a) throw new Error(`bad prefix address ${p.addr}`);
  return a.value;
}

export function formatPrefix(p: Prefix): string {
  return `${p.addr}/${p.len}`;
}

export function prefixContains(p: Prefix, a: IpAddr): boolean {
  if (p.family !== a.family) return false;
  const mask = prefixMask(p.family, p.len);
  return (a.value & mask) === prefixValue(p);
}

/** True when every address of `inner` is in `outer`. */
export function prefixCovers(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || outer.len > inner.len) return false;
  return (prefixValue(inner) & prefixMask(outer.family, outer.len)) === prefixValue(outer);
}

/** Two prefixes either nest or are disjoint; returns the narrower one, or null when disjoint. */
export function prefixIntersect(a: Prefix, b: Prefix): Prefix | null {
  if (prefixCovers(a, b)) return b;
  if (prefixCovers(b, a)) return a;
  return null;
}
