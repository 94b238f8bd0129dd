/**
 * MemoryDevice: a Device that holds the real control-plane state in memory (table entries keyed
 * by their match, default entries, direct and indirect counters and meters, digest configs)
 * with no packet engine under it. Tests and the conformance suite use it; the softnic wraps the
 * same semantics around its packet engine. Packet I/O, digests and table hits are driven from
 * outside through injectPacketIn(), emitDigest() and hit().
 */
import { status as Code } from '@grpc/grpc-js';
import type { Device, DeviceEvents, PipelineConfig, UpdateResult } from './device';
import { DeviceError } from './device';
import type {
  ActionProfileGroup,
  ActionProfileMember,
  CloneSessionEntry,
  CounterData,
  DigestEntryConfig,
  Entity,
  MeterConfig,
  MulticastGroupEntry,
  P4Data,
  PacketIn,
  PacketOut,
  TableEntry,
  Update,
} from './messages';
import { Atomicity, UpdateType } from './messages';
import type { P4Schema } from './schema';
import { int64ToBigInt } from './values';

interface Counter {
  bytes: bigint;
  packets: bigint;
}

/** Counters are replaced, never mutated, so every fresh entry can share this one. */
const ZERO: Counter = Object.freeze({ bytes: 0n, packets: 0n });

interface StoredEntry {
  entry: TableEntry;
  counter: Counter;
  meter: MeterConfig | null;
  /** ms timestamp of the last hit (or insertion). */
  lastHit: number;
  idleNs: bigint;
  idleNotified: boolean;
}

interface TableState {
  entries: Map<string, StoredEntry>;
  /** The default entry a controller wrote; undefined: the program's (`initial`). */
  defaultEntry: TableEntry | undefined;
  /** The program's default entry from P4Info's initial_default_action, when it declares one. */
  initial: TableEntry | undefined;
  size: number;
  hasDirectCounter: boolean;
  hasDirectMeter: boolean;
}

const num = int64ToBigInt;

const KIND = { exact: 1, lpm: 2, ternary: 3, range: 4, optional: 5 } as const;

/**
 * The identity of a table entry within its table: its match and priority (canonical input), as
 * one flat latin1 string built from one buffer (a string of many concatenated pieces would be
 * flattened again by every Map lookup). Lengths delimit the byte strings, so no two matches
 * share a key.
 */
export function entryKey(e: TableEntry): string {
  const match = e.match ?? [];
  const parts: Uint8Array[] = [];
  let size = 4;
  for (const m of match) {
    const vs = m.exact
      ? [m.exact.value]
      : m.lpm
        ? [m.lpm.value]
        : m.ternary
          ? [m.ternary.value, m.ternary.mask]
          : m.range
            ? [m.range.low, m.range.high]
            : m.optional
              ? [m.optional.value]
              : [];
    size += 6;
    for (const v of vs) {
      const b = v ?? EMPTY;
      parts.push(b);
      size += 2 + b.length;
    }
  }
  const key = Buffer.allocUnsafe(size);
  key.writeInt32LE(e.priority ?? 0, 0);
  let at = 4;
  let p = 0;
  for (const m of match) {
    key.writeUInt32LE(m.fieldId ?? 0, at);
    const kind = m.exact
      ? KIND.exact
      : m.lpm
        ? KIND.lpm
        : m.ternary
          ? KIND.ternary
          : m.range
            ? KIND.range
            : m.optional
              ? KIND.optional
              : 0;
    key[at + 4] = kind;
    key[at + 5] = m.lpm ? (m.lpm.prefixLen ?? 0) : 0;
    at += 6;
    const n = kind === KIND.ternary || kind === KIND.range ? 2 : kind ? 1 : 0;
    for (let i = 0; i < n; i++) {
      const b = parts[p++];
      key.writeUInt16LE(b.length, at);
      key.set(b, at + 2);
      at += 2 + b.length;
    }
  }
  return key.toString('latin1', 0, at);
}

const EMPTY = new Uint8Array(0);

