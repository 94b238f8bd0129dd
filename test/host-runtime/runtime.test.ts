/**
 * The run-to-completion runtime on the example graphs' plans, through real DPDK net_ring ports:
 * every packet accounted for, pre-sorted and mixed input giving identical per-packet results,
 * dynamic branches, refusals, quarantine, bounded queues, and stop/start within one process.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addonBuilt,
  collect,
  decapNsh,
  inject,
  load,
  quarantine,
  settle,
  start,
  stop,
  type CollectedPacket,
  type InputMode,
} from '../../host-runtime/lib/index';
import { loadGraph, partition } from '../../partitioner/index';
import type { LoadBalancerConfig } from '../../partitioner/nf-config';
import type { Plan } from '../../partitioner/plan';
import { parse } from './packets';
import { refusedFor, rootHostPaths, trafficFor, type TestPacket } from './traffic';

const built = addonBuilt();
if (!built)
  console.warn('host-runtime runtime tests skipped: nfp_host.node is not built (npm run build:native)');

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
const plans = new Map<string, Plan>();

beforeAll(async () => {
  for (const f of exampleFiles) plans.set(f, await partition(loadGraph(join(EXAMPLES, f))));
  if (built) start({ workers: 2 });
});
afterAll(() => {
  if (built) stop();
});

interface Fate {
  fate: 'tx' | 'drop';
  reason?: string;
  data: string;
}

/** Runs `packets` through the loaded plan in `mode`; returns each packet's fate by index. */
async function runPlan(plan: Plan, packets: TestPacket[], mode: InputMode, workers = 1): Promise<Fate[]> {
  start({ workers, mode, captureDrops: true });
  const loaded = load(plan, { isolation: 'none' });
  const bySeq = new Map<number, number>();
  const queueOf = (p: TestPacket) => loaded.queueOfPath.get(p.path) ?? 0;
  // Mixed mode gets the paths interleaved; pre-sorted mode one queue per path, as the NIC sorts.
  const order = packets.map((_, i) => i);
  if (mode === 'mixed') order.sort((a, b) => ((a * 7919) % packets.length) - ((b * 7919) % packets.length));
  for (let q = 0; q < loaded.queues; q++) {
    const idx = order.filter((i) => queueOf(packets[i]) === q);
    for (let k = 0; k < idx.length; k += 500) {
      const chunk = idx.slice(k, k + 500);
      const r = inject(
        q,
        chunk.map((i) => packets[i].pkt),
      );
      expect(r.accepted).toBe(chunk.length);
      chunk.forEach((i, j) => bySeq.set(r.firstSeq + j, i));
      await settle();
    }
  }
  const s = await settle();
  const got: CollectedPacket[] = collect();
  expect(s.received).toBe(packets.length);
  expect(s.transmitted + s.dropped).toBe(s.received);
  expect(Object.values(s.drops).reduce((a, b) => a + b, 0)).toBe(s.dropped);
  expect(s.captureLost).toBe(0);
  expect(got.length).toBe(packets.length);
  const fates: Fate[] = new Array(packets.length);
  for (const c of got) {
    const i = bySeq.get(c.seq);
    expect(i).toBeDefined();
    expect(fates[i!]).toBeUndefined();
    fates[i!] = { fate: c.fate, reason: c.reason, data: c.fate === 'tx' ? c.data.toString('hex') : '' };
  }
  stop();
  return fates;
}

/** Zeroes the inner L4 source port and the L4 and IPv4 checksums of an NSH frame (hex). */
function maskNatPort(hex: string): string {
  if (!hex) return hex;
  const b = Buffer.from(hex, 'hex');
  const l3 = 14 + 16; // MACs, EtherType 0x894F, then the NSH, which ends with the inner EtherType
  const l4 = l3 + 20;
  b.writeUInt16BE(0, l3 + 10);
  b.writeUInt16BE(0, l4);
  b.writeUInt16BE(0, l4 + (b[l3 + 9] === 6 ? 16 : 6));
  return b.toString('hex');
}

describe.skipIf(!built)('every packet is accounted for on every example graph', () => {
  for (const f of exampleFiles) {
    it(f, async () => {
      const plan = plans.get(f)!;
      const roots = rootHostPaths(plan);
      if (roots.length === 0) return;
      const packets = [...trafficFor(plan, 60), ...refusedFor(plan, roots[0])];
      const fates = await runPlan(plan, packets, 'presorted');
      packets.forEach((p, i) => {
        if (p.refuse) expect(fates[i]).toMatchObject({ fate: 'drop', reason: p.refuse });
        else if (fates[i].fate === 'drop') expect(fates[i].reason).toMatch(/^[\w-]+\.[\w-]+:[\w-]+$/);
      });
      // The malformed inner packets are dropped by the path's first host NF, with their reason.
      expect(fates.filter((x) => x.reason?.endsWith(':bad-ihl')).length).toBe(roots.length);
      expect(fates.filter((x) => x.fate === 'tx').length).toBeGreaterThan(roots.length * 30);
    });
  }
});

describe.skipIf(!built)('pre-sorted and mixed input give identical per-packet results', () => {
  for (const f of exampleFiles) {
    it(f, async () => {
      const plan = plans.get(f)!;
      if (rootHostPaths(plan).length === 0) return;
      const packets = trafficFor(plan, 80);
      const presorted = await runPlan(plan, packets, 'presorted');
      const mixed = await runPlan(plan, packets, 'mixed');
      expect(mixed).toEqual(presorted);
      // Two workers own separate NF instances; NAT splits its port pool between them, so only the
      // NAT-chosen source port (and the checksums over it) may differ.
      const hasNat = plan.nfs.some((n) => n.type === 'nat' && n.placement === 'host');
      const mask = (fs: Fate[]) => (hasNat ? fs.map((x) => ({ ...x, data: maskNatPort(x.data) })) : fs);
      const twoWorkers = await runPlan(plan, packets, 'presorted', 2);
      expect(mask(twoWorkers)).toEqual(mask(presorted));
    });
  }
});

