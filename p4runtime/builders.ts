/**
 * Name-based entity builders driven by P4Info. Users write table, field, action and parameter
 * names and plain values; the builder checks them against the schema and produces canonical
 * P4Runtime entities (canonical bytestrings, ternary value&mask, LPM host bits cleared, don't-care
 * fields omitted, priority only where the table needs one).
 */
import { P4SchemaError } from './errors';
import type {
  Action,
  CounterData,
  Entity,
  FieldMatch,
  MeterConfig,
  PacketIn,
  PacketOut,
  TableEntry,
} from './messages';
import { ActionRefScope, MatchType } from './messages';
import { P4Schema, unknownName, type TableFacts } from './schema';
import {
  bigIntToBytes,
  bytesToBigInt,
  encodeValue,
  int64ToBigInt,
  ones,
  valueToBigInt,
  ValueError,
  type P4Value,
} from './values';

export interface LpmSpec {
  value: P4Value;
  prefixLen: number;
}
export interface TernarySpec {
  value: P4Value;
  mask: P4Value;
}
export interface RangeSpec {
  low: P4Value;
  high: P4Value;
}

/**
 * A match value. Exact/optional: a value. LPM: `{value, prefixLen}` or "10.0.0.0/8".
 * Ternary: `{value, mask}` or "10.0.0.0&&&255.0.0.0". Range: `{low, high}` or "10..20".
 * A bare value on an LPM/ternary/range field means an exact match of all bits.
 * Omit a field (or give null) for don't-care.
 */
export type MatchSpec = P4Value | LpmSpec | TernarySpec | RangeSpec;

export interface TableEntrySpec {
  /** Table name or alias. */
  table: string;
  match?: Record<string, MatchSpec | null | undefined>;
  /** Action name or alias (direct tables). */
  action?: string;
  params?: Record<string, P4Value>;
  /** Indirect tables (with an action profile): the member or the group the entry points at. */
  member?: number;
  group?: number;
  /** Required (> 0) for tables with ternary, range or optional fields; forbidden otherwise. */
  priority?: number;
  /** This entry sets the table's default action (no match, no priority). */
  isDefault?: boolean;
  idleTimeoutNs?: number | bigint;
  metadata?: Uint8Array;
  counterData?: { bytes?: number | bigint; packets?: number | bigint };
  meterConfig?: MeterConfigSpec;
}

export interface MeterConfigSpec {
  cir: number | bigint;
  cburst: number | bigint;
  pir: number | bigint;
  pburst: number | bigint;
}

/** A decoded match value. */
export type MatchView =
  | { kind: 'exact'; value: bigint }
  | { kind: 'lpm'; value: bigint; prefixLen: number }
  | { kind: 'ternary'; value: bigint; mask: bigint }
  | { kind: 'range'; low: bigint; high: bigint }
  | { kind: 'optional'; value: bigint };

/** A table entry in names. */
export interface TableEntryView {
  table: string;
  match: Record<string, MatchView>;
  action?: string;
  params?: Record<string, bigint>;
  /** For entries of indirect tables. */
  member?: number;
  group?: number;
  priority: number;
  isDefault: boolean;
  counterData?: { bytes: bigint; packets: bigint };
  idleTimeoutNs?: bigint;
}

function isObject(v: MatchSpec): v is LpmSpec | TernarySpec | RangeSpec {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array);
}

function int64(v: number | bigint): string {
  return typeof v === 'bigint' ? v.toString() : String(Math.trunc(v));
}

const toBig = int64ToBigInt;

/** Builds and decodes entities for one pipeline's P4Info. */
export class EntityBuilder {
  constructor(readonly schema: P4Schema) {}

  /** A table entry as an Entity, checked and canonical. */
  tableEntry(spec: TableEntrySpec): Entity {
    return { tableEntry: this.tableEntryMessage(spec) };
  }

