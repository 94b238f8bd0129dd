/**
 * Server-side validation of P4Runtime entities against the committed P4Info. Each check throws
 * a DeviceError with the code the specification gives (INVALID_ARGUMENT for a malformed entity,
 * OUT_OF_RANGE for a bytestring or index out of range, PERMISSION_DENIED for const objects,
 * UNIMPLEMENTED for optional features) and a message naming the offending field; a valid entity
 * comes back in canonical form (bytestrings without leading zeros, match fields sorted by id)
 * so that the device can key entries on it directly.
 */
import { status as Code } from '@grpc/grpc-js';
import { DeviceError } from './device';
import type {
  Action,
  CounterData,
  Entity,
  FieldMatch,
  Index,
  MatchFieldInfo,
  MeterConfig,
  MeterSpec,
  PacketReplicationEngineEntry,
  Replica,
  TableAction,
  TableEntry,
} from './messages';
import { ActionRefScope, IdleTimeoutBehavior, MatchType, MeterType, UpdateType } from './messages';
import type { P4Schema, TableFacts } from './schema';
import { bitLength, canonicalBytes, int64ToBigInt } from './values';

function invalid(message: string): DeviceError {
  return new DeviceError(Code.INVALID_ARGUMENT, message);
}

function outOfRange(message: string): DeviceError {
  return new DeviceError(Code.OUT_OF_RANGE, message);
}

/**
 * A bytestring for a `width`-bit value in canonical form (spec: Bytestrings), or why it is out
 * of range (empty, or too wide). Callers name the field only when they throw: building that
 * text for every value of a large batch would cost more than the check.
 */
function canonicalOr(b: Uint8Array | undefined, width: number): Uint8Array | string {
  if (!b || b.length === 0) return 'empty bytestring';
  if (width > 0 && bitLength(b) > width) return `value does not fit in ${width} bits`;
  return canonicalBytes(b);
}

/** True when the lowest `n` bits of a big-endian bytestring are all zero (no BigInt on the hot path). */
function lowBitsZero(b: Uint8Array, n: number): boolean {
  let i = b.length - 1;
  for (; n >= 8 && i >= 0; n -= 8, i--) if (b[i] !== 0) return false;
  return i < 0 || n === 0 || (b[i] & ((1 << n) - 1)) === 0;
}

function big(b: Uint8Array): bigint {
  return b.length ? BigInt(`0x${Buffer.from(b).toString('hex')}`) : 0n;
}

/** True for an unset or zero 64-bit field, without converting a Long (hot path). */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === 0 || v === '0') return true;
  if (typeof v === 'object') {
    const l = v as { low?: number; high?: number };
    return l.low === 0 && l.high === 0;
  }
  return false;
}

function num(v: unknown): bigint {
  return isZero(v) ? 0n : int64ToBigInt(v);
}

function fieldWhat(t: TableFacts, f: MatchFieldInfo, part = ''): string {
  return `table "${t.name}" match field "${f.name}"${part}`;
}

function fieldBytes(t: TableFacts, f: MatchFieldInfo, b: Uint8Array | undefined, part?: string): Uint8Array {
  const v = canonicalOr(b, f.bitwidth ?? 0);
  if (typeof v === 'string') throw outOfRange(`${fieldWhat(t, f, part)}: ${v}`);
  return v;
}

/**
 * A match field checked against its table. A field that is already canonical comes back as the
 * same object (the server owns the decoded request), so a large batch allocates nothing here.
 */