/** A journal of undo steps, so ROLLBACK_ON_ERROR can restore the state before the batch. */
type Undo = () => void;

export interface MemoryDeviceOptions {
  /** How often idle timeouts are checked, in ms (default 50). */
  idleScanMs?: number;
  /** Called for every PacketOut (after it was recorded). */
  onPacketOut?: (packet: PacketOut) => void;
}

export class MemoryDevice implements Device {
  readonly atomicity: readonly Atomicity[] = [
    Atomicity.CONTINUE_ON_ERROR,
    Atomicity.ROLLBACK_ON_ERROR,
    Atomicity.DATAPLANE_ATOMIC,
  ];
  readonly canReconcile = true;
  /** Every PacketOut received, oldest first (tests read it). */
  readonly packetOuts: PacketOut[] = [];

  private schema: P4Schema | undefined;
  private tables = new Map<number, TableState>();
  private counters = new Map<number, Counter[]>();
  private meters = new Map<number, (MeterConfig | null)[]>();
  private digestConfigs = new Map<number, DigestEntryConfig>();
  /** Action profile members and groups, by profile id then member/group id. */
  private members = new Map<number, Map<number, ActionProfileMember>>();
  private groups = new Map<number, Map<number, ActionProfileGroup>>();
  /** The packet replication engine: multicast groups and clone sessions by id. */
  private multicastGroups = new Map<number, MulticastGroupEntry>();
  private cloneSessions = new Map<number, CloneSessionEntry>();
  private events: DeviceEvents | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly idleEntries = new Set<StoredEntry>();

  constructor(private readonly options: MemoryDeviceOptions = {}) {}

  attach(events: DeviceEvents): void {
    this.events = events;
  }

  async verifyPipeline(config: PipelineConfig): Promise<void> {
    // This device realises any well-formed P4Info; the device config is opaque to it.
    for (const t of config.p4info.tables ?? [])
      if ((t.matchFields ?? []).some((f) => !f.matchType))
        throw new DeviceError(
          Code.INVALID_ARGUMENT,
          `table "${t.preamble?.name}" has a match field without a standard match type`,
        );
  }

  async commitPipeline(config: PipelineConfig, preserveState: boolean): Promise<void> {
    const s = config.schema;
    const tables = new Map<number, TableState>();
    for (const t of s.tables.all) {
      const id = t.preamble?.id ?? 0;
      const direct = t.directResourceIds ?? [];
      const init = t.initialDefaultAction;
      tables.set(id, {
        entries: new Map(),
        defaultEntry: undefined,
        initial: init
          ? {
              tableId: id,
              isDefaultAction: true,
              action: {
                action: {
                  actionId: init.actionId,
                  params: (init.arguments ?? []).map((a) => ({ paramId: a.paramId, value: a.value })),
                },
              },
            }
          : undefined,
        size: Number(num(t.size)) || Infinity,
        hasDirectCounter: direct.some((d) => s.directCounters.byIdOrUndefined(d)),
        hasDirectMeter: direct.some((d) => s.directMeters.byIdOrUndefined(d)),
      });
    }
    if (preserveState && this.schema) {
      for (const [id, old] of this.tables) {
        if (old.entries.size === 0 && !old.defaultEntry) continue;
        const next = tables.get(id);
        const before = this.schema.tableById(id);
        const after = s.tableById(id);
        const sameKey =
          before &&
          after &&
          before.name === after.name &&
          JSON.stringify(before.info.matchFields?.map((f) => [f.id, f.bitwidth, f.matchType])) ===
            JSON.stringify(after.info.matchFields?.map((f) => [f.id, f.bitwidth, f.matchType]));
        if (!next || !sameKey)
          throw new DeviceError(
            Code.INVALID_ARGUMENT,
            `cannot preserve the entries of table "${before?.name ?? id}": it is gone or its key changed`,
          );
        next.entries = old.entries;
        next.defaultEntry = old.defaultEntry;
      }
    } else this.idleEntries.clear();
    this.tables = tables;
    const counters = new Map<number, Counter[]>();
    for (const c of s.counters.all) {
      const id = c.preamble?.id ?? 0;
      const keep = preserveState ? this.counters.get(id) : undefined;
      counters.set(
        id,
        keep ?? Array.from({ length: Number(num(c.size)) }, () => ({ bytes: 0n, packets: 0n })),
      );
    }
    this.counters = counters;
    const meters = new Map<number, (MeterConfig | null)[]>();
    for (const m of s.meters.all) {
      const id = m.preamble?.id ?? 0;
      meters.set(
        id,
        (preserveState && this.meters.get(id)) || Array<MeterConfig | null>(Number(num(m.size))).fill(null),
      );
    }
    this.meters = meters;
    if (!preserveState) {
      this.digestConfigs.clear();
      this.members.clear();
      this.groups.clear();
      this.multicastGroups.clear();
      this.cloneSessions.clear();
    }
    this.schema = s;
    this.startIdleScan();
  }

