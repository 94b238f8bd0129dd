/**
 * Server-side validation of P4Runtime entities against the committed P4Info. Each check throws
 * DeviceError(INVALID_ARGUMENT …) naming the offending field; a valid entity comes back in
 * canonical form (bytestrings without leading zeros, match fields sorted by id) so that the
 * device can key entries on it directly.
 */
import { status as Code } from '@grpc/grpc-js';
import { DeviceError } from './device';
import type { Action, Entity, FieldMatch, Index, MeterConfig, TableAction, TableEntry } from './messages';
import { ActionRefScope, IdleTimeoutBehavior, MatchType, UpdateType } from './messages';
import type { P4Schema, TableFacts } from './schema';
import { bitLength, canonicalBytes, int64ToBigInt } from './values';

function invalid(message: string): DeviceError {
  return new DeviceError(Code.INVALID_ARGUMENT, message);
}

function bytesOf(b: Uint8Array | undefined, what: string, width: number): Uint8Array {
  if (!b || b.length === 0) throw invalid(`${what}: empty bytestring`);
  if (width > 0 && bitLength(b) > width) throw invalid(`${what}: value does not fit in ${width} bits`);
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

function fieldMatch(t: TableFacts, m: FieldMatch): FieldMatch {
  const f = t.fieldsById.get(m.fieldId ?? 0);
  if (!f) throw invalid(`table "${t.name}": unknown match field id ${m.fieldId}`);
  const w = f.bitwidth ?? 0;
  const what = `table "${t.name}" match field "${f.name}"`;
  const id = m.fieldId;
  switch (f.matchType) {
    case MatchType.EXACT:
      if (!m.exact) throw invalid(`${what}: expected an exact match`);
      return { fieldId: id, exact: { value: bytesOf(m.exact.value, what, w) } };
    case MatchType.OPTIONAL:
      if (!m.optional) throw invalid(`${what}: expected an optional match`);
      return { fieldId: id, optional: { value: bytesOf(m.optional.value, what, w) } };
    case MatchType.LPM: {
      if (!m.lpm) throw invalid(`${what}: expected an LPM match`);
      const p = m.lpm.prefixLen ?? 0;
      if (p <= 0 || p > w)
        throw invalid(`${what}: prefix length ${p} is outside 1..${w} (omit the field for /0)`);
      const value = bytesOf(m.lpm.value, what, w);
      if (!lowBitsZero(value, w - p)) throw invalid(`${what}: bits beyond the /${p} prefix must be zero`);
      return { fieldId: id, lpm: { value, prefixLen: p } };
    }
    case MatchType.TERNARY: {
      if (!m.ternary) throw invalid(`${what}: expected a ternary match`);
      const value = bytesOf(m.ternary.value, what, w);
      const mask = bytesOf(m.ternary.mask, `${what} mask`, w);
      const mk = big(mask);
      if (mk === 0n) throw invalid(`${what}: an all-zero mask must be omitted (don't care)`);
      if (big(value) & ~mk) throw invalid(`${what}: value has bits set outside the mask`);
      return { fieldId: id, ternary: { value, mask } };
    }
    case MatchType.RANGE: {
      if (!m.range) throw invalid(`${what}: expected a range match`);
      const low = bytesOf(m.range.low, `${what} low`, w);
      const high = bytesOf(m.range.high, `${what} high`, w);
      if (big(low) > big(high)) throw invalid(`${what}: range low is above high`);
      if (big(low) === 0n && big(high) === (1n << BigInt(w)) - 1n)
        throw invalid(`${what}: a full range must be omitted (don't care)`);
      return { fieldId: id, range: { low, high } };
    }
    default:
      throw invalid(`${what}: unsupported match type`);
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
  const seen = new Set<number>();
  const params = given.map((p) => {
    const d = declared.find((x) => x.id === p.paramId);
    if (!d) throw invalid(`action "${name}": unknown parameter id ${p.paramId}`);
    if (seen.has(d.id ?? 0)) throw invalid(`action "${name}": parameter "${d.name}" given twice`);
    seen.add(d.id ?? 0);
    return {
      paramId: p.paramId,
      value: bytesOf(p.value, `action "${name}" parameter "${d.name}"`, d.bitwidth ?? 0),
    };
  });
  params.sort((x, y) => (x.paramId ?? 0) - (y.paramId ?? 0));
  return { actionId: a.actionId, params };
}

function meterConfig(c: MeterConfig, what: string): MeterConfig {
  const [cir, cburst, pir, pburst] = [num(c.cir), num(c.cburst), num(c.pir), num(c.pburst)];
  if (cir < 0n || cburst < 0n || pir < 0n || pburst < 0n)
    throw invalid(`${what}: meter rates and bursts must be ≥ 0`);
  if (pir < cir) throw invalid(`${what}: peak rate (pir) must be ≥ committed rate (cir)`);
  return { cir: cir.toString(), cburst: cburst.toString(), pir: pir.toString(), pburst: pburst.toString() };
}

/**
 * Validates a table entry. `type` is the update type for writes, or undefined for reads
 * (where an empty match means "all entries" and the table id 0 means "all tables").
 */
export function validateTableEntry(
  schema: P4Schema,
  e: TableEntry,
  type: UpdateType | undefined,
): TableEntry {
  const reading = type === undefined;
  if (reading && !e.tableId) return { tableId: 0, counterData: e.counterData ? {} : null };
  const t = schema.tableById(e.tableId ?? 0);
  if (!t) throw invalid(`unknown table id ${e.tableId}`);
  if (!reading && t.info.isConstTable)
    throw new DeviceError(Code.PERMISSION_DENIED, `table "${t.name}" is const and cannot be written`);
  const out: TableEntry = { tableId: t.id };
  const priority = e.priority ?? 0;
  if (e.isDefaultAction) {
    if ((e.match ?? []).length) throw invalid(`table "${t.name}": a default entry must have no match fields`);
    if (priority) throw invalid(`table "${t.name}": a default entry must have no priority`);
    out.isDefaultAction = true;
    if (!reading) {
      if (type !== UpdateType.MODIFY)
        throw invalid(`table "${t.name}": the default entry can only be modified (not inserted or deleted)`);
      if (t.info.constDefaultActionId)
        throw new DeviceError(Code.PERMISSION_DENIED, `table "${t.name}" has a const default action`);
      if (!e.action?.action) throw invalid(`table "${t.name}": a default entry needs a direct action`);
      out.action = { action: validateAction(schema, t, e.action.action, true) };
    }
    return out;
  }
  const seen = new Set<number>();
  const match = (e.match ?? []).map((m) => {
    if (seen.has(m.fieldId ?? 0)) throw invalid(`table "${t.name}": match field id ${m.fieldId} given twice`);
    seen.add(m.fieldId ?? 0);
    return fieldMatch(t, m);
  });
  match.sort((a, b) => (a.fieldId ?? 0) - (b.fieldId ?? 0));
  out.match = match;
  if (reading && match.length === 0) {
    if (e.counterData) out.counterData = {};
    return out;
  }
  for (const f of t.info.matchFields ?? [])
    if (f.matchType === MatchType.EXACT && !seen.has(f.id ?? 0))
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
  if (reading) {
    if (e.counterData) out.counterData = {};
    return out;
  }
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
  }
  const direct = t.info.directResourceIds ?? [];
  const hasDirectCounter = direct.some((id) => schema.directCounters.byIdOrUndefined(id));
  const hasDirectMeter = direct.some((id) => schema.directMeters.byIdOrUndefined(id));
  if (e.counterData) {
    if (!hasDirectCounter)
      throw invalid(`table "${t.name}" has no direct counter (counter_data must be unset)`);
    out.counterData = {
      byteCount: num(e.counterData.byteCount).toString(),
      packetCount: num(e.counterData.packetCount).toString(),
    };
  }
  if (e.meterConfig) {
    if (!hasDirectMeter) throw invalid(`table "${t.name}" has no direct meter (meter_config must be unset)`);
    out.meterConfig = meterConfig(e.meterConfig, `table "${t.name}" meter_config`);
  }
  const idle = isZero(e.idleTimeoutNs) ? 0n : num(e.idleTimeoutNs);
  if (idle !== 0n) {
    if (t.info.idleTimeoutBehavior !== IdleTimeoutBehavior.NOTIFY_CONTROL)
      throw invalid(`table "${t.name}" does not support idle timeout (idle_timeout_ns must be 0)`);
    if (idle < 0n) throw invalid(`table "${t.name}": idle_timeout_ns must be ≥ 0`);
    out.idleTimeoutNs = idle.toString();
  }
  if (e.metadata?.length) out.metadata = e.metadata;
  if (!isZero(e.controllerMetadata)) out.controllerMetadata = e.controllerMetadata;
  if (e.timeSinceLastHit) throw invalid(`table "${t.name}": time_since_last_hit must be unset in a write`);
  return out;
}

function index(i: Index | null | undefined, size: unknown, what: string, reading: boolean): Index | null {
  if (!i) {
    if (reading) return null;
    return null; // a write without index applies to every cell
  }
  const n = num(i.index);
  if (n < 0n || n >= num(size)) throw invalid(`${what}: index ${n} is outside 0..${num(size) - 1n}`);
  return { index: n.toString() };
}

/** Validates one entity of a Write (`type` set) or a Read (`type` undefined). */
export function validateEntity(schema: P4Schema, entity: Entity, type: UpdateType | undefined): Entity {
  const reading = type === undefined;
  if (!reading && type !== UpdateType.INSERT && type !== UpdateType.MODIFY && type !== UpdateType.DELETE)
    throw invalid('update type must be INSERT, MODIFY or DELETE');
  if (entity.tableEntry) return { tableEntry: validateTableEntry(schema, entity.tableEntry, type) };
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
    return {
      counterEntry: {
        counterId: c.counterId,
        index: index(c.index, info.size, what, reading),
        data: reading
          ? null
          : {
              byteCount: num(c.data?.byteCount).toString(),
              packetCount: num(c.data?.packetCount).toString(),
            },
      },
    };
  }
  if (entity.meterEntry) {
    const mt = entity.meterEntry;
    onlyModify('meter_entry');
    if (reading && !mt.meterId) return { meterEntry: { meterId: 0 } };
    const info = schema.meters.byIdOrUndefined(mt.meterId ?? 0);
    if (!info) throw invalid(`unknown meter id ${mt.meterId}`);
    const what = `meter "${info.preamble?.name}"`;
    return {
      meterEntry: {
        meterId: mt.meterId,
        index: index(mt.index, info.size, what, reading),
        config: reading || !mt.config ? null : meterConfig(mt.config, what),
      },
    };
  }
  if (entity.directCounterEntry) {
    const d = entity.directCounterEntry;
    onlyModify('direct_counter_entry');
    if (!d.tableEntry) throw invalid('direct_counter_entry: table_entry is required');
    const te = validateTableEntry(
      schema,
      { ...d.tableEntry, action: null, counterData: null },
      reading ? undefined : UpdateType.DELETE,
    );
    if (
      te.tableId &&
      !(schema.tableById(te.tableId)?.info.directResourceIds ?? []).some((id) =>
        schema.directCounters.byIdOrUndefined(id),
      )
    )
      throw invalid(`table "${schema.tables.nameOf(te.tableId)}" has no direct counter`);
    return {
      directCounterEntry: {
        tableEntry: te,
        data: reading
          ? null
          : {
              byteCount: num(d.data?.byteCount).toString(),
              packetCount: num(d.data?.packetCount).toString(),
            },
      },
    };
  }
  if (entity.directMeterEntry) {
    const d = entity.directMeterEntry;
    onlyModify('direct_meter_entry');
    if (!d.tableEntry) throw invalid('direct_meter_entry: table_entry is required');
    const te = validateTableEntry(
      schema,
      { ...d.tableEntry, action: null, meterConfig: null },
      reading ? undefined : UpdateType.DELETE,
    );
    if (
      te.tableId &&
      !(schema.tableById(te.tableId)?.info.directResourceIds ?? []).some((id) =>
        schema.directMeters.byIdOrUndefined(id),
      )
    )
      throw invalid(`table "${schema.tables.nameOf(te.tableId)}" has no direct meter`);
    return {
      directMeterEntry: {
        tableEntry: te,
        config: reading || !d.config ? null : meterConfig(d.config, 'direct_meter_entry config'),
      },
    };
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