function fieldMatch(t: TableFacts, m: FieldMatch): FieldMatch {
  const f = t.fieldsById.get(m.fieldId ?? 0);
  if (!f) throw invalid(`table "${t.name}": unknown match field id ${m.fieldId}`);
  const w = f.bitwidth ?? 0;
  const id = m.fieldId;
  switch (f.matchType) {
    case MatchType.EXACT: {
      if (!m.exact) throw invalid(`${fieldWhat(t, f)}: expected an exact match`);
      const value = fieldBytes(t, f, m.exact.value);
      return value === m.exact.value ? m : { fieldId: id, exact: { value } };
    }
    case MatchType.OPTIONAL: {
      if (!m.optional) throw invalid(`${fieldWhat(t, f)}: expected an optional match`);
      const value = fieldBytes(t, f, m.optional.value);
      return value === m.optional.value ? m : { fieldId: id, optional: { value } };
    }
    case MatchType.LPM: {
      if (!m.lpm) throw invalid(`${fieldWhat(t, f)}: expected an LPM match`);
      const p = m.lpm.prefixLen ?? 0;
      if (p <= 0 || p > w)
        throw invalid(`${fieldWhat(t, f)}: prefix length ${p} is outside 1..${w} (omit the field for /0)`);
      const value = fieldBytes(t, f, m.lpm.value);
      if (!lowBitsZero(value, w - p))
        throw invalid(`${fieldWhat(t, f)}: bits beyond the /${p} prefix must be zero`);
      return value === m.lpm.value ? m : { fieldId: id, lpm: { value, prefixLen: p } };
    }
    case MatchType.TERNARY: {
      if (!m.ternary) throw invalid(`${fieldWhat(t, f)}: expected a ternary match`);
      const value = fieldBytes(t, f, m.ternary.value);
      const mask = fieldBytes(t, f, m.ternary.mask, ' mask');
      const mk = big(mask);
      if (mk === 0n) throw invalid(`${fieldWhat(t, f)}: an all-zero mask must be omitted (don't care)`);
      if (big(value) & ~mk) throw invalid(`${fieldWhat(t, f)}: value has bits set outside the mask`);
      return value === m.ternary.value && mask === m.ternary.mask
        ? m
        : { fieldId: id, ternary: { value, mask } };
    }
    case MatchType.RANGE: {
      if (!m.range) throw invalid(`${fieldWhat(t, f)}: expected a range match`);
      const low = fieldBytes(t, f, m.range.low, ' low');
      const high = fieldBytes(t, f, m.range.high, ' high');
      if (big(low) > big(high)) throw invalid(`${fieldWhat(t, f)}: range low is above high`);
      if (big(low) === 0n && big(high) === (1n << BigInt(w)) - 1n)
        throw invalid(`${fieldWhat(t, f)}: a full range must be omitted (don't care)`);
      return low === m.range.low && high === m.range.high ? m : { fieldId: id, range: { low, high } };
    }
    default:
      throw invalid(`${fieldWhat(t, f)}: unsupported match type`);
  }
}

/**
 * Which member of the TableAction oneof is set. Decoded messages say so through protobufjs'
 * virtual `type` property (unset scalar members read as 0 there); plain objects by presence.
 */
function tableActionKind(ta: TableAction | null | undefined): string | undefined {
  if (!ta) return undefined;
  const decoded = (ta as { type?: unknown }).type;
  if (typeof decoded === 'string') return decoded;
  if (ta.action) return 'action';
  if (ta.actionProfileActionSet) return 'actionProfileActionSet';
  if (ta.actionProfileGroupId !== undefined && ta.actionProfileGroupId !== null)
    return 'actionProfileGroupId';
  if (ta.actionProfileMemberId !== undefined && ta.actionProfileMemberId !== null)
    return 'actionProfileMemberId';
  return undefined;
}

/** Validates an Action for table `t` (or for an action profile when `t` is undefined). */
export function validateAction(
  schema: P4Schema,
  t: TableFacts | undefined,
  a: Action,
  isDefault: boolean,
): Action {
  const info = schema.actions.byIdOrUndefined(a.actionId ?? 0);
  if (!info) throw invalid(`unknown action id ${a.actionId}`);
  const name = info.preamble?.name;
  if (t) {
    const ref = (t.info.actionRefs ?? []).find((r) => r.id === a.actionId);
    if (!ref) throw invalid(`table "${t.name}": action "${name}" is not one of the table's actions`);
    if (isDefault && ref.scope === ActionRefScope.TABLE_ONLY)
      throw invalid(`table "${t.name}": action "${name}" cannot be a default action`);
    if (!isDefault && ref.scope === ActionRefScope.DEFAULT_ONLY)
      throw invalid(`table "${t.name}": action "${name}" may only be the default action`);
  }
  const declared = info.params ?? [];
  const given = a.params ?? [];
  if (given.length !== declared.length)
    throw invalid(`action "${name}": expected ${declared.length} parameters, got ${given.length}`);
  // Canonical and in id order already (what builders send): keep the decoded objects.
  let same = true;
  let last = 0;
  const params = given.map((p) => {
    const d = declared.find((x) => x.id === p.paramId);
    if (!d) throw invalid(`action "${name}": unknown parameter id ${p.paramId}`);
    const id = d.id ?? 0;
    if (id <= last) {
      same = false;
      if (given.some((q) => q !== p && q.paramId === p.paramId))
        throw invalid(`action "${name}": parameter "${d.name}" given twice`);
    }
    last = Math.max(last, id);
    const value = canonicalOr(p.value, d.bitwidth ?? 0);
    if (typeof value === 'string') throw outOfRange(`action "${name}" parameter "${d.name}": ${value}`);
    if (value === p.value) return p;
    same = false;
    return { paramId: p.paramId, value };
  });
  if (same && a.params) return a;
  params.sort((x, y) => (x.paramId ?? 0) - (y.paramId ?? 0));
  return { actionId: a.actionId, params };
}

