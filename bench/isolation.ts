/**
 * `npm run bench -- isolation [--quick]`: the cost of isolation, every backend side by side in one
 * run, 64-byte UDP frames in batches of 32:
 *   - FW -> NAT -> LB (the built-in NFs, same C source everywhere): `none` (trusted, direct calls),
 *     `sfi` per NF (one sandbox crossing per NF), `sfi` chain (the tenant's three NFs linked into
 *     one sandbox: one crossing per batch), `process` (one child process, shared-memory rings),
 *     and `mpk` (protection keys, a WRPKRU pair per batch) where the CPU has PKU;
 *   - macswap under the same backends;
 *   - the crossing itself: a one-packet macswap batch, backend minus `none`, in cycles per batch;
 *   - the chains with packet windows instead of shared access (what the copy in/out adds);
 *   - sfi with explicit bounds checks instead of guard pages (the default), for the record;
 *   - pre-sorted over mixed input on bench host's branch-heavy plan in the real runtime, under
 *     none, sfi and mpk (presortedOverMixed*);
 *   - where the cycles go per backend: NF body, domain entry/exit, checks and services, bounds
 *     checks, window copy (phaseBreakdown: differences of these side-by-side runs).
 * Figures are TSC cycles per packet inside the domain call (packet restore excluded): per round
 * the median batch, each backend's run paired with a `none` run just before it; per process the
 * median of the rounds' ratios; over several processes (3 with --quick, 5 without; each has its
 * own code and memory layout, which alone moves a figure by up to ~10% here) the median of those.
 * The sfi, mpk and process chains run with one domain entry per batch (`chain`), as the deployed
 * runtime does for a tenant's adjacent host hops (domain.h, process_chain); `sfi-per-nf` measures
 * one entry per NF. The last line is JSON.
 */
import { execFileSync, fork } from 'node:child_process';
import {
  IsolatedTenant,
  buildNf,
  builtinArtifact,
  builtinSources,
  isolationSupport,
  nfCacheDir,
  tscHz,
  type NfSpec,
  type TenantOptions,
} from '../host-runtime/lib/isolation';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { rmSync } from 'node:fs';
import { presortedOverMixed } from './host';

const FW = {
  rules: [{ action: 'allow', match: { proto: 17, dstPort: { lo: 53, hi: 53 } } }],
  default: 'deny',
  stateful: true,
};
const NAT = { publicIp: '198.51.100.1', portRange: { lo: 20000, hi: 29999 }, maxFlows: 4096 };
const LB = {
  vip: '192.0.2.10',
  backends: ['10.0.1.1', '10.0.1.2', '10.0.1.3'],
  tableSize: 251,
  maxFlows: 4096,
};
export const CHAIN = ['firewall', 'nat', 'loadbalancer'] as const;
/** Packets per batch. */
const BATCH = 32;
export const CONFIGS: Record<string, unknown> = { firewall: FW, nat: NAT, loadbalancer: LB, macswap: {} };

