/**
 * The host runtime on its own, its queues fed directly (no NIC in front to refuse anything): the
 * hostile corpus and random bytes, each as NSH-tagged for a host path of the plan (the inner
 * frame hostile), as a bare frame, and under a forged NSH (unknown SPI, another tenant, an SI past
 * the path, cut short). Every frame must come back transmitted or dropped with a named reason,
 * the runtime's counters must add up, and where the path's first host NF reads IP headers its
 * verdict must be the reference's reading of the inner frame (partitioner/frame.ts): a clean IPv4
 * packet is never refused as faulty, a fragment, IPv4 with options or a frame that is not IPv4 is
 * refused for exactly that, and a frame the NIC would call malformed is refused.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addonBuilt,
  collect,
  encapNsh,
  inject,
  load,
  settle,
  start,
  stop,
  type CollectedPacket,
} from '../../host-runtime/lib';
import { isolationSupport, planArtifacts } from '../../host-runtime/lib/isolation';
import { generateTraffic, trafficFromFrames } from '../../deploy/traffic';
import { loadGraph, partition } from '../../partitioner';
import { readFrame } from '../../partitioner/frame';
import { IP_AWARE_NFS } from '../../partitioner/reference';
import type { Plan, PlanPath } from '../../partitioner/plan';
import { fuzzFrames, hostileCorpus, type HostileFrame } from './corpus';

const built = addonBuilt();
if (!built) console.warn('test/hostile/host-runtime: skipped: the native addon is not built (npm run build)');
const EXAMPLES = join(__dirname, '..', '..', 'examples');
const graphs = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(EXAMPLES, f));
const FAULTS = ['truncated', 'bad-ihl', 'ip-options', 'fragment', 'not-ipv4'];
// Every isolation backend this machine runs: mpk needs protection keys (PKU) in the CPU.
const pku = built ? isolationSupport() : undefined;
if (pku && !pku.pku) console.warn(`test/hostile/host-runtime: isolation mpk skipped: ${pku.pkuReason}`);
const BACKENDS = (['none', 'sfi', 'process', 'mpk'] as const).filter((b) => b !== 'mpk' || pku?.pku);

interface Fed {
  frame: Buffer;
  queue: number;
  /** The inner frame's path and its first host NF, when tagged with a valid NSH. */
  path?: PlanPath;
  inner?: HostileFrame;
  what: string;
}

/** Each hostile frame under a valid NSH of a host path, bare, and under forged NSH headers. */
function feed(plan: Plan, queueOf: Map<number, number>, frames: HostileFrame[]): Fed[] {
  const hostPaths = plan.paths.filter((p) => p.needsHost && !p.branchOf);
  const expected = trafficFromFrames(plan, frames);
  const out: Fed[] = [];
  frames.forEach((f, i) => {
    const path = hostPaths.find((p) => p.id === expected[i].path) ?? hostPaths[i % hostPaths.length];
    const queue = queueOf.get(path.id) ?? 0;
    const tag = { spi: path.id, si: path.hostHops, tenant: path.tenant };
    if (f.data.length >= 14) out.push({ frame: encapNsh(tag, f.data), queue, path, inner: f, what: f.what });
    out.push({ frame: f.data, queue, what: `bare: ${f.what}` });
    if (i % 7 === 0 && f.data.length >= 14) {
      const forged = [
        ['unknown SPI', { ...tag, spi: 0xfffff }],
        ['another tenant', { ...tag, tenant: tag.tenant + 100 }],
        ['SI past the path', { ...tag, si: 200 }],
      ] as const;
      for (const [what, t] of forged)
        out.push({ frame: encapNsh(t, f.data), queue, what: `${what}: ${f.what}` });
      out.push({ frame: encapNsh(tag, f.data).subarray(0, 20), queue, what: `NSH cut at 20 bytes` });
    }
  });
  return out;
}