/** A MeterConfig that the meter's type accepts (spec: MeterEntry & DirectMeterEntry). */
function meterConfig(c: MeterConfig, what: string, spec: MeterSpec | null | undefined): MeterConfig {
  const [cir, cburst, pir, pburst, eburst] = [
    num(c.cir),
    num(c.cburst),
    num(c.pir),
    num(c.pburst),
    num(c.eburst),
  ];
  if (cir < 0n || cburst < 0n || pir < 0n || pburst < 0n || eburst < 0n)
    throw invalid(`${what}: meter rates and bursts must be ≥ 0`);
  const type = spec?.type ?? MeterType.TWO_RATE_THREE_COLOR;
  if (type === MeterType.TWO_RATE_THREE_COLOR) {
    if (eburst !== 0n) throw invalid(`${what}: eburst must be unset for a two-rate three-colour meter`);
    if (pir < cir) throw invalid(`${what}: peak rate (pir) must be ≥ committed rate (cir)`);
  } else {
    const kind =
      type === MeterType.SINGLE_RATE_THREE_COLOR ? 'single-rate three-colour' : 'single-rate two-colour';
    if (pir !== cir || pburst !== cburst)
      throw invalid(`${what}: a ${kind} meter needs pir = cir and pburst = cburst`);
    if (type === MeterType.SINGLE_RATE_TWO_COLOR && eburst !== 0n)
      throw invalid(`${what}: eburst must be unset for a single-rate two-colour meter`);
  }
  const out: MeterConfig = {
    cir: cir.toString(),
    cburst: cburst.toString(),
    pir: pir.toString(),
    pburst: pburst.toString(),
  };
  if (eburst) out.eburst = eburst.toString();
  return out;
}

/** Per-colour meter counters are an optional feature no nfp device implements. */
function noColourCounters(d: unknown, what: string): void {
  if (d) throw new DeviceError(Code.UNIMPLEMENTED, `${what}: per-colour meter counters are not supported`);
}

function counterData(d: CounterData): CounterData {
  return { byteCount: num(d.byteCount).toString(), packetCount: num(d.packetCount).toString() };
}

/**
 * Validates a table entry of a write (`type` set). Reads go through validateTableRead, which
 * keeps the read filters.
 */
