/**
 * `npm run bench -- host [--quick]`: the native host runtime, in memory (net_ring ports in
 * loopback: each transmitted packet is restored and received again), 64-byte packets, every mode
 * measured side by side in this one process:
 *   (a) an empty chain against raw rx/tx on the same ports,
 *   (b) firewall → NAT → load balancer: Mpps per core and cycles per packet,
 *   (c) pre-sorted against mixed input on a branch-heavy host plan with 8 root paths,
 *   (d) 1 against 2 workers.
 * Cycles per packet are the workers' busy TSC cycles (rx, NFs, tx) over the packets they handled.
 *
 * `npm run bench -- host --workers 1,2,4,8 [--quick]` runs only the worker scaling instead: the
 * chain on one queue per worker (each worker owns one), aggregate wall-clock Mpps and cycles per
 * packet for each count; counts above the CPU count are skipped (a worker needs a core of its own).
 */
import { cpus } from 'node:os';
import {
  encapNsh,
  inject,
  load,
  start,
  stats,
  stop,
  type InputMode,
  type IsolationBackend,
} from '../host-runtime/lib/index';
import { planArtifacts } from '../host-runtime/lib/isolation';
import { hostOnlyPlan, type HostNfSpec, type HostPathSpec } from '../host-runtime/lib/plan-builder';
import type { Plan } from '../partitioner/plan';

