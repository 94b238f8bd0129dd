/**
 * The plan: the partitioner's output and the contract between the NIC half (`p4/`, `targets/`)
 * and the host half (`host-runtime/`). Serialised as `plan.json`, described by
 * `schemas/plan.schema.json`. Bump PLAN_VERSION on any incompatible change.
 */
import type { HeaderMatch, NfConfig, NfType, Prefix } from './nf-config';

export const PLAN_VERSION = 1;

export type Placement = 'nic' | 'host';

/** Where a hop runs relative to the host: before it, on it, or on the NIC after the host. */
export type Spot = 'nic-pre' | 'host' | 'nic-post';

export interface PlanTenant {
  id: number;
  name: string;
  weight: number;
  rateLimit?: { bitsPerSecond: number; burstBytes: number };
  egressPort: number;
  trafficShare: number;
  isolation: 'sfi' | 'mpk' | 'none' | 'process';
  /** How sandboxed NFs reach packets; absent: `shared` (graph.ts, Tenant.packetAccess). */
  packetAccess?: 'shared' | 'windows';
}

export interface PlanNf {
  /** Index into `plan.nfs`; the host runtime and the NIC pipeline refer to NFs by it. */
  id: number;
  tenant: number;
  /** Qualified name `tenant.nf`, unique in the plan. */
  name: string;
  type: NfType;
  config: NfConfig;
  placement: Placement;
  /** One line saying why, e.g. "stateful: needs host" or "NIC TCAM budget exhausted". */
  reason: string;
  /** Host cycles per packet when on the host (catalogue default or profile override). */
  hostCycles: number;
  /** Dynamic verdicts this NF can return besides pass/drop. */
  verdicts: string[];
}

export interface PathHop {
  nf: number;
  spot: Spot;
  /**
   * For an NF with dynamic verdict branches: the path that continues for each non-default
   * verdict. The continuing path shares this path's hops up to and including this one.
   */
  branches?: Record<string, number>;
}

export type PathTerminal = { kind: 'exit'; port: number } | { kind: 'drop'; reason: string };

export interface PlanPath {
  /** Service path id, 1-based, unique in the plan; the NSH SPI. */
  id: number;
  tenant: number;
  /** Readable, e.g. "acme: fw → nat → exit". */
  name: string;
  hops: PathHop[];
  terminal: PathTerminal;
  /** Fraction of the tenant's traffic expected on this path. */
  share: number;
  /** Set on paths that only a dynamic branch on the host can enter; the NIC never classifies into them. */
  branchOf?: { path: number; hop: number; verdict: string };
  needsHost: boolean;
  /** Host queue index, when `needsHost`. */
  queue?: number;
  /** Number of host hops, the initial NSH SI. */
  hostHops: number;
}

/** Classifies wire packets into tenants; a ternary table ordered by priority (larger wins). */
export interface TenantRule {
  tenant: number;
  priority: number;
  ingressPort?: number;
  vlan?: number;
  dstPrefix?: Prefix;
  srcPrefix?: Prefix;
}

/** Classifies a tenant's packets into a root path; larger priority wins; each tenant ends in a catch-all. */
export interface PathRule {
  tenant: number;
  path: number;
  priority: number;
  match: HeaderMatch;
}

export interface HostQueue {
  id: number;
  paths: number[];
  /** True when the queue mixes paths whose host hops differ, so batches can fragment. */
  fragments: boolean;
}

export interface FragmentationPoint {
  tenant: number;
  nf: number;
  /** The path entering the NF and the paths its verdicts may continue on. */
  path: number;
  branches: Record<string, number>;
}

export interface ResourceLine {
  used: number;
  available: number;
}

export interface ResourceUse {
  stages: ResourceLine;
  exactEntries: ResourceLine;
  ternaryEntries: ResourceLine;
  lpmEntries: ResourceLine;
  rangeEntries: ResourceLine;
  meters: ResourceLine;
  counters: ResourceLine;
  hostQueues: ResourceLine;
}

export interface NicProfile {
  name: string;
  description: string;
  stages: number;
  exactEntries: number;
  ternaryEntries: number;
  lpmEntries: number;
  rangeEntries: number;
  meters: number;
  counters: number;
  hostQueues: number;
  matchKinds: Array<'exact' | 'ternary' | 'lpm' | 'range'>;
  /** Cost of one NIC→host→NIC round trip over PCIe, in host cycles per packet. */
  crossingCycles: number;
  /** Wire ports and the host-facing ports or queues of the device. */
  wirePorts: number[];
  hostPorts: number[];
  /**
   * The port that connects to the P4Runtime controller (packet I/O; BMv2 `--cpu-port`). Plans
   * made before profiles had one use 255.
   */
  cpuPort?: number;
  /** Overrides of the catalogue's default host cycles per packet, by NF type. */
  hostCycles?: Partial<Record<NfType, number>>;
}

export interface Objective {
  /** Expected host cycles per packet, traffic-weighted, including crossings. */
  value: number;
  hostCycles: number;
  crossingCycles: number;
  solver: 'milp' | 'heuristic';
  optimal: boolean;
  seconds: number;
}

export interface Plan {
  version: typeof PLAN_VERSION;
  graphFile: string;
  /**
   * The folder that `custom` NFs' `manifest.source` paths (and the files they include) are
   * relative to; relative itself to the plan file's folder when it is not absolute (a plan folder
   * written by `nfp partition` carries its sources in `nf/`). Present when the plan has custom NFs.
   */
  sourceDir?: string;
  profile: NicProfile;
  tenants: PlanTenant[];
  nfs: PlanNf[];
  paths: PlanPath[];
  tenantRules: TenantRule[];
  pathRules: PathRule[];
  queues: HostQueue[];
  fragmentationPoints: FragmentationPoint[];
  resources: ResourceUse;
  objective: Objective;
}