describe.skipIf(!built)('the host runtime on its own, fed hostile frames', () => {
  afterAll(() => stop());

  // Under `sfi` every NF runs in its wasm sandbox, packets copied into its memory in windows;
  // under `process` in the tenant's own process, under `mpk` behind its protection key.
  it.each(graphs.flatMap((g) => BACKENDS.map((iso) => [basename(g), iso, g] as const)))(
    '%s, isolation %s: every frame accounted for, IP-aware NFs as the reference reads the frame',
    async (_name, isolation, graphFile) => {
      const plan = await partition(loadGraph(graphFile));
      const { packets: valid } = generateTraffic(plan, {
        packetsPerPath: 3,
        flowsPerPath: 3,
        sizes: [64, 200],
        seed: 5,
      });
      start({ workers: 1, captureDrops: true, queueSize: 4096 });
      const loaded = load(plan, { isolation, artifacts: await planArtifacts(plan, isolation) });
      // Frames past an mbuf's data room too: the runtime must take and drop them, not refuse the batch.
      const huge = valid
        .slice(0, 3)
        .map((v) => ({ ...v, data: Buffer.concat([v.data, Buffer.alloc(3000)]) }));
      const frames = [
        ...hostileCorpus(valid),
        ...fuzzFrames(valid, 300, 23),
        ...huge.map((h) => ({ ...h, class: 'jumbo' as const, what: 'longer than an mbuf' })),
      ];
      const fed = feed(plan, loaded.queueOfPath, frames);

      const bySeq = new Map<number, number>();
      for (let q = 0; q < loaded.queues; q++) {
        const idx = fed.map((_, i) => i).filter((i) => fed[i].queue === q);
        for (let k = 0; k < idx.length;) {
          const chunk = idx.slice(k, k + 256);
          const r = inject(
            q,
            chunk.map((i) => fed[i].frame),
          );
          chunk.slice(0, r.accepted).forEach((i, j) => bySeq.set(r.firstSeq + j, i));
          k += r.accepted;
          await settle();
        }
      }
      const stats = await settle();
      const got: CollectedPacket[] = collect();

      // Every frame: one fate, transmitted or dropped with a named reason.
      expect(got.length).toBe(fed.length);
      expect(new Set(got.map((c) => c.seq)).size).toBe(fed.length);
      const fates = new Array<CollectedPacket | undefined>(fed.length);
      for (const c of got) fates[bySeq.get(c.seq) ?? -1] = c;
      expect(fates.filter((c) => !c).length).toBe(0);
      for (const c of got) if (c.fate === 'drop') expect(loaded.reasons).toContain(c.reason);
      expect(stats.received).toBe(fed.length);
      expect(stats.transmitted + stats.dropped).toBe(stats.received);
      expect(Object.values(stats.drops).reduce((a, b) => a + b, 0)).toBe(stats.dropped);
      expect(stats.captureLost).toBe(0);
      // An mbuf's data room is 2048 bytes (DPDK's default).
      const tooLong = fed.filter((f) => f.frame.length > 2048).length;
      expect(tooLong).toBeGreaterThanOrEqual(huge.length);
      expect(stats.drops.oversize).toBe(tooLong);

      // Where the first host NF reads IP headers: its verdict against the reference's reading.
      const mismatches: string[] = [];
      const seen = new Map<string, number>();
      fed.forEach((f, i) => {
        const c = fates[i]!;
        if (!f.path || !f.inner) return;
        const first = plan.nfs[f.path.hops.find((h) => h.spot === 'host')!.nf];
        if (!IP_AWARE_NFS.has(first.type) || f.inner.data.length > 2000) return;
        const read = readFrame(0, f.inner.data);
        const fault =
          c.fate === 'drop' && c.reason?.startsWith(`${first.name}:`) ? c.reason.split(':')[1] : undefined;
        const refused = fault !== undefined && FAULTS.includes(fault);
        const want =
          read.kind === 'drop'
            ? read.reason === 'oversize'
              ? undefined
              : 'refused'
            : (read.headers.ipFault ?? (read.headers.l3 === 'ipv4' ? 'clean' : 'not-ipv4'));
        if (want === undefined) return;
        const key = `${want}→${c.fate === 'tx' ? 'tx' : c.reason}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        const ok = want === 'clean' ? !refused : want === 'refused' ? refused : fault === want;
        if (!ok) mismatches.push(`${f.what}: reference ${want}, ${first.name} ${c.fate} ${c.reason ?? ''}`);
      });
      console.log(
        `host runtime alone, ${basename(graphFile)}, ${isolation}: ${fed.length} frames`,
        JSON.stringify(Object.fromEntries(seen)),
      );
      expect(mismatches.slice(0, 10)).toEqual([]);
      // The corpus reached the NFs with every kind of verdict.
      expect([...seen.keys()].some((k) => k.startsWith('clean→'))).toBe(true);
      expect([...seen.keys()].some((k) => k.startsWith('refused→'))).toBe(true);
      stop();
    },
    120_000,
  );
});
