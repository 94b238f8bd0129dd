/**
 * P4Schema: the P4Info of one pipeline, indexed by name, alias and id. Users write names; the
 * schema turns them into ids and, on a miss, suggests the closest name.
 */
import { P4SchemaError } from './errors';
import type {
  ActionInfo,
  ActionProfileInfo,
  ControllerPacketMetadataInfo,
  CounterInfo,
  DigestInfo,
  DirectCounterInfo,
  DirectMeterInfo,
  MatchFieldInfo,
  MeterInfo,
  P4Info,
  Preamble,
  RegisterInfo,
  TableInfo,
  ValueSetInfo,
} from './messages';
import { MatchType } from './messages';

interface WithPreamble {
  preamble?: Preamble | null;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** The closest of `names` to `name`, if it is close enough to be a plausible typo. */
export function closest(name: string, names: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = distance(name.toLowerCase(), n.toLowerCase());
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function throwUnknown(
  kind: string,
  name: string,
  guess: string | undefined,
  known: readonly string[],
): never {
  throw new P4SchemaError(
    `no ${kind} named "${name}"${guess ? `. Did you mean "${guess}"?` : ''}`,
    known.length
      ? `known ${kind}s: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''}`
      : undefined,
  );
}

/** A miss: "no table named X. Did you mean Y?" */
export function unknownName(
  kind: string,
  name: string,
  names: Iterable<string>,
  known?: readonly string[],
): P4SchemaError {
  const candidates = [...names];
  try {
    return throwUnknown(kind, name, closest(name, candidates), known ?? candidates);
  } catch (e) {
    return e as P4SchemaError;
  }
}

/** One kind of P4Info object (tables, actions, …) indexed by name, alias and id. */
export class ObjectIndex<T extends WithPreamble> {
  private readonly byName = new Map<string, T>();
  private readonly byId = new Map<number, T>();

  constructor(
    readonly kind: string,
    readonly all: readonly T[],
  ) {
    for (const o of all) {
      const p = o.preamble;
      if (!p?.id) throw new P4SchemaError(`P4Info ${kind} "${p?.name ?? '?'}" has no id`);
      if (p.name) this.byName.set(p.name, o);
      this.byId.set(p.id, o);
    }
    // Aliases never shadow full names.
    for (const o of all) {
      const alias = o.preamble?.alias;
      if (alias && !this.byName.has(alias)) this.byName.set(alias, o);
    }
  }

  /** The object named (or aliased) `name`; throws with a suggestion on a miss. */
  get(name: string): T {
    const o = this.byName.get(name);
    if (o) return o;
    // Match the miss against names and aliases, but suggest the full name.
    const guess = closest(name, this.byName.keys());
    const full = guess === undefined ? undefined : this.byName.get(guess)?.preamble?.name;
    return throwUnknown(
      this.kind,
      name,
      full,
      this.all.map((x) => x.preamble?.name ?? ''),
    );
  }

  find(name: string): T | undefined {
    return this.byName.get(name);
  }

  byIdOrUndefined(id: number): T | undefined {
    return this.byId.get(id);
  }

  id(name: string): number {
    return this.get(name).preamble?.id ?? 0;
  }

  nameOf(id: number): string {
    return this.byId.get(id)?.preamble?.name ?? `#${id}`;
  }
}

/** A table and its derived facts. */
export interface TableFacts {
  info: TableInfo;
  id: number;
  name: string;
  fieldsByName: Map<string, MatchFieldInfo>;
  fieldsById: Map<number, MatchFieldInfo>;
  /** True when a match kind implies a TCAM, so entries need a priority. */
  needsPriority: boolean;
  actionIds: Set<number>;
  /** The table's direct counter and direct meter, if it has them. */
  directCounter: DirectCounterInfo | undefined;
  directMeter: DirectMeterInfo | undefined;
}

/** The P4Info of one pipeline, indexed for name-based use. */
export class P4Schema {
  readonly tables: ObjectIndex<TableInfo>;
  readonly actions: ObjectIndex<ActionInfo>;
  readonly counters: ObjectIndex<CounterInfo>;
  readonly directCounters: ObjectIndex<DirectCounterInfo>;
  readonly meters: ObjectIndex<MeterInfo>;
  readonly directMeters: ObjectIndex<DirectMeterInfo>;
  readonly registers: ObjectIndex<RegisterInfo>;
  readonly digests: ObjectIndex<DigestInfo>;
  readonly valueSets: ObjectIndex<ValueSetInfo>;
  readonly actionProfiles: ObjectIndex<ActionProfileInfo>;
  readonly controllerPacketMetadata: ObjectIndex<ControllerPacketMetadataInfo>;
  private readonly facts = new Map<number, TableFacts>();

  constructor(readonly p4info: P4Info) {
    this.tables = new ObjectIndex('table', p4info.tables ?? []);
    this.actions = new ObjectIndex('action', p4info.actions ?? []);
    this.counters = new ObjectIndex('counter', p4info.counters ?? []);
    this.directCounters = new ObjectIndex('direct counter', p4info.directCounters ?? []);
    this.meters = new ObjectIndex('meter', p4info.meters ?? []);
    this.directMeters = new ObjectIndex('direct meter', p4info.directMeters ?? []);
    this.registers = new ObjectIndex('register', p4info.registers ?? []);
    this.digests = new ObjectIndex('digest', p4info.digests ?? []);
    this.valueSets = new ObjectIndex('value set', p4info.valueSets ?? []);
    this.actionProfiles = new ObjectIndex('action profile', p4info.actionProfiles ?? []);
    this.controllerPacketMetadata = new ObjectIndex(
      'controller packet metadata header',
      p4info.controllerPacketMetadata ?? [],
    );
    for (const t of this.tables.all) {
      const fieldsByName = new Map<string, MatchFieldInfo>();
      const fieldsById = new Map<number, MatchFieldInfo>();
      for (const f of t.matchFields ?? []) {
        fieldsByName.set(f.name ?? '', f);
        fieldsById.set(f.id ?? 0, f);
      }
      const needsPriority = (t.matchFields ?? []).some(
        (f) =>
          f.matchType === MatchType.TERNARY ||
          f.matchType === MatchType.RANGE ||
          f.matchType === MatchType.OPTIONAL,
      );
      const id = t.preamble?.id ?? 0;
      const direct = t.directResourceIds ?? [];
      this.facts.set(id, {
        info: t,
        id,
        name: t.preamble?.name ?? '',
        fieldsByName,
        fieldsById,
        needsPriority,
        actionIds: new Set((t.actionRefs ?? []).map((r) => r.id ?? 0)),
        directCounter: direct.map((d) => this.directCounters.byIdOrUndefined(d)).find((x) => x),
        directMeter: direct.map((d) => this.directMeters.byIdOrUndefined(d)).find((x) => x),
      });
    }
  }

  /** Facts of the table named `name` (full name or alias). */
  table(name: string): TableFacts {
    return this.tableById(this.tables.id(name))!;
  }

  tableById(id: number): TableFacts | undefined {
    return this.facts.get(id);
  }

  /** The match field `name` of a table; throws with a suggestion on a miss. */
  matchField(table: TableFacts, name: string): MatchFieldInfo {
    const f = table.fieldsByName.get(name);
    if (!f) throw unknownName(`match field of table "${table.name}"`, name, table.fieldsByName.keys());
    return f;
  }

  /** The packet-in or packet-out controller header, if the program declares one. */
  controllerHeader(kind: 'packet_in' | 'packet_out'): ControllerPacketMetadataInfo | undefined {
    return this.controllerPacketMetadata.find(kind);
  }
}
