/**
 * The data path of a deployment on a device with real ports (BMv2 launched by nfp, or the host
 * runtime's own DPDK ports): frames are sent into the device's wire ports through raw sockets on
 * the far ends of their veth pairs, and whatever leaves a wire port is read back from there.
 *
 * A packet's fate is observed, not assumed: it left on a wire port (seen on that veth), or a drop
 * counter moved (the NIC's per-reason drop counter, read from the target, or the host runtime's
 * drop reasons). With `recordFates` packets go one at a time, so each fate is exact. Otherwise a
 * window of packets is in flight; forwarded packets are matched by a tag in their IPv4
 * identification (restored on egress), and which of the remaining packets had which drop reason
 * is not observable individually: the totals by reason are the counters' own. Which packets a
 * host verdict moved to a branch path is observed one at a time too (the runtime's per-path
 * counts); with a window in flight they count on their root paths.
 */
import type { NicArtifacts } from '../p4';
import type { Plan } from '../partitioner/plan';
import * as host from '../host-runtime/lib';
import { TrafficAccount } from './account';
import { loadSoftnic, type NativeRawSocket } from './softnic/native';
import type {
  DataPath,
  PacketFate,
  ProgressCallback,
  TrafficOptions,
  TrafficPacket,
  TrafficRun,
} from './target';

/** The NIC's per-reason drop counter, by reason code, as the device reports it now. */
export type DropReader = () => Promise<number[]>;

/** A wire port's far end: the interface, and the network namespace it lives in (if not this one). */
export interface WireEnd {
  ifname: string;
  netns?: string;
}

/** How long a packet may take through the switch and the host before it counts as lost (a loaded machine can take a second). */
const LOST_AFTER_MS = 3000;
/** Packets in flight at once when fates are not recorded. */
const WINDOW = 64;
const RECV_BURST = 256;

/**
 * Whether a Linux link (veth) carries the frame to the device at all: the kernel pads a frame
 * shorter than an Ethernet header before sending it, and drops a VLAN-tagged one shorter than
 * its tag and EtherType on receive (skb_vlan_untag), before any packet socket sees it.
 */
export function linkCarries(frame: Buffer): boolean {
  if (frame.length < 14) return false;
  const type = frame.readUInt16BE(12);
  return !((type === 0x8100 || type === 0x88a8) && frame.length < 20);
}

export class WireDataPath implements DataPath {
  private readonly sockets = new Map<number, NativeRawSocket>();
  private readonly ledger: TrafficAccount;
  private nicDrops: number[] = [];
  private hostDrops: Record<string, number> = {};
  /** Frames seen on a wire port that belong to no packet in flight (late or foreign). */
  strayFrames = 0;

  /** Paths only a host verdict enters. */
  private readonly branches: Set<number>;

  constructor(
    plan: Plan,
    private readonly nic: NicArtifacts,
    private readonly readDrops: DropReader,
    private readonly wireEnds: Map<number, WireEnd>,
    private readonly recordFates: boolean,
    private readonly hostAttached: boolean,
    private readonly onEgress?: (port: number, frame: Buffer) => void,
  ) {
    this.ledger = new TrafficAccount(plan, recordFates);
    this.branches = new Set(plan.paths.filter((p) => p.branchOf).map((p) => p.id));
  }

  /** Packets that entered each host path so far (the runtime's count). */
  private hostPathCounts(): Map<number, number> {
    if (!this.hostAttached || this.branches.size === 0) return new Map();
    return new Map(host.stats().paths.map((p) => [p.id, p.packets] as const));
  }