  async write(updates: readonly Update[], atomicity: Atomicity): Promise<UpdateResult[]> {
    const results: UpdateResult[] = [];
    const undo: Undo[] = [];
    const atomic = atomicity !== Atomicity.CONTINUE_ON_ERROR;
    for (let i = 0; i < updates.length; i++) {
      try {
        this.apply(updates[i], atomic ? undo : undefined);
        results.push(undefined);
      } catch (e) {
        const err = e instanceof DeviceError ? e : new DeviceError(Code.INTERNAL, String(e));
        if (!atomic) {
          results.push(err);
          continue;
        }
        for (let j = undo.length - 1; j >= 0; j--) undo[j]();
        return updates.map((_, j) =>
          j === i ? err : new DeviceError(Code.ABORTED, j < i ? 'rolled back' : 'not attempted'),
        );
      }
    }
    return results;
  }

  private table(id: number): TableState {
    const t = this.tables.get(id);
    if (!t) throw new DeviceError(Code.NOT_FOUND, `table id ${id} is not in the pipeline`);
    return t;
  }

  private apply(u: Update, undo: Undo[] | undefined): void {
    const e = u.entity!;
    if (e.tableEntry) return this.applyTableEntry(u.type!, e.tableEntry, undo);
    if (e.counterEntry) {
      const cells = this.counters.get(e.counterEntry.counterId ?? 0)!;
      const idx = e.counterEntry.index ? [Number(num(e.counterEntry.index.index))] : cells.map((_, i) => i);
      const data = e.counterEntry.data;
      if (!data) return; // unset data leaves the value (spec: CounterEntry)
      for (const i of idx) {
        const old = cells[i];
        cells[i] = { bytes: num(data?.byteCount), packets: num(data?.packetCount) };
        undo?.push(() => (cells[i] = old));
      }
      return;
    }
    if (e.meterEntry) {
      const cells = this.meters.get(e.meterEntry.meterId ?? 0)!;
      const idx = e.meterEntry.index ? [Number(num(e.meterEntry.index.index))] : cells.map((_, i) => i);
      for (const i of idx) {
        const old = cells[i];
        cells[i] = e.meterEntry.config ?? null;
        undo?.push(() => (cells[i] = old));
      }
      return;
    }
    if (e.directCounterEntry || e.directMeterEntry) {
      const te = (e.directCounterEntry ?? e.directMeterEntry)!.tableEntry!;
      const stored = this.table(te.tableId ?? 0).entries.get(entryKey(te));
      if (!stored) throw new DeviceError(Code.NOT_FOUND, 'no table entry with this match');
      if (e.directCounterEntry) {
        const old = stored.counter;
        const d = e.directCounterEntry.data;
        if (!d) return; // unset data leaves the value (spec: DirectCounterEntry)
        stored.counter = { bytes: num(d.byteCount), packets: num(d.packetCount) };
        undo?.push(() => (stored.counter = old));
      } else {
        const old = stored.meter;
        stored.meter = e.directMeterEntry!.config ?? null;
        undo?.push(() => (stored.meter = old));
      }
      return;
    }
    if (e.packetReplicationEngineEntry) {
      const pre = e.packetReplicationEngineEntry;
      if (pre.multicastGroupEntry) {
        const g = pre.multicastGroupEntry;
        const id = g.multicastGroupId ?? 0;
        return this.applyKeyed(u.type!, this.multicastGroups, id, g, `multicast group ${id}`, undo);
      }
      const cs = pre.cloneSessionEntry!;
      const id = cs.sessionId ?? 0;
      return this.applyKeyed(u.type!, this.cloneSessions, id, cs, `clone session ${id}`, undo);
    }
    if (e.actionProfileMember) return this.applyMember(u.type!, e.actionProfileMember, undo);
    if (e.actionProfileGroup) return this.applyGroup(u.type!, e.actionProfileGroup, undo);
    if (e.digestEntry) {
      const id = e.digestEntry.digestId ?? 0;
      const old = this.digestConfigs.get(id);
      if (u.type === UpdateType.INSERT && old)
        throw new DeviceError(Code.ALREADY_EXISTS, `digest ${id} is already configured`);
      if (u.type !== UpdateType.INSERT && !old)
        throw new DeviceError(Code.NOT_FOUND, `digest ${id} is not configured`);
      if (u.type === UpdateType.DELETE) this.digestConfigs.delete(id);
      else this.digestConfigs.set(id, e.digestEntry.config ?? {});
      undo?.push(() => (old ? this.digestConfigs.set(id, old) : this.digestConfigs.delete(id)));
      return;
    }
    throw new DeviceError(Code.UNIMPLEMENTED, 'entity kind not supported by the memory device');
  }

