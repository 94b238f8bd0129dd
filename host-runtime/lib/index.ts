/**
 * The host runtime's TypeScript binding: start the EAL, load a plan's host part, read stats, and
 * (for tests and benchmarks) inject and collect packets on the in-memory ports. JavaScript is never
 * on the per-packet path: inject/collect copy whole arrays across once.
 *
 *   start({ workers: 2 });            // EAL once per process
 *   const loaded = load(plan, { isolation: 'none' });
 *   inject(loaded.queueOfPath.get(1)!, [encapNsh({ spi: 1, si: 2, tenant: 1 }, frame)]);
 *   await settle();  collect();  stats();  stop();
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { NfpError } from '../../partitioner/errors';
import type { Plan } from '../../partitioner/plan';
import { lowerHostPlan, type InputMode, type IsolationBackend } from './host-plan';
import { addon, type NativeConfig, type FairClock, type NativeStats, type SchedulerKind } from './native';

export { addonBuilt, type FairClock, type SchedulerKind } from './native';
export { decapNsh, encapNsh, type NshTag } from './nsh';
export {
  lowerHostPlan,
  schedulerWeights,
  workerConfigs,
  type InputMode,
  type IsolationBackend,
} from './host-plan';

export interface HostStartConfig {
  /** EAL arguments; the default works here: no hugepages, no PCI, one lcore per worker. */
  eal?: string[];
  /** PCI devices (`0000:3b:00.0`) the default EAL arguments let the EAL probe (no others). */
  devices?: string[];
  /** Worker lcores to run (default 1). */
  workers?: number;
  /** presorted: one queue per plan host queue; mixed: one queue for all paths; raw: rx→tx only. */
  mode?: InputMode;
  burst?: number;
  queueSize?: number;
  mbufs?: number;
  /** Keep dropped packets (with their reason) for collect(); tests only. */
  captureDrops?: boolean;
  /** Benchmarks: transmitted packets are restored and fed to the same queue again. */
  loopback?: boolean;
  /** An idle worker sleeps this long between polls after ~1000 empty ones; 0 = busy-poll always. */
  idleSleepUs?: number;
  /**
   * How a worker shares its cycles: `auto` (default) runs weighted deficit round robin over the
   * tenants' queues (by the plan's tenant weights, on measured CPU time) wherever a worker polls
   * queues of two or more tenants, one tenant per queue; `fair` insists on it; `poll` turns it off.
   */
  scheduler?: SchedulerKind;
  /** Fair scheduler credit per round per unit of weight, in microseconds of CPU (default 20). */
  fairQuantumUs?: number;
  /** What a burst is charged under the fair scheduler (default `auto`; see FairClock). */
  fairClock?: FairClock;
  /**
   * ring: in-memory queues (inject/collect); vdev: one DPDK vdev with a queue per host queue;
   * vdevs: one single-queue vdev per host queue, devargs joined by ';' in queue order (such as a
   * net_af_packet per host-facing veth); ethdev: a device the EAL probed; ports: several ports
   * joined by ';' (each a vdev spec or a probed device's name), every one with all the plan's
   * host queues (a NIC's wire ports, its queues carrying the paths). `isolate` asks each port for
   * rte_flow isolation before it is configured (see nfp_host_port_get for the answer).
   */
  port?:
    { kind: 'ring' } | { kind: 'vdev' | 'vdevs' | 'ports' | 'ethdev'; devargs: string; isolate?: boolean };
}

export interface LoadOptions {
  isolation?: IsolationBackend;
  artifacts?: Record<number, string>;
}

export interface LoadedHostPlan {
  queues: number;
  queueOfPath: Map<number, number>;
  /** Drop reasons in index order: the runtime's own, then `nf:reason` per NF. */
  reasons: string[];
  /**
   * This load's handle: NIC code in the same process (the softnic's linked data path) reaches the
   * plan's host queues through it (include/nfp/host.h). Never reused after stop().
   */
  handle: number;
}

export type HostStats = NativeStats;

export interface CollectedPacket {
  seq: number;
  queue: number;
  /** The plan path the packet left the host on (the one it entered, or a branch); absent when none. */
  path?: number;
  fate: 'tx' | 'drop';
  reason?: string;
  data: Buffer;
}

