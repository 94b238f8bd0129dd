/**
 * The in-process data path of a softnic deployment: wire frames go through the softnic engine;
 * frames it steers to a host port go, NSH-tagged, into that host queue of the native runtime;
 * what the host transmits goes back into the softnic through the same host port (the return path)
 * and out of a wire port. JavaScript moves whole batches between the two native engines; it never
 * touches a packet on its own.
 */
import type { NicArtifacts } from '../../p4';
import type { Plan } from '../../partitioner/plan';
import * as host from '../../host-runtime/lib';
import type { LoadedHostPlan } from '../../host-runtime/lib';
import type { SoftnicDevice } from '../softnic/device';
import type { GeneratedPacket } from './traffic';

const BATCH = 2048;

/** What happened to one input packet. */
export type PacketFate =
  | { kind: 'forwarded'; port: number; data: Buffer }
  | { kind: 'dropped'; where: 'nic' | 'host'; reason: string };

export interface TrafficRun {
  seconds: number;
  input: number;
  forwarded: number;
  dropped: number;
  /** `nic:<reason>` and `host:<reason>` keys. */
  dropsByReason: Record<string, number>;
  perTenant: Map<number, { input: number; forwarded: number; dropped: number }>;
  perPath: Map<number, { input: number; forwarded: number; dropped: number; drops: Record<string, number> }>;
  fates?: PacketFate[];
}

export function emptyRun(): TrafficRun {
  return {
    seconds: 0,
    input: 0,
    forwarded: 0,
    dropped: 0,
    dropsByReason: {},
    perTenant: new Map(),
    perPath: new Map(),
  };
}

interface InFlight {
  index: number;
  packet: GeneratedPacket;
}

export class DataPath {
  private readonly hostPorts: number[];
  private readonly dropReasonNames = new Map<number, string>();
  private readonly run: TrafficRun;

  constructor(
    private readonly plan: Plan,
    private readonly device: SoftnicDevice,
    private readonly nic: NicArtifacts,
    private readonly loaded: LoadedHostPlan,
    private readonly recordFates: boolean,
    private readonly onEgress?: (port: number, frame: Buffer) => void,
  ) {
    this.hostPorts = plan.profile.hostPorts;
    this.run = { ...emptyRun(), ...(recordFates ? { fates: [] } : {}) };
  }

  /** Sends `traffic` (replayed until `seconds` passed, at least once) and accounts for every packet. */
  async runTraffic(
    traffic: GeneratedPacket[],
    seconds: number,
    onProgress?: (p: { elapsedSeconds: number; input: number; perTenantPps: Record<string, number> }) => void,
    signal?: AbortSignal,
  ): Promise<TrafficRun> {
    const started = Date.now();
    let lastProgress = started;
    let lastPerTenant = new Map<number, number>();
    let pass = 0;
    do {
      for (let i = 0; i < traffic.length && !signal?.aborted; i += BATCH) {
        const batch = traffic.slice(i, i + BATCH).map((packet, k) => ({ index: i + k, packet }));
        await this.sendBatch(batch, pass === 0 && this.recordFates);
        const now = Date.now();
        if (onProgress && now - lastProgress >= 1000) {
          const perTenantPps: Record<string, number> = {};
          for (const t of this.plan.tenants) {
            const n = this.run.perTenant.get(t.id)?.input ?? 0;
            perTenantPps[t.name] = Math.round(
              ((n - (lastPerTenant.get(t.id) ?? 0)) * 1000) / (now - lastProgress),
            );
          }
          lastPerTenant = new Map([...this.run.perTenant].map(([id, c]) => [id, c.input]));
          lastProgress = now;
          onProgress({ elapsedSeconds: (now - started) / 1000, input: this.run.input, perTenantPps });
        }
      }
      pass++;
    } while (!signal?.aborted && Date.now() - started < seconds * 1000 && traffic.length > 0);
    this.run.seconds = (Date.now() - started) / 1000;
    return this.run;
  }

  private account(p: GeneratedPacket, fate: PacketFate, index: number, record: boolean): void {
    const r = this.run;
    const t = r.perTenant.get(p.tenant) ?? { input: 0, forwarded: 0, dropped: 0 };
    const path = r.perPath.get(p.path) ?? { input: 0, forwarded: 0, dropped: 0, drops: {} };
    r.input++;
    t.input++;
    path.input++;
    if (fate.kind === 'forwarded') {
      r.forwarded++;
      t.forwarded++;
      path.forwarded++;
    } else {
      const key = `${fate.where}:${fate.reason}`;
      r.dropped++;
      t.dropped++;
      path.dropped++;
      r.dropsByReason[key] = (r.dropsByReason[key] ?? 0) + 1;
      path.drops[key] = (path.drops[key] ?? 0) + 1;
    }
    r.perTenant.set(p.tenant, t);
    r.perPath.set(p.path, path);
    if (record && r.fates) r.fates[index] = fate;
  }

