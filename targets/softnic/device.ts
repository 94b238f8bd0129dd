/**
 * SoftnicDevice: the P4Runtime server's Device backed by the native softnic engine. The server
 * validates every request against P4Info; this class maps P4Info ids to the BMv2 JSON's names,
 * keeps the P4Runtime view of entries for reads, and moves packets between ports and engine.
 */
import { status as Code } from '@grpc/grpc-js';
import type { Device, DeviceEvents, PipelineConfig, UpdateResult } from '../../p4runtime/device';
import { DeviceError } from '../../p4runtime/device';
import { entryKey } from '../../p4runtime/memory-device';
import type {
  Action,
  CounterData,
  Entity,
  FieldMatch,
  MeterConfig,
  PacketOut,
  TableEntry,
  Update,
} from '../../p4runtime/messages';
import { Atomicity, UpdateType } from '../../p4runtime/messages';
import { buildLayout, type Layout, type TableLayout } from './layout';
import {
  createEngine,
  processBatch,
  type NativeEngine,
  type NativeMatch,
  type NativeOutcome,
} from './native';
import type { SoftnicPort } from './ports';
import { DEFAULT_CPU_PORT } from '../../p4/lower';

export interface SoftnicDeviceOptions {
  /**
   * Port that connects to the controller: PacketOut enters here, egress here becomes PacketIn
   * (default 255, the CPU port of nfp's NIC profiles, as BMv2's `--cpu-port`).
   */
  cpuPort?: number;
  /** Packet clock for meters, in ns (default: monotonic clock). */
  clock?: () => number;
}

/** Per-port and per-reason packet counts of the device. */
export interface SoftnicStats {
  rx: Record<number, number>;
  tx: Record<number, number>;
  drops: { ingress: number; egress: number; noPort: number; noPipeline: number };
}

interface Stored {
  entry: TableEntry;
  id: number;
}

interface Active {
  engine: NativeEngine;
  layout: Layout;
  /** tableId → entries by P4Runtime identity (match + priority). */
  entries: Map<number, Map<string, Stored>>;
  /** tableId → default entry written by a controller (absent: the program's own default). */
  defaults: Map<number, TableEntry>;
  initialDefaults: Map<number, { action: string; params: Buffer[] }>;
}

type Undo = () => void;

function num(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return Number(String(v));
}

function buf(b: Uint8Array | undefined): Buffer {
  return b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.alloc(1);
}