describe.skipIf(!built)('dynamic branches', () => {
  it('sends each packet down the sub-path of its verdict (branch-heavy)', async () => {
    const plan = plans.get('branch-heavy.yaml');
    expect(plan).toBeDefined();
    const packets = trafficFor(plan!, 90);
    const fates = await runPlan(plan!, packets, 'mixed');
    let branched = 0;
    packets.forEach((p, i) => {
      const f = fates[i];
      if (f.fate === 'drop') return;
      const out = decapNsh(Buffer.from(f.data, 'hex'));
      expect(out).not.toBeNull();
      const root = plan!.paths.find((x) => x.id === p.path)!;
      const ids = root.hops.find((h) => h.branches);
      const expected = p.alert && ids ? ids.branches!.alert : p.path;
      expect(out!.tag.spi).toBe(expected);
      expect(out!.tag.si).toBe(0);
      expect(out!.tag.tenant).toBe(root.tenant);
      const inner = parse(out!.frame);
      // The load balancer follows the IDS only on the root path: alerts leave with the VIP intact.
      const lbHop = root.hops.find((h) => plan!.nfs[h.nf].type === 'loadbalancer');
      if (p.toVip && lbHop) {
        const lb = plan!.nfs[lbHop.nf].config as LoadBalancerConfig;
        if (p.alert) expect(inner.dst).toBe(p.toVip);
        else expect(lb.backends).toContain(inner.dst);
        expect(inner.ipChecksumOk && inner.l4ChecksumOk).toBe(true);
      }
      if (p.alert) branched++;
    });
    expect(branched).toBeGreaterThan(20);
  });
});

describe.skipIf(!built)('runtime safety', () => {
  it('drops a quarantined tenant\u2019s packets with reason quarantined and counts them', async () => {
    const plan = plans.get('enterprise-edge.yaml')!;
    start({ workers: 1, mode: 'presorted', captureDrops: true });
    const loaded = load(plan, { isolation: 'none' });
    const root = rootHostPaths(plan)[0];
    quarantine(root.tenant, true);
    const pkts = trafficFor(plan, 10).filter((p) => p.path === root.id);
    inject(
      loaded.queueOfPath.get(root.id)!,
      pkts.map((p) => p.pkt),
    );
    const s = await settle();
    expect(s.drops.quarantined).toBe(pkts.length);
    expect(s.tenants.find((t) => t.id === root.tenant)?.quarantined).toBe(true);
    expect(collect().every((c) => c.reason === 'quarantined')).toBe(true);
    stop();
  });

  it('bounds its queues and counts overflow, never losing a packet silently', async () => {
    const plan = plans.get('enterprise-edge.yaml')!;
    start({ workers: 1, mode: 'presorted', queueSize: 64 });
    const loaded = load(plan, { isolation: 'none' });
    const root = rootHostPaths(plan)[0];
    const pkts = trafficFor(plan, 300).filter((p) => p.path === root.id);
    const r = inject(
      loaded.queueOfPath.get(root.id)!,
      pkts.map((p) => p.pkt),
    );
    expect(r.accepted).toBeLessThan(pkts.length);
    const s = await settle();
    expect(s.drops['rx-overflow']).toBe(pkts.length - r.accepted);
    expect(s.received).toBe(pkts.length);
    expect(s.transmitted + s.dropped).toBe(s.received);
    stop();
  });

  it('reports cycles per NF, path and tenant', async () => {
    const plan = plans.get('enterprise-edge.yaml')!;
    start({ workers: 1, mode: 'presorted' });
    const loaded = load(plan, { isolation: 'none' });
    const root = rootHostPaths(plan)[0];
    inject(
      loaded.queueOfPath.get(root.id)!,
      trafficFor(plan, 50)
        .filter((p) => p.path === root.id)
        .map((p) => p.pkt),
    );
    const s = await settle();
    for (const nf of s.nfs) expect(nf.cycles).toBeGreaterThan(0);
    expect(s.paths.find((p) => p.id === root.id)?.cycles).toBeGreaterThan(0);
    expect(s.tenants.find((t) => t.id === root.tenant)?.cycles).toBe(s.nfs.reduce((a, n) => a + n.cycles, 0));
    stop();
  });

  it('explains a plan it cannot load', async () => {
    const plan = plans.get('enterprise-edge.yaml')!;
    start({ workers: 1 });
    expect(() => load(plan, { isolation: 'mpk-not-a-backend' as never })).toThrow(
      /isolation backend `mpk-not-a-backend`/,
    );
    expect(() => start({ workers: 64 })).toThrow(/worker lcores/);
    expect(() => start({ workers: 0 })).toThrow(/positive integer/);
    start({ workers: 1, burst: 65 });
    expect(() => load(plan, { isolation: 'none' })).toThrow(/burst must be 1\.\.64/);
    start({ workers: 1, queueSize: 1000 });
    expect(() => load(plan, { isolation: 'none' })).toThrow(/power of two/);
    start({ workers: 1 });
    expect(() => inject(0, [])).toThrow(/no host plan is loaded/);
    load(plan, { isolation: 'none' });
    expect(() => inject(7, [Buffer.alloc(64)])).toThrow(/queue 7 does not exist/);
    // A frame longer than an mbuf holds is no error: it is taken and dropped as `oversize`.
    expect(inject(0, [Buffer.alloc(4000)]).accepted).toBe(1);
    expect((await settle()).drops.oversize).toBe(1);
    stop();
  });
});
