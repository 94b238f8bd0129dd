/**
 * Isolation domains from TypeScript: build NFs for a backend (`buildNf`, `builtinArtifact`), run a
 * tenant's chain in its own domain with fault containment (`IsolatedTenant`), share a worker's
 * cycles by weight (`schedule`), and snapshot, restore, inspect and hot-reload NF state.
 *
 *   const art = await builtinArtifact('nat', 'sfi');
 *   const t = new IsolatedTenant({ id: 1, backend: 'sfi', nfs: [{ artifact: art, config: natCfg }] });
 *   t.run(packets);  const snap = t.snapshot();  t.reload(undefined, { keepState: true });
 *
 * The native side is host-runtime/src/isolation (exports.isolation of the nfp_host addon).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { NfpError } from '../../partitioner/errors';
import { requireFile } from '../../partitioner/files';
import type { CustomConfig } from '../../partitioner/nf-config';
import type { Plan, PlanNf } from '../../partitioner/plan';
import { start } from './index';
import { nfSourceFiles } from './nf-sources';
import { addon } from './native';

export type IsolationBackendName = 'sfi' | 'mpk' | 'none' | 'process';
/** What `nfp nf build` produces: a wasm2c sandbox (`sfi`) or a native module (`mpk`, `process`). */
export type ArtifactKind = 'sfi' | 'native';

export interface NfSpec {
  /** A built-in NF type, for the `none` backend. */
  builtin?: string;
  /** A module built by buildNf: `module.so`, or `module.so#k` for NF k of a chain module. */
  artifact?: string;
  /** The NF's config (JSON-serialised for its init). */
  config?: unknown;
}

export interface TenantOptions {
  id: number;
  backend: IsolationBackendName;
  /** CPU weight for `schedule` (default 1). */
  weight?: number;
  /** Watchdog: cycles one batch may take in the domain before it is a runaway (default 5e8). */
  budgetCycles?: number;
  /** sfi, mpk, process: run the chain with one entry into the domain per batch (sfi: one module). */
  chain?: boolean;
  /**
   * How the NFs reach packets (docs/isolation.md): `shared` (default) puts the tenant's packets
   * in its domain's memory and checks what the NFs may not write against a saved copy; `windows`
   * copies each packet in per call, limited to the regions the NF declares readable.
   */
  packetAccess?: PacketAccess;
  nfs: NfSpec[];
}

export type PacketAccess = 'shared' | 'windows';

export interface RunResult {
  packets: Buffer[];
  /** Final verdict per packet: 0 pass, 1 drop, 16+i dynamic verdict i. */
  verdicts: number[];
  reasons: number[];
  /** This batch faulted: the tenant is now quarantined and the batch was dropped. */
  quarantinedNow: boolean;
  cycles: number;
}

export interface TenantStats {
  id: number;
  backend: string;
  weight: number;
  quarantined: boolean;
  fault: string;
  rx: number;
  tx: number;
  batches: number;
  cycles: number;
  dropNf: number;
  dropQuarantined: number;
  dropOverload: number;
  faults: number;
  reloads: number;
  events: string[];
  counters: number[][];
}

export interface BenchResult {
  cycles: number;
  packets: number;
  passed: number;
  batches: number;
  /** The median batch's cycles: robust to the thread being descheduled on a shared machine. */
  medianBatchCycles: number;
}

export interface ScheduleTenant {
  tenant: IsolatedTenant;
  traffic: Buffer[];
  /** Packets arriving per scheduler round (more than the worker can serve: overload). */
  offeredPerRound: number;
}

export interface ScheduleResult {
  cycles: number;
  processed: number;
  overloadDrops: number;
  bursts: number;
}

export interface IsolationSupport {
  backends: string[];
  pku: boolean;
  /** Why `mpk` is unavailable ("" when it is). */
  pkuReason: string;
}