/** 64-byte Ethernet/IPv4/UDP frames (FCS excluded: 60 bytes + 4) to the LB's VIP, port 53. */
export function frames(n: number, len = 60): Buffer[] {
  return Array.from({ length: n }, (_, i) => {
    const b = Buffer.alloc(len);
    Buffer.from('020000000002020000000001', 'hex').copy(b, 0);
    b.writeUInt16BE(0x0800, 12);
    b[14] = 0x45;
    b.writeUInt16BE(len - 14, 16);
    b[22] = 64;
    b[23] = 17;
    b.writeUInt32BE(0x0a000001 + i, 26);
    b.writeUInt32BE(0xc000020a, 30); // 192.0.2.10, the VIP
    let sum = 0;
    for (let k = 14; k < 34; k += 2) sum += b.readUInt16BE(k);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    b.writeUInt16BE(~sum & 0xffff, 24);
    b.writeUInt16BE(1000 + i, 34);
    b.writeUInt16BE(53, 36);
    b.writeUInt16BE(len - 34, 38);
    return b;
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Cycles per packet of each mode, side by side: `none`'s median, and for the others `none`'s
 * median times the median of their per-round ratios to `none` (modes[0]). Each sample of a mode
 * is paired with a `none` run taken just before it (`base`): a shared VM changes speed between
 * rounds (here by up to 1.8x) and even within one, so only ratios of runs a few milliseconds apart
 * compare backends.
 */
function sideBySide(modes: { name: string; samples: number[]; base?: number[] }[]): Record<string, number> {
  const b = median(modes[0].samples);
  return Object.fromEntries(
    modes.map((m) => {
      const base = m.base ?? modes[0].samples;
      return [m.name, m === modes[0] ? b : b * median(m.samples.map((x, r) => x / base[r]))];
    }),
  );
}

function cpuModel(): string {
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Model name:'));
    return line ? line.replace(/^Model name:\s*/, '') : 'unknown';
  } catch {
    return 'unknown';
  }
}

interface Mode {
  name: string;
  tenant: IsolatedTenant;
  iterations: number;
  samples: number[];
  /** The `none` run paired with each sample (sideBySide). */
  base?: number[];
}

/** The NF modules a layout runs: sfi and native builds of each NF, the sfi chain module, and the
 * chain built with explicit bounds checks (for the record). */
interface Artifacts {
  sfi: Record<string, string>;
  native: Record<string, string>;
  sfiChain: string;
  explicitChain?: string;
}

/** What one process measures, side by side (sideBySide): cycles per packet of the chain and of
 * macswap, cycles per one-packet batch, and the explicit-bounds chain. */
interface Layout {
  cpp: Record<string, number>;
  swp: Record<string, number>;
  crs: Record<string, number>;
  explicit?: number;
}

/** Measures every mode in this process (one memory and code layout). */
async function measureLayout(quick: boolean, art: Artifacts): Promise<Layout> {
  const rounds = roundsOf(quick);
  const iters = quick ? 1000 : 5000;
  const { sfi, native, sfiChain } = art;
  let id = 1;
  const open: IsolatedTenant[] = [];
  const tenant = (
    backend: TenantOptions['backend'],
    nfs: NfSpec[],
    chain = false,
    packetAccess: TenantOptions['packetAccess'] = 'shared',
  ): IsolatedTenant => {
    const t = new IsolatedTenant({ id: id++, backend, nfs, chain, packetAccess });
    open.push(t);
    return t;
  };
  const specs = (arts: Record<string, string> | null, types: readonly string[]): NfSpec[] =>
    types.map((t) => (arts ? { artifact: arts[t], config: CONFIGS[t] } : { builtin: t, config: CONFIGS[t] }));

  const procIters = Math.max(50, iters / 20);
  const sfiChainSpecs = CHAIN.map((t, k) => ({ artifact: `${sfiChain}#${k}`, config: CONFIGS[t] }));
  const chainModes: Mode[] = [
    { name: 'none', tenant: tenant('none', specs(null, CHAIN)), iterations: iters, samples: [] },
    { name: 'sfi-per-nf', tenant: tenant('sfi', specs(sfi, CHAIN)), iterations: iters, samples: [] },
    { name: 'sfi-chain', tenant: tenant('sfi', sfiChainSpecs, true), iterations: iters, samples: [] },
    {
      name: 'process',
      tenant: tenant('process', specs(native, CHAIN), true),
      iterations: procIters,
      samples: [],
    },
    // The same chains with packet windows instead of shared access: the copy in/out they add.
    {
      name: 'sfi-windows',
      tenant: tenant('sfi', sfiChainSpecs, true, 'windows'),
      iterations: iters,
      samples: [],
    },
    {
      name: 'process-windows',
      tenant: tenant('process', specs(native, CHAIN), true, 'windows'),
      iterations: procIters,
      samples: [],
    },
  ];
  const support = isolationSupport();
  if (support.pku)
    chainModes.push(
      { name: 'mpk', tenant: tenant('mpk', specs(native, CHAIN), true), iterations: iters, samples: [] },
      {
        name: 'mpk-windows',
        tenant: tenant('mpk', specs(native, CHAIN), true, 'windows'),
        iterations: iters,
        samples: [],
      },
    );
  const swapModes: Mode[] = [
    { name: 'none', tenant: tenant('none', specs(null, ['macswap'])), iterations: iters, samples: [] },
    { name: 'sfi', tenant: tenant('sfi', specs(sfi, ['macswap'])), iterations: iters, samples: [] },
    {
      name: 'process',
      tenant: tenant('process', specs(native, ['macswap'])),
      iterations: procIters,
      samples: [],
    },
  ];
  if (support.pku)
    swapModes.push({
      name: 'mpk',
      tenant: tenant('mpk', specs(native, ['macswap'])),
      iterations: iters,
      samples: [],
    });
  const cross = swapModes.map((m) => ({ ...m, samples: [] as number[] }));

  const batch = frames(BATCH);
  const one = frames(1);
  // Every mode must do the same work: check each passes the whole batch, with identical bytes.
  const ref = chainModes[0].tenant.run(batch).packets.map((p) => p.toString('hex'));
  for (const m of chainModes.slice(1)) {
    const out = m.tenant.run(batch);
    if (out.verdicts.some((v) => v !== 0) || out.packets.some((p, i) => p.toString('hex') !== ref[i])) {
      throw new Error(`${m.name}: the chain's output differs from the none backend's`);
    }
  }

  // The median batch, per packet of `frames`: a shared machine deschedules the thread now and then.
  const sample = (m: Mode, frames: Buffer[], perPacket: boolean): number => {
    const res = m.tenant.bench(frames, m.iterations);
    if (res.passed !== res.packets) throw new Error(`${m.name}: dropped ${res.packets - res.passed} packets`);
    return res.medianBatchCycles / (perPacket ? frames.length : 1);
  };
  // Each backend right after a `none` run of its own (sideBySide pairs them).
  const paired = (modes: Mode[], frames: Buffer[], perPacket: boolean): void => {
    for (const m of modes) {
      const base = sample(modes[0], frames, perPacket);
      modes[0].samples.push(base);
      if (m === modes[0]) continue;
      (m.base ??= []).push(base);
      m.samples.push(sample(m, frames, perPacket));
    }
  };
  for (let r = 0; r < rounds; r++) {
    paired(chainModes, batch, true);
    paired(swapModes, batch, true);
    paired(cross, one, false);
  }

  // Explicit bounds checks instead of guard pages (the default), for the record.
  let explicit: number | undefined;
  if (art.explicitChain !== undefined) {
    const g = tenant(
      'sfi',
      CHAIN.map((t, k) => ({ artifact: `${art.explicitChain}#${k}`, config: CONFIGS[t] })),
      true,
    );
    const samples: number[] = [];
    const none: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const b = chainModes[0].tenant.bench(batch, iters);
      const a = g.bench(batch, iters);
      samples.push(a.medianBatchCycles / batch.length);
      none.push(b.medianBatchCycles / batch.length);
    }
    explicit = median(samples.map((x, r) => x / none[r])) * median(chainModes[0].samples);
  }
  for (const t of open) t.close();
  return { cpp: sideBySide(chainModes), swp: sideBySide(swapModes), crs: sideBySide(cross), explicit };
}

/** One layout in a child process of its own (fork: its own address-space layout). */
function layoutInChild(quick: boolean, art: Artifacts): Promise<Layout> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--layout', JSON.stringify({ quick, art })], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let got: Layout | undefined;
    child.on('message', (m: { layout?: Layout; error?: string }) => {
      if (m.error !== undefined) reject(new Error(m.error));
      else got = m.layout;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      got !== undefined ? resolve(got) : reject(new Error(`a layout process exited with code ${code}`)),
    );
  });
}