export function validateTableEntry(schema: P4Schema, e: TableEntry, type: UpdateType): TableEntry {
  const t = schema.tableById(e.tableId ?? 0);
  if (!t) throw invalid(`unknown table id ${e.tableId}`);
  const out: TableEntry = { tableId: t.id };
  const priority = e.priority ?? 0;
  noColourCounters(e.meterCounterData, `table "${t.name}" meter_counter_data`);
  if (e.timeSinceLastHit) throw invalid(`table "${t.name}": time_since_last_hit must be unset in a write`);
  if (e.isDefaultAction) {
    if ((e.match ?? []).length) throw invalid(`table "${t.name}": a default entry must have no match fields`);
    if (priority) throw invalid(`table "${t.name}": a default entry must have no priority`);
    if (!isZero(e.idleTimeoutNs)) throw invalid(`table "${t.name}": a default entry has no idle timeout`);
    out.isDefaultAction = true;
    if (type !== UpdateType.MODIFY)
      throw invalid(`table "${t.name}": the default entry can only be modified (not inserted or deleted)`);
    if (t.info.constDefaultActionId)
      throw new DeviceError(Code.PERMISSION_DENIED, `table "${t.name}" has a const default action`);
    if (e.counterData || e.meterConfig)
      throw new DeviceError(
        Code.UNIMPLEMENTED,
        `table "${t.name}": direct resources of the default entry are not supported`,
      );
    // No action: reset to the program's default action (spec: Default Entry).
    if (e.action) {
      if (!e.action.action) throw invalid(`table "${t.name}": a default entry needs a direct action`);
      out.action = { action: validateAction(schema, t, e.action.action, true) };
    }
    return out;
  }
  if (t.info.isConstTable)
    throw new DeviceError(Code.PERMISSION_DENIED, `table "${t.name}" is const and cannot be written`);
  out.match = matchOf(t, e.match);
  for (const f of t.info.matchFields ?? [])
    if (f.matchType === MatchType.EXACT && !out.match.some((m) => m.fieldId === f.id))
      throw invalid(`table "${t.name}": exact match field "${f.name}" is missing`);
  if (t.needsPriority && priority <= 0)
    throw invalid(
      `table "${t.name}": entries need a priority > 0 (the table has ternary, range or optional fields)`,
    );
  if (!t.needsPriority && priority !== 0)
    throw invalid(
      `table "${t.name}": priority must be 0 for a table without ternary, range or optional fields`,
    );
  if (priority) out.priority = priority;
  if (type !== UpdateType.DELETE) {
    const ta = e.action;
    const verb = type === UpdateType.INSERT ? 'INSERT' : 'MODIFY';
    if (t.info.implementationId) {
      // An indirect table points at a member or a group of its action profile.
      const profile = schema.actionProfiles.byIdOrUndefined(t.info.implementationId);
      const kind = tableActionKind(ta);
      if (kind === 'actionProfileMemberId')
        out.action = { actionProfileMemberId: ta!.actionProfileMemberId ?? 0 };
      else if (kind === 'actionProfileGroupId') {
        if (!profile?.withSelector)
          throw invalid(
            `table "${t.name}": its action profile has no selector, so entries cannot point at groups`,
          );
        out.action = { actionProfileGroupId: ta!.actionProfileGroupId ?? 0 };
      } else if (kind === 'action')
        throw invalid(
          `table "${t.name}" is indirect: give action_profile_member_id or action_profile_group_id, not an action`,
        );
      else if (kind === 'actionProfileActionSet')
        throw new DeviceError(
          Code.UNIMPLEMENTED,
          `table "${t.name}": one-shot action sets are not supported`,
        );
      else throw invalid(`table "${t.name}": ${verb} needs an action profile member or group`);
    } else {
      if (!ta?.action) throw invalid(`table "${t.name}": ${verb} needs an action`);
      out.action = { action: validateAction(schema, t, ta.action, false) };
    }
    if (e.counterData) {
      if (!t.directCounter)
        throw invalid(`table "${t.name}" has no direct counter (counter_data must be unset)`);
      out.counterData = counterData(e.counterData);
    }
    if (e.meterConfig) {
      if (!t.directMeter) throw invalid(`table "${t.name}" has no direct meter (meter_config must be unset)`);
      out.meterConfig = meterConfig(e.meterConfig, `table "${t.name}" meter_config`, t.directMeter.spec);
    }
    const idle = num(e.idleTimeoutNs);
    if (idle !== 0n) {
      if (t.info.idleTimeoutBehavior !== IdleTimeoutBehavior.NOTIFY_CONTROL)
        throw invalid(`table "${t.name}" does not support idle timeout (idle_timeout_ns must be 0)`);
      if (idle < 0n) throw invalid(`table "${t.name}": idle_timeout_ns must be ≥ 0`);
      out.idleTimeoutNs = idle.toString();
    }
    if (e.metadata?.length) out.metadata = e.metadata;
    if (!isZero(e.controllerMetadata)) out.controllerMetadata = e.controllerMetadata;
  }
  return out;
}

/** Match fields checked against the table and sorted by field id. */
function matchOf(t: TableFacts, fields: FieldMatch[] | undefined): FieldMatch[] {
  if (!fields?.length) return [];
  if (fields.length > 1) {
    const seen = new Set<number>();
    for (const m of fields) {
      if (seen.has(m.fieldId ?? 0))
        throw invalid(`table "${t.name}": match field id ${m.fieldId} given twice`);
      seen.add(m.fieldId ?? 0);
    }
  }
  const match = fields.map((m) => fieldMatch(t, m));
  if (match.length > 1) match.sort((a, b) => (a.fieldId ?? 0) - (b.fieldId ?? 0));
  return match;
}

/** A validated read of table entries: what to ask the device, and what to keep of its answer. */
export interface TableRead {
  /** Table id (0: every table), the match when it identifies one entry, and what to return. */
  query: TableEntry;
  /** The spec's read filters the device does not apply (priority, action, metadata, …). */
  keep?: (e: TableEntry) => boolean;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return Buffer.compare(Buffer.from(a ?? []), Buffer.from(b ?? [])) === 0;
}

/**
 * Validates a table entry of a Read (spec: Wildcard Reads): table_id 0 reads every table and
 * allows no filter; otherwise match, action id, priority, metadata, controller_metadata and
 * is_default_action select entries. counter_data, meter_config and time_since_last_hit, when
 * set, ask for those values in the answer.
 */
