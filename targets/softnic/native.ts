/**
 * Loads the softnic's native engine. It lives in the shared `nfp_host` addon
 * (host-runtime/build/Release/nfp_host.node), whose binding.gyp compiles
 * targets/softnic/engine/*.cc and whose Init calls nfp_softnic_register().
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NfpError } from '../../partitioner/errors';

/** One key field of a table entry, as canonical big-endian bytes. */
export interface NativeMatch {
  value?: Buffer;
  /** ternary/optional mask */
  mask?: Buffer;
  /** range: inclusive high bound (`value` is the low bound) */
  high?: Buffer;
  /** lpm */
  prefixLen?: number;
  /** omitted field of a ternary/optional/lpm/range key: matches anything */
  wildcard?: boolean;
}

export interface NativeEntry {
  id: number;
  priority: number;
  action: string;
  params: Buffer[];
  match: Array<{ value: Buffer; mask?: Buffer; high?: Buffer; prefixLen?: number }>;
  packets: number;
  bytes: number;
}

export interface NativeTableInfo {
  name: string;
  keys: Array<{
    name: string;
    kind: 'exact' | 'lpm' | 'ternary' | 'range' | 'optional' | 'valid';
    width: number;
  }>;
  actions: string[];
  hasPriority: boolean;
  maxSize: number;
  directCounter: boolean;
  size: number;
}

export interface NativeProgramInfo {
  actions: Array<{ name: string; params: Array<{ name: string; width: number }> }>;
  tables: NativeTableInfo[];
  counters: Array<{ name: string; size: number; direct: boolean }>;
  meters: Array<{ name: string; size: number; unit: 'bytes' | 'packets'; rateCount: number }>;
}

/** RFC 2698 (trTCM), or RFC 2697 (srTCM) when `eburst` > 0; rates in units per second. */
export interface NativeMeterConfig {
  cir: number;
  cburst: number;
  pir: number;
  pburst: number;
  eburst?: number;
}

export type NativeOutcome = { port: number; data: Buffer } | { drop: 'ingress' | 'egress' };

export interface NativeBench {
  packets: number;
  /** Wall-clock time. */
  ns: number;
  /** TSC cycles over the wall-clock time. */
  cycles: number;
  /** CPU time of the calling thread (excludes time other processes held the core). */
  cpuNs: number;
  forwarded: number;
  dropped: number;
}

/** A native error carries a gRPC status code in `code`. */
export interface NativeError extends Error {
  code: number;
}

export interface NativeEngine {
  /** Replaces the pipeline; throws (code 3) naming the unsupported construct, keeping the old one. */
  load(json: string): void;
  info(): NativeProgramInfo;
  tableAdd(table: string, match: NativeMatch[], priority: number, action: string, params: Buffer[]): number;
  /** The id of the entry with exactly this match (and priority), or -1. */
  tableFind(table: string, match: NativeMatch[], priority: number): number;
  tableModify(table: string, id: number, action: string, params: Buffer[]): void;
  tableDelete(table: string, id: number): void;
  tableSetDefault(table: string, action: string, params: Buffer[]): void;
  tableGetDefault(table: string): { action: string; params: Buffer[] };
  tableEntries(table: string): NativeEntry[];
  tableClear(table: string): void;
  /** Reads a direct counter; with packets/bytes also overwrites it (returning the old value). */
  directCounter(
    table: string,
    id: number,
    packets?: number,
    bytes?: number,
  ): { packets: number; bytes: number };
  counterRead(name: string, index: number): { packets: number; bytes: number };
  counterWrite(name: string, index: number, packets: number, bytes: number): void;
  /** `null` resets the cell to unconfigured (every packet GREEN). */
  meterSet(name: string, index: number, config: NativeMeterConfig | null): void;
  meterGet(name: string, index: number): NativeMeterConfig | null;
  process(port: number, packets: Buffer[], nowNs?: number): NativeOutcome[];
  /**
   * Like process(), packed: every output in one Buffer in input order; `ports[i]` is the egress
   * port, or -1 (dropped in ingress) / -2 (dropped in egress) with `lens[i]` 0.
   */
  processRaw(
    port: number,
    packets: Buffer[],
    nowNs?: number,
  ): { data: Buffer; ports: Int32Array; lens: Uint32Array };
  bench(port: number, packets: Buffer[], rounds: number): NativeBench;
}

/** An AF_PACKET socket bound to one interface (root or CAP_NET_RAW). */
export interface NativeRawSocket {
  /** The frames waiting now, at most `max`; never blocks. */
  recv(max?: number): Buffer[];
  send(frame: Buffer): boolean;
  close(): void;
}

interface SoftnicModule {
  Engine: new () => NativeEngine;
  /** With `netns` (a name under /var/run/netns) the socket lives in that network namespace. */
  RawSocket: new (ifname: string, netns?: string) => NativeRawSocket;
  abiVersion: number;
}

function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'targets'))) return dir;
    dir = dirname(dir);
  }
  return join(__dirname, '..', '..');
}

/** The native API this code expects (kSoftnicAbiVersion in engine/binding.cc). */
export const SOFTNIC_ABI_VERSION = 4;

let cached: SoftnicModule | undefined;

/** The native softnic module; throws NfpError with a build hint when no addon provides it. */
export function loadSoftnic(): SoftnicModule {
  if (cached) return cached;
  const root = repoRoot();
  const candidates = [join(root, 'host-runtime', 'build', 'Release', 'nfp_host.node')];
  const problems: string[] = [];
  // A build older than these sources has another API version: say so rather than fail later.
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    try {
      const mod = require(file) as { softnic?: SoftnicModule };
      if (mod.softnic?.abiVersion === SOFTNIC_ABI_VERSION) {
        cached = mod.softnic;
        return cached;
      }
      problems.push(
        mod.softnic
          ? `${file} has softnic API ${mod.softnic.abiVersion}, need ${SOFTNIC_ABI_VERSION}`
          : `${file} has no softnic engine`,
      );
    } catch (err) {
      problems.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new NfpError(
    `the softnic native engine is not built${problems.length ? ` (${problems.join('; ')})` : ''}`,
    'run `npm run build:native`',
  );
}

/** Runs a batch through processRaw() and unpacks it into outcomes (views into one Buffer). */
export function processBatch(
  engine: NativeEngine,
  port: number,
  packets: Buffer[],
  nowNs?: number,
): NativeOutcome[] {
  const r = engine.processRaw(port, packets, nowNs);
  const out: NativeOutcome[] = new Array<NativeOutcome>(packets.length);
  let off = 0;
  for (let i = 0; i < packets.length; i++) {
    const p = r.ports[i];
    if (p >= 0) {
      out[i] = { port: p, data: r.data.subarray(off, off + r.lens[i]) };
      off += r.lens[i];
    } else out[i] = { drop: p === -1 ? 'ingress' : 'egress' };
  }
  return out;
}

/** A fresh engine with no pipeline. */
export function createEngine(): NativeEngine {
  const mod = loadSoftnic();
  return new mod.Engine();
}
