/**
 * entries.json: the plan's rules as P4Runtime-ready table entries (names and ids), the meter
 * configurations, and the drop reason table. Bytestrings are P4Runtime canonical (no leading zero
 * bytes, at least one byte) written as `0x` hex; don't-care fields are omitted, as P4Runtime
 * requires; a larger priority wins.
 */
import { InternalError } from '../../partitioner/errors';
import type { DropReason, IrMatch, NicPipeline } from '../ir';
import { IrIndex } from '../ir-util';
import { keyName } from './names';
import type { P4InfoIds } from './p4info';

export type FieldMatchJson =
  | { field: string; fieldId: number; exact: { value: string } }
  | { field: string; fieldId: number; ternary: { value: string; mask: string } }
  | { field: string; fieldId: number; lpm: { value: string; prefixLen: number } }
  | { field: string; fieldId: number; range: { low: string; high: string } };

export interface TableEntryJson {
  table: string;
  tableId: number;
  /** Absent for exact/lpm tables. */
  priority?: number;
  match: FieldMatchJson[];
  action: { name: string; id: number; params: Array<{ name: string; id: number; value: string }> };
  comment: string;
}

export interface MeterEntryJson {
  meter: string;
  meterId: number;
  index: number;
  config: { cir: number; cburst: number; pir: number; pburst: number };
  comment: string;
}

export interface NicEntries {
  version: 1;
  bytestrings: 'canonical-hex';
  priority: 'larger-wins';
  tableEntries: TableEntryJson[];
  meterEntries: MeterEntryJson[];
  dropCounter: { name: string; id: number };
  dropReasons: DropReason[];
}

/** P4Runtime canonical bytestring as hex: `0x00` for zero, else no leading zero bytes. */
export function canonicalHex(v: bigint): string {
  let h = v.toString(16);
  if (h.length % 2) h = `0${h}`;
  return `0x${h}`;
}

function fieldMatch(m: IrMatch, width: number, field: string, fieldId: number): FieldMatchJson | undefined {
  const all = (1n << BigInt(width)) - 1n;
  switch (m.kind) {
    case 'exact':
      return { field, fieldId, exact: { value: canonicalHex(m.value) } };
    case 'ternary':
      if (m.mask === 0n) return undefined;
      return {
        field,
        fieldId,
        ternary: { value: canonicalHex(m.value & m.mask), mask: canonicalHex(m.mask) },
      };
    case 'lpm':
      if (m.prefixLen === 0) return undefined;
      return { field, fieldId, lpm: { value: canonicalHex(m.value), prefixLen: m.prefixLen } };
    case 'range':
      if (m.lo === 0n && m.hi === all) return undefined;
      return { field, fieldId, range: { low: canonicalHex(m.lo), high: canonicalHex(m.hi) } };
  }
}

function need(ids: Map<string, number>, name: string): number {
  const id = ids.get(name);
  if (id === undefined) throw new InternalError('p4/emit/entries', `no P4Info id for ${name}`);
  return id;
}

export function emitEntries(p: NicPipeline, ids: P4InfoIds): NicEntries {
  const ix = new IrIndex(p);
  const order = new Map(p.tables.map((t, i) => [t.name, i]));
  const sorted = [...p.entries].sort(
    (a, b) => (order.get(a.table) ?? 0) - (order.get(b.table) ?? 0) || (b.priority ?? 0) - (a.priority ?? 0),
  );
  const tableEntries = sorted.map((e): TableEntryJson => {
    const t = ix.table(e.table);
    const a = ix.action(e.action.action);
    const match = e.match
      .map((m, i) => fieldMatch(m, ix.width(t.keys[i].field), keyName(t.keys[i].field), i + 1))
      .filter((x): x is FieldMatchJson => x !== undefined);
    return {
      table: ix.qualified(t.name),
      tableId: need(ids.tables, ix.qualified(t.name)),
      ...(e.priority !== undefined ? { priority: e.priority } : {}),
      match,
      action: {
        name: ix.qualified(a.name),
        id: need(ids.actions, ix.qualified(a.name)),
        params: a.params.map((x, i) => ({ name: x.name, id: i + 1, value: canonicalHex(e.action.args[i]) })),
      },
      comment: e.comment,
    };
  });
  const meterEntries = p.meterConfigs.map((c): MeterEntryJson => ({
    meter: ix.qualified(c.meter),
    meterId: need(ids.meters, ix.qualified(c.meter)),
    index: c.index,
    config: { cir: c.cir, cburst: c.cburst, pir: c.pir, pburst: c.pburst },
    comment: c.comment,
  }));
  const drop = ix.qualified('drop_reasons');
  return {
    version: 1,
    bytestrings: 'canonical-hex',
    priority: 'larger-wins',
    tableEntries,
    meterEntries,
    dropCounter: { name: drop, id: need(ids.counters, drop) },
    dropReasons: p.dropReasons,
  };
}

/** entries.json text: valid JSON with one table entry (or meter entry) per line, for readable diffs. */
export function entriesText(e: NicEntries): string {
  const list = (xs: unknown[]): string =>
    xs.length ? `[\n${xs.map((x) => `    ${JSON.stringify(x)}`).join(',\n')}\n  ]` : '[]';
  return [
    '{',
    `  "version": ${JSON.stringify(e.version)},`,
    `  "bytestrings": ${JSON.stringify(e.bytestrings)},`,
    `  "priority": ${JSON.stringify(e.priority)},`,
    `  "tableEntries": ${list(e.tableEntries)},`,
    `  "meterEntries": ${list(e.meterEntries)},`,
    `  "dropCounter": ${JSON.stringify(e.dropCounter)},`,
    `  "dropReasons": ${list(e.dropReasons)}`,
    '}',
    '',
  ].join('\n');
}