export function validateTableRead(schema: P4Schema, e: TableEntry): TableRead {
  noColourCounters(e.meterCounterData, 'table_entry meter_counter_data');
  const wants: TableEntry = {};
  if (e.counterData) wants.counterData = {};
  if (e.meterConfig) wants.meterConfig = {};
  if (e.timeSinceLastHit) wants.timeSinceLastHit = {};
  const priority = e.priority ?? 0;
  const hasAction = !!e.action;
  const metadata = e.metadata?.length ? e.metadata : undefined;
  const cookie = isZero(e.controllerMetadata) ? undefined : num(e.controllerMetadata);
  if (!e.tableId) {
    if (
      (e.match ?? []).length ||
      priority ||
      hasAction ||
      metadata ||
      cookie !== undefined ||
      e.isDefaultAction
    )
      throw invalid('a read with table_id 0 reads every table and takes no other filter');
    return { query: { tableId: 0, ...wants } };
  }
  const t = schema.tableById(e.tableId);
  if (!t) throw invalid(`unknown table id ${e.tableId}`);
  if (e.timeSinceLastHit && t.info.idleTimeoutBehavior !== IdleTimeoutBehavior.NOTIFY_CONTROL)
    throw invalid(`table "${t.name}" does not support idle timeout (time_since_last_hit must be unset)`);
  if (e.counterData && !t.directCounter) throw invalid(`table "${t.name}" has no direct counter`);
  if (e.meterConfig && !t.directMeter) throw invalid(`table "${t.name}" has no direct meter`);
  if (priority < 0) throw invalid(`table "${t.name}": priority must be ≥ 0`);
  if (e.isDefaultAction) {
    if ((e.match ?? []).length || priority)
      throw invalid(`table "${t.name}": a default entry has no match fields and no priority`);
    return { query: { tableId: t.id, isDefaultAction: true, ...wants } };
  }
  let actionId: number | undefined;
  if (hasAction) {
    const a = e.action!.action;
    if (!a) throw invalid(`table "${t.name}": only an action id can filter a read (not a member or group)`);
    if (!t.actionIds.has(a.actionId ?? 0))
      throw invalid(`table "${t.name}": action id ${a.actionId} is not one of the table's actions`);
    actionId = a.actionId ?? 0;
  }
  const match = matchOf(t, e.match);
  const query: TableEntry = { tableId: t.id, ...wants };
  // A match identifies one entry only together with its priority; with priority 0 it selects
  // the entries with that match at any priority, which the server picks from the whole table.
  let matchFilter: FieldMatch[] | undefined;
  if (match.length && (!t.needsPriority || priority)) {
    query.match = match;
    if (priority) query.priority = priority;
  } else if (match.length) matchFilter = match;
  const filters: ((x: TableEntry) => boolean)[] = [];
  if (matchFilter) {
    const want = JSON.stringify(matchFilter.map(matchKeyOf));
    filters.push((x) => JSON.stringify((x.match ?? []).map(matchKeyOf)) === want);
  }
  if (priority && !query.match) filters.push((x) => (x.priority ?? 0) === priority);
  if (actionId !== undefined) filters.push((x) => x.action?.action?.actionId === actionId);
  if (metadata) filters.push((x) => sameBytes(x.metadata, metadata));
  if (cookie !== undefined) filters.push((x) => num(x.controllerMetadata) === cookie);
  if (!filters.length) return { query };
  return { query, keep: (x) => filters.every((f) => f(x)) };
}

function matchKeyOf(m: FieldMatch): unknown[] {
  const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');
  if (m.exact) return [m.fieldId, 'e', hex(m.exact.value)];
  if (m.lpm) return [m.fieldId, 'l', hex(m.lpm.value), m.lpm.prefixLen];
  if (m.ternary) return [m.fieldId, 't', hex(m.ternary.value), hex(m.ternary.mask)];
  if (m.range) return [m.fieldId, 'r', hex(m.range.low), hex(m.range.high)];
  if (m.optional) return [m.fieldId, 'o', hex(m.optional.value)];
  return [m.fieldId];
}