let config: Required<Omit<HostStartConfig, 'eal' | 'devices'>> | undefined;
let ealLcores = 0;
let ealUp = false;
let loaded = false;

/**
 * Default EAL arguments: `workers` worker lcores spread over the CPUs, main lcore floating; no
 * PCI device unless `devices` names some (then those only, and hugepages when the machine has
 * free ones: a NIC DMAs into them).
 */
export function defaultEalArgs(workers: number, devices: string[] = []): string[] {
  const ncpu = Math.max(1, cpus().length);
  const lcores = [`0@(0-${ncpu - 1})`];
  for (let w = 0; w < workers; w++) lcores.push(`${w + 1}@${(ncpu - 1 - (w % ncpu) + ncpu) % ncpu}`);
  return [
    'nfp',
    ...(devices.length && freeHugepages() > 0 ? [] : ['--no-huge']),
    ...(devices.length ? devices.flatMap((d) => ['-a', d]) : ['--no-pci']),
    '--no-shconf',
    '--no-telemetry',
    '-m',
    '512',
    '--file-prefix',
    `nfp-${process.pid}`,
    '--lcores',
    lcores.join(','),
    '--log-level',
    '*:warning',
  ];
}

function freeHugepages(): number {
  try {
    const m = /HugePages_Free:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function isEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/** Runtime dirs of earlier nfp processes that were killed before their exit handler ran. */
function removeStaleRuntimeDirs(): void {
  let names: string[];
  try {
    names = readdirSync('/var/run/dpdk');
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^nfp-(\d+)$/.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH')
        rmSync(`/var/run/dpdk/${n}`, { recursive: true, force: true });
    }
  }
}

/**
 * Initialises the DPDK EAL with `args` unless it is up already, and returns its worker lcore
 * count. Every part of nfp that needs the EAL in this process (the host runtime's start(), the
 * softnic's ethdev ports) goes through here, so it is initialised once. Throws NfpError when the
 * EAL cannot start.
 */
export function ensureEal(args: string[] = defaultEalArgs(2)): number {
  if (ealUp) return ealLcores;
  removeStaleRuntimeDirs();
  try {
    ealLcores = addon().ealInit(args).length;
    ealUp = true;
  } catch (err) {
    throw new NfpError(
      err instanceof Error ? err.message : String(err),
      'check the EAL arguments (start({ eal }))',
    );
  }
  const prefix = args[args.indexOf('--file-prefix') + 1];
  if (args.includes('--file-prefix') && prefix) {
    const dir = `/var/run/dpdk/${prefix}`;
    // With --no-shconf the EAL keeps nothing in its runtime folder after init (no shared config,
    // no IPC socket): remove it now, so a process killed by a signal leaves nothing behind.
    if (args.includes('--no-shconf') && isEmptyDir(dir)) rmSync(dir, { recursive: true, force: true });
    else process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return ealLcores;
}

/**
 * Initialises the EAL (once per process; later calls reuse it) and sets the runtime config for
 * the next load. Throws NfpError when the EAL cannot start or has too few lcores.
 */
export function start(cfg: HostStartConfig = {}): void {
  const workers = cfg.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1)
    throw new NfpError(`workers must be a positive integer, got ${workers}`);
  ensureEal(cfg.eal ?? defaultEalArgs(Math.max(2, workers), cfg.devices));
  if (workers > ealLcores) {
    throw new NfpError(
      `workers = ${workers}, but the EAL was started with ${ealLcores} worker lcores`,
      'the EAL starts once per process: call start() with the largest worker count first',
    );
  }
  config = {
    workers,
    mode: cfg.mode ?? 'presorted',
    burst: cfg.burst ?? 32,
    queueSize: cfg.queueSize ?? 1024,
    mbufs: cfg.mbufs ?? 16384,
    captureDrops: cfg.captureDrops ?? false,
    loopback: cfg.loopback ?? false,
    idleSleepUs: cfg.idleSleepUs ?? 20,
    scheduler: cfg.scheduler ?? 'auto',
    fairQuantumUs: cfg.fairQuantumUs ?? 20,
    fairClock: cfg.fairClock ?? 'auto',
    port: cfg.port ?? { kind: 'ring' },
  };
}

/** Loads the plan's host part and starts the workers; replaces a plan already loaded. */
export function load(plan: Plan, opts: LoadOptions = {}): LoadedHostPlan {
  if (!config) throw new NfpError('the host runtime is not started', 'call start() before load()');
  if (loaded) stop();
  const lowered = lowerHostPlan(plan, { mode: config.mode, workers: config.workers, ...opts });
  const native: NativeConfig = { ...config };
  // `ports`: every port carries every host queue; the runtime numbers them port by port.
  const port = config.port;
  if (port.kind === 'ports') lowered.native.queues *= port.devargs.split(';').filter(Boolean).length;
  let result: { reasons: string[]; handle: number };
  try {
    result = addon().load(native, lowered.native);
  } catch (err) {
    throw new NfpError(`cannot load the host plan: ${err instanceof Error ? err.message : String(err)}`);
  }
  loaded = true;
  return {
    queues: lowered.native.queues,
    queueOfPath: lowered.queueOfPath,
    reasons: result.reasons,
    handle: result.handle,
  };
}

/** Stops the workers and frees the plan's ports and NFs; the EAL stays up for the next load. */
export function stop(): void {
  if (!loaded) return;
  addon().unload();
  loaded = false;
}

export function stats(): HostStats {
  if (!loaded) throw new NfpError('no host plan is loaded', 'call load(plan) first');
  return addon().stats();
}

/** Copies packets into host queue `queue`; returns how many the bounded queue accepted. */
export function inject(queue: number, packets: Buffer[]): { accepted: number; firstSeq: number } {
  if (!loaded) throw new NfpError('no host plan is loaded', 'call load(plan) first');
  try {
    return addon().inject(queue, packets);
  } catch (err) {
    throw new NfpError(err instanceof Error ? err.message : String(err));
  }
}

/** Transmitted (and, with captureDrops, dropped) packets since the last call, with their fate. */
export function collect(): CollectedPacket[] {
  if (!loaded) throw new NfpError('no host plan is loaded', 'call load(plan) first');
  return addon().collect();
}

/** Resolves once every accepted packet has been processed (or rejects after `timeoutMs`). */
export async function settle(timeoutMs = 5000): Promise<HostStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = stats();
    // Refused at inject (a full queue, a frame no mbuf holds) is counted received but never queued.
    const refused = (s.drops['rx-overflow'] ?? 0) + (s.drops['oversize'] ?? 0);
    if (s.received - refused >= s.injected) return s;
    if (Date.now() > deadline) {
      throw new NfpError(
        `host runtime did not settle: ${s.received - refused} of ${s.injected} packets processed`,
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Sets or clears a tenant's quarantine (its packets drop with reason `quarantined`). */
export function quarantine(tenant: number, on: boolean): void {
  if (!loaded) throw new NfpError('no host plan is loaded', 'call load(plan) first');
  addon().quarantine(tenant, on);
}

/** Isolation backends registered in this build (`none`, plus those of src/isolation). */
export function backends(): string[] {
  return addon().backends();
}

/** One built-in NF instance driven directly (unit tests): a batch in, a verdict per packet out. */
export interface NfHarness {
  run(packets: Buffer[], nowNs?: number): Array<{ verdict: string; reason?: string; data: Buffer }>;
  counters(): number[];
  close(): void;
}

/** Opens a built-in NF (`firewall`, `nat`, ...) with its config, in a `none` domain of its own. */
export function openNf(type: string, nfConfig: unknown, tenant = 1): NfHarness {
  if (ealLcores === 0) start();
  const a = addon();
  let handle: number;
  try {
    handle = a.nfOpen(type, JSON.stringify(nfConfig), tenant);
  } catch (err) {
    throw new NfpError(err instanceof Error ? err.message : String(err));
  }
  return {
    run: (packets, nowNs) => a.nfRun(handle, packets, nowNs),
    counters: () => a.nfCounters(handle),
    close: () => a.nfClose(handle),
  };
}

export { hostOnlyPlan, type HostNfSpec, type HostPathSpec } from './plan-builder';
