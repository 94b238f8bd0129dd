/**
 * The in-process data path of a softnic deployment: wire frames go through the softnic engine;
 * frames it steers to a host port go, NSH-tagged, into that host queue of the native runtime;
 * what the host transmits goes back into the softnic through the same host port (the return path)
 * and out of a wire port. When the addon has the linked path (the softnic engine's `runLinked`),
 * one native call carries a whole batch through both engines and back and returns every
 * packet's fate; otherwise JavaScript moves whole batches between the two native engines. Either
 * way it never touches a packet on its own.
 */
import type { NicArtifacts } from '../../p4';
import type { Plan } from '../../partitioner/plan';
import * as host from '../../host-runtime/lib';
import type { LoadedHostPlan } from '../../host-runtime/lib';
import { TrafficAccount } from '../account';
import type { DataPath, PacketFate, TrafficOptions, TrafficPacket, TrafficRun } from '../target';
import type { SoftnicDevice } from './device';
import type { NativeEngine } from './native';

const BATCH = 2048;
/** Ports the softnic engine accepts (0..510; 511 is its drop port). */
const ENGINE_PORTS = 511;

/**
 * How batches cross between the softnic and the host runtime: `linked` (one native call per
 * batch), `js` (JavaScript shuttles the batch), or `auto` (linked when the addon has it).
 * The environment variable NFP_DATAPATH (`js` or `linked`) overrides `auto`.
 */
export type DataPathMode = 'auto' | 'linked' | 'js';

/** The packed fates of one batch from the native linked path (targets/softnic/engine/link.cc). */
interface LinkedResult {
  /** >= 0: left on that wire port; -1: dropped on the NIC; -2: dropped on the host. */
  ports: Int32Array;
  /** NIC: index into the drop reasons (-1/-2: uncounted ingress/egress); host: into hostReasons. */
  reasons: Int32Array;
  offs: Uint32Array;
  lens: Uint32Array;
  /** The plan path the host last had each frame on; -1: it never reached a host path. */
  paths: Int32Array;
  data: Buffer;
  hostReasons: string[];
}

interface LinkedEngine {
  runLinked(
    hostHandle: number,
    inPorts: Int32Array,
    frames: Buffer[],
    hostQueueOfPort: Int32Array,
    returnPortOfQueue: Int32Array,
    dropCounter: string,
    dropCodes: Int32Array,
    nowNs?: number,
    timeoutMs?: number,
  ): LinkedResult;
}

function isLinked(engine: NativeEngine | undefined): engine is NativeEngine & LinkedEngine {
  return typeof (engine as Partial<LinkedEngine> | undefined)?.runLinked === 'function';
}

interface InFlight {
  index: number;
  packet: TrafficPacket;
}

/** The embedded softnic and the host runtime's in-memory queues, in this process. */
export class SoftnicDataPath implements DataPath {
  private readonly hostPorts: number[];
  private readonly dropReasonNames = new Map<number, string>();
  private readonly ledger: TrafficAccount;
  private readonly mode: DataPathMode;
  private readonly hostQueueOfPort: Int32Array;
  private readonly returnPortOfQueue: Int32Array;
  private readonly dropCodes: Int32Array;

  constructor(
    private readonly plan: Plan,
    private readonly device: SoftnicDevice,
    private readonly nic: NicArtifacts,
    private readonly loaded: LoadedHostPlan,
    private readonly recordFates: boolean,
    private readonly onEgress?: (port: number, frame: Buffer) => void,
    mode: DataPathMode = 'auto',
  ) {
    this.hostPorts = plan.profile.hostPorts;
    this.ledger = new TrafficAccount(plan, recordFates);
    const env = process.env.NFP_DATAPATH;
    this.mode = mode === 'auto' && (env === 'js' || env === 'linked') ? env : mode;
    // The same steering as the JS path: a host port's queue is its index (or 0 when the plan
    // has one queue), and a frame coming back on queue q re-enters on host port q.
    this.hostQueueOfPort = new Int32Array(ENGINE_PORTS).fill(-1);
    this.hostPorts.forEach((port, q) => {
      if (port >= 0 && port < ENGINE_PORTS && this.hostQueueOfPort[port] < 0)
        this.hostQueueOfPort[port] = this.loaded.queueOfPath.size ? q : 0;
    });
    this.returnPortOfQueue = Int32Array.from(this.hostPorts);
    this.dropCodes = Int32Array.from(nic.entries.dropReasons, (r) => r.code);
  }