/**
 * Figures over several layouts: `none`'s median, and for every other mode `none` times the median
 * of its ratios to `none` in each layout.
 */
function acrossLayouts(figs: Record<string, number>[]): Record<string, number> {
  const none = median(figs.map((f) => f.none));
  return Object.fromEntries(
    Object.keys(figs[0]).map((k) => [k, k === 'none' ? none : none * median(figs.map((f) => f[k] / f.none))]),
  );
}

/** Rounds per process: cheap (a few ms each), so many, for steadier medians. */
function roundsOf(quick: boolean): number {
  return quick ? 11 : 21;
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const layouts = quick ? 3 : 5;
  const rounds = roundsOf(quick);
  const hz = tscHz(); // loads the runtime first: fail fast when it is not built
  console.log(`isolation bench: building NF modules (cached in ${nfCacheDir()})...`);
  const art: Artifacts = { sfi: {}, native: {}, sfiChain: await builtinArtifact([...CHAIN], 'sfi') };
  for (const t of [...CHAIN, 'macswap']) {
    art.sfi[t] = await builtinArtifact(t, 'sfi');
    art.native[t] = await builtinArtifact(t, 'native');
  }
  const explicitOut = join(tmpdir(), `nfp-bench-explicit-chain.${process.pid}.so`);
  try {
    const parts = CHAIN.map((t) => builtinSources(t));
    await buildNf({
      kind: 'sfi',
      bounds: 'explicit',
      sources: parts.map((p) => p.source),
      libs: parts[0].libs,
      includes: parts[0].includes,
      defines: ['NFP_NF_STANDALONE'],
      out: explicitOut,
    });
    art.explicitChain = explicitOut;
  } catch (err) {
    console.log(
      `(explicit-bounds variant not measured: ${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const support = isolationSupport();
  if (!support.pku) console.log(`(mpk not measured: ${support.pkuReason})`);
  // Each layout in a process of its own: where code and buffers land moves a backend's figure
  // by up to ~10% from one process to the next on this machine, so one process is one sample.
  const runs: Layout[] = [];
  try {
    for (let l = 0; l < layouts; l++) {
      console.log(`  layout ${l + 1}/${layouts} (a process of its own, ${rounds} rounds)...`);
      runs.push(await layoutInChild(quick, art));
    }
  } finally {
    rmSync(explicitOut, { force: true });
  }
  const cpp = acrossLayouts(runs.map((r) => r.cpp));
  const swp = acrossLayouts(runs.map((r) => r.swp));
  const crs = acrossLayouts(runs.map((r) => r.crs));
  const explicitRuns = runs.filter((r) => r.explicit !== undefined);
  const guardCycles =
    explicitRuns.length > 0
      ? cpp.none * median(explicitRuns.map((r) => (r.explicit as number) / r.cpp.none))
      : undefined;
  const model = cpuModel();
  console.log(
    `CPU: ${model}, TSC ${(hz / 1e9).toFixed(2)} GHz; ${layouts} process layouts x ${rounds} rounds, batches of 32 x 64 B`,
  );
  console.log('FW -> NAT -> LB, cycles per packet:');
  for (const [k, v] of Object.entries(cpp))
    console.log(`  ${k.padEnd(15)} ${v.toFixed(1).padStart(10)}  (${(v / cpp.none).toFixed(2)}x none)`);
  if (guardCycles !== undefined)
    console.log(
      `  sfi-chain with explicit bounds checks instead of guard pages: ~${guardCycles.toFixed(1)} (${(guardCycles / cpp.none).toFixed(2)}x none)`,
    );
  const phases = phaseBreakdown(cpp, crs, guardCycles, BATCH);
  console.log(
    'where the cycles go, per packet (differences of the runs above; docs/PERFORMANCE.md explains each):',
  );
  console.log(
    `  ${'backend'.padEnd(8)} ${['total', 'NF body', 'entry/exit', 'checks+svc', 'bounds', 'windows+'].map((h) => h.padStart(10)).join(' ')}`,
  );
  for (const [k, ph] of Object.entries(phases))
    console.log(
      `  ${k.padEnd(8)} ${[
        ph.total,
        ph.nfBody,
        ph.entryExit,
        ph.checksAndServices,
        ph.boundsChecks,
        ph.windowCopy,
      ]
        .map((v) => (v === null ? '-' : v.toFixed(1)).padStart(10))
        .join(' ')}`,
    );
  console.log('macswap, cycles per packet:');
  for (const [k, v] of Object.entries(swp))
    console.log(`  ${k.padEnd(11)} ${v.toFixed(1).padStart(10)}  (${(v / swp.none).toFixed(2)}x none)`);
  console.log('one-packet batch (macswap), cycles per batch:');
  for (const [k, v] of Object.entries(crs)) console.log(`  ${k.padEnd(11)} ${v.toFixed(1).padStart(10)}`);

  // Pre-sorting under isolation: the branch-heavy plan in the real runtime (bench host), pre-sorted
  // against mixed input, under none, sfi and (with PKU) mpk, interleaved.
  const sorting = await presortedOverMixed(
    ['none', 'sfi', ...(support.pku ? (['mpk'] as const) : [])],
    quick ? 0.3 : 1.5,
    3, // the median of three: one short run on a shared machine can be far off
  );
  console.log(
    'branch-heavy plan in the runtime, cycles per packet: pre-sorted, mixed, mixed over pre-sorted',
  );
  for (const [k, v] of Object.entries(sorting))
    console.log(
      `  ${k.padEnd(8)} ${v.presorted.toFixed(1).padStart(10)} ${v.mixed.toFixed(1).padStart(10)} ${v.ratio.toFixed(2).padStart(7)}`,
    );

  const best = Math.min(cpp['sfi-chain'], cpp['sfi-per-nf']);
  console.log(
    JSON.stringify({
      sfiOverNone: +(best / cpp.none).toFixed(3),
      processOverNone: +(cpp.process / cpp.none).toFixed(3),
      presortedOverMixedNone: sorting.none.ratio,
      presortedOverMixedSfi: sorting.sfi.ratio,
      presortedOverMixedMpk: sorting.mpk?.ratio ?? null,
      // The deployed runtime (a tenant's host hops entered once per batch), pre-sorted input.
      runtimeSfiOverNone: sorting.sfi.presortedOverFirst,
      runtimeMpkOverNone: sorting.mpk?.presortedOverFirst ?? null,
      mpkOverNone: cpp.mpk !== undefined ? +(cpp.mpk / cpp.none).toFixed(3) : null,
      domainCrossCycles: Math.round(crs.sfi - crs.none),
      sfiPerNfOverNone: +(cpp['sfi-per-nf'] / cpp.none).toFixed(3),
      sfiChainOverNone: +(cpp['sfi-chain'] / cpp.none).toFixed(3),
      sfiExplicitOverNone: guardCycles !== undefined ? +(guardCycles / cpp.none).toFixed(3) : null,
      processCrossCycles: Math.round(crs.process - crs.none),
      macswapSfiOverNone: +(swp.sfi / swp.none).toFixed(3),
      macswapProcessOverNone: +(swp.process / swp.none).toFixed(3),
      cyclesPerPacket: cpp,
      phases,
      cpu: model,
    }),
  );
}

/** One backend's cycles per packet on the chain, split by what differs from `none`. */
export interface Phases {
  total: number;
  /** The NFs' own work: the same C run trusted under `none`. */
  nfBody: number;
  /** Entering and leaving the domain, per packet of a full batch: one-packet batch minus `none`'s. */
  entryExit: number;
  /** The rest: read-only and verdict checks, runtime-service calls, the sandboxed code itself. */
  checksAndServices: number;
  /** sfi: explicit bounds checks over guard pages (the default); they are not in `total`. */
  boundsChecks: number | null;
  /** What packet windows add over shared access (not in `total`: shared is the default). */
  windowCopy: number | null;
}

/**
 * The per-phase split is arithmetic on runs measured side by side, not a trace: the NF body is
 * `none`'s figure; entry/exit is what a one-packet batch costs beyond `none`, spread over a full
 * batch; whatever is left of the backend's figure is its checks, services and generated code.
 */
export function phaseBreakdown(
  cpp: Record<string, number>,
  crs: Record<string, number>,
  guardCycles: number | undefined,
  batchSize: number,
): Record<string, Phases> {
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  const out: Record<string, Phases> = {};
  for (const [name, mode, cross] of [
    ['none', 'none', 'none'],
    ['sfi', 'sfi-chain', 'sfi'],
    ['mpk', 'mpk', 'mpk'],
    ['process', 'process', 'process'],
  ] as const) {
    if (cpp[mode] === undefined || crs[cross] === undefined) continue;
    const total = cpp[mode];
    const entryExit = Math.max(0, (crs[cross] - crs.none) / batchSize);
    const windows = cpp[`${name}-windows`];
    out[name] = {
      total: r1(total),
      nfBody: r1(Math.min(total, cpp.none)),
      entryExit: r1(entryExit),
      checksAndServices: r1(total - Math.min(total, cpp.none) - entryExit),
      boundsChecks: name === 'sfi' && guardCycles !== undefined ? r1(guardCycles - total) : null,
      windowCopy: windows !== undefined ? r1(windows - total) : null,
    };
  }
  return out;
}

if (require.main === module && process.argv.includes('--layout')) {
  const { quick, art } = JSON.parse(process.argv[process.argv.indexOf('--layout') + 1]) as {
    quick: boolean;
    art: Artifacts;
  };
  measureLayout(quick, art)
    .then((layout) => process.send?.({ layout }))
    .catch((e: unknown) => process.send?.({ error: e instanceof Error ? e.message : String(e) }))
    .finally(() => process.disconnect?.());
}