interface Measure {
  /** Packets per second of worker CPU time, in millions: Mpps per core, immune to other load. */
  mpps: number;
  /** Worker CPU time per packet, in TSC cycles. */
  cyclesPerPkt: number;
  /** Wall-clock Mpps over all workers (depends on what else the machine runs). */
  wallMpps: number;
  packets: number;
  /** Cycles per packet of each NF (rdtsc around its batch calls). */
  nfCycles: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A 64-byte NSH frame: MACs, NSH (16 B, ending in the inner EtherType), IPv4, UDP, 6 B payload. */
function frame64(
  spi: number,
  si: number,
  tenant: number,
  flow: number,
  dst: string,
  payload = 'nfp-64',
): Buffer {
  const inner = Buffer.alloc(14 + 20 + 8 + 6);
  inner.writeUInt16BE(0x0800, 12);
  inner[14] = 0x45;
  inner.writeUInt16BE(20 + 8 + 6, 16);
  inner[22] = 64;
  inner[23] = 17;
  inner.writeUInt32BE((10 << 24) | flow, 26);
  Buffer.from(dst.split('.').map(Number)).copy(inner, 30);
  inner.writeUInt16BE(1024 + (flow & 0x7fff), 34);
  inner.writeUInt16BE(80, 36);
  inner.writeUInt16BE(8 + 6, 38);
  Buffer.from(payload.padEnd(6).slice(0, 6)).copy(inner, 42);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += inner.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  inner.writeUInt16BE(~sum & 0xffff, 24);
  return encapNsh({ spi, si, tenant }, inner);
}

async function measure(
  plan: Plan,
  mode: InputMode,
  workers: number,
  packetsFor: (queue: number, queueOfPath: Map<number, number>) => Buffer[],
  seconds: number,
  isolation: IsolationBackend = 'none',
): Promise<Measure> {
  const artifacts = isolation === 'none' ? undefined : await planArtifacts(plan, isolation);
  start({ workers, mode, loopback: true, queueSize: 2048, mbufs: 32768 });
  const loaded = load(plan, { isolation, ...(artifacts ? { artifacts } : {}) });
  for (let q = 0; q < loaded.queues; q++) {
    const pkts = packetsFor(q, loaded.queueOfPath);
    const r = inject(q, pkts);
    if (r.accepted !== pkts.length) throw new Error(`bench: queue ${q} took ${r.accepted} of ${pkts.length}`);
  }
  await sleep(150); // warm-up: flows established, caches warm
  const s0 = stats();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const s1 = stats();
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  stop();
  const rx = (s: typeof s0) => s.workers.reduce((a, w) => a + w.received, 0);
  const cpuNs = (s: typeof s0) => s.workers.reduce((a, w) => a + w.cpuNs, 0);
  const packets = Math.max(1, rx(s1) - rx(s0));
  const cpu = Math.max(1, cpuNs(s1) - cpuNs(s0));
  // Loopback keeps every queue full, so a worker's CPU time is all packet work (no idle polls).
  return {
    mpps: (packets / cpu) * 1e3 * workers,
    cyclesPerPkt: ((cpu / 1e9) * s1.tscHz) / packets,
    wallMpps: packets / dt / 1e6,
    packets,
    nfCycles: Object.fromEntries(
      s1.nfs.map((nf, i) => [
        nf.name,
        Math.round((nf.cycles - s0.nfs[i].cycles) / Math.max(1, nf.packets - s0.nfs[i].packets)),
      ]),
    ),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function emptyPlan(): Plan {
  return hostOnlyPlan([], [{ id: 1, nfs: [], queue: 0 }]);
}

function chainPlan(): Plan {
  const nfs: HostNfSpec[] = [
    {
      type: 'firewall',
      config: {
        rules: [
          { action: 'deny', match: { proto: 6, dstPort: { lo: 23, hi: 23 } } },
          { action: 'allow', match: { srcPrefix: { family: 4, addr: '10.0.0.0', len: 8 } } },
        ],
        default: 'deny',
        stateful: true,
      },
    },
    {
      type: 'nat',
      config: { publicIp: '198.51.100.1', portRange: { lo: 1024, hi: 65535 }, maxFlows: 65536 },
    },
    {
      type: 'loadbalancer',
      config: {
        vip: '198.51.100.10',
        backends: ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4'],
        tableSize: 65537,
        maxFlows: 65536,
      },
    },
  ];
  return hostOnlyPlan(nfs, [{ id: 1, nfs: [0, 1, 2], queue: 0 }]);
}

/** 8 root paths (one queue each when pre-sorted), each ids → monitor → macswap with its own NFs; an IDS alert branches. */
function branchHeavyPlan(): Plan {
  const nfs: HostNfSpec[] = [];
  const paths: HostPathSpec[] = [];
  for (let i = 0; i < 8; i++) {
    const base = nfs.length;
    nfs.push({ type: 'ids', config: { patterns: ['attack', 'cmd.exe'], inspectBytes: 64 } });
    nfs.push({ type: 'monitor', config: { perFlow: true } });
    nfs.push({ type: 'macswap', config: {} });
    nfs.push({ type: 'monitor', config: { perFlow: false } });
    const root = 1 + i * 2;
    paths.push({
      id: root,
      nfs: [base, base + 1, base + 2],
      queue: i,
      branches: [{ hop: 0, verdict: 'alert', to: root + 1 }],
    });
    paths.push({ id: root + 1, nfs: [base, base + 3], branchOf: { path: root, hop: 0, verdict: 'alert' } });
  }
  return hostOnlyPlan(nfs, paths);
}

// Root path i gets queue i pre-sorted; mixed mode gets all paths interleaved on queue 0.
// The same 1024 packets (128 per root path) in both modes, so both have the same working set.
function branchyPkts(queue: number, queueOfPath: Map<number, number>): Buffer[] {
  const roots = [...queueOfPath.entries()].filter(([, q]) => q === queue).map(([p]) => p);
  const perPath = Math.floor(1024 / queueOfPath.size);
  const out: Buffer[] = [];
  for (let k = 0; k < perPath; k++)
    for (const p of roots)
      out.push(frame64(p, 3, 1, (p << 10) | k, '203.0.113.9', k % 8 === 0 ? 'attack' : 'hello!'));
  return out;
}

/**
 * Pre-sorted over mixed input on the branch-heavy plan under each backend, measured interleaved
 * in one run: mixed cycles per packet over pre-sorted (the seed's argument is strongest under
 * isolation, where every batch fragment is a domain entry).
 */
export async function presortedOverMixed(
  backends: IsolationBackend[],
  seconds: number,
  rounds: number,
): Promise<Record<string, { presorted: number; mixed: number; ratio: number; presortedOverFirst: number }>> {
  const plan = branchHeavyPlan();
  const runs = new Map(backends.map((b) => [b, { presorted: [] as number[], mixed: [] as number[] }]));
  for (let r = 0; r < rounds; r++)
    for (const b of backends) {
      const x = runs.get(b)!;
      x.presorted.push((await measure(plan, 'presorted', 1, branchyPkts, seconds, b)).cyclesPerPkt);
      x.mixed.push((await measure(plan, 'mixed', 1, branchyPkts, seconds, b)).cyclesPerPkt);
    }
  // The ratio is the median of each round's (mixed and pre-sorted run back to back): a shared
  // machine changes speed between rounds.
  return Object.fromEntries(
    backends.map((b) => {
      const x = runs.get(b)!;
      const first = runs.get(backends[0])!.presorted;
      const ratio = median(x.mixed.map((m, r) => m / x.presorted[r]));
      const overFirst = median(x.presorted.map((p, r) => p / first[r]));
      return [
        b,
        {
          presorted: round(median(x.presorted)),
          mixed: round(median(x.mixed)),
          ratio: round(ratio),
          presortedOverFirst: +overFirst.toFixed(3),
        },
      ];
    }),
  );
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const seconds = quick ? 0.4 : 1.5;
  const rounds = quick ? 1 : 3;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const wi = args.indexOf('--workers');
  if (wi >= 0) return scaling(parseWorkers(args[wi + 1]), seconds, rounds, cpu);
  console.log(
    `host runtime benchmark: ${cpu}, ${cpus().length} CPUs, ${seconds}s per run, ${rounds} round(s)`,
  );
  start({ workers: 2 });

  const flows = 1024;
  const single = (dst: string) => () => Array.from({ length: flows }, (_, f) => frame64(1, 0, 1, f, dst));
  const empty = emptyPlan();
  const chain = chainPlan();
  const chainPkts = () => Array.from({ length: flows }, (_, f) => frame64(1, 3, 1, f, '198.51.100.10'));
  const branchy = branchHeavyPlan();

  const runs: Record<string, Measure[]> = {
    raw: [],
    empty: [],
    chain: [],
    presorted: [],
    mixed: [],
    one: [],
    two: [],
  };
  for (let r = 0; r < rounds; r++) {
    runs.raw.push(await measure(empty, 'raw', 1, single('203.0.113.1'), seconds));
    runs.empty.push(await measure(empty, 'presorted', 1, single('203.0.113.1'), seconds));
    runs.chain.push(await measure(chain, 'presorted', 1, chainPkts, seconds));
    runs.presorted.push(await measure(branchy, 'presorted', 1, branchyPkts, seconds));
    runs.mixed.push(await measure(branchy, 'mixed', 1, branchyPkts, seconds));
    runs.one.push(await measure(twoQueueChain(), 'presorted', 1, twoQueuePkts, seconds));
    runs.two.push(await measure(twoQueueChain(), 'presorted', 2, twoQueuePkts, seconds));
  }
  const m = (k: string) => ({
    mpps: median(runs[k].map((x) => x.mpps)),
    cpp: median(runs[k].map((x) => x.cyclesPerPkt)),
    wall: median(runs[k].map((x) => x.wallMpps)),
  });
  console.log(`chain, cycles per packet in each NF: ${JSON.stringify(runs.chain[0].nfCycles)}`);
  console.log('run        Mpps/core  cycles/pkt  wall Mpps');
  for (const k of Object.keys(runs)) {
    const x = m(k);
    console.log(
      `${k.padEnd(10)} ${x.mpps.toFixed(2).padStart(9)} ${x.cpp.toFixed(1).padStart(11)} ${x.wall.toFixed(2).padStart(10)}`,
    );
  }
  const result = {
    emptyChainVsRaw: round(m('raw').cpp / m('empty').cpp),
    chainCyclesPerPkt: round(m('chain').cpp),
    chainMppsPerCore: round(m('chain').mpps),
    presortedOverMixed: round(m('mixed').cpp / m('presorted').cpp),
    // Aggregate throughput of two workers against one, in worker CPU time: how well the
    // shared-nothing workers scale when each has a core (wall clock is reported alongside).
    twoWorkersOverOne: round(m('two').mpps / m('one').mpps),
    twoWorkersOverOneWall: round(m('two').wall / m('one').wall),
    rawCyclesPerPkt: round(m('raw').cpp),
    emptyChainCyclesPerPkt: round(m('empty').cpp),
    presortedCyclesPerPkt: round(m('presorted').cpp),
    mixedCyclesPerPkt: round(m('mixed').cpp),
    cpu,
  };
  console.log(JSON.stringify(result));
}

/** The chain plan with `n` root paths on `n` queues, so `n` workers each own one. */
function queueChain(n: number): Plan {
  const p = chainPlan();
  const nfs = p.nfs.map((x) => ({ type: x.type, config: x.config }));
  return hostOnlyPlan(
    nfs,
    Array.from({ length: n }, (_, q) => ({ id: q + 1, nfs: [0, 1, 2], queue: q })),
  );
}

const twoQueueChain = (): Plan => queueChain(2);

function twoQueuePkts(queue: number): Buffer[] {
  return Array.from({ length: 512 }, (_, f) => frame64(queue + 1, 3, 1, (queue << 12) | f, '198.51.100.10'));
}

function parseWorkers(list: string | undefined): number[] {
  const counts = (list ?? '').split(',').map((x) => Number(x.trim()));
  if (!list || counts.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) {
    throw new Error(
      `--workers wants a comma-separated list of worker counts 1..16, got ${list ?? 'nothing'}`,
    );
  }
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** Worker scaling: the chain with one queue per worker, `counts` workers in turn, interleaved rounds. */
async function scaling(counts: number[], seconds: number, rounds: number, cpu: string): Promise<void> {
  const ncpu = cpus().length;
  const run = counts.filter((n) => n <= ncpu);
  const skipped = counts.filter((n) => n > ncpu);
  console.log(
    `host runtime worker scaling: ${cpu}, ${ncpu} CPUs, ${seconds}s per run, ${rounds} round(s), workers ${counts.join(',')}`,
  );
  for (const n of skipped)
    console.log(`${n} workers: skipped (only ${ncpu} CPUs; a worker needs its own core)`);
  if (run.length === 0) throw new Error(`no worker count fits ${ncpu} CPUs`);
  start({ workers: run[run.length - 1] }); // the EAL starts once, with the most lcores
  const runs = new Map<number, Measure[]>(run.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++)
    for (const n of run)
      runs.get(n)?.push(await measure(queueChain(n), 'presorted', n, twoQueuePkts, seconds));
  const rows = run.map((n) => {
    const ms = runs.get(n) ?? [];
    return {
      workers: n,
      wallMpps: round(median(ms.map((x) => x.wallMpps))),
      mppsPerCore: round(median(ms.map((x) => x.mpps)) / n),
      cyclesPerPkt: round(median(ms.map((x) => x.cyclesPerPkt))),
    };
  });
  const base = rows[0];
  console.log('workers  wall Mpps  Mpps/core  cycles/pkt  speedup');
  for (const x of rows) {
    console.log(
      `${String(x.workers).padStart(7)} ${x.wallMpps.toFixed(2).padStart(10)} ${x.mppsPerCore.toFixed(2).padStart(10)} ${x.cyclesPerPkt.toFixed(1).padStart(11)} ${(x.wallMpps / base.wallMpps).toFixed(2).padStart(8)}`,
    );
  }
  console.log(
    JSON.stringify({
      scaling: rows.map((x) => ({ ...x, speedupWall: round(x.wallMpps / base.wallMpps) })),
      baseWorkers: base.workers,
      skippedWorkers: skipped,
      cpus: ncpu,
      cpu,
    }),
  );
}

const round = (x: number) => Math.round(x * 100) / 100;