  /** The bare TableEntry message (for direct counters/meters and reads). */
  tableEntryMessage(spec: TableEntrySpec): TableEntry {
    const t = this.schema.table(spec.table);
    const entry: TableEntry = { tableId: t.id };
    const match: FieldMatch[] = [];
    for (const [name, value] of Object.entries(spec.match ?? {})) {
      if (value === null || value === undefined) continue;
      const fm = this.fieldMatch(t, name, value);
      if (fm) match.push(fm);
    }
    if (spec.isDefault) {
      if (match.length) throw new P4SchemaError(`table "${t.name}": a default entry has no match fields`);
      entry.isDefaultAction = true;
    } else {
      for (const f of t.info.matchFields ?? []) {
        if (f.matchType === MatchType.EXACT && !match.some((m) => m.fieldId === f.id))
          throw new P4SchemaError(`table "${t.name}": exact match field "${f.name}" is required`);
      }
      match.sort((a, b) => (a.fieldId ?? 0) - (b.fieldId ?? 0));
      entry.match = match;
    }
    this.priority(t, spec, entry);
    if (t.info.implementationId) {
      if (spec.action !== undefined)
        throw new P4SchemaError(
          `table "${t.name}" is indirect (it uses an action profile)`,
          'point the entry at a profile member or group with member: N or group: N',
        );
      if (spec.member !== undefined && spec.group !== undefined)
        throw new P4SchemaError(`table "${t.name}": give member or group, not both`);
      // Neither is fine for a DELETE or a read key; the server refuses an INSERT without one.
      if (spec.member !== undefined) entry.action = { actionProfileMemberId: spec.member };
      else if (spec.group !== undefined) entry.action = { actionProfileGroupId: spec.group };
    } else if (spec.member !== undefined || spec.group !== undefined)
      throw new P4SchemaError(
        `table "${t.name}" has no action profile; give an action instead of member/group`,
      );
    else if (spec.action !== undefined)
      entry.action = { action: this.action(t, spec.action, spec.params, !!spec.isDefault) };
    else if (spec.params) throw new P4SchemaError(`table "${t.name}": params given without an action`);
    if (spec.idleTimeoutNs !== undefined) entry.idleTimeoutNs = int64(spec.idleTimeoutNs);
    if (spec.metadata) entry.metadata = spec.metadata;
    if (spec.counterData)
      entry.counterData = {
        byteCount: int64(spec.counterData.bytes ?? 0),
        packetCount: int64(spec.counterData.packets ?? 0),
      };
    if (spec.meterConfig) entry.meterConfig = meterConfig(spec.meterConfig);
    return entry;
  }

  private priority(t: TableFacts, spec: TableEntrySpec, entry: TableEntry): void {
    const p = spec.priority;
    if (spec.isDefault || !t.needsPriority) {
      if (p !== undefined && p !== 0)
        throw new P4SchemaError(
          `table "${t.name}": ${spec.isDefault ? 'a default entry' : 'a table without ternary, range or optional fields'} takes no priority`,
        );
      return;
    }
    if (p === undefined || !Number.isInteger(p) || p < 1 || p > 0x7fffffff)
      throw new P4SchemaError(
        `table "${t.name}": entries need a priority between 1 and 2147483647 (higher wins)`,
        'pass priority: N',
      );
    entry.priority = p;
  }

