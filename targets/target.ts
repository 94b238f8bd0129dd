/**
 * The one interface every NIC target implements, and the only way `deploy/` reaches a target.
 *
 * A deployment drives a target through fixed phases, the same for every kind:
 *
 *   start()          bring the device up: embed it, launch it, open its ports, or connect
 *   install(nic)     put the NIC half on it (pipeline + entries), atomically: on failure the
 *                    device is left as it was; on success the result can roll it back later
 *   hostAttachment() how the host runtime's queues meet the device (in-memory rings, one DPDK
 *                    port per host port, the device's own ports), or that the host half does
 *                    not run in this process
 *   linkHost(host)   the host half is loaded there: join the NIC half to it where the target
 *                    runs NIC stages in this process (a no-op for a separate device)
 *   dataPath(ctx)    what carries traffic: frames sent and observed per packet, or the device's
 *                    own ports carrying whatever arrives while deploy waits
 *   readCounters()   the NIC's counters, by name and index
 *   stop()           release everything start() took; a device that outlives nfp keeps its NIC half
 *
 * Nothing here assumes one device per process: a node agent opens one target per device it
 * serves and deploys each plan through its own target.
 */
import type { NicArtifacts } from '../p4';
import type { Plan } from '../partitioner/plan';
import type { HostStartConfig, InputMode, LoadedHostPlan } from '../host-runtime/lib';
import { NfpError } from '../partitioner/errors';

/** One frame of traffic and what the plan expects of it (for accounting per tenant and path). */
export interface TrafficPacket {
  /** Wire port the frame enters on. */
  port: number;
  data: Buffer;
  tenant: number;
  path: number;
}

/**
 * What happened to one input packet. `wire`: the data path could not put the frame on its wire
 * at all (shorter than an Ethernet header, or refused by the link), so no device saw it.
 */
export type PacketFate = (
  | { kind: 'forwarded'; port: number; data: Buffer }
  | { kind: 'dropped'; where: 'nic' | 'host' | 'wire'; reason: string }
) & {
  /**
   * The plan path the packet ended on, when the data path saw it leave the host on another path
   * than the one the NIC classified it into (a dynamic branch); absent: its root path.
   */
  path?: number;
};

/** Packets in, forwarded and dropped; bytes of the frames in and of the frames sent out. */
export interface TrafficCounts {
  input: number;
  forwarded: number;
  dropped: number;
  inputBytes: number;
  forwardedBytes: number;
}

/** Packets of one path: entered, forwarded, dropped by reason, and moved to branch paths. */
export interface PathCounts extends TrafficCounts {
  /** Classified into this root path by the NIC, or branched into this path by the host. */
  input: number;
  drops: Record<string, number>;
  /** Left this path for a branch path (by the branch's id): input = forwarded + dropped + these. */
  branched: Record<number, number>;
}

/** The end-to-end account of a traffic run: each input packet forwarded or dropped with a reason. */
export interface TrafficRun {
  seconds: number;
  input: number;
  forwarded: number;
  dropped: number;
  /** `nic:<reason>` and `host:<reason>` keys. */
  dropsByReason: Record<string, number>;
  /** By tenant, as the traffic expected it; `inputBytes`: the frames' bytes (the offered load). */
  perTenant: Map<number, TrafficCounts>;
  /** By path: root paths count what the NIC classified into them, branch paths what they took. */
  perPath: Map<number, PathCounts>;
  fates?: PacketFate[];
}

export interface TrafficProgress {
  elapsedSeconds: number;
  input: number;
  perTenantPps: Record<string, number>;
}

export type ProgressCallback = (p: TrafficProgress) => void;

/** How a run is driven; the same for every data path. */
export interface TrafficOptions {
  /** Called about once a second with packets seen per tenant so far. */
  onProgress?: ProgressCallback;
  /** Aborting (Ctrl-C) ends the run early; what was accounted for so far is returned. */
  signal?: AbortSignal;
}

/**
 * What carries traffic through a deployed target. Every implementation accounts for every packet
 * it sends: forwarded on a wire port, or dropped with a reason.
 */
