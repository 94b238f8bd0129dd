/**
 * P4Info (P4Runtime v1.4 `p4.config.v1.P4Info`) for program.p4. Names are the fully qualified
 * names p4c gives the same source (`MyIngress.tenant_classify`, match fields as written in the
 * key, `NoAction` bare); ids carry the spec's type prefix in their top byte and a stable hash of
 * the name below it.
 */
import { InternalError } from '../../partitioner/errors';
import type * as m from '../../p4runtime/messages';
import type { NicPipeline } from '../ir';
import { IrIndex } from '../ir-util';
import { keyName } from './names';

/** P4Ids.Prefix from p4info.proto. */
export const P4_ID_PREFIX = { ACTION: 0x01, TABLE: 0x02, COUNTER: 0x12, METER: 0x14 } as const;

const MATCH_TYPE: Record<string, number> = { exact: 2, lpm: 3, ternary: 4, range: 5 };

/** FNV-1a, 32 bits. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Ids for names of one kind: prefix << 24 | hash, probing on collision in name order. */
export function allocateIds(prefix: number, names: string[]): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const name of [...new Set(names)].sort()) {
    let low = fnv1a(name) & 0xffffff;
    if (low === 0) low = 1;
    while (used.has(low)) low = (low + 1) & 0xffffff || 1;
    used.add(low);
    out.set(name, ((prefix << 24) | low) >>> 0);
  }
  return out;
}

/** The shortest dotted suffix of each name that is unique among `names` (p4c's default alias). */
function aliases(names: string[]): Map<string, string> {
  const count = new Map<string, number>();
  const suffixes = (n: string): string[] => {
    const parts = n.split('.');
    return parts.map((_, i) => parts.slice(parts.length - 1 - i).join('.'));
  };
  for (const n of new Set(names)) for (const s of suffixes(n)) count.set(s, (count.get(s) ?? 0) + 1);
  return new Map(names.map((n) => [n, suffixes(n).find((s) => count.get(s) === 1) ?? n]));
}

export interface P4InfoIds {
  tables: Map<string, number>;
  actions: Map<string, number>;
  counters: Map<string, number>;
  meters: Map<string, number>;
}

export function p4infoIds(p: NicPipeline): P4InfoIds {
  const ix = new IrIndex(p);
  return {
    tables: allocateIds(
      P4_ID_PREFIX.TABLE,
      p.tables.map((t) => ix.qualified(t.name)),
    ),
    actions: allocateIds(
      P4_ID_PREFIX.ACTION,
      p.actions.map((a) => ix.qualified(a.name)),
    ),
    counters: allocateIds(
      P4_ID_PREFIX.COUNTER,
      p.counters.map((c) => ix.qualified(c.name)),
    ),
    meters: allocateIds(
      P4_ID_PREFIX.METER,
      p.meters.map((x) => ix.qualified(x.name)),
    ),
  };
}

function idOf(ids: Map<string, number>, name: string): number {
  const id = ids.get(name);
  if (id === undefined) throw new InternalError('p4/emit/p4info', `no id for ${name}`);
  return id;
}

export function emitP4Info(p: NicPipeline, ids: P4InfoIds = p4infoIds(p)): m.P4Info {
  const ix = new IrIndex(p);
  const q = (n: string): string => ix.qualified(n);
  const all = [
    ...p.tables.map((t) => q(t.name)),
    ...p.actions.map((a) => q(a.name)),
    ...p.counters.map((c) => q(c.name)),
    ...p.meters.map((x) => q(x.name)),
  ];
  const alias = aliases(all);
  const preamble = (name: string, id: number, brief: string): m.Preamble => ({
    id,
    name,
    alias: alias.get(name) ?? name,
    ...(brief ? { doc: { brief } } : {}),
  });
  const byId = <T extends { preamble?: m.Preamble | null }>(xs: T[]): T[] =>
    xs.sort((a, b) => (a.preamble?.id ?? 0) - (b.preamble?.id ?? 0));
  return {
    pkgInfo: { name: 'program.p4', arch: 'v1model' },
    tables: byId(
      p.tables.map((t) => ({
        preamble: preamble(q(t.name), idOf(ids.tables, q(t.name)), t.comment),
        matchFields: t.keys.map((k, i) => ({
          id: i + 1,
          name: keyName(k.field),
          bitwidth: ix.width(k.field),
          matchType: MATCH_TYPE[k.matchKind],
        })),
        actionRefs: t.actions.map((a) => ({ id: idOf(ids.actions, q(a)) })),
        ...(t.constDefault ? { constDefaultActionId: idOf(ids.actions, q(t.defaultAction.action)) } : {}),
        size: t.size,
      })),
    ),
    actions: byId(
      p.actions.map((a) => ({
        preamble: preamble(q(a.name), idOf(ids.actions, q(a.name)), ''),
        params: a.params.map((x, i) => ({ id: i + 1, name: x.name, bitwidth: x.width })),
      })),
    ),
    counters: byId(
      p.counters.map((c) => ({
        preamble: preamble(q(c.name), idOf(ids.counters, q(c.name)), c.comment),
        spec: { unit: 3 },
        size: c.size,
      })),
    ),
    meters: byId(
      p.meters.map((x) => ({
        preamble: preamble(q(x.name), idOf(ids.meters, q(x.name)), x.comment),
        spec: { unit: x.unit === 'bytes' ? 1 : 2 },
        size: x.size,
      })),
    ),
  };
}