/** The key of a table entry (match and priority) for direct counter and meter entries. */
function tableEntryKey(schema: P4Schema, e: TableEntry, what: string, reading: boolean): TableEntry {
  if (reading && !e.tableId) return { tableId: 0 };
  const t = schema.tableById(e.tableId ?? 0);
  if (!t) throw invalid(`${what}: unknown table id ${e.tableId}`);
  const out: TableEntry = { tableId: t.id };
  if (e.isDefaultAction)
    throw new DeviceError(
      Code.UNIMPLEMENTED,
      `${what}: direct resources of the default entry are not supported`,
    );
  const match = matchOf(t, e.match);
  const priority = e.priority ?? 0;
  if (reading && !match.length) return out;
  for (const f of t.info.matchFields ?? [])
    if (f.matchType === MatchType.EXACT && !match.some((m) => m.fieldId === f.id))
      throw invalid(`table "${t.name}": exact match field "${f.name}" is missing`);
  if (t.needsPriority && priority <= 0) throw invalid(`table "${t.name}": the entry's priority is needed`);
  if (!t.needsPriority && priority !== 0) throw invalid(`table "${t.name}": priority must be 0`);
  out.match = match;
  if (priority) out.priority = priority;
  return out;
}

/** A counter or meter index (spec: negative is INVALID_ARGUMENT, past the end OUT_OF_RANGE). */
function index(i: Index | null | undefined, size: unknown, what: string): Index | null {
  if (!i) return null; // reads: every cell; writes: every cell too
  const n = num(i.index);
  if (n < 0n) throw invalid(`${what}: index ${n} is negative`);
  if (n >= num(size)) throw outOfRange(`${what}: index ${n} is outside 0..${num(size) - 1n}`);
  return { index: n.toString() };
}