  private profileMap<T>(all: Map<number, Map<number, T>>, profileId: number): Map<number, T> {
    let m = all.get(profileId);
    if (!m) all.set(profileId, (m = new Map()));
    return m;
  }

  /** Insert/modify/delete one keyed object with ALREADY_EXISTS/NOT_FOUND and an undo step. */
  private applyKeyed<T>(
    type: UpdateType,
    map: Map<number, T>,
    id: number,
    value: T,
    what: string,
    undo: Undo[] | undefined,
  ): void {
    const old = map.get(id);
    if (type === UpdateType.INSERT && old !== undefined)
      throw new DeviceError(Code.ALREADY_EXISTS, `${what} already exists`);
    if (type !== UpdateType.INSERT && old === undefined)
      throw new DeviceError(Code.NOT_FOUND, `${what} does not exist`);
    if (type === UpdateType.DELETE) map.delete(id);
    else map.set(id, value);
    undo?.push(() => (old === undefined ? map.delete(id) : map.set(id, old)));
  }

  private applyMember(type: UpdateType, mem: ActionProfileMember, undo: Undo[] | undefined): void {
    const profile = mem.actionProfileId ?? 0;
    const id = mem.memberId ?? 0;
    if (type === UpdateType.DELETE && this.memberInUse(profile, id))
      throw new DeviceError(
        Code.FAILED_PRECONDITION,
        `member ${id} is still used by a group or a table entry`,
      );
    this.applyKeyed(type, this.profileMap(this.members, profile), id, mem, `member ${id}`, undo);
  }

  private applyGroup(type: UpdateType, g: ActionProfileGroup, undo: Undo[] | undefined): void {
    const profile = g.actionProfileId ?? 0;
    const id = g.groupId ?? 0;
    const members = this.members.get(profile);
    for (const mb of g.members ?? [])
      if (!members?.has(mb.memberId ?? 0))
        throw new DeviceError(Code.NOT_FOUND, `group ${id}: member ${mb.memberId} does not exist`);
    if (type === UpdateType.DELETE && this.groupInUse(profile, id))
      throw new DeviceError(Code.FAILED_PRECONDITION, `group ${id} is still used by a table entry`);
    this.applyKeyed(type, this.profileMap(this.groups, profile), id, g, `group ${id}`, undo);
  }

  private profileOf(tableId: number): number {
    return this.schema?.tableById(tableId)?.info.implementationId ?? 0;
  }