  /** The branch path the one packet in flight entered on the host since `before`, if any. */
  private branchTaken(before: Map<number, number>): number | undefined {
    if (before.size === 0) return undefined;
    for (const [id, n] of this.hostPathCounts())
      if (this.branches.has(id) && n > (before.get(id) ?? 0)) return id;
    return undefined;
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  async run(traffic: TrafficPacket[], seconds: number, opts: TrafficOptions = {}): Promise<TrafficRun> {
    const { onProgress, signal } = opts;
    if (this.sockets.size === 0) {
      const { RawSocket } = loadSoftnic();
      for (const [port, end] of this.wireEnds) this.sockets.set(port, new RawSocket(end.ifname, end.netns));
    }
    await this.snapshotDrops();
    let pass = 0;
    do {
      const record = pass === 0 && this.recordFates;
      if (record) await this.sendOneByOne(traffic, onProgress, signal);
      else await this.sendWindowed(traffic, onProgress, signal);
      pass++;
    } while (!signal?.aborted && this.ledger.elapsedMs < seconds * 1000 && traffic.length > 0);
    return this.ledger.finish();
  }

  /** One packet at a time: its fate is whichever of egress, NIC drop or host drop happens. */
  private async sendOneByOne(
    traffic: TrafficPacket[],
    onProgress?: ProgressCallback,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let i = 0; i < traffic.length && !signal?.aborted; i++) {
      const packet = traffic[i];
      const before = this.hostPathCounts();
      const unsent = this.send(packet);
      if (unsent) {
        this.ledger.account(packet, unsent, i, true);
        continue;
      }
      const sent = Date.now();
      let fate: PacketFate | undefined;
      while (!fate) {
        const out = this.receive();
        if (out.length) {
          fate = { kind: 'forwarded', port: out[0].port, data: out[0].data };
          this.strayFrames += out.length - 1;
          break;
        }
        fate = this.hostDropped()[0] ?? (await this.nicDropped())[0];
        if (!fate && Date.now() - sent > LOST_AFTER_MS) fate = lost();
      }
      if (fate.kind === 'forwarded') this.onEgress?.(fate.port, fate.data);
      // One packet in flight: a branch path the host counted one more on is the one it took.
      const branch = this.branchTaken(before);
      this.ledger.account(packet, branch !== undefined ? { ...fate, path: branch } : fate, i, true);
      this.ledger.progress(onProgress);
    }
  }

  /** A window of packets in flight, matched on egress by their IPv4 identification tag. */
  private async sendWindowed(
    traffic: TrafficPacket[],
    onProgress?: ProgressCallback,
    signal?: AbortSignal,
  ): Promise<void> {
    const pending = new Map<number, { packet: TrafficPacket; index: number; id: number }>();
    const untagged: Array<{ packet: TrafficPacket; index: number }> = [];
    let dropsOwed: PacketFate[] = [];
    let next = 0;
    let lastProgressAt = Date.now();
    const settle = (fates: PacketFate[]): void => {
      dropsOwed = dropsOwed.concat(fates);
    };
    const inFlight = (): number => pending.size + untagged.length - dropsOwed.length;
    let lastCounterRead = 0;
    while (!signal?.aborted) {
      while (next < traffic.length && inFlight() < WINDOW) {
        const packet = traffic[next];
        const tagged = withIpId(packet.data, next & 0xffff);
        const unsent = this.sendable(packet);
        if (unsent) {
          this.ledger.account(packet, unsent, next++, false);
          continue;
        }
        if (tagged) {
          const old = pending.get(next & 0xffff);
          if (old) {
            // A tag comes round again: its earlier packet never left, so it was dropped.
            pending.delete(next & 0xffff);
            untagged.push(old);
          }
          const refused = this.send(packet, tagged.frame);
          if (refused) this.ledger.account(packet, refused, next, false);
          else pending.set(next & 0xffff, { packet, index: next, id: tagged.original });
        } else {
          const refused = this.send(packet);
          if (refused) this.ledger.account(packet, refused, next, false);
          else untagged.push({ packet, index: next });
        }
        next++;
      }
      for (const out of this.receive()) {
        const tag = ipId(out.data);
        const hit = tag === undefined ? undefined : pending.get(tag);
        if (hit) {
          pending.delete(tag!);
          const data = withIpId(out.data, hit.id)?.frame ?? out.data;
          this.onEgress?.(out.port, data);
          this.ledger.account(hit.packet, { kind: 'forwarded', port: out.port, data }, hit.index, false);
        } else if (untagged.length) {
          const first = untagged.shift()!;
          this.onEgress?.(out.port, out.data);
          this.ledger.account(
            first.packet,
            { kind: 'forwarded', port: out.port, data: out.data },
            first.index,
            false,
          );
        } else this.strayFrames++;
        lastProgressAt = Date.now();
      }
      settle(this.hostDropped());
      if (Date.now() - lastCounterRead > 20) {
        settle(await this.nicDropped());
        lastCounterRead = Date.now();
      } else await new Promise((r) => setImmediate(r));
      const done = next >= traffic.length;
      if (done && inFlight() <= 0) break;
      if (done && Date.now() - lastProgressAt > LOST_AFTER_MS) break;
      if (inFlight() > 0 && dropsOwed.length === 0 && Date.now() - lastProgressAt > LOST_AFTER_MS) {
        lastProgressAt = Date.now(); // nothing moves: give up on the window, count it lost
        for (const p of [...pending.values(), ...untagged])
          this.ledger.account(p.packet, lost(), p.index, false);
        pending.clear();
        untagged.length = 0;
      }
      this.ledger.progress(onProgress);
    }
    // The counted drops name reasons, not packets: give them to the packets that never left.
    const left = [...untagged, ...pending.values()].sort((a, b) => a.index - b.index);
    for (const p of left) this.ledger.account(p.packet, dropsOwed.shift() ?? lost(), p.index, false);
  }