/** Validates one entity of a Write (`type` set) or a Read (`type` undefined). */
export function validateEntity(schema: P4Schema, entity: Entity, type: UpdateType | undefined): Entity {
  const reading = type === undefined;
  if (!reading && type !== UpdateType.INSERT && type !== UpdateType.MODIFY && type !== UpdateType.DELETE)
    throw invalid('update type must be INSERT, MODIFY or DELETE');
  if (entity.tableEntry)
    return {
      tableEntry: reading
        ? validateTableRead(schema, entity.tableEntry).query
        : validateTableEntry(schema, entity.tableEntry, type),
    };
  const onlyModify = (kind: string): void => {
    if (!reading && type !== UpdateType.MODIFY) throw invalid(`${kind}: only MODIFY is allowed`);
  };
  if (entity.counterEntry) {
    const c = entity.counterEntry;
    onlyModify('counter_entry');
    if (reading && !c.counterId) return { counterEntry: { counterId: 0 } };
    const info = schema.counters.byIdOrUndefined(c.counterId ?? 0);
    if (!info) throw invalid(`unknown counter id ${c.counterId}`);
    const what = `counter "${info.preamble?.name}"`;
    // An unset data leaves the value as it is (spec: CounterEntry).
    return {
      counterEntry: {
        counterId: c.counterId,
        index: index(c.index, info.size, what),
        data: reading || !c.data ? null : counterData(c.data),
      },
    };
  }
  if (entity.meterEntry) {
    const mt = entity.meterEntry;
    onlyModify('meter_entry');
    noColourCounters(mt.counterData, 'meter_entry counter_data');
    if (reading && !mt.meterId) return { meterEntry: { meterId: 0 } };
    const info = schema.meters.byIdOrUndefined(mt.meterId ?? 0);
    if (!info) throw invalid(`unknown meter id ${mt.meterId}`);
    const what = `meter "${info.preamble?.name}"`;
    return {
      meterEntry: {
        meterId: mt.meterId,
        index: index(mt.index, info.size, what),
        config: reading || !mt.config ? null : meterConfig(mt.config, what, info.spec),
      },
    };
  }
  if (entity.directCounterEntry) {
    const d = entity.directCounterEntry;
    onlyModify('direct_counter_entry');
    if (!d.tableEntry) throw invalid('direct_counter_entry: table_entry is required');
    const te = tableEntryKey(schema, d.tableEntry, 'direct_counter_entry', reading);
    if (te.tableId && !schema.tableById(te.tableId)?.directCounter)
      throw invalid(`table "${schema.tables.nameOf(te.tableId)}" has no direct counter`);
    return {
      directCounterEntry: { tableEntry: te, data: reading || !d.data ? null : counterData(d.data) },
    };
  }
  if (entity.directMeterEntry) {
    const d = entity.directMeterEntry;
    onlyModify('direct_meter_entry');
    noColourCounters(d.counterData, 'direct_meter_entry counter_data');
    if (!d.tableEntry) throw invalid('direct_meter_entry: table_entry is required');
    const te = tableEntryKey(schema, d.tableEntry, 'direct_meter_entry', reading);
    const meter = te.tableId ? schema.tableById(te.tableId)?.directMeter : undefined;
    if (te.tableId && !meter)
      throw invalid(`table "${schema.tables.nameOf(te.tableId)}" has no direct meter`);
    return {
      directMeterEntry: {
        tableEntry: te,
        // An unset config resets the meter to its default (every packet green).
        config: reading || !d.config ? null : meterConfig(d.config, 'direct_meter_entry config', meter?.spec),
      },
    };
  }
  if (entity.packetReplicationEngineEntry)
    return { packetReplicationEngineEntry: preEntry(entity.packetReplicationEngineEntry, type) };
  if (entity.registerEntry || entity.valueSetEntry || entity.externEntry) {
    const [kind, id, known] = entity.registerEntry
      ? [
          'register',
          entity.registerEntry.registerId ?? 0,
          schema.registers.byIdOrUndefined(entity.registerEntry.registerId ?? 0),
        ]
      : entity.valueSetEntry
        ? [
            'value set',
            entity.valueSetEntry.valueSetId ?? 0,
            schema.valueSets.byIdOrUndefined(entity.valueSetEntry.valueSetId ?? 0),
          ]
        : ['extern', entity.externEntry!.externTypeId ?? 0, undefined];
    if (id && !known && kind !== 'extern') throw invalid(`unknown ${kind} id ${id}`);
    if (!reading)
      throw new DeviceError(Code.UNIMPLEMENTED, `writing ${kind} entries is not supported by this server`);
    return entity;
  }
  if (entity.actionProfileMember || entity.actionProfileGroup) {
    const isMember = !!entity.actionProfileMember;
    const e = (entity.actionProfileMember ?? entity.actionProfileGroup)!;
    const kind = isMember ? 'action_profile_member' : 'action_profile_group';
    if (reading && !e.actionProfileId)
      return isMember ? { actionProfileMember: {} } : { actionProfileGroup: {} };
    const profile = schema.actionProfiles.byIdOrUndefined(e.actionProfileId ?? 0);
    if (!profile) throw invalid(`${kind}: unknown action profile id ${e.actionProfileId}`);
    const pname = profile.preamble?.name;
    if (isMember) {
      const mem = entity.actionProfileMember!;
      if (reading || type === UpdateType.DELETE)
        return { actionProfileMember: { actionProfileId: mem.actionProfileId, memberId: mem.memberId ?? 0 } };
      if (!mem.action)
        throw invalid(`action profile "${pname}" member ${mem.memberId}: an action is required`);
      // The action must be one that the profile's tables may run.
      const tables = (profile.tableIds ?? [])
        .map((id) => schema.tableById(id))
        .filter((x) => x !== undefined);
      if (!tables.some((t) => (t.info.actionRefs ?? []).some((r) => r.id === mem.action!.actionId)))
        throw invalid(
          `action profile "${pname}": action id ${mem.action.actionId} is not an action of its tables`,
        );
      return {
        actionProfileMember: {
          actionProfileId: mem.actionProfileId,
          memberId: mem.memberId ?? 0,
          action: validateAction(schema, undefined, mem.action, false),
        },
      };
    }
    const g = entity.actionProfileGroup!;
    if (!profile.withSelector)
      throw invalid(`action profile "${pname}" has no selector, so it has no groups`);
    if (reading || type === UpdateType.DELETE)
      return { actionProfileGroup: { actionProfileId: g.actionProfileId, groupId: g.groupId ?? 0 } };
    const maxGroup = profile.maxGroupSize ?? 0;
    const maxSize = g.maxSize ?? 0;
    if (maxSize < 0 || (maxGroup > 0 && maxSize > maxGroup))
      throw invalid(
        `action profile "${pname}" group ${g.groupId}: max_size ${maxSize} exceeds max_group_size ${maxGroup}`,
      );
    const members = g.members ?? [];
    const limit = maxSize || maxGroup;
    if (limit > 0 && members.length > limit)
      throw new DeviceError(
        Code.RESOURCE_EXHAUSTED,
        `action profile "${pname}" group ${g.groupId}: more than ${limit} members`,
      );
    const seen = new Set<number>();
    for (const mb of members) {
      if ((mb.weight ?? 0) <= 0)
        throw invalid(
          `action profile "${pname}" group ${g.groupId}: member ${mb.memberId} needs a weight > 0`,
        );
      if (seen.has(mb.memberId ?? 0))
        throw invalid(`action profile "${pname}" group ${g.groupId}: member ${mb.memberId} listed twice`);
      seen.add(mb.memberId ?? 0);
    }
    return {
      actionProfileGroup: {
        actionProfileId: g.actionProfileId,
        groupId: g.groupId ?? 0,
        maxSize,
        members: members.map((mb) => ({ memberId: mb.memberId ?? 0, weight: mb.weight ?? 0 })),
      },
    };
  }
  if (entity.digestEntry) {
    const d = entity.digestEntry;
    if (reading && !d.digestId) return { digestEntry: { digestId: 0 } };
    const info = schema.digests.byIdOrUndefined(d.digestId ?? 0);
    if (!info) throw invalid(`unknown digest id ${d.digestId}`);
    if (!reading && type !== UpdateType.DELETE && !d.config)
      throw invalid(`digest "${info.preamble?.name}": config is required`);
    return {
      digestEntry: { digestId: d.digestId, config: reading || type === UpdateType.DELETE ? null : d.config },
    };
  }
  const kind = Object.keys(entity).find((k) => (entity as Record<string, unknown>)[k]);
  if (!kind) throw invalid('entity is empty (set exactly one of table_entry, counter_entry, …)');
  throw new DeviceError(Code.UNIMPLEMENTED, `entity kind ${kind} is not supported by this server`);
}