  private memberInUse(profile: number, id: number): boolean {
    for (const g of this.groups.get(profile)?.values() ?? [])
      if (g.members?.some((mb) => mb.memberId === id)) return true;
    for (const [tableId, t] of this.tables)
      if (this.profileOf(tableId) === profile)
        for (const s of t.entries.values())
          if (s.entry.action?.actionProfileMemberId === id && !s.entry.action.actionProfileGroupId)
            return true;
    return false;
  }

  private groupInUse(profile: number, id: number): boolean {
    for (const [tableId, t] of this.tables)
      if (this.profileOf(tableId) === profile)
        for (const s of t.entries.values()) if (s.entry.action?.actionProfileGroupId === id) return true;
    return false;
  }

  /** An indirect entry must point at an existing member or group of its table's profile. */
  private checkIndirect(te: TableEntry): void {
    const a = te.action;
    if (!a || a.action) return;
    const profile = this.profileOf(te.tableId ?? 0);
    if (a.actionProfileGroupId) {
      if (!this.groups.get(profile)?.has(a.actionProfileGroupId))
        throw new DeviceError(Code.NOT_FOUND, `group ${a.actionProfileGroupId} does not exist`);
    } else if (a.actionProfileMemberId !== undefined && a.actionProfileMemberId !== null) {
      if (!this.members.get(profile)?.has(a.actionProfileMemberId))
        throw new DeviceError(Code.NOT_FOUND, `member ${a.actionProfileMemberId} does not exist`);
    }
  }

  private applyTableEntry(type: UpdateType, te: TableEntry, undo: Undo[] | undefined): void {
    const t = this.table(te.tableId ?? 0);
    if (type !== UpdateType.DELETE) this.checkIndirect(te);
    if (te.isDefaultAction) {
      const old = t.defaultEntry;
      // No action resets the default entry to the program's (spec: Default Entry).
      t.defaultEntry = te.action ? te : undefined;
      undo?.push(() => (t.defaultEntry = old));
      return;
    }
    const key = entryKey(te);
    const old = t.entries.get(key);
    switch (type) {
      case UpdateType.INSERT: {
        if (old) throw new DeviceError(Code.ALREADY_EXISTS, 'an entry with this match already exists');
        if (t.entries.size >= t.size)
          throw new DeviceError(Code.RESOURCE_EXHAUSTED, `table is full (${t.size} entries)`);
        // The validated entry is a fresh object the device now owns; keep it without copying.
        const cd = te.counterData;
        const stored: StoredEntry = {
          entry: te,
          counter: cd ? { bytes: num(cd.byteCount), packets: num(cd.packetCount) } : ZERO,
          meter: te.meterConfig ?? null,
          lastHit: Date.now(),
          idleNs: te.idleTimeoutNs ? num(te.idleTimeoutNs) : 0n,
          idleNotified: false,
        };
        // Only clear what is there: adding properties would change the object's shape.
        if (cd) te.counterData = null;
        if (te.meterConfig) te.meterConfig = null;
        t.entries.set(key, stored);
        if (stored.idleNs > 0n) this.idleEntries.add(stored);
        undo?.push(() => {
          t.entries.delete(key);
          this.idleEntries.delete(stored);
        });
        return;
      }
      case UpdateType.MODIFY: {
        if (!old) throw new DeviceError(Code.NOT_FOUND, 'no entry with this match');
        const prev = { entry: old.entry, counter: old.counter, meter: old.meter, idleNs: old.idleNs };
        old.entry = { ...te, counterData: null, meterConfig: null };
        if (te.counterData)
          old.counter = { bytes: num(te.counterData.byteCount), packets: num(te.counterData.packetCount) };
        old.meter = te.meterConfig ?? null; // unset meter_config resets the meter (spec)
        old.idleNs = num(te.idleTimeoutNs);
        if (old.idleNs > 0n) this.idleEntries.add(old);
        else this.idleEntries.delete(old);
        undo?.push(() => Object.assign(old, prev));
        return;
      }
      case UpdateType.DELETE: {
        if (!old) throw new DeviceError(Code.NOT_FOUND, 'no entry with this match');
        t.entries.delete(key);
        this.idleEntries.delete(old);
        undo?.push(() => {
          t.entries.set(key, old);
          if (old.idleNs > 0n) this.idleEntries.add(old);
        });
        return;
      }
      default:
        throw new DeviceError(Code.INVALID_ARGUMENT, 'update type must be INSERT, MODIFY or DELETE');
    }
  }

