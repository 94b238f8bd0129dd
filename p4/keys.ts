/**
 * Header matches (from the graph's predicates, ACL rules and tenant slices) as table keys and
 * entry values. A table's keys are the union of the fields its rules use, in one fixed order, so
 * the same rules always give the same table.
 */
import { prefixMask, prefixValue } from '../partitioner/ip';
import { expandRange } from '../partitioner/match';
import type { HeaderMatch, PortRange, Prefix } from '../partitioner/nf-config';
import type { TenantRule } from '../partitioner/plan';
import { f } from './headers';
import type { FieldRef, IrMatch, MatchKind, TableKey } from './ir';

/** What one classification rule constrains, normalised for both rule kinds. */
export interface RuleMatch {
  ingressPort?: number;
  vlan?: number;
  srcPrefix?: Prefix;
  dstPrefix?: Prefix;
  proto?: number;
  srcPort?: PortRange;
  dstPort?: PortRange;
  dscp?: number;
}

type Slot =
  'port' | 'ipVer' | 'src4' | 'dst4' | 'src6' | 'dst6' | 'proto' | 'l4src' | 'l4dst' | 'dscp' | 'vlan';

const SLOT_ORDER: Slot[] = [
  'port',
  'ipVer',
  'src4',
  'dst4',
  'src6',
  'dst6',
  'proto',
  'l4src',
  'l4dst',
  'dscp',
  'vlan',
];

const SLOT_FIELD: Record<Slot, FieldRef> = {
  port: f('std', 'ingress_port'),
  ipVer: f('meta', 'ip_ver'),
  src4: f('ipv4', 'srcAddr'),
  dst4: f('ipv4', 'dstAddr'),
  src6: f('ipv6', 'srcAddr'),
  dst6: f('ipv6', 'dstAddr'),
  proto: f('meta', 'ip_proto'),
  l4src: f('meta', 'l4_src'),
  l4dst: f('meta', 'l4_dst'),
  dscp: f('meta', 'dscp'),
  vlan: f('meta', 'vlan_id'),
};

const SLOT_WIDTH: Record<Slot, number> = {
  port: 9,
  ipVer: 4,
  src4: 32,
  dst4: 32,
  src6: 128,
  dst6: 128,
  proto: 8,
  l4src: 16,
  l4dst: 16,
  dscp: 6,
  vlan: 12,
};

const isFull = (r: PortRange): boolean => r.lo === 0 && r.hi === 0xffff;

function slotsOf(m: RuleMatch): Set<Slot> {
  const s = new Set<Slot>();
  if (m.ingressPort !== undefined) s.add('port');
  for (const [p, v4, v6] of [
    [m.srcPrefix, 'src4', 'src6'],
    [m.dstPrefix, 'dst4', 'dst6'],
  ] as const) {
    if (!p) continue;
    s.add('ipVer');
    // A /0 prefix still pins the family; only longer ones need the address key.
    if (p.len > 0) s.add(p.family === 4 ? v4 : v6);
  }
  if (m.proto !== undefined) s.add('proto');
  if (m.srcPort && !isFull(m.srcPort)) s.add('l4src');
  if (m.dstPort && !isFull(m.dstPort)) s.add('l4dst');
  if (m.dscp !== undefined) s.add('dscp');
  if (m.vlan !== undefined) s.add('vlan');
  return s;
}

export function fromHeaderMatch(m: HeaderMatch): RuleMatch {
  return { ...m };
}

export function fromTenantRule(r: TenantRule): RuleMatch {
  return { ingressPort: r.ingressPort, vlan: r.vlan, srcPrefix: r.srcPrefix, dstPrefix: r.dstPrefix };
}

export interface KeyLayout {
  slots: Slot[];
  keys: TableKey[];
}

/**
 * The keys for a table holding `rules`, after any `leading` keys. Port ranges use `range` keys
 * when the NIC profile has them, else ternary (entries are then expanded to prefixes).
 */
export function keyLayout(rules: RuleMatch[], rangeOk: boolean, always: Slot[] = []): KeyLayout {
  const used = new Set<Slot>(always);
  for (const r of rules) for (const s of slotsOf(r)) used.add(s);
  // Rules that match on nothing still need one ternary key: their priorities are what orders
  // them, and P4Runtime gives priorities only to tables with a ternary, range or optional key.
  if (used.size === 0 && rules.length > 0) used.add('ipVer');
  const slots = SLOT_ORDER.filter((s) => used.has(s));
  const keys = slots.map((s) => ({
    field: SLOT_FIELD[s],
    matchKind: ((s === 'l4src' || s === 'l4dst') && rangeOk ? 'range' : 'ternary') as MatchKind,
  }));
  return { slots, keys };
}

const ones = (w: number): bigint => (1n << BigInt(w)) - 1n;

function prefixTernary(p: Prefix): IrMatch {
  return { kind: 'ternary', value: prefixValue(p), mask: prefixMask(p.family, p.len) };
}

const ANY: IrMatch = { kind: 'ternary', value: 0n, mask: 0n };

/** Alternatives for one slot: one value, or several when a range is expanded to prefixes. */
function slotValues(s: Slot, m: RuleMatch, kind: MatchKind): IrMatch[] {
  const exact = (v: number | undefined): IrMatch[] =>
    v === undefined ? [ANY] : [{ kind: 'ternary', value: BigInt(v), mask: ones(SLOT_WIDTH[s]) }];
  const addr = (p: Prefix | undefined, family: 4 | 6): IrMatch[] =>
    p && p.family === family && p.len > 0 ? [prefixTernary(p)] : [ANY];
  const ports = (r: PortRange | undefined): IrMatch[] => {
    if (kind === 'range') {
      return [{ kind: 'range', lo: BigInt(r?.lo ?? 0), hi: BigInt(r?.hi ?? 0xffff) }];
    }
    if (!r || isFull(r)) return [ANY];
    return expandRange(r).map((t) => ({ kind: 'ternary', value: BigInt(t.value), mask: BigInt(t.mask) }));
  };
  switch (s) {
    case 'port':
      return exact(m.ingressPort);
    case 'ipVer': {
      const fam = m.srcPrefix?.family ?? m.dstPrefix?.family;
      return exact(fam);
    }
    case 'src4':
      return addr(m.srcPrefix, 4);
    case 'dst4':
      return addr(m.dstPrefix, 4);
    case 'src6':
      return addr(m.srcPrefix, 6);
    case 'dst6':
      return addr(m.dstPrefix, 6);
    case 'proto':
      return exact(m.proto);
    case 'l4src':
      return ports(m.srcPort);
    case 'l4dst':
      return ports(m.dstPort);
    case 'dscp':
      return exact(m.dscp);
    case 'vlan':
      return exact(m.vlan);
  }
}

/** Every combination of slot alternatives: the entries one rule becomes. */
export function ruleMatches(layout: KeyLayout, m: RuleMatch): IrMatch[][] {
  let out: IrMatch[][] = [[]];
  layout.slots.forEach((s, i) => {
    const alts = slotValues(s, m, layout.keys[i].matchKind);
    out = out.flatMap((prefix) => alts.map((a) => [...prefix, a]));
  });
  return out;
}

/** A stable text form of a match, to find duplicate entries. */
export function matchText(ms: IrMatch[]): string {
  return ms
    .map((x) => {
      switch (x.kind) {
        case 'exact':
          return `e${x.value}`;
        case 'ternary':
          return `t${x.value}&${x.mask}`;
        case 'lpm':
          return `l${x.value}/${x.prefixLen}`;
        case 'range':
          return `r${x.lo}-${x.hi}`;
      }
    })
    .join(',');
}
