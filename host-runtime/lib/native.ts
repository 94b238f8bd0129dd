/**
 * Loads the `nfp_host` addon (host-runtime/build/Release/nfp_host.node) and types its surface.
 * Only this file touches the addon; everything else goes through index.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NfpError } from '../../partitioner/errors';

export interface NativeHostPlan {
  queues: number;
  nfs: Array<{
    id: number;
    tenant: number;
    name: string;
    type: string;
    backend: string;
    artifact?: string;
    configs: string[];
  }>;
  paths: Array<{
    id: number;
    tenant: number;
    /** The host queue a root path arrives on (the fair scheduler's tenant of that queue). */
    queue?: number;
    hops: Array<{ nf: number; host: boolean; branches?: Record<string, number> }>;
  }>;
  /** CPU weights for the fair scheduler (integers >= 1); a tenant not listed has weight 1. */
  tenants?: Array<{ id: number; weight: number; packetAccess?: 'shared' | 'windows' }>;
}

export interface NativeConfig {
  workers: number;
  mode: 'presorted' | 'mixed' | 'raw';
  burst: number;
  queueSize: number;
  mbufs: number;
  captureDrops: boolean;
  loopback: boolean;
  idleSleepUs: number;
  scheduler: SchedulerKind;
  fairQuantumUs: number;
  fairClock: FairClock;
  port:
    { kind: 'ring' } | { kind: 'vdev' | 'vdevs' | 'ports' | 'ethdev'; devargs: string; isolate?: boolean };
}

/**
 * auto: weighted DRR over tenants on a worker whose queues each carry one tenant (two or more of
 * them), else polling; fair: as auto, and an error where queues mix tenants; poll: every queue in turn.
 */
export type SchedulerKind = 'auto' | 'fair' | 'poll';

/**
 * What the fair scheduler charges a burst: `auto`, its TSC span, re-measured on the worker
 * thread's CPU clock when longer than 50 us (a descheduling hides only in a long span), so short
 * bursts pay nothing and the result holds on shared cores; `cpu`, the thread's CPU time for every
 * burst (one clock system call per burst); `tsc`, the TSC span only (CPU time on a dedicated core).
 */
export type FairClock = 'auto' | 'cpu' | 'tsc';

export interface NativeCollected {
  seq: number;
  queue: number;
  fate: 'tx' | 'drop';
  reason?: string;
  data: Buffer;
}

export interface NativeNfResult {
  verdict: string;
  reason?: string;
  data: Buffer;
}

export interface NativeManifest {
  name: string;
  version: string;
  reads: number;
  writes: number;
  stateBytes: number;
  verdicts: string[];
  dropReasons: string[];
  tables: Array<{ name: string; keyBytes: number; valueBytes: number; maxEntries: number }>;
}

export interface NativeStats {
  received: number;
  transmitted: number;
  dropped: number;
  injected: number;
  captureLost: number;
  drops: Record<string, number>;
  workers: Array<{
    lcore: number;
    received: number;
    transmitted: number;
    dropped: number;
    bursts: number;
    busyCycles: number;
    cpuNs: number;
    scheduler: 'fair' | 'poll';
  }>;
  nfs: Array<{
    id: number;
    name: string;
    tenant: number;
    calls: number;
    packets: number;
    cycles: number;
    counters: number[];
  }>;
  /**
   * Per path: packets that entered it (on arrival, or by a branch) and the cycles spent on it; per
   * host hop, its NF's packets and cycles while on this path.
   */
  paths: Array<{
    id: number;
    tenant: number;
    packets: number;
    cycles: number;
    hops: Array<{ nf: number; packets: number; cycles: number }>;
  }>;
  tenants: Array<{
    id: number;
    /** TSC cycles spent in the tenant's NFs (includes time the thread was descheduled). */
    cycles: number;
    quarantined: boolean;
    faults: number;
    /** Why it was quarantined (the fault of the NF that caused it); absent while it is not. */
    fault?: string;
    /** The scheduler's weight for the tenant. */
    weight: number;
    /**
     * What the fair scheduler charged the tenant, in TSC cycles: by its fairClock; 0 on polling workers.
     */
    scheduledCycles: number;
    scheduledBursts: number;
    /** Packets turned away because the tenant's queue was full (also in drops['rx-overflow']). */
    overload: number;
  }>;
  tscHz: number;
}

export interface NativeAddon {
  abiVersion: number;
  ealInit(args: string[]): number[];
  /** `handle` names the loaded plan for NIC code (include/nfp/host.h: nfp_host_get). */
  load(config: NativeConfig, plan: NativeHostPlan): { reasons: string[]; handle: number };
  unload(): void;
  inject(queue: number, packets: Buffer[]): { accepted: number; firstSeq: number };
  collect(): NativeCollected[];
  stats(): NativeStats;
  quarantine(tenant: number, on: boolean): void;
  nfOpen(type: string, configJson: string, tenant?: number): number;
  nfRun(handle: number, packets: Buffer[], nowNs?: number): NativeNfResult[];
  nfCounters(handle: number): number[];
  nfClose(handle: number): void;
  nfManifest(type: string): NativeManifest | null;
  backends(): string[];
}

/** Where the addon may be, from source (tsx, vitest) and from dist/. */
function candidates(): string[] {
  return [
    join(__dirname, '..', 'build', 'Release', 'nfp_host.node'),
    join(__dirname, '..', '..', '..', 'host-runtime', 'build', 'Release', 'nfp_host.node'),
  ];
}

let cached: NativeAddon | undefined;

/** The addon, loaded once; a clear NfpError when it has not been built. */
export function addon(): NativeAddon {
  if (cached) return cached;
  const file = candidates().find((f) => existsSync(f));
  if (!file) {
    throw new NfpError(
      'the native host runtime (nfp_host.node) is not built',
      'run `npm run build:native` (needs libdpdk-dev; see scripts/setup.sh)',
    );
  }
  try {
    cached = require(file) as NativeAddon;
  } catch (err) {
    throw new NfpError(
      `cannot load the native host runtime ${file}: ${err instanceof Error ? err.message : String(err)}`,
      'rebuild it with `npm run build:native`',
    );
  }
  return cached;
}

/** True when the addon file exists (tests use it to skip with a reason). */
export function addonBuilt(): boolean {
  return candidates().some((f) => existsSync(f));
}
