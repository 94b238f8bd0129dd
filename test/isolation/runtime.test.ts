/**
 * Isolation inside the real runtime: the example graphs' plans run through the host runtime's
 * workers with every tenant that can be sandboxed under `sfi` (its host NFs built for sfi by
 * planArtifacts), and each packet comes out exactly as under `none`. Every built-in host NF can
 * be sandboxed now (the rate limiter reaches DPDK's meter through the runtime's meter service); a
 * tenant with another NF type stays under `none`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, inject, load, settle, start, stats, stop } from '../../host-runtime/lib/index';
import { planArtifacts } from '../../host-runtime/lib/isolation';
import { loadGraph, partition } from '../../partitioner/index';
import type { Plan } from '../../partitioner/plan';
import { rootHostPaths, trafficFor, type TestPacket } from '../host-runtime/traffic';
import { isolationBuilt, warnIfSkipped } from './helpers';

warnIfSkipped('isolation runtime tests');

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const SANDBOXABLE = new Set([
  'firewall',
  'nat',
  'loadbalancer',
  'ids',
  'monitor',
  'macswap',
  'ratelimiter',
  'vlan',
  'marker',
  'encap',
]);

beforeAll(() => {
  if (isolationBuilt) start({ workers: 1 });
});
afterAll(() => {
  if (isolationBuilt) stop();
});

/** The plan with every tenant whose host NFs can all be sandboxed moved to `sfi`. */
function sandboxed(plan: Plan): { plan: Plan; tenants: number[] } {
  const moved: number[] = [];
  const tenants = plan.tenants.map((t) => {
    const host = plan.nfs.filter((n) => n.tenant === t.id && n.placement === 'host');
    if (host.length === 0 || !host.every((n) => SANDBOXABLE.has(n.type)))
      return { ...t, isolation: 'none' as const };
    moved.push(t.id);
    return { ...t, isolation: 'sfi' as const };
  });
  return { plan: { ...plan, tenants }, tenants: moved };
}

interface Run {
  fates: string[];
  /** Packets each NF saw, and each path's hops: what the runtime bills (a chain splits one entry). */
  nfPackets: number[];
  hopPackets: number[][];
  /** NFs that saw packets but were billed no cycles. */
  unbilled: string[];
}

async function fates(plan: Plan, packets: TestPacket[], artifacts: Record<number, string>): Promise<Run> {
  start({ workers: 1, captureDrops: true });
  const loaded = load(plan, { artifacts });
  const bySeq = new Map<number, number>();
  for (let q = 0; q < loaded.queues; q++) {
    const idx = packets.map((_, i) => i).filter((i) => (loaded.queueOfPath.get(packets[i].path) ?? 0) === q);
    if (idx.length === 0) continue;
    const r = inject(
      q,
      idx.map((i) => packets[i].pkt),
    );
    expect(r.accepted).toBe(idx.length);
    idx.forEach((i, j) => bySeq.set(r.firstSeq + j, i));
    await settle();
  }
  await settle();
  const out: string[] = new Array(packets.length);
  for (const c of collect()) out[bySeq.get(c.seq)!] = `${c.fate}:${c.reason ?? ''}:${c.data.toString('hex')}`;
  const st = stats();
  stop();
  return {
    fates: out,
    nfPackets: st.nfs.map((n) => n.packets),
    hopPackets: st.paths.map((p) => p.hops.map((h) => h.packets)),
    unbilled: st.nfs.filter((n) => n.packets > 0 && n.cycles === 0).map((n) => n.name),
  };
}

describe.skipIf(!isolationBuilt)('sfi tenants in the runtime match none, packet for packet', () => {
  for (const f of readdirSync(EXAMPLES).filter((x) => x.endsWith('.yaml'))) {
    it(
      f,
      async () => {
        const plan = await partition(loadGraph(join(EXAMPLES, f)));
        if (rootHostPaths(plan).length === 0) return;
        const { plan: sfiPlan, tenants } = sandboxed(plan);
        if (tenants.length === 0) return;
        const artifacts = await planArtifacts(sfiPlan);
        expect(Object.keys(artifacts).length).toBeGreaterThan(0);
        const packets = trafficFor(plan, 40);
        const asNone = await fates(
          { ...plan, tenants: plan.tenants.map((t) => ({ ...t, isolation: 'none' as const })) },
          packets,
          {},
        );
        const asSfi = await fates(sfiPlan, packets, artifacts);
        expect(asSfi.fates).toEqual(asNone.fates);
        expect(asSfi.fates.filter((x) => x.startsWith('tx:')).length).toBeGreaterThan(0);
        // Entered once per run of a tenant's hops, each NF is still billed the packets it saw.
        expect(asSfi.nfPackets).toEqual(asNone.nfPackets);
        expect(asSfi.hopPackets).toEqual(asNone.hopPackets);
        expect(asSfi.unbilled).toEqual([]);
      },
      300_000,
    );
  }
});