  *read(entity: Entity): Iterable<Entity> {
    if (entity.tableEntry) {
      const req = entity.tableEntry;
      const ids = req.tableId ? [req.tableId] : [...this.tables.keys()];
      const now = Date.now();
      for (const id of ids) {
        const t = this.table(id);
        if (req.isDefaultAction) {
          const d = t.defaultEntry ?? t.initial;
          if (d) yield { tableEntry: d };
          continue;
        }
        const one = (req.match ?? []).length > 0;
        const source = one
          ? [t.entries.get(entryKey(req))].filter((x) => x !== undefined)
          : t.entries.values();
        for (const s of source) yield { tableEntry: this.present(t, s, req, now) };
      }
      return;
    }
    if (entity.packetReplicationEngineEntry) {
      const pre = entity.packetReplicationEngineEntry;
      if (pre.multicastGroupEntry) {
        const id = pre.multicastGroupEntry.multicastGroupId ?? 0;
        for (const [k, g] of this.multicastGroups)
          if (!id || k === id) yield { packetReplicationEngineEntry: { multicastGroupEntry: g } };
      } else {
        const id = pre.cloneSessionEntry?.sessionId ?? 0;
        for (const [k, cs] of this.cloneSessions)
          if (!id || k === id) yield { packetReplicationEngineEntry: { cloneSessionEntry: cs } };
      }
      return;
    }
    if (entity.counterEntry) {
      const ids = entity.counterEntry.counterId ? [entity.counterEntry.counterId] : [...this.counters.keys()];
      for (const id of ids) {
        const cells = this.counters.get(id) ?? [];
        const idx = entity.counterEntry.index
          ? [Number(num(entity.counterEntry.index.index))]
          : cells.map((_, i) => i);
        for (const i of idx)
          yield {
            counterEntry: { counterId: id, index: { index: i }, data: counterData(cells[i]) },
          };
      }
      return;
    }
    if (entity.meterEntry) {
      const ids = entity.meterEntry.meterId ? [entity.meterEntry.meterId] : [...this.meters.keys()];
      for (const id of ids) {
        const cells = this.meters.get(id) ?? [];
        const idx = entity.meterEntry.index
          ? [Number(num(entity.meterEntry.index.index))]
          : cells.map((_, i) => i);
        for (const i of idx) yield { meterEntry: { meterId: id, index: { index: i }, config: cells[i] } };
      }
      return;
    }
    if (entity.directCounterEntry || entity.directMeterEntry) {
      const isCounter = !!entity.directCounterEntry;
      const te = (entity.directCounterEntry ?? entity.directMeterEntry)!.tableEntry!;
      const ids = te.tableId ? [te.tableId] : [...this.tables.keys()];
      for (const id of ids) {
        const t = this.table(id);
        if (isCounter ? !t.hasDirectCounter : !t.hasDirectMeter) continue;
        const one = (te.match ?? []).length > 0;
        const source = one ? [t.entries.get(entryKey(te))] : t.entries.values();
        for (const s of source) {
          // Spec (DirectCounterEntry, DirectMeterEntry): reading a missing entry is NOT_FOUND.
          if (!s) throw new DeviceError(Code.NOT_FOUND, 'no table entry with this match');
          const key = { tableId: id, match: s.entry.match, priority: s.entry.priority };
          yield isCounter
            ? { directCounterEntry: { tableEntry: key, data: counterData(s.counter) } }
            : { directMeterEntry: { tableEntry: key, config: s.meter } };
        }
      }
      return;
    }
    if (entity.actionProfileMember || entity.actionProfileGroup) {
      const isMember = !!entity.actionProfileMember;
      const req = (entity.actionProfileMember ?? entity.actionProfileGroup)!;
      const all: Map<number, Map<number, ActionProfileMember | ActionProfileGroup>> = isMember
        ? this.members
        : this.groups;
      const id = isMember
        ? (entity.actionProfileMember!.memberId ?? 0)
        : (entity.actionProfileGroup!.groupId ?? 0);
      for (const [profile, items] of all) {
        if (req.actionProfileId && profile !== req.actionProfileId) continue;
        for (const [k, v] of items)
          if (!id || k === id)
            yield isMember
              ? { actionProfileMember: v as ActionProfileMember }
              : { actionProfileGroup: v as ActionProfileGroup };
      }
      return;
    }
    if (entity.digestEntry) {
      const id = entity.digestEntry.digestId ?? 0;
      for (const [d, config] of this.digestConfigs)
        if (!id || d === id) yield { digestEntry: { digestId: d, config } };
      return;
    }
    throw new DeviceError(Code.UNIMPLEMENTED, 'entity kind not supported by the memory device');
  }