export interface DataPath {
  /**
   * Sends `traffic` (replayed until `seconds` passed, at least once) and accounts for each packet.
   * A data path whose device carries its own traffic sends nothing: it waits `seconds` (forever
   * when not finite, until aborted) and returns an empty run.
   */
  run(traffic: TrafficPacket[], seconds: number, opts?: TrafficOptions): Promise<TrafficRun>;
  /** The account so far, while `run` is in progress (live reports and metrics). */
  snapshot?(): TrafficRun;
  close(): Promise<void> | void;
}

/** What a data path is built from: the deployment and, when attached, the host half. */
export interface DataPathContext {
  plan: Plan;
  nic: NicArtifacts;
  /** The loaded host plan, when the target attached the host runtime. */
  host?: LoadedHostPlan;
  /** Keep each first-pass packet's fate (differential tests); may cost speed. */
  recordFates: boolean;
  /** Called with every frame that leaves a wire port (for `--pcap-out`). */
  onEgress?: (port: number, frame: Buffer) => void;
  /** Tenant and path of a frame that arrives on a live port, for the account (live ports only). */
  classify?: (port: number, frame: Buffer) => { tenant: number; path: number } | undefined;
}

/**
 * How the host runtime attaches to a target. Deploy starts the host runtime with these settings
 * and loads the plan's host half, the same way for every target.
 */
export type HostAttachment =
  | {
      kind: 'runtime';
      port: NonNullable<HostStartConfig['port']>;
      mode: InputMode;
      captureDrops: boolean;
      /** PCI devices the EAL must probe (a NIC's ports); none for in-memory and virtual ports. */
      devices?: string[];
    }
  /** The host half does not run in this process (an external device with its own host). */
  | { kind: 'none'; why: string };

/** NIC counters by name, then index: packets. Cells that counted nothing may be absent. */
export type NicCounters = Record<string, Record<number, number>>;

/** Where the NIC half runs, as the report names it. */
export interface TargetDescription {
  target: string;
  /** How the device is reached (a P4Runtime address, or the ports it runs on). */
  address: string;
  deviceId: number;
  /** What ran in the NIC and what in software, per NF, when the target splits it (dpdk). */
  placement?: NicPlacementReport;
}

/** Per NIC NF: offloaded to the NIC hardware or executed in software, and why. */
export interface NicPlacementReport {
  /** The NIC model or driver, e.g. `mlx5` or `software`. */
  nic: string;
  nfs: Array<{ name: string; where: 'nic' | 'software'; reason: string }>;
  /** Per root path: all of it in the NIC, part of its rules, or software. */
  paths?: Array<{ id: number; name: string; where: 'nic' | 'partly' | 'software'; reason: string }>;
  /** Notices for the user (a fallback to software, a missing feature). */
  notices: string[];
  /**
   * The parser's wire checks (partitioner/frame.ts) and the IP faults of IP-aware NFs: which run
   * as NIC rules, which in the software stage (it rechecks every frame the NIC steered before
   * trusting its MARK), and why.
   */
  checks?: Array<{ check: string; where: 'nic' | 'software'; reason: string }>;
}

/** The steps of an installation, in order; a failure names the one it happened in. */
export type InstallStep = 'connect' | 'push-pipeline' | 'write-entries';

/** An installed NIC half; rollback() puts back what the device ran before install(). */
export interface Installed {
  rollback(): Promise<void>;
}

/** A target could not do what was asked; `step` says where in the deployment it failed. */
export class TargetError extends NfpError {
  constructor(
    readonly step: InstallStep | 'start-target' | 'start-host',
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

export interface Target {
  describe(): TargetDescription;
  /** Brings the device up for `plan` (its wire and host ports); throws TargetError('start-target'). */
  start(plan: Plan): Promise<void>;
  /**
   * Installs the NIC half atomically: either all of it runs, or the device is as before and a
   * TargetError names the failed step. `onStep` is called as each step completes.
   */
  install(nic: NicArtifacts, onStep?: (step: InstallStep) => void): Promise<Installed>;
  hostAttachment(plan: Plan): HostAttachment;
  /**
   * Called once the host half is loaded on the attachment (never with `kind: 'none'`). The link
   * lasts until the host plan is stopped.
   */
  linkHost(host: LoadedHostPlan): Promise<void>;
  dataPath(ctx: DataPathContext): DataPath;
  readCounters(): Promise<NicCounters>;
  /** Releases what start() took. Safe to call after a failed start, and more than once. */
  stop(): Promise<void>;
}