  private async sendBatch(batch: InFlight[], record: boolean): Promise<void> {
    // Wire → NIC, one engine call per ingress port.
    const toHost = new Map<number, Array<{ item: InFlight; frame: Buffer }>>();
    for (const [port, items] of groupBy(batch, (b) => b.packet.port)) {
      const outs = this.nicProcess(
        port,
        items.map((b) => b.packet.data),
      );
      outs.forEach((out, k) => {
        const item = items[k];
        if ('drop' in out) {
          this.account(
            item.packet,
            { kind: 'dropped', where: 'nic', reason: out.reason },
            item.index,
            record,
          );
        } else if (this.hostPorts.includes(out.port)) {
          const queue = this.hostPorts.indexOf(out.port);
          const list = toHost.get(queue) ?? [];
          list.push({ item, frame: out.data });
          toHost.set(queue, list);
        } else {
          this.egress(item, out.port, out.data, record);
        }
      });
    }
    if (toHost.size === 0) return;

    // NIC → host queues → host NFs, run to completion on the workers.
    const bySeq = new Map<number, InFlight>();
    for (const [queue, list] of toHost) {
      const hostQueue = this.loaded.queueOfPath.size ? queue : 0;
      const { accepted, firstSeq } = host.inject(
        hostQueue,
        list.map((l) => l.frame),
      );
      list.forEach((l, k) => {
        if (k < accepted) bySeq.set(firstSeq + k, l.item);
        else
          this.account(
            l.item.packet,
            { kind: 'dropped', where: 'host', reason: 'rx-overflow' },
            l.item.index,
            record,
          );
      });
    }
    const back = new Map<number, Array<{ item: InFlight; frame: Buffer }>>();
    // Collect until every accepted packet came back transmitted or dropped (drops are captured).
    const deadline = Date.now() + 10_000;
    while (bySeq.size > 0) {
      const collected = host.collect();
      for (const c of collected) {
        const item = bySeq.get(c.seq);
        if (!item) continue;
        bySeq.delete(c.seq);
        if (c.fate === 'drop') {
          const reason = c.reason ?? 'unknown';
          this.account(item.packet, { kind: 'dropped', where: 'host', reason }, item.index, record);
          continue;
        }
        const port = this.hostPorts[c.queue] ?? this.hostPorts[0];
        const list = back.get(port) ?? [];
        list.push({ item, frame: c.data });
        back.set(port, list);
      }
      if (bySeq.size === 0 || Date.now() > deadline) break;
      if (collected.length === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    for (const item of bySeq.values()) {
      this.account(item.packet, { kind: 'dropped', where: 'host', reason: 'lost' }, item.index, record);
    }

    // Host → NIC return path → wire.
    for (const [port, list] of back) {
      const outs = this.nicProcess(
        port,
        list.map((l) => l.frame),
      );
      outs.forEach((out, k) => {
        const { item } = list[k];
        if ('drop' in out)
          this.account(
            item.packet,
            { kind: 'dropped', where: 'nic', reason: out.reason },
            item.index,
            record,
          );
        else this.egress(item, out.port, out.data, record);
      });
    }
  }

  private egress(item: InFlight, port: number, data: Buffer, record: boolean): void {
    this.onEgress?.(port, data);
    this.account(item.packet, { kind: 'forwarded', port, data }, item.index, record);
  }

  /**
   * NIC processing with a drop reason per dropped frame, read from the pipeline's per-reason drop
   * counter around the engine call. When one call drops frames for different reasons, the counts
   * per reason stay exact but which frame had which is not known; `recordFates` therefore sends
   * frames one at a time.
   */
  private nicProcess(
    port: number,
    frames: Buffer[],
  ): Array<{ port: number; data: Buffer } | { drop: true; reason: string }> {
    if (this.recordFates && frames.length > 1) return frames.flatMap((f) => this.nicProcess(port, [f]));
    const before = this.dropCounts();
    const outs = this.device.inject(port, frames);
    if (outs.every((o) => 'port' in o)) return outs as Array<{ port: number; data: Buffer }>;
    const after = this.dropCounts();
    const reasons: string[] = [];
    for (const r of this.nic.entries.dropReasons) {
      for (let n = after[r.code] - before[r.code]; n > 0; n--) reasons.push(r.name);
    }
    return outs.map((o) =>
      'port' in o ? o : { drop: true as const, reason: reasons.shift() ?? `uncounted-${o.drop}` },
    );
  }

  private dropCounts(): number[] {
    const engine = this.device.engine;
    const counts: number[] = [];
    if (!engine) return counts;
    const name = this.nic.entries.dropCounter.name;
    for (const r of this.nic.entries.dropReasons) counts[r.code] = engine.counterRead(name, r.code).packets;
    return counts;
  }
}

function groupBy<T, K>(items: T[], key: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k) ?? [];
    list.push(it);
    m.set(k, list);
  }
  return m;
}