  /** An entry as a read answers it: direct resources and idle time only when asked for. */
  private present(t: TableState, s: StoredEntry, req: TableEntry, now: number): TableEntry {
    const counters = !!req.counterData && t.hasDirectCounter;
    const meter = !!req.meterConfig && !!s.meter;
    if (!counters && !meter && !req.timeSinceLastHit) return s.entry;
    const out: TableEntry = { ...s.entry };
    if (counters) out.counterData = counterData(s.counter);
    if (meter) out.meterConfig = s.meter;
    if (req.timeSinceLastHit)
      out.timeSinceLastHit = { elapsedNs: (BigInt(now - s.lastHit) * 1000000n).toString() };
    return out;
  }

  async packetOut(packet: PacketOut): Promise<void> {
    this.packetOuts.push(packet);
    this.options.onPacketOut?.(packet);
  }

  // ---- driven from outside (tests, a packet engine) -------------------------------------------

  /** Delivers a packet to the controller as a PacketIn. */
  injectPacketIn(packet: PacketIn): void {
    this.events?.packetIn(packet);
  }

  /** Emits one digest list for digest `digestId`. */
  emitDigest(digestId: number, data: P4Data[]): void {
    this.events?.digest(digestId, data);
  }

  /** Records a data-plane hit on an entry (counts a packet of `bytes`, refreshes idle time). */
  hit(entry: TableEntry, bytes = 64): boolean {
    const s = this.tables.get(entry.tableId ?? 0)?.entries.get(entryKey(entry));
    if (!s) return false;
    s.counter = { bytes: s.counter.bytes + BigInt(bytes), packets: s.counter.packets + 1n };
    s.lastHit = Date.now();
    s.idleNotified = false;
    return true;
  }

  /** Number of entries in a table (by id). */
  entryCount(tableId: number): number {
    return this.tables.get(tableId)?.entries.size ?? 0;
  }

  private startIdleScan(): void {
    if (this.idleTimer) return;
    this.idleTimer = setInterval(() => this.scanIdle(), this.options.idleScanMs ?? 50);
    this.idleTimer.unref();
  }

  private scanIdle(): void {
    if (!this.idleEntries.size || !this.events) return;
    const now = Date.now();
    const expired: TableEntry[] = [];
    for (const s of this.idleEntries) {
      if (s.idleNotified || (now - s.lastHit) * 1e6 < Number(s.idleNs)) continue;
      s.idleNotified = true; // notify once until the next hit
      const e = s.entry;
      expired.push({
        tableId: e.tableId,
        match: e.match,
        priority: e.priority,
        idleTimeoutNs: e.idleTimeoutNs,
        metadata: e.metadata,
        controllerMetadata: e.controllerMetadata,
      });
    }
    if (expired.length) this.events.idleTimeout(expired);
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = undefined;
  }
}

function counterData(c: Counter | undefined): CounterData {
  return { byteCount: (c?.bytes ?? 0n).toString(), packetCount: (c?.packets ?? 0n).toString() };
}