interface NativeIsolation {
  support(): IsolationSupport;
  tenantCreate(opts: {
    id: number;
    backend: string;
    weight: number;
    budgetCycles?: number;
    chain: boolean;
    packetAccess?: PacketAccess;
    nfs: Array<{ builtin?: string; artifact?: string; config: string }>;
  }): number;
  tenantRun(h: number, packets: Buffer[], path?: number, nowNs?: number): RunResult;
  tenantStats(h: number): TenantStats;
  tenantSnapshot(h: number): Buffer;
  tenantRestore(h: number, snap: Buffer): void;
  tenantReload(h: number, nfs: NativeSpec[] | undefined, keepState: boolean): void;
  tenantSetBudget(h: number, cycles: number): void;
  tenantPacketMemory(h: number): { address: bigint; bytes: number } | undefined;
  tenantDestroy(h: number): void;
  bench(h: number, packets: Buffer[], iterations: number): BenchResult;
  schedule(opts: {
    tenants: Array<{ handle: number; traffic: Buffer[]; offeredPerRound: number }>;
    rounds: number;
    burst: number;
    queueCap: number;
    quantum: number;
  }): ScheduleResult[];
  tscHz(): number;
}

type NativeSpec = { builtin?: string; artifact?: string; config: string };

function native(): NativeIsolation {
  const iso = (addon() as unknown as { isolation?: NativeIsolation }).isolation;
  if (!iso) {
    throw new NfpError(
      'this build of nfp_host.node has no isolation layer',
      'rebuild with `npm run build:native` (host-runtime/src/isolation is compiled in by binding.gyp)',
    );
  }
  return iso;
}

let started = false;
function ensureRuntime(): NativeIsolation {
  if (!started) {
    start();
    started = true;
  }
  return native();
}

/** Runs a native call, turning its Error into an NfpError (a user-facing message, no stack). */
function call<T>(fn: () => T, hint?: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof NfpError) throw err;
    throw new NfpError(err instanceof Error ? err.message : String(err), hint);
  }
}

