/**
 * Header-space cubes: a conjunction of ternary constraints (value, mask) on the packet fields the
 * NIC pipeline matches on. Every match kind of the NIC pipeline IR (exact, ternary, LPM, range)
 * becomes one or more cubes, and a cube is what one rte_flow pattern can say.
 */
import { expandRange } from '../../../partitioner/match';
import type { FieldRef, IrMatch } from '../../../p4/ir';

/**
 * The NIC pipeline's key fields (the parser's view: one VLAN tag, L4 ports of TCP/UDP), plus two
 * structural ones rte_flow patterns need: `tagged` (the frame carries a VLAN tag) and `ethType`
 * (the outer EtherType, for NSH).
 */
export type CubeField =
  | 'port'
  | 'ethType'
  | 'tagged'
  | 'ipVer'
  | 'src4'
  | 'dst4'
  | 'src6'
  | 'dst6'
  | 'proto'
  | 'l4src'
  | 'l4dst'
  | 'dscp'
  | 'vid';

export const CUBE_FIELDS: CubeField[] = [
  'port',
  'ethType',
  'tagged',
  'ipVer',
  'src4',
  'dst4',
  'src6',
  'dst6',
  'proto',
  'l4src',
  'l4dst',
  'dscp',
  'vid',
];

export const WIDTH: Record<CubeField, number> = {
  port: 9,
  ethType: 16,
  tagged: 1,
  ipVer: 4,
  src4: 32,
  dst4: 32,
  src6: 128,
  dst6: 128,
  proto: 8,
  l4src: 16,
  l4dst: 16,
  dscp: 6,
  vid: 12,
};

export interface Ternary {
  value: bigint;
  mask: bigint;
}

/** Absent fields are unconstrained; a present field has a non-zero mask and value & ~mask == 0. */
export type Cube = Partial<Record<CubeField, Ternary>>;

/** The cube field an IR key reads, or undefined when it is not a packet field (meta.tenant, ...). */
export function cubeFieldOf(ref: FieldRef): CubeField | undefined {
  const key = `${ref.instance}.${ref.field}`;
  const map: Record<string, CubeField> = {
    'std.ingress_port': 'port',
    'meta.ip_ver': 'ipVer',
    'ipv4.srcAddr': 'src4',
    'ipv4.dstAddr': 'dst4',
    'ipv6.srcAddr': 'src6',
    'ipv6.dstAddr': 'dst6',
    'meta.ip_proto': 'proto',
    'meta.l4_src': 'l4src',
    'meta.l4_dst': 'l4dst',
    'meta.dscp': 'dscp',
    'meta.vlan_id': 'vid',
  };
  return map[key];
}

export const ones = (width: number): bigint => (1n << BigInt(width)) - 1n;

/** The ternary alternatives of one IR match on a field of `width` bits (a range may need several). */
export function ternariesOf(m: IrMatch, width: number): Ternary[] {
  const all = ones(width);
  switch (m.kind) {
    case 'exact':
      return [{ value: m.value & all, mask: all }];
    case 'ternary':
      return [{ value: m.value & m.mask, mask: m.mask & all }];
    case 'lpm': {
      const mask =
        m.prefixLen === 0 ? 0n : (all >> BigInt(width - m.prefixLen)) << BigInt(width - m.prefixLen);
      return [{ value: m.value & mask, mask }];
    }
    case 'range':
      if (width !== 16) throw new Error(`range match on a ${width}-bit field`);
      return expandRange({ lo: Number(m.lo), hi: Number(m.hi) }).map((t) => ({
        value: BigInt(t.value),
        mask: BigInt(t.mask),
      }));
  }
}

/**
 * The outer EtherTypes a cube's other fields allow (a VLAN tag, or an IP version, fixes it), or
 * undefined when they allow any.
 */
function etherTypesOf(c: Cube): number[] | undefined {
  if (c.vid || c.tagged?.value === 1n) return [0x8100, 0x88a8];
  if (c.ipVer || c.src4 || c.dst4 || c.src6 || c.dst6 || c.proto || c.dscp || c.l4src || c.l4dst)
    return [0x0800, 0x86dd, 0x8100, 0x88a8];
  return undefined;
}

/** An EtherType constraint of one cube against what the other's fields imply (NSH vs IP, ...). */
function etherTypeClash(a: Cube, b: Cube): boolean {
  if (!a.ethType) return false;
  const allowed = etherTypesOf(b);
  return (
    allowed !== undefined && !allowed.some((t) => ((BigInt(t) ^ a.ethType!.value) & a.ethType!.mask) === 0n)
  );
}

/** The conjunction of two cubes, or undefined when no packet is in both. */
export function intersect(a: Cube, b: Cube): Cube | undefined {
  if (etherTypeClash(a, b) || etherTypeClash(b, a)) return undefined;
  const out: Cube = { ...a };
  for (const f of CUBE_FIELDS) {
    const y = b[f];
    if (!y) continue;
    const x = out[f];
    if (!x) {
      out[f] = y;
      continue;
    }
    if (((x.value ^ y.value) & x.mask & y.mask) !== 0n) return undefined;
    out[f] = { value: (x.value & x.mask) | (y.value & y.mask), mask: x.mask | y.mask };
  }
  return normalise(out);
}

/** Whether some packet is in both cubes. */
export function overlaps(a: Cube, b: Cube): boolean {
  return intersect(a, b) !== undefined;
}

/** Drops constraints with an empty mask. */
export function normalise(c: Cube): Cube {
  const out: Cube = {};
  for (const f of CUBE_FIELDS) {
    const t = c[f];
    if (t && t.mask !== 0n) out[f] = { value: t.value & t.mask, mask: t.mask };
  }
  return out;
}

/** Every packet of `inner` is also in `outer`. */
export function covers(outer: Cube, inner: Cube): boolean {
  for (const f of CUBE_FIELDS) {
    const o = outer[f];
    if (!o) continue;
    const i = inner[f];
    if (!i || (o.mask & ~i.mask) !== 0n || ((o.value ^ i.value) & o.mask) !== 0n) return false;
  }
  return true;
}

/**
 * The cubes one IR entry stands for: its packet-field keys (`keys[i]` with `match[i]`), every
 * combination of the alternatives a range expands into. Keys that are not packet fields are left
 * to the caller (`context`).
 */
export function cubesOfEntry(
  keys: FieldRef[],
  match: IrMatch[],
): { cubes: Cube[]; context: Map<string, IrMatch> } {
  let cubes: Cube[] = [{}];
  const context = new Map<string, IrMatch>();
  keys.forEach((ref, i) => {
    const f = cubeFieldOf(ref);
    if (!f) {
      context.set(`${ref.instance}.${ref.field}`, match[i]);
      return;
    }
    const alts = ternariesOf(match[i], WIDTH[f]);
    cubes = cubes.flatMap((c) => alts.map((t) => normalise({ ...c, [f]: t })));
  });
  return { cubes, context };
}