  /** Whether batches take the native linked path (known once the pipeline is committed). */
  get linked(): boolean {
    if (this.mode === 'js') return false;
    const usable = isLinked(this.device.engine) && this.hostPorts.length > 0;
    if (this.mode === 'linked' && !usable)
      throw new Error('the linked data path is not available (rebuild the addon: npm run build:native)');
    return usable;
  }

  /** Sends `traffic` (replayed until `seconds` passed, at least once) and accounts for every packet. */
  async run(traffic: TrafficPacket[], seconds: number, opts: TrafficOptions = {}): Promise<TrafficRun> {
    const { onProgress, signal } = opts;
    let pass = 0;
    do {
      for (let i = 0; i < traffic.length && !signal?.aborted; i += BATCH) {
        const batch = traffic.slice(i, i + BATCH).map((packet, k) => ({ index: i + k, packet }));
        const record = pass === 0 && this.recordFates;
        if (this.linked) {
          this.sendLinked(batch, record);
          // The native call holds the thread; let signals (Ctrl-C) and timers in between batches.
          await new Promise((resolve) => setImmediate(resolve));
        } else await this.sendBatch(batch, record);
        this.ledger.progress(onProgress);
      }
      pass++;
    } while (!signal?.aborted && this.ledger.elapsedMs < seconds * 1000 && traffic.length > 0);
    return this.ledger.finish();
  }

  /**
   * Carries one batch of frames that arrived now (a live port's burst) through the NIC and the
   * host, and accounts for each; `onEgress` sends what leaves a wire port.
   */
  async carry(packets: TrafficPacket[]): Promise<void> {
    for (let i = 0; i < packets.length; i += BATCH) {
      const batch = packets.slice(i, i + BATCH).map((packet, k) => ({ index: i + k, packet }));
      if (this.linked) this.sendLinked(batch, false);
      else await this.sendBatch(batch, false);
    }
  }

  snapshot(): TrafficRun {
    return this.ledger.snapshot();
  }

  close(): void {
    // Nothing of its own: the device and the host runtime belong to the target and to deploy.
  }

  private account(p: TrafficPacket, fate: PacketFate, index: number, record: boolean): void {
    this.ledger.account(p, fate, index, record);
  }

  /** One batch through the NIC, the host queues and back in one native call (link.cc). */
  private sendLinked(batch: InFlight[], record: boolean): void {
    const engine = this.device.engine as NativeEngine & LinkedEngine;
    const r = engine.runLinked(
      this.loaded.handle,
      Int32Array.from(batch, (b) => b.packet.port),
      batch.map((b) => b.packet.data),
      this.hostQueueOfPort,
      this.returnPortOfQueue,
      this.nic.entries.dropCounter.name,
      this.dropCodes,
    );
    const reasons = this.nic.entries.dropReasons;
    const forwarded: number[] = [];
    batch.forEach((item, k) => {
      const port = r.ports[k];
      if (port >= 0) {
        forwarded.push(k);
        return;
      }
      const code = r.reasons[k];
      const fate: PacketFate =
        port === -1
          ? {
              kind: 'dropped',
              where: 'nic',
              reason: code >= 0 ? reasons[code].name : `uncounted-${code === -1 ? 'ingress' : 'egress'}`,
            }
          : { kind: 'dropped', where: 'host', reason: r.hostReasons[code] ?? 'unknown' };
      this.account(item.packet, withPath(fate, r.paths[k]), item.index, record);
    });
    // Egress in the order the NIC sent the frames out (their place in the packed data).
    forwarded.sort((a, b) => r.offs[a] - r.offs[b]);
    for (const k of forwarded) {
      const data = r.data.subarray(r.offs[k], r.offs[k] + r.lens[k]);
      this.egress(batch[k], r.ports[k], data, record, r.paths[k]);
    }
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
    const pathOf = new Map<InFlight, number>();
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
          const fate = withPath({ kind: 'dropped', where: 'host', reason }, c.path ?? -1);
          this.account(item.packet, fate, item.index, record);
          continue;
        }
        if (c.path !== undefined) pathOf.set(item, c.path);
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
        const path = pathOf.get(item) ?? -1;
        if ('drop' in out)
          this.account(
            item.packet,
            withPath({ kind: 'dropped', where: 'nic', reason: out.reason }, path),
            item.index,
            record,
          );
        else this.egress(item, out.port, out.data, record, path);
      });
    }
  }

  private egress(item: InFlight, port: number, data: Buffer, record: boolean, path = -1): void {
    this.onEgress?.(port, data);
    this.account(item.packet, withPath({ kind: 'forwarded', port, data }, path), item.index, record);
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

/** The fate with the path the host last had the packet on, when it had one. */
function withPath(fate: PacketFate, path: number): PacketFate {
  return path >= 0 ? { ...fate, path } : fate;
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