function specsOf(nfs: NfSpec[]): NativeSpec[] {
  return nfs.map((s, i) => {
    if (!s.builtin && !s.artifact) throw new NfpError(`nfs[${i}] needs a builtin type or an artifact`);
    if (s.artifact && !existsSync(s.artifact.replace(/#\d+$/, ''))) {
      throw new NfpError(`nfs[${i}]: no such artifact ${s.artifact}`, 'build it with `nfp nf build`');
    }
    return {
      ...(s.builtin ? { builtin: s.builtin } : {}),
      ...(s.artifact
        ? { artifact: resolve(s.artifact.replace(/#\d+$/, '')) + (/#\d+$/.exec(s.artifact)?.[0] ?? '') }
        : {}),
      config: JSON.stringify(s.config ?? {}),
    };
  });
}

/** Which backends this build and this CPU offer, and why `mpk` is missing when it is. */
export function isolationSupport(): IsolationSupport {
  return ensureRuntime().support();
}

/** One tenant's domain: its NF chain under one backend, with quarantine on any fault. */
export class IsolatedTenant {
  readonly id: number;
  readonly backend: IsolationBackendName;
  /** @internal the native handle */
  readonly handle: number;
  private closed = false;

  constructor(opts: TenantOptions) {
    const iso = ensureRuntime();
    const weight = opts.weight ?? 1;
    if (!Number.isInteger(weight) || weight < 1)
      throw new NfpError(`tenant ${opts.id}: weight must be an integer >= 1`);
    this.id = opts.id;
    this.backend = opts.backend;
    this.handle = call(
      () =>
        iso.tenantCreate({
          id: opts.id,
          backend: opts.backend,
          weight,
          ...(opts.budgetCycles !== undefined ? { budgetCycles: opts.budgetCycles } : {}),
          chain: opts.chain ?? false,
          ...(opts.packetAccess !== undefined ? { packetAccess: opts.packetAccess } : {}),
          nfs: specsOf(opts.nfs),
        }),
      opts.backend === 'mpk' ? 'use isolation `sfi` on CPUs without protection keys' : undefined,
    );
  }

  /**
   * Runs one batch (at most 256 packets) through the chain; returns the packets as they leave.
   * `nowNs` is the NFs' clock for the batch (nfp_now_ns, what meters run on); omitted, each NF
   * reads the monotonic clock.
   */
  run(packets: Buffer[], path = 1, nowNs?: number): RunResult {
    return call(() => native().tenantRun(this.handle, packets, path, nowNs));
  }

  stats(): TenantStats {
    return native().tenantStats(this.handle);
  }

  /** The NF state of every NF in the chain, in the NFPSNAP1 format (docs/isolation.md). */
  snapshot(): Buffer {
    return call(() => native().tenantSnapshot(this.handle));
  }

  restore(snapshot: Buffer): void {
    call(() => native().tenantRestore(this.handle, snapshot));
  }

  /**
   * Replaces the domain with a fresh one, with new code when `nfs` is given (hot reload), carrying
   * every flow over when `keepState`; clears a quarantine. The old domain stays if this fails.
   */
  reload(nfs?: NfSpec[], opts: { keepState?: boolean } = {}): void {
    const specs = nfs ? specsOf(nfs) : undefined;
    call(() => native().tenantReload(this.handle, specs, opts.keepState ?? false));
  }

  setBudget(cycles: number): void {
    native().tenantSetBudget(this.handle, cycles);
  }

  /** Where its packets live (its domain's packet memory, shared access); undefined: host memory. */
  packetMemory(): { address: bigint; bytes: number } | undefined {
    return native().tenantPacketMemory(this.handle);
  }

  /** Runs the batch `iterations` times, timing only the domain (packets restored in between). */
  bench(packets: Buffer[], iterations: number): BenchResult {
    return call(() => native().bench(this.handle, packets, iterations));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native().tenantDestroy(this.handle);
  }
}

/**
 * Runs tenants' queues under weighted deficit round robin on measured cycles for `rounds`
 * rounds. Each round, `offeredPerRound` packets arrive per tenant; a full queue drops them
 * (counted per tenant as overload drops).
 */
export function schedule(
  tenants: ScheduleTenant[],
  opts: { rounds: number; burst?: number; queueCap?: number; quantumCycles: number },
): ScheduleResult[] {
  return call(() =>
    native().schedule({
      tenants: tenants.map((t) => ({
        handle: t.tenant.handle,
        traffic: t.traffic,
        offeredPerRound: t.offeredPerRound,
      })),
      rounds: opts.rounds,
      burst: opts.burst ?? 32,
      queueCap: opts.queueCap ?? 256,
      quantum: opts.quantumCycles,
    }),
  );
}

/** TSC ticks per second (cycles in stats and benchmarks are TSC cycles). */
export function tscHz(): number {
  return ensureRuntime().tscHz();
}

// ---- building NFs ----

export interface BuildOptions {
  kind: ArtifactKind;
  /** One C file per NF; several make one chain module (NF k is `out#k`). */
  sources: string[];
  out: string;
  /** Sources compiled once into the module and shared by its NFs (e.g. a JSON helper). */
  libs?: string[];
  includes?: string[];
  defines?: string[];
  /** sfi: linear memory in MiB (fixed size; default 32). */
  memoryMiB?: number;
  /** sfi: `guard` pages (default) or `explicit` bounds checks (for the benchmark's comparison). */
  bounds?: 'explicit' | 'guard';
}

/** A build that failed: the compiler's own words are in `log`. */
export class NfBuildError extends NfpError {
  constructor(
    message: string,
    readonly log: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/** The folder of this package that holds host-runtime/ (works from source and from dist/). */
function hostRuntimeDir(): string {
  for (const d of [join(__dirname, '..'), join(__dirname, '..', '..', '..', 'host-runtime')]) {
    if (existsSync(join(d, 'nf-build', 'nfp-nf-build.sh'))) return d;
  }
  throw new NfpError('host-runtime/nf-build is missing from this installation', 'reinstall nfp');
}

const NF_SOURCE = { what: 'an NF C source', example: 'examples/nf/tagger.c' };

/** Builds NF C sources into a module for a backend (see host-runtime/nf-build/nfp-nf-build.sh). */
export function buildNf(opts: BuildOptions): Promise<string> {
  const script = join(hostRuntimeDir(), 'nf-build', 'nfp-nf-build.sh');
  if (opts.sources.length === 0) return Promise.reject(new NfpError('nf build: no NF source given'));
  try {
    for (const s of [...opts.sources, ...(opts.libs ?? [])]) requireFile(s, NF_SOURCE);
  } catch (err) {
    return Promise.reject(err);
  }
  const args = ['--backend', opts.kind, '-o', resolve(opts.out)];
  if (opts.bounds) args.push('--bounds', opts.bounds);
  if (opts.memoryMiB !== undefined) args.push('--memory', String(opts.memoryMiB));
  for (const i of opts.includes ?? []) args.push('-I', resolve(i));
  for (const d of opts.defines ?? []) args.push(`-D${d}`);
  for (const l of opts.libs ?? []) args.push('--lib', resolve(l));
  args.push(...opts.sources.map((s) => resolve(s)));
  mkdirSync(dirname(resolve(opts.out)), { recursive: true });
  return new Promise((ok, fail) => {
    execFile('bash', [script, ...args], { maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (!err) return ok(resolve(opts.out));
      const lines = stderr.trim().split('\n');
      const summary = lines.filter((l) => l.startsWith('nf build: ')).pop() ?? lines.pop() ?? 'build failed';
      const code = typeof err.code === 'number' ? err.code : 1;
      const hint =
        code === 3
          ? 'install the toolchain: sudo bash scripts/setup.sh (clang, lld, wasi-libc, libclang-rt-14-dev-wasm32, wabt)'
          : code === 5
            ? 'an sfi NF may call only the nfp_* runtime services of include/nfp/nf.h'
            : undefined;
      fail(new NfBuildError(summary.replace(/^nf build: /, 'nf build: '), stderr, hint));
    });
  });
}

const BUILTIN_LIBS = ['config.c', 'json.c'];

/** The C source of a built-in NF type, and what it links with. */
export function builtinSources(type: string): { source: string; libs: string[]; includes: string[] } {
  const dir = join(hostRuntimeDir(), 'src', 'nfs');
  const source = join(dir, `${type}.c`);
  if (!/^[a-z]+$/.test(type) || !existsSync(source)) throw new NfpError(`no built-in NF named \`${type}\``);
  return { source, libs: BUILTIN_LIBS.map((l) => join(dir, l)), includes: [dir] };
}

/**
 * Where built NF modules are cached: $NFP_NF_CACHE, else $XDG_CACHE_HOME/nfp/nf (~/.cache/nfp/nf).
 * A folder of the user's own: modules in a shared /tmp could be planted by another user and then
 * loaded by a root runtime.
 */
export function nfCacheDir(): string {
  const d =
    process.env.NFP_NF_CACHE ??
    join(process.env.XDG_CACHE_HOME || join(homedir() || tmpdir(), '.cache'), 'nfp', 'nf');
  mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
}

/**
 * The files an NF module's build depends on besides its own sources (nf-build, the ABI headers):
 * part of every build cache key, so a changed toolchain rebuilds what it built.
 */
export function nfBuildInputs(): string[] {
  const hr = hostRuntimeDir();
  const nfb = join(hr, 'nf-build');
  return [
    ...readdirSync(nfb)
      .filter((f) => /\.(c|h|sh|syms)$/.test(f))
      .sort()
      .map((f) => join(nfb, f)),
    join(nfb, 'sfi-compat', 'rte_acl.h'),
    join(hr, 'src', 'isolation', 'iso_abi.h'),
    join(hr, 'src', 'isolation', 'chain.h'),
    join(hr, 'include', 'nfp', 'nf.h'),
  ];
}

/**
 * Builds built-in NF types (one module; a chain when several) for a backend, once: the result is
 * cached by the hash of every input, so repeated calls are free. Returns the module path.
 */
export async function builtinArtifact(types: string | string[], kind: ArtifactKind): Promise<string> {
  const list = Array.isArray(types) ? types : [types];
  const parts = list.map(builtinSources);
  const hr = hostRuntimeDir();
  const inputs = [
    ...parts.map((p) => p.source),
    ...parts[0].libs,
    ...nfBuildInputs(),
    ...['builtin.h', 'config.h', 'json.h', 'nf_util.h'].map((h) => join(hr, 'src', 'nfs', h)),
  ];
  const h = createHash('sha256').update(kind).update(list.join(','));
  for (const f of inputs) if (existsSync(f)) h.update(readFileSync(f));
  const out = join(nfCacheDir(), `${list.join('-')}.${kind}.${h.digest('hex').slice(0, 16)}.so`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  await buildNf({
    kind,
    sources: parts.map((p) => p.source),
    out: tmp,
    libs: parts[0].libs,
    includes: parts[0].includes,
    defines: ['NFP_NF_STANDALONE'],
  });
  renameSync(tmp, out); // atomic: parallel builders never see a half-written module
  return out;
}

/** The built-in NF types with a host implementation (host-runtime/src/nfs), in name order. */
export function builtinTypes(): string[] {
  const dir = join(hostRuntimeDir(), 'src', 'nfs');
  const libs = new Set(['builtin.c', ...BUILTIN_LIBS]);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.c') && !libs.has(f))
    .map((f) => f.slice(0, -2))
    .sort();
}

/** One NF a tenant module holds: a built-in type, or a tenant's own C source. */
type ModuleEntry = { builtin: string } | { custom: string; nf: PlanNf };

/** Sandbox memory of a tenant module (MiB): its NFs' state and tables, and its packet buffers. */
const TENANT_MODULE_MIB = 256;

/** Builds (or finds in the cache) one module holding `entries`, in that order. */
async function buildTenantModule(kind: ArtifactKind, entries: ModuleEntry[]): Promise<string> {
  const builtins = entries.flatMap((e) => ('builtin' in e ? [builtinSources(e.builtin)] : []));
  const sources = entries.map((e) => ('builtin' in e ? builtinSources(e.builtin).source : e.custom));
  const hr = hostRuntimeDir();
  const libs = builtins.length ? builtins[0].libs : [];
  const includes = [
    ...(builtins.length ? builtins[0].includes : []),
    ...new Set(entries.flatMap((e) => ('custom' in e ? [dirname(e.custom)] : []))),
  ];
  const inputs = [
    ...sources.flatMap(nfSourceFiles),
    ...libs,
    ...nfBuildInputs(),
    ...['builtin.h', 'config.h', 'json.h', 'nf_util.h'].map((h) => join(hr, 'src', 'nfs', h)),
  ];
  const h = createHash('sha256').update(`${kind}:${TENANT_MODULE_MIB}:`).update(sources.join(','));
  for (const f of inputs) if (existsSync(f)) h.update(readFileSync(f));
  const customs = entries.filter((e) => 'custom' in e).length;
  const name = `tenant-${entries.length - customs}builtin-${customs}custom`;
  const out = join(nfCacheDir(), `${name.slice(0, 80)}.${kind}.${h.digest('hex').slice(0, 16)}.so`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await buildNf({
      kind,
      sources,
      out: tmp,
      libs,
      includes,
      defines: ['NFP_NF_STANDALONE'],
      ...(kind === 'sfi' ? { memoryMiB: TENANT_MODULE_MIB } : {}),
    });
  } catch (err) {
    if (!(err instanceof NfBuildError)) throw err;
    // Name the tenant's NF whose source did not build, and quote the compiler.
    // The compiler names the source; a link error (an undefined function) is in the log only.
    const bad =
      entries.find((e) => 'custom' in e && err.message.includes(e.custom)) ??
      entries.find((e) => 'custom' in e && err.log.includes(e.custom));
    if (!bad || !('custom' in bad)) throw err;
    const quoted = [
      ...new Set(
        err.log.split('\n').filter((l) => /\berror\b|warning: implicit|undefined (symbol|reference)/.test(l)),
      ),
    ]
      .slice(0, 8)
      .join('\n  ');
    throw new NfBuildError(
      `custom NF ${bad.nf.name} does not build for ${kind === 'sfi' ? 'the sfi sandbox' : 'native modules'}: ` +
        `${err.message.replace(/^nf build: /, '')}${quoted ? `\n  ${quoted}` : ''}`,
      err.log,
      err.hint ?? `fix ${bad.custom} (C against host-runtime/include/nfp/nf.h)`,
    );
  }
  renameSync(tmp, out); // atomic: parallel builders never see a half-written module
  return out;
}

/** The module of every built-in type for a backend kind (what planArtifacts gives a tenant without custom NFs). */
export function builtinModule(kind: ArtifactKind): Promise<string> {
  return buildTenantModule(
    kind,
    builtinTypes().map((t) => ({ builtin: t })),
  );
}

/** Where a custom NF's C source is: its manifest's `source`, relative to the plan's sourceDir. */
export function customSource(plan: Plan, nf: PlanNf): string {
  const manifest = (nf.config as CustomConfig).manifest;
  const base = plan.sourceDir ?? dirname(plan.graphFile);
  const file = resolve(base, manifest.source);
  if (!existsSync(file)) {
    throw new NfpError(
      `custom NF ${nf.name}: its source ${manifest.source} is not in ${resolve(base)}`,
      plan.sourceDir
        ? 'a plan folder written by `nfp partition` carries its NF sources in nf/; partition the graph again'
        : 'manifest.source is relative to the graph file',
    );
  }
  return file;
}

/**
 * Artifacts for the host runtime's `load(plan, { artifacts })`: for every tenant whose host NFs
 * run sandboxed (`sfi`, `mpk`, `process`, or `override`), one module holding all of them, built-in
 * types and the tenant's own `custom` NFs (C against nf.h) alike, so that under `sfi` they share
 * one linear memory, where the tenant's packets live too; each host NF gets `module#k`. Custom NFs
 * of a tenant under `none` get a native module (trusted code, called directly). Modules are built
 * once per content hash (nfCacheDir: NFP_NF_CACHE, else ~/.cache/nfp/nf). A source that does not build is
 * an NfBuildError naming the NF and quoting the compiler.
 */
export async function planArtifacts(
  plan: Plan,
  override?: IsolationBackendName,
): Promise<Record<number, string>> {
  const out: Record<number, string> = {};
  const hostNfs = new Set<number>();
  for (const p of plan.paths) for (const hop of p.hops) if (hop.spot === 'host') hostNfs.add(hop.nf);
  for (const tenant of plan.tenants) {
    const backend = override ?? tenant.isolation;
    const nfs = plan.nfs.filter(
      (nf) => nf.tenant === tenant.id && hostNfs.has(nf.id) && (backend !== 'none' || nf.type === 'custom'),
    );
    if (nfs.length === 0) continue;
    // Every built-in type, then the tenant's own sources: tenants without custom NFs share one
    // module build (a tenant's domain still opens it once: one linear memory for all its NFs).
    const builtins = nfs.some((nf) => nf.type !== 'custom') ? builtinTypes() : [];
    const entries: ModuleEntry[] = builtins.map((t) => ({ builtin: t }));
    const index = new Map<number, number>();
    for (const nf of nfs) {
      if (nf.type !== 'custom') {
        const k = builtins.indexOf(nf.type);
        if (k < 0) throw new NfpError(`${nf.name}: type \`${nf.type}\` has no host implementation`);
        index.set(nf.id, k);
        continue;
      }
      const source = customSource(plan, nf);
      const same = entries.findIndex((e) => 'custom' in e && e.custom === source);
      index.set(nf.id, same >= 0 ? same : entries.length);
      if (same < 0) entries.push({ custom: source, nf });
    }
    if (entries.length > 16)
      throw new NfpError(`tenant ${tenant.name}: more than 16 kinds of host NF in one module`);
    const module = await buildTenantModule(backend === 'sfi' ? 'sfi' : 'native', entries);
    for (const nf of nfs) out[nf.id] = `${module}#${index.get(nf.id)}`;
  }
  return out;
}

// ---- snapshots (format: docs/isolation.md) ----

export interface SnapshotTable {
  name: string;
  keyBytes: number;
  valueBytes: number;
  entries: Array<{ key: Buffer; value: Buffer }>;
}

export interface SnapshotNf {
  name: string;
  version: string;
  state: Buffer;
  tables: SnapshotTable[];
}

export interface Snapshot {
  version: number;
  tenant: number;
  nfs: SnapshotNf[];
}

/** A snapshot that cannot be read; says where it broke. */
export class SnapshotError extends NfpError {}

let crcTable: Uint32Array | undefined;

/** CRC-32C (Castagnoli), as DPDK's rte_hash_crc computes it: initial value ~0, no final xor. */
export function crc32c(buf: Buffer, init = 0xffffffff): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let c = init >>> 0;
  for (const b of buf) c = (crcTable[(c ^ b) & 0xff] ^ (c >>> 8)) >>> 0;
  return c >>> 0;
}

/** Decodes an NFPSNAP1 snapshot; throws SnapshotError naming the first problem. */
export function parseSnapshot(buf: Buffer): Snapshot {
  let at = 0;
  const need = (n: number, what: string): void => {
    if (buf.length - 4 - at < n) throw new SnapshotError(`snapshot is truncated (in ${what}, at byte ${at})`);
  };
  const u16 = (what: string): number => (need(2, what), (at += 2), buf.readUInt16LE(at - 2));
  const u32 = (what: string): number => (need(4, what), (at += 4), buf.readUInt32LE(at - 4));
  const bytes = (n: number, what: string): Buffer => (
    need(n, what),
    (at += n),
    Buffer.from(buf.subarray(at - n, at))
  );
  const name = (width: number, what: string): string => {
    const b = bytes(width, what);
    const z = b.indexOf(0);
    return b.subarray(0, z < 0 ? width : z).toString('utf8');
  };
  if (buf.length < 24 || buf.subarray(0, 8).toString('latin1') !== 'NFPSNAP1') {
    throw new SnapshotError('not an nfp state snapshot (magic NFPSNAP1 missing)');
  }
  if (crc32c(buf.subarray(0, buf.length - 4)) !== buf.readUInt32LE(buf.length - 4)) {
    throw new SnapshotError('snapshot checksum mismatch: the file is corrupt');
  }
  at = 8;
  const version = u32('header');
  if (version !== 1)
    throw new SnapshotError(`snapshot version ${version} is not supported (this nfp reads 1)`);
  const tenant = u16('header');
  const n = u16('header');
  const nfs: SnapshotNf[] = [];
  for (let i = 0; i < n; i++) {
    const nfName = name(32, `NF #${i}`);
    const nfVersion = name(16, `NF #${i}`);
    const stateBytes = u32(`NF #${i}`);
    const nTables = u32(`NF #${i}`);
    const state = bytes(stateBytes, `${nfName} state`);
    const tables: SnapshotTable[] = [];
    for (let t = 0; t < nTables; t++) {
      const tName = name(32, `${nfName} table #${t}`);
      const keyBytes = u32(tName);
      const valueBytes = u32(tName);
      const count = u32(tName);
      const entries: Array<{ key: Buffer; value: Buffer }> = [];
      for (let e = 0; e < count; e++)
        entries.push({ key: bytes(keyBytes, tName), value: bytes(valueBytes, tName) });
      tables.push({ name: tName, keyBytes, valueBytes, entries });
    }
    nfs.push({ name: nfName, version: nfVersion, state, tables });
  }
  if (at !== buf.length - 4) throw new SnapshotError(`snapshot has ${buf.length - 4 - at} trailing bytes`);
  return { version, tenant, nfs };
}
