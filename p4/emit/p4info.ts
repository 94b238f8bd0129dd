/**
 * P4Info (P4Runtime `p4.config.v1.P4Info`) for program.p4. Names are the fully qualified names
 * p4c gives the same source (`MyIngress.tenant_classify`, match fields as written in the key,
 * `NoAction` bare); ids are the ones p4c would assign: the spec's type prefix in the top byte
 * and the Jenkins one-at-a-time hash of the name below it, probing upwards in name order on a
 * collision. The P4 sources carry every id as an `@id` annotation as well, so any p4c-based
 * compiler keeps them (NoAction, declared by core.p4, gets p4c's own hash id).
 */
import { InternalError } from '../../partitioner/errors';
import type * as m from '../../p4runtime/messages';
import type { NicPipeline } from '../ir';
import { IrIndex } from '../ir-util';
import { keyName } from './names';
import { bigIntToBytes } from '../../p4runtime/values';

/** P4Ids.Prefix from p4info.proto. */
export const P4_ID_PREFIX = {
  ACTION: 0x01,
  TABLE: 0x02,
  CONTROLLER_HEADER: 0x04,
  COUNTER: 0x12,
  METER: 0x14,
} as const;

const MATCH_TYPE: Record<string, number> = { exact: 2, lpm: 3, ternary: 4, range: 5 };

/** Bob Jenkins' one-at-a-time hash over the name's bytes, 32 bits (what p4c hashes names with). */
export function jenkinsOneAtATime(text: string): number {
  let h = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    h = (h + byte) >>> 0;
    h = (h + (h << 10)) >>> 0;
    h = (h ^ (h >>> 6)) >>> 0;
  }
  h = (h + (h << 3)) >>> 0;
  h = (h ^ (h >>> 11)) >>> 0;
  h = (h + (h << 15)) >>> 0;
  return h;
}

/**
 * Ids for names of one kind as p4c assigns them: prefix << 24 | (hash & 0xffffff), names in
 * sorted order, a taken id moving on to the next hash value.
 */
export function allocateIds(prefix: number, names: string[]): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  const make = (v: number): number => ((prefix << 24) | (v & 0xffffff)) >>> 0;
  for (const name of [...new Set(names)].sort()) {
    let v = jenkinsOneAtATime(name);
    while (used.has(make(v))) v = (v + 1) >>> 0;
    used.add(make(v));
    out.set(name, make(v));
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
  /** By header type name (what p4c hashes), e.g. `packet_in_header_t`. */
  controllerHeaders: Map<string, number>;
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
    controllerHeaders: allocateIds(
      P4_ID_PREFIX.CONTROLLER_HEADER,
      p.headerTypes.filter((t) => t.controllerHeader).map((t) => t.name),
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
      p.tables.map((t) => {
        const defaultId = idOf(ids.actions, q(t.defaultAction.action));
        return {
          preamble: preamble(q(t.name), idOf(ids.tables, q(t.name)), t.comment),
          matchFields: t.keys.map((k, i) => ({
            id: i + 1,
            name: keyName(k.field),
            bitwidth: ix.width(k.field),
            matchType: MATCH_TYPE[k.matchKind],
          })),
          actionRefs: t.actions.map((a) => ({ id: idOf(ids.actions, q(a)) })),
          ...(t.constDefault ? { constDefaultActionId: defaultId } : {}),
          // The program's default action, so a server can reset the default entry to it.
          initialDefaultAction: {
            actionId: defaultId,
            arguments: t.defaultAction.args.map((v, i) => ({
              paramId: i + 1,
              value: bigIntToBytes(v),
            })),
          },
          size: t.size,
        };
      }),
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
    // p4c names a controller header by its annotation and numbers its fields from 1.
    controllerPacketMetadata: byId(
      p.headerTypes.flatMap((t) =>
        t.controllerHeader
          ? [
              {
                preamble: {
                  id: idOf(ids.controllerHeaders, t.name),
                  name: t.controllerHeader,
                  alias: t.controllerHeader,
                  annotations: [`@controller_header("${t.controllerHeader}")`],
                },
                metadata: t.fields.map((fl, i) => ({ id: i + 1, name: fl.name, bitwidth: fl.width })),
              },
            ]
          : [],
      ),
    ),
  };
}