/** Canonical P4Runtime bytestring: leading zero bytes stripped. */
function canonical(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function asDeviceError(err: unknown): DeviceError {
  if (err instanceof DeviceError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return new DeviceError(typeof code === 'number' ? code : Code.INTERNAL, message);
}

function counterData(c: { packets: number; bytes: number }): CounterData {
  return { packetCount: String(c.packets), byteCount: String(c.bytes) };
}

export class SoftnicDevice implements Device {
  readonly atomicity: readonly Atomicity[] = [
    Atomicity.CONTINUE_ON_ERROR,
    Atomicity.ROLLBACK_ON_ERROR,
    // Writes and packet processing both run on the JS thread, so a batch is never seen half-done.
    Atomicity.DATAPLANE_ATOMIC,
  ];
  readonly canReconcile = true;

  private active: Active | undefined;
  private verified: { deviceConfig: Uint8Array; engine: NativeEngine; layout: Layout } | undefined;
  private events: DeviceEvents | undefined;
  private readonly ports = new Map<number, SoftnicPort>();
  private readonly clock: () => number;
  readonly cpuPort: number;
  private readonly stats: SoftnicStats = {
    rx: {},
    tx: {},
    drops: { ingress: 0, egress: 0, noPort: 0, noPipeline: 0 },
  };

  constructor(private readonly options: SoftnicDeviceOptions = {}) {
    this.clock = options.clock ?? (() => Number(process.hrtime.bigint()));
    this.cpuPort = options.cpuPort ?? DEFAULT_CPU_PORT;
  }

  attach(events: DeviceEvents): void {
    this.events = events;
  }

  // ---- pipeline -------------------------------------------------------------------------------

  private prepare(config: PipelineConfig): { engine: NativeEngine; layout: Layout } {
    if (this.verified && Buffer.compare(buf(this.verified.deviceConfig), buf(config.deviceConfig)) === 0) {
      // Still re-check the P4Info: the same JSON may come with a different one.
      return {
        engine: this.verified.engine,
        layout: buildLayout(config.p4info, this.verified.engine.info()),
      };
    }
    if (!config.deviceConfig || config.deviceConfig.length === 0)
      throw new DeviceError(
        Code.INVALID_ARGUMENT,
        'p4_device_config is empty: the softnic needs the BMv2 JSON',
      );
    const engine = createEngine();
    try {
      engine.load(buf(config.deviceConfig).toString('utf8'));
    } catch (err) {
      throw new DeviceError(Code.INVALID_ARGUMENT, `BMv2 JSON rejected: ${(err as Error).message}`);
    }
    return { engine, layout: buildLayout(config.p4info, engine.info()) };
  }

  async verifyPipeline(config: PipelineConfig): Promise<void> {
    const { engine, layout } = this.prepare(config);
    this.verified = { deviceConfig: config.deviceConfig, engine, layout };
  }

  async commitPipeline(config: PipelineConfig, preserveState: boolean): Promise<void> {
    const fresh = this.prepare(config);
    const next: Active = {
      engine: fresh.engine,
      layout: fresh.layout,
      entries: new Map(),
      defaults: new Map(),
      initialDefaults: new Map(),
    };
    for (const [id, t] of fresh.layout.tables) {
      next.entries.set(id, new Map());
      next.initialDefaults.set(id, fresh.engine.tableGetDefault(t.name));
    }
    if (preserveState && this.active) {
      // Re-install every entry into the new program; any failure keeps the old pipeline.
      for (const [tableId, stored] of this.active.entries) {
        for (const s of stored.values()) {
          try {
            this.applyTable(next, UpdateType.INSERT, s.entry, undefined);
          } catch (err) {
            throw new DeviceError(
              Code.INVALID_ARGUMENT,
              `cannot keep the entries of table ${this.active.layout.tables.get(tableId)?.name}: ${asDeviceError(err).message}`,
            );
          }
        }
      }
      for (const d of this.active.defaults.values()) this.applyTable(next, UpdateType.MODIFY, d, undefined);
    }
    this.active = next;
    this.verified = undefined;
    for (const p of this.ports.values()) p.pipelineCommitted?.();
  }

  // ---- writes ---------------------------------------------------------------------------------

  async write(updates: readonly Update[], atomicity: Atomicity): Promise<UpdateResult[]> {
    const a = this.active;
    if (!a) return updates.map(() => new DeviceError(Code.FAILED_PRECONDITION, 'no pipeline committed'));
    const atomic = atomicity !== Atomicity.CONTINUE_ON_ERROR;
    const undo: Undo[] = [];
    const results: UpdateResult[] = [];
    for (let i = 0; i < updates.length; i++) {
      try {
        this.apply(a, updates[i], atomic ? undo : undefined);
        results.push(undefined);
      } catch (err) {
        const e = asDeviceError(err);
        if (!atomic) {
          results.push(e);
          continue;
        }
        for (let j = undo.length - 1; j >= 0; j--) undo[j]();
        return updates.map((_, j) =>
          j === i ? e : new DeviceError(Code.ABORTED, j < i ? 'rolled back' : 'not attempted'),
        );
      }
    }
    return results;
  }

  private apply(a: Active, u: Update, undo: Undo[] | undefined): void {
    const e = u.entity;
    if (!e) throw new DeviceError(Code.INVALID_ARGUMENT, 'update without an entity');
    if (e.tableEntry) return this.applyTable(a, u.type ?? UpdateType.UNSPECIFIED, e.tableEntry, undo);
    if (e.counterEntry) {
      if (u.type !== UpdateType.MODIFY)
        throw new DeviceError(Code.INVALID_ARGUMENT, 'counter entries can only be modified');
      const c = this.counter(a, e.counterEntry.counterId ?? 0);
      const cells = e.counterEntry.index ? [num(e.counterEntry.index.index)] : [...Array(c.size).keys()];
      const d = e.counterEntry.data;
      if (!d) return; // unset data leaves the value (spec: CounterEntry)
      for (const i of cells) {
        const old = a.engine.counterRead(c.name, i);
        a.engine.counterWrite(c.name, i, num(d?.packetCount), num(d?.byteCount));
        undo?.push(() => a.engine.counterWrite(c.name, i, old.packets, old.bytes));
      }
      return;
    }
    if (e.meterEntry) {
      if (u.type !== UpdateType.MODIFY)
        throw new DeviceError(Code.INVALID_ARGUMENT, 'meter entries can only be modified');
      const m = this.meter(a, e.meterEntry.meterId ?? 0);
      const cells = e.meterEntry.index ? [num(e.meterEntry.index.index)] : [...Array(m.size).keys()];
      const cfg = e.meterEntry.config;
      for (const i of cells) {
        const old = a.engine.meterGet(m.name, i);
        a.engine.meterSet(m.name, i, cfg ? meterCfg(cfg) : null);
        undo?.push(() => a.engine.meterSet(m.name, i, old));
      }
      return;
    }
    if (e.directCounterEntry) {
      if (u.type !== UpdateType.MODIFY)
        throw new DeviceError(Code.INVALID_ARGUMENT, 'direct counter entries can only be modified');
      const te = e.directCounterEntry.tableEntry;
      if (!te) throw new DeviceError(Code.INVALID_ARGUMENT, 'direct counter entry without a table entry');
      const t = this.table(a, te.tableId ?? 0);
      const s = a.entries.get(te.tableId ?? 0)?.get(entryKey(te));
      if (!s) throw new DeviceError(Code.NOT_FOUND, `table ${t.name}: no entry with this match`);
      const d = e.directCounterEntry.data;
      if (!d) return; // unset data leaves the value (spec: DirectCounterEntry)
      const old = a.engine.directCounter(t.name, s.id, num(d.packetCount), num(d.byteCount));
      undo?.push(() => a.engine.directCounter(t.name, s.id, old.packets, old.bytes));
      return;
    }
    if (e.packetReplicationEngineEntry)
      throw new DeviceError(
        Code.UNIMPLEMENTED,
        'the softnic has no packet replication engine (multicast groups, clone sessions)',
      );
    const kind = Object.keys(e).find((k) => (e as Record<string, unknown>)[k]);
    throw new DeviceError(Code.UNIMPLEMENTED, `the softnic does not support ${kind ?? 'this entity'}`);
  }

  private table(a: Active, id: number): TableLayout {
    const t = a.layout.tables.get(id);
    if (!t) throw new DeviceError(Code.NOT_FOUND, `table id ${id} is not in the pipeline`);
    return t;
  }

  private counter(a: Active, id: number): { name: string; size: number } {
    const c = a.layout.counters.get(id);
    if (!c) throw new DeviceError(Code.NOT_FOUND, `counter id ${id} is not in the pipeline`);
    return c;
  }

  private meter(a: Active, id: number): { name: string; size: number } {
    const m = a.layout.meters.get(id);
    if (!m) throw new DeviceError(Code.NOT_FOUND, `meter id ${id} is not in the pipeline`);
    return m;
  }

  private match(t: TableLayout, fields: readonly FieldMatch[]): NativeMatch[] {
    const out: NativeMatch[] = Array.from({ length: t.nKeys }, () => ({ wildcard: true }));
    for (const f of fields) {
      const pos = t.fieldPos.get(f.fieldId ?? 0);
      if (pos === undefined)
        throw new DeviceError(Code.INVALID_ARGUMENT, `table ${t.name}: unknown match field id ${f.fieldId}`);
      if (f.exact) out[pos] = { value: buf(f.exact.value) };
      else if (f.lpm) out[pos] = { value: buf(f.lpm.value), prefixLen: f.lpm.prefixLen ?? 0 };
      else if (f.ternary) out[pos] = { value: buf(f.ternary.value), mask: buf(f.ternary.mask) };
      else if (f.range) out[pos] = { value: buf(f.range.low), high: buf(f.range.high) };
      else if (f.optional) out[pos] = { value: buf(f.optional.value), mask: Buffer.alloc(16, 0xff) };
      else throw new DeviceError(Code.UNIMPLEMENTED, `table ${t.name}: unsupported match kind`);
    }
    return out;
  }

  private action(a: Active, t: TableLayout, ta: TableEntry['action']): { name: string; params: Buffer[] } {
    if (!ta?.action)
      throw new DeviceError(
        ta ? Code.UNIMPLEMENTED : Code.INVALID_ARGUMENT,
        ta
          ? `table ${t.name}: action profiles are not supported`
          : `table ${t.name}: entry without an action`,
      );
    const act: Action = ta.action;
    const al = a.layout.actions.get(act.actionId ?? 0);
    if (!al) throw new DeviceError(Code.NOT_FOUND, `action id ${act.actionId} is not in the pipeline`);
    const params: Buffer[] = al.widths.map(() => Buffer.alloc(1));
    for (const p of act.params ?? []) {
      const pos = al.paramPos.get(p.paramId ?? 0);
      if (pos === undefined)
        throw new DeviceError(Code.INVALID_ARGUMENT, `action ${al.name}: unknown parameter id ${p.paramId}`);
      params[pos] = buf(p.value);
    }
    return { name: al.name, params };
  }

  private applyTable(a: Active, type: UpdateType, te: TableEntry, undo: Undo[] | undefined): void {
    const tableId = te.tableId ?? 0;
    const t = this.table(a, tableId);
    const eng = a.engine;
    if (te.isDefaultAction) {
      if (type !== UpdateType.MODIFY)
        throw new DeviceError(
          Code.INVALID_ARGUMENT,
          `table ${t.name}: the default entry can only be modified`,
        );
      const old = eng.tableGetDefault(t.name);
      const oldStored = a.defaults.get(tableId);
      const initial = a.initialDefaults.get(tableId)!;
      const next = te.action
        ? this.action(a, t, te.action)
        : { name: initial.action, params: initial.params };
      eng.tableSetDefault(t.name, next.name, next.params);
      if (te.action) a.defaults.set(tableId, te);
      else a.defaults.delete(tableId);
      undo?.push(() => {
        eng.tableSetDefault(t.name, old.action, old.params);
        if (oldStored) a.defaults.set(tableId, oldStored);
        else a.defaults.delete(tableId);
      });
      return;
    }
    const entries = a.entries.get(tableId)!;
    const key = entryKey(te);
    const old = entries.get(key);
    const priority = te.priority ?? 0;
    switch (type) {
      case UpdateType.INSERT: {
        if (old)
          throw new DeviceError(
            Code.ALREADY_EXISTS,
            `table ${t.name}: an entry with this match already exists`,
          );
        const act = this.action(a, t, te.action);
        const id = eng.tableAdd(t.name, this.match(t, te.match ?? []), priority, act.name, act.params);
        if (te.counterData)
          eng.directCounter(t.name, id, num(te.counterData.packetCount), num(te.counterData.byteCount));
        entries.set(key, { entry: { ...te, counterData: null }, id });
        undo?.push(() => {
          eng.tableDelete(t.name, id);
          entries.delete(key);
        });
        return;
      }
      case UpdateType.MODIFY: {
        if (!old) throw new DeviceError(Code.NOT_FOUND, `table ${t.name}: no entry with this match`);
        const act = this.action(a, t, te.action);
        const prev = this.action(a, t, old.entry.action);
        eng.tableModify(t.name, old.id, act.name, act.params);
        // counter_data set writes the direct counter; unset leaves it (spec: Direct Resources).
        const cd = te.counterData;
        const counter = cd
          ? eng.directCounter(t.name, old.id, num(cd.packetCount), num(cd.byteCount))
          : undefined;
        const prevEntry = old.entry;
        old.entry = { ...te, counterData: null };
        undo?.push(() => {
          eng.tableModify(t.name, old.id, prev.name, prev.params);
          if (counter) eng.directCounter(t.name, old.id, counter.packets, counter.bytes);
          old.entry = prevEntry;
        });
        return;
      }
      case UpdateType.DELETE: {
        if (!old) throw new DeviceError(Code.NOT_FOUND, `table ${t.name}: no entry with this match`);
        const counter = eng.directCounter(t.name, old.id);
        eng.tableDelete(t.name, old.id);
        entries.delete(key);
        undo?.push(() => {
          const act = this.action(a, t, old.entry.action);
          old.id = eng.tableAdd(t.name, this.match(t, old.entry.match ?? []), priority, act.name, act.params);
          eng.directCounter(t.name, old.id, counter.packets, counter.bytes);
          entries.set(key, old);
        });
        return;
      }
      default:
        throw new DeviceError(Code.INVALID_ARGUMENT, 'update type must be INSERT, MODIFY or DELETE');
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  *read(entity: Entity): Iterable<Entity> {
    const a = this.active;
    if (!a) return;
    if (entity.tableEntry) {
      const req = entity.tableEntry;
      const ids = req.tableId ? [req.tableId] : [...a.layout.tables.keys()];
      for (const id of ids) {
        const t = this.table(a, id);
        if (req.isDefaultAction) {
          yield { tableEntry: a.defaults.get(id) ?? this.defaultEntry(a, id, t) };
          continue;
        }
        const all = a.entries.get(id)!;
        const one = (req.match ?? []).length > 0;
        const source = one
          ? [all.get(entryKey(req))].filter((x): x is Stored => x !== undefined)
          : all.values();
        for (const s of source) {
          yield {
            tableEntry:
              req.counterData && t.directCounter
                ? { ...s.entry, counterData: counterData(a.engine.directCounter(t.name, s.id)) }
                : s.entry,
          };
        }
      }
      return;
    }
    if (entity.counterEntry) {
      const ids = entity.counterEntry.counterId
        ? [entity.counterEntry.counterId]
        : [...a.layout.counters.keys()];
      for (const id of ids) {
        const c = this.counter(a, id);
        const cells = entity.counterEntry.index
          ? [num(entity.counterEntry.index.index)]
          : [...Array(c.size).keys()];
        for (const i of cells)
          yield {
            counterEntry: {
              counterId: id,
              index: { index: i },
              data: counterData(a.engine.counterRead(c.name, i)),
            },
          };
      }
      return;
    }
    if (entity.meterEntry) {
      const ids = entity.meterEntry.meterId ? [entity.meterEntry.meterId] : [...a.layout.meters.keys()];
      for (const id of ids) {
        const m = this.meter(a, id);
        const cells = entity.meterEntry.index
          ? [num(entity.meterEntry.index.index)]
          : [...Array(m.size).keys()];
        for (const i of cells) {
          const cfg = a.engine.meterGet(m.name, i);
          yield {
            meterEntry: {
              meterId: id,
              index: { index: i },
              config: cfg
                ? {
                    cir: String(cfg.cir),
                    cburst: String(cfg.cburst),
                    pir: String(cfg.pir),
                    pburst: String(cfg.pburst),
                    ...(cfg.eburst ? { eburst: String(cfg.eburst) } : {}),
                  }
                : null,
            },
          };
        }
      }
      return;
    }
    if (entity.directCounterEntry) {
      const te = entity.directCounterEntry.tableEntry ?? {};
      const ids = te.tableId ? [te.tableId] : [...a.layout.tables.keys()];
      for (const id of ids) {
        const t = this.table(a, id);
        if (!t.directCounter) continue;
        const all = a.entries.get(id)!;
        const one = (te.match ?? []).length > 0;
        const source = one ? [all.get(entryKey(te))] : all.values();
        for (const s of source) {
          // Spec (DirectCounterEntry): reading the counter of a missing entry is NOT_FOUND.
          if (!s) throw new DeviceError(Code.NOT_FOUND, `table ${t.name}: no entry with this match`);
          yield {
            directCounterEntry: {
              tableEntry: { tableId: id, match: s.entry.match, priority: s.entry.priority },
              data: counterData(a.engine.directCounter(t.name, s.id)),
            },
          };
        }
      }
      return;
    }
    // The softnic's programs (its BMv2 JSON subset) have no action profiles, digests, registers,
    // value sets, externs or replication: a read of those finds nothing (spec: Wildcard Reads).
  }

  private defaultEntry(a: Active, id: number, t: TableLayout): TableEntry {
    const d = a.engine.tableGetDefault(t.name);
    const actionId = a.layout.actionIdByName.get(d.action) ?? 0;
    const al = a.layout.actions.get(actionId);
    const params = al
      ? [...al.paramPos].map(([paramId, pos]) => ({ paramId, value: canonical(d.params[pos]) }))
      : [];
    return { tableId: id, isDefaultAction: true, action: { action: { actionId, params } } };
  }

  // ---- packets --------------------------------------------------------------------------------

  /** Adds a port; frames it receives go through the pipeline. */
  async addPort(port: SoftnicPort): Promise<void> {
    if (this.ports.has(port.id))
      throw new DeviceError(Code.ALREADY_EXISTS, `port ${port.id} is already attached`);
    if (port.id === this.cpuPort)
      throw new DeviceError(Code.INVALID_ARGUMENT, `port ${port.id} is the CPU port (the controller's)`);
    this.ports.set(port.id, port);
    await port.start((frames) => {
      this.inject(port.id, frames);
    });
    if (this.active) port.pipelineCommitted?.();
  }

  /**
   * Runs frames that arrived on `port` through the pipeline and delivers the results: to the
   * attached port, to the controller for the CPU port, or counted as dropped.
   */
  inject(port: number, frames: Buffer[], nowNs: number = this.clock()): NativeOutcome[] {
    this.stats.rx[port] = (this.stats.rx[port] ?? 0) + frames.length;
    const a = this.active;
    if (!a) {
      this.stats.drops.noPipeline += frames.length;
      return frames.map(() => ({ drop: 'ingress' as const }));
    }
    const out = processBatch(a.engine, port, frames, nowNs);
    for (const o of out) {
      if (!('port' in o)) {
        this.stats.drops[o.drop]++;
        continue;
      }
      if (o.port === this.cpuPort && this.events) {
        this.stats.tx[o.port] = (this.stats.tx[o.port] ?? 0) + 1;
        this.events.packetIn(this.toPacketIn(a, o.data));
        continue;
      }
      const p = this.ports.get(o.port);
      if (!p) {
        this.stats.drops.noPort++;
        continue;
      }
      this.stats.tx[o.port] = (this.stats.tx[o.port] ?? 0) + 1;
      p.send(o.data);
    }
    return out;
  }

  async packetOut(packet: PacketOut): Promise<void> {
    const a = this.active;
    if (!a) throw new DeviceError(Code.FAILED_PRECONDITION, 'no pipeline committed');
    const cpu = this.cpuPort;
    let header = Buffer.alloc(0);
    if (a.layout.packetOut) {
      let v = 0n;
      let bits = 0;
      for (const md of a.layout.packetOut) {
        const given = packet.metadata?.find((m) => m.metadataId === md.id);
        const x = given?.value ? BigInt(`0x${Buffer.from(given.value).toString('hex') || '0'}`) : 0n;
        v = (v << BigInt(md.bitwidth)) | (x & ((1n << BigInt(md.bitwidth)) - 1n));
        bits += md.bitwidth;
      }
      header = Buffer.from(v.toString(16).padStart(bits / 4, '0'), 'hex');
    }
    this.inject(cpu, [Buffer.concat([header, buf(packet.payload ?? new Uint8Array())])]);
  }

  private toPacketIn(
    a: Active,
    data: Buffer,
  ): { payload: Uint8Array; metadata: { metadataId: number; value: Uint8Array }[] } {
    const md = a.layout.packetIn;
    if (!md) return { payload: data, metadata: [] };
    const bits = md.reduce((s, m) => s + m.bitwidth, 0);
    const bytes = bits / 8;
    let v = BigInt(`0x${data.subarray(0, bytes).toString('hex') || '0'}`);
    const metadata: { metadataId: number; value: Uint8Array }[] = [];
    for (let i = md.length - 1; i >= 0; i--) {
      const w = BigInt(md[i].bitwidth);
      const x = v & ((1n << w) - 1n);
      v >>= w;
      let hex = x.toString(16);
      if (hex.length % 2) hex = `0${hex}`;
      metadata.unshift({ metadataId: md[i].id, value: Buffer.from(hex, 'hex') });
    }
    return { payload: data.subarray(bytes), metadata };
  }

  /** Packet counts so far. */
  getStats(): SoftnicStats {
    return structuredClone(this.stats);
  }

  /** The engine of the committed pipeline (for benchmarks and tests), if any. */
  get engine(): NativeEngine | undefined {
    return this.active?.engine;
  }

  async close(): Promise<void> {
    const ports = [...this.ports.values()];
    this.ports.clear();
    await Promise.all(ports.map((p) => p.close()));
  }
}

function meterCfg(c: MeterConfig): {
  cir: number;
  cburst: number;
  pir: number;
  pburst: number;
  eburst?: number;
} {
  return {
    cir: num(c.cir),
    cburst: num(c.cburst),
    pir: num(c.pir),
    pburst: num(c.pburst),
    eburst: num(c.eburst),
  };
}