  /** Why a frame cannot go on its wire at all, as its fate; undefined when it can. */
  private sendable(packet: TrafficPacket): PacketFate | undefined {
    if (!this.sockets.has(packet.port)) throw new Error(`the switch has no wire port ${packet.port}`);
    if (!linkCarries(packet.data)) return { kind: 'dropped', where: 'wire', reason: 'runt' };
    return undefined;
  }

  /** Sends the frame; its fate when it could not be sent (then no device saw it). */
  private send(packet: TrafficPacket, frame: Buffer = packet.data): PacketFate | undefined {
    const unsendable = this.sendable(packet);
    if (unsendable) return unsendable;
    if (!this.sockets.get(packet.port)!.send(frame))
      return { kind: 'dropped', where: 'wire', reason: 'refused' };
    return undefined;
  }

  private receive(): Array<{ port: number; data: Buffer }> {
    const out: Array<{ port: number; data: Buffer }> = [];
    for (const [port, s] of this.sockets) for (const data of s.recv(RECV_BURST)) out.push({ port, data });
    return out;
  }

  private async snapshotDrops(): Promise<void> {
    this.nicDrops = await this.readNicDrops();
    this.hostDrops = this.hostAttached ? { ...host.stats().drops } : {};
  }

  /** Host drops since the last look, one fate per dropped packet. */
  private hostDropped(): PacketFate[] {
    if (!this.hostAttached) return [];
    const now = host.stats().drops;
    const fates: PacketFate[] = [];
    for (const [reason, n] of Object.entries(now)) {
      for (let k = n - (this.hostDrops[reason] ?? 0); k > 0; k--)
        fates.push({ kind: 'dropped', where: 'host', reason });
    }
    this.hostDrops = { ...now };
    return fates;
  }

  /** NIC drops since the last look, from the pipeline's per-reason drop counter. */
  private async nicDropped(): Promise<PacketFate[]> {
    const now = await this.readNicDrops();
    const fates: PacketFate[] = [];
    for (const r of this.nic.entries.dropReasons) {
      for (let k = (now[r.code] ?? 0) - (this.nicDrops[r.code] ?? 0); k > 0; k--)
        fates.push({ kind: 'dropped', where: 'nic', reason: r.name });
    }
    this.nicDrops = now;
    return fates;
  }

  private readNicDrops(): Promise<number[]> {
    return this.readDrops();
  }
}

function lost(): PacketFate {
  return { kind: 'dropped', where: 'nic', reason: 'lost' };
}

/** Offset of the IPv4 header of an Ethernet frame (after up to two VLAN tags), if it has one. */
function ipv4Offset(frame: Buffer): number | undefined {
  let off = 12;
  for (let tags = 0; tags < 2 && off + 2 <= frame.length; tags++) {
    const type = frame.readUInt16BE(off);
    if (type !== 0x8100 && type !== 0x88a8) break;
    off += 4;
  }
  if (off + 2 > frame.length || frame.readUInt16BE(off) !== 0x0800) return undefined;
  off += 2;
  if (off + 20 > frame.length || frame[off] >> 4 !== 4) return undefined;
  return off;
}

function ipId(frame: Buffer): number | undefined {
  const off = ipv4Offset(frame);
  return off === undefined ? undefined : frame.readUInt16BE(off + 4);
}

/** A copy of the frame with another IPv4 identification and its header checksum redone. */
function withIpId(frame: Buffer, id: number): { frame: Buffer; original: number } | undefined {
  const off = ipv4Offset(frame);
  if (off === undefined) return undefined;
  const ihl = (frame[off] & 0x0f) * 4;
  if (ihl < 20 || off + ihl > frame.length) return undefined;
  const copy = Buffer.from(frame);
  const original = copy.readUInt16BE(off + 4);
  // Only a header whose checksum was right gets one recomputed: a bad one stays bad.
  const wasValid = ipChecksum(copy, off, ihl) === 0;
  copy.writeUInt16BE(id, off + 4);
  if (wasValid) {
    copy.writeUInt16BE(0, off + 10);
    copy.writeUInt16BE(ipChecksum(copy, off, ihl), off + 10);
  }
  return { frame: copy, original };
}

function ipChecksum(b: Buffer, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += b.readUInt16BE(off + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