/** A replica's port as canonical bytes, from `port` or the deprecated 32-bit `egress_port`. */
function replicaPort(r: { port?: Uint8Array; egressPort?: number }, what: string): Uint8Array {
  if (r.port?.length) return canonicalBytes(r.port);
  if (!r.egressPort) throw invalid(`${what}: a replica needs a port`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(r.egressPort >>> 0);
  return canonicalBytes(b);
}

/**
 * Replicas of a multicast group or clone session (spec: PacketReplicationEngineEntry): every
 * (port, instance) pair is unique among the replicas and their backups, and no replica shares a
 * port with its own backups.
 */
function replicas(list: Replica[] | undefined, what: string): Replica[] {
  const seen = new Set<string>();
  const unique = (port: Uint8Array, instance: number): void => {
    const key = `${Buffer.from(port).toString('hex')}/${instance}`;
    if (seen.has(key))
      throw invalid(`${what}: replica (port 0x${key.replace('/', ', instance ')}) is given twice`);
    seen.add(key);
  };
  return (list ?? []).map((r) => {
    const port = replicaPort(r, what);
    unique(port, r.instance ?? 0);
    const backups = (r.backupReplicas ?? []).map((b) => {
      const bport = replicaPort(b, what);
      if (Buffer.compare(Buffer.from(bport), Buffer.from(port)) === 0)
        throw invalid(`${what}: a backup replica has the port of its primary replica`);
      unique(bport, b.instance ?? 0);
      return { port: bport, instance: b.instance ?? 0 };
    });
    const out: Replica = { port, instance: r.instance ?? 0 };
    if (backups.length) out.backupReplicas = backups;
    return out;
  });
}

/** A multicast group or clone session; id 0 is the read wildcard and never written. */
function preEntry(
  pre: PacketReplicationEngineEntry,
  type: UpdateType | undefined,
): PacketReplicationEngineEntry {
  const reading = type === undefined;
  if (pre.multicastGroupEntry) {
    const g = pre.multicastGroupEntry;
    const id = g.multicastGroupId ?? 0;
    if (reading) return { multicastGroupEntry: { multicastGroupId: id } };
    if (!id) throw invalid('multicast_group_id 0 is the read wildcard; a group needs an id > 0');
    if (type === UpdateType.DELETE) return { multicastGroupEntry: { multicastGroupId: id } };
    const what = `multicast group ${id}`;
    const out = {
      multicastGroupId: id,
      replicas: replicas(g.replicas, what),
      metadata: g.metadata?.length ? g.metadata : undefined,
    };
    return { multicastGroupEntry: out };
  }
  if (pre.cloneSessionEntry) {
    const cs = pre.cloneSessionEntry;
    const id = cs.sessionId ?? 0;
    if (reading) return { cloneSessionEntry: { sessionId: id } };
    if (!id) throw invalid('session_id 0 is the read wildcard; a clone session needs an id > 0');
    if (type === UpdateType.DELETE) return { cloneSessionEntry: { sessionId: id } };
    const what = `clone session ${id}`;
    if ((cs.packetLengthBytes ?? 0) < 0) throw invalid(`${what}: packet_length_bytes must be ≥ 0`);
    return {
      cloneSessionEntry: {
        sessionId: id,
        replicas: replicas(cs.replicas, what),
        classOfService: cs.classOfService ?? 0,
        packetLengthBytes: cs.packetLengthBytes ?? 0,
      },
    };
  }
  throw invalid('packet_replication_engine_entry: set multicast_group_entry or clone_session_entry');
}