  private fieldMatch(t: TableFacts, name: string, spec: MatchSpec): FieldMatch | undefined {
    const f = this.schema.matchField(t, name);
    const w = f.bitwidth ?? 0;
    const what = `table "${t.name}" match field "${name}"`;
    const id = f.id ?? 0;
    const wrap = (fn: () => FieldMatch | undefined): FieldMatch | undefined => {
      try {
        return fn();
      } catch (e) {
        if (e instanceof ValueError) throw new P4SchemaError(e.message);
        throw e;
      }
    };
    return wrap(() => {
      switch (f.matchType) {
        case MatchType.EXACT:
          if (isObject(spec)) throw new ValueError(what, 'an exact field takes a plain value');
          return { fieldId: id, exact: { value: encodeValue(spec, w, what) } };
        case MatchType.OPTIONAL:
          if (isObject(spec))
            throw new ValueError(what, 'an optional field takes a plain value (omit it for a wildcard)');
          return { fieldId: id, optional: { value: encodeValue(spec, w, what) } };
        case MatchType.LPM: {
          let value: P4Value;
          let prefixLen: number;
          if (typeof spec === 'string' && spec.includes('/')) {
            const [v, p] = spec.split('/');
            value = v;
            prefixLen = Number(p);
          } else if (isObject(spec) && 'prefixLen' in spec) {
            ({ value, prefixLen } = spec as LpmSpec);
          } else if (isObject(spec))
            throw new ValueError(what, 'an LPM field takes {value, prefixLen} or "addr/len"');
          else [value, prefixLen] = [spec, w];
          if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > w)
            throw new ValueError(what, `prefix length ${prefixLen} is outside 0..${w}`);
          if (prefixLen === 0) return undefined; // don't-care is omitted
          const n = valueToBigInt(value, what);
          if (n >> BigInt(w) !== 0n) throw new ValueError(what, `value does not fit in ${w} bits`);
          const masked = n & (ones(prefixLen) << BigInt(w - prefixLen));
          return { fieldId: id, lpm: { value: bigIntToBytes(masked), prefixLen } };
        }
        case MatchType.TERNARY: {
          let value: P4Value;
          let mask: P4Value;
          if (typeof spec === 'string' && spec.includes('&&&'))
            [value, mask] = spec.split('&&&').map((s) => s.trim());
          else if (isObject(spec) && 'mask' in spec) ({ value, mask } = spec as TernarySpec);
          else if (isObject(spec))
            throw new ValueError(what, 'a ternary field takes {value, mask} or "value&&&mask"');
          else [value, mask] = [spec, ones(w)];
          const v = valueToBigInt(value, what);
          const m = valueToBigInt(mask, `${what} mask`);
          if (v >> BigInt(w) !== 0n || m >> BigInt(w) !== 0n)
            throw new ValueError(what, `value or mask does not fit in ${w} bits`);
          if (m === 0n) return undefined;
          return { fieldId: id, ternary: { value: bigIntToBytes(v & m), mask: bigIntToBytes(m) } };
        }
        case MatchType.RANGE: {
          let low: P4Value;
          let high: P4Value;
          if (typeof spec === 'string' && spec.includes('..'))
            [low, high] = spec.split('..').map((s) => s.trim());
          else if (isObject(spec) && 'low' in spec) ({ low, high } = spec as RangeSpec);
          else if (isObject(spec))
            throw new ValueError(what, 'a range field takes {low, high} or "low..high"');
          else [low, high] = [spec, spec];
          const lo = valueToBigInt(low, what);
          const hi = valueToBigInt(high, what);
          if (lo >> BigInt(w) !== 0n || hi >> BigInt(w) !== 0n)
            throw new ValueError(what, `range bound does not fit in ${w} bits`);
          if (lo > hi) throw new ValueError(what, `range low ${lo} is above high ${hi}`);
          if (lo === 0n && hi === ones(w)) return undefined;
          return { fieldId: id, range: { low: bigIntToBytes(lo), high: bigIntToBytes(hi) } };
        }
        default:
          throw new ValueError(what, `match type ${String(f.matchType)} is not supported by the builder`);
      }
    });
  }

  /** An Action message by name, with every declared parameter checked and encoded. */
  action(
    t: TableFacts | undefined,
    name: string,
    params: Record<string, P4Value> = {},
    isDefault = false,
  ): Action {
    const a = this.schema.actions.get(name);
    const id = a.preamble?.id ?? 0;
    const aname = a.preamble?.name ?? name;
    if (t) {
      const ref = (t.info.actionRefs ?? []).find((r) => r.id === id);
      if (!ref)
        throw unknownName(
          `action of table "${t.name}"`,
          name,
          (t.info.actionRefs ?? []).map((r) => this.schema.actions.nameOf(r.id ?? 0)),
        );
      if (isDefault && ref.scope === ActionRefScope.TABLE_ONLY)
        throw new P4SchemaError(
          `action "${aname}" cannot be the default action of table "${t.name}" (@tableonly)`,
        );
      if (!isDefault && ref.scope === ActionRefScope.DEFAULT_ONLY)
        throw new P4SchemaError(
          `action "${aname}" may only be the default action of table "${t.name}" (@defaultonly)`,
        );
    }
    const declared = a.params ?? [];
    for (const p of Object.keys(params))
      if (!declared.some((d) => d.name === p))
        throw unknownName(
          `parameter of action "${aname}"`,
          p,
          declared.map((d) => d.name ?? ''),
        );
    return {
      actionId: id,
      params: declared.map((d) => {
        const v = params[d.name ?? ''];
        if (v === undefined) throw new P4SchemaError(`action "${aname}": parameter "${d.name}" is required`);
        try {
          return {
            paramId: d.id,
            value: encodeValue(v, d.bitwidth ?? 0, `action "${aname}" parameter "${d.name}"`),
          };
        } catch (e) {
          if (e instanceof ValueError) throw new P4SchemaError(e.message);
          throw e;
        }
      }),
    };
  }

  /** An action profile member: an action with its parameters, shared by the profile's tables. */
  actionProfileMember(
    profile: string,
    memberId: number,
    action: string,
    params: Record<string, P4Value> = {},
  ): Entity {
    const p = this.schema.actionProfiles.get(profile);
    const tables = (p.tableIds ?? []).map((id) => this.schema.tableById(id)).filter((x) => x !== undefined);
    const a = this.action(undefined, action, params);
    if (!tables.some((t) => t.actionIds.has(a.actionId ?? 0)))
      throw new P4SchemaError(
        `action "${action}" is not an action of the tables using profile "${p.preamble?.name}"`,
      );
    return { actionProfileMember: { actionProfileId: p.preamble?.id, memberId, action: a } };
  }

  /** An action profile group: weighted members (profiles with a selector only). */
  actionProfileGroup(
    profile: string,
    groupId: number,
    members: { member: number; weight?: number }[],
    maxSize?: number,
  ): Entity {
    const p = this.schema.actionProfiles.get(profile);
    if (!p.withSelector)
      throw new P4SchemaError(`action profile "${p.preamble?.name}" has no selector, so it has no groups`);
    return {
      actionProfileGroup: {
        actionProfileId: p.preamble?.id,
        groupId,
        maxSize: maxSize ?? 0,
        members: members.map((m) => ({ memberId: m.member, weight: m.weight ?? 1 })),
      },
    };
  }

  /** A wildcard read of all entries of one table (or of every table when name is omitted). */
  tableWildcard(table?: string): Entity {
    return { tableEntry: { tableId: table === undefined ? 0 : this.schema.tables.id(table) } };
  }

  /** A counter cell (index given) or the whole counter array (index omitted). */
  counterEntry(
    name: string,
    index?: number,
    data?: { bytes?: number | bigint; packets?: number | bigint },
  ): Entity {
    const c = this.schema.counters.get(name);
    this.checkIndex('counter', name, index, c.size);
    return {
      counterEntry: {
        counterId: c.preamble?.id,
        index: index === undefined ? null : { index },
        data: data ? { byteCount: int64(data.bytes ?? 0), packetCount: int64(data.packets ?? 0) } : null,
      },
    };
  }

  /** A meter cell (index given) or the whole meter array, optionally with a config to write. */
  meterEntry(name: string, index?: number, config?: MeterConfigSpec): Entity {
    const m = this.schema.meters.get(name);
    this.checkIndex('meter', name, index, m.size);
    return {
      meterEntry: {
        meterId: m.preamble?.id,
        index: index === undefined ? null : { index },
        config: config ? meterConfig(config) : null,
      },
    };
  }

  /** The direct counter cell of one table entry. */
  directCounterEntry(
    spec: TableEntrySpec,
    data?: { bytes?: number | bigint; packets?: number | bigint },
  ): Entity {
    const tableEntry = this.tableEntryMessage(spec);
    delete tableEntry.action;
    return {
      directCounterEntry: {
        tableEntry,
        data: data ? { byteCount: int64(data.bytes ?? 0), packetCount: int64(data.packets ?? 0) } : null,
      },
    };
  }

  /** The direct meter cell of one table entry. */
  directMeterEntry(spec: TableEntrySpec, config?: MeterConfigSpec): Entity {
    const tableEntry = this.tableEntryMessage(spec);
    delete tableEntry.action;
    return { directMeterEntry: { tableEntry, config: config ? meterConfig(config) : null } };
  }

  private checkIndex(kind: string, name: string, index: number | undefined, size: unknown): void {
    if (index === undefined) return;
    const n = Number(toBig(size));
    if (!Number.isInteger(index) || index < 0 || (n > 0 && index >= n))
      throw new P4SchemaError(`${kind} "${name}": index ${index} is outside 0..${n - 1}`);
  }

  /** A PacketOut with its controller metadata given by field name. */
  packetOut(payload: Uint8Array, metadata: Record<string, P4Value> = {}): PacketOut {
    const hdr = this.schema.controllerHeader('packet_out');
    const fields = hdr?.metadata ?? [];
    if (!hdr && Object.keys(metadata).length)
      throw new P4SchemaError('the program declares no @controller_header("packet_out") header');
    for (const k of Object.keys(metadata))
      if (!fields.some((f) => f.name === k))
        throw unknownName(
          'packet_out metadata field',
          k,
          fields.map((f) => f.name ?? ''),
        );
    return {
      payload,
      metadata: fields.map((f) => {
        const v = metadata[f.name ?? ''];
        if (v === undefined) throw new P4SchemaError(`packet_out metadata field "${f.name}" is required`);
        try {
          return {
            metadataId: f.id,
            value: encodeValue(v, f.bitwidth ?? 0, `packet_out metadata "${f.name}"`),
          };
        } catch (e) {
          if (e instanceof ValueError) throw new P4SchemaError(e.message);
          throw e;
        }
      }),
    };
  }

  /** A PacketIn's metadata by field name. */
  decodePacketIn(packet: PacketIn): { payload: Uint8Array; metadata: Record<string, bigint> } {
    const fields = this.schema.controllerHeader('packet_in')?.metadata ?? [];
    const metadata: Record<string, bigint> = {};
    for (const m of packet.metadata ?? []) {
      const f = fields.find((x) => x.id === m.metadataId);
      metadata[f?.name ?? `#${m.metadataId}`] = bytesToBigInt(m.value ?? new Uint8Array());
    }
    return { payload: packet.payload ?? new Uint8Array(), metadata };
  }

  /** A table entry in names and bigints. */
  describe(entry: TableEntry): TableEntryView {
    const t = this.schema.tableById(entry.tableId ?? 0);
    const match: Record<string, MatchView> = {};
    for (const m of entry.match ?? []) {
      const name = t?.fieldsById.get(m.fieldId ?? 0)?.name ?? `#${m.fieldId}`;
      const b = (x: Uint8Array | undefined): bigint => bytesToBigInt(x ?? new Uint8Array());
      if (m.exact) match[name] = { kind: 'exact', value: b(m.exact.value) };
      else if (m.lpm) match[name] = { kind: 'lpm', value: b(m.lpm.value), prefixLen: m.lpm.prefixLen ?? 0 };
      else if (m.ternary)
        match[name] = { kind: 'ternary', value: b(m.ternary.value), mask: b(m.ternary.mask) };
      else if (m.range) match[name] = { kind: 'range', low: b(m.range.low), high: b(m.range.high) };
      else if (m.optional) match[name] = { kind: 'optional', value: b(m.optional.value) };
    }
    const view: TableEntryView = {
      table: t?.name ?? `#${entry.tableId}`,
      match,
      priority: entry.priority ?? 0,
      isDefault: !!entry.isDefaultAction,
    };
    if (entry.action?.actionProfileGroupId) view.group = entry.action.actionProfileGroupId;
    else if (
      entry.action &&
      !entry.action.action &&
      entry.action.actionProfileMemberId !== undefined &&
      entry.action.actionProfileMemberId !== null
    )
      view.member = entry.action.actionProfileMemberId;
    const act = entry.action?.action;
    if (act) {
      const a = this.schema.actions.byIdOrUndefined(act.actionId ?? 0);
      view.action = a?.preamble?.name ?? `#${act.actionId}`;
      view.params = {};
      for (const p of act.params ?? []) {
        const pname = a?.params?.find((d) => d.id === p.paramId)?.name ?? `#${p.paramId}`;
        view.params[pname] = bytesToBigInt(p.value ?? new Uint8Array());
      }
    }
    if (entry.counterData) view.counterData = counterView(entry.counterData);
    if (entry.idleTimeoutNs !== undefined && toBig(entry.idleTimeoutNs) !== 0n)
      view.idleTimeoutNs = toBig(entry.idleTimeoutNs);
    return view;
  }
}

function meterConfig(c: MeterConfigSpec): MeterConfig {
  for (const [k, v] of Object.entries(c))
    if ((typeof v === 'number' && (!Number.isInteger(v) || v < 0)) || (typeof v === 'bigint' && v < 0n))
      throw new P4SchemaError(`meter config ${k} must be a non-negative integer, not ${String(v)}`);
  return { cir: int64(c.cir), cburst: int64(c.cburst), pir: int64(c.pir), pburst: int64(c.pburst) };
}

/** Counter data as bigints. */
export function counterView(d: CounterData | null | undefined): { bytes: bigint; packets: bigint } {
  return { bytes: toBig(d?.byteCount), packets: toBig(d?.packetCount) };
}
