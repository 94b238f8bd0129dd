/**
 * The linked data path (one native call per batch: softnic engine → host queues → engine, in
 * targets/softnic/engine/link.cc) against the JavaScript shuttle it replaces: the same generated
 * batch, deployed once each way, must give every packet the same fate (port and bytes, or drop
 * site and reason). Meter decisions depend on the packet clock, so a packet a rate limiter
 * dropped on either run is only checked to be a meter drop.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGraph } from '../../partitioner';
import { deploy, generateTraffic, prepareDeploy } from '../../deploy';
import type { PacketFate } from '../../targets';
import { createEngine } from '../../targets/softnic/native';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const graphs = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

function isMeterDrop(f: PacketFate | undefined): boolean {
  return f?.kind === 'dropped' && f.reason.split(':')[0] === 'meter-red';
}

function describeFate(f: PacketFate | undefined): string {
  if (!f) return 'none';
  return f.kind === 'forwarded' ? `port ${f.port} ${f.data.toString('hex')}` : `${f.where}:${f.reason}`;
}

describe('linked data path', () => {
  afterAll(async () => {
    const host = await import('../../host-runtime/lib');
    host.stop();
  });

  it('refuses to run without a loaded host plan (an unknown handle)', () => {
    const engine = createEngine() as unknown as { runLinked: (...args: unknown[]) => unknown };
    expect(typeof engine.runLinked).toBe('function');
    expect(() =>
      engine.runLinked(
        1e9,
        new Int32Array(0),
        [],
        new Int32Array(1),
        new Int32Array(1),
        'c',
        new Int32Array(0),
      ),
    ).toThrow(/no host plan with this handle is loaded/);
  });

  it.each(graphs)('%s: same per-packet fates as the JavaScript path', async (file) => {
    const graphFile = join(EXAMPLES, file);
    loadGraph(graphFile);
    const { plan, nic } = await prepareDeploy({
      input: graphFile,
      target: { kind: 'softnic' },
      durationSeconds: 0,
    });
    const roots = plan.paths.filter((p) => !p.branchOf).length;
    const { packets: traffic } = generateTraffic(plan, {
      packetsPerPath: Math.ceil(2400 / roots),
      flowsPerPath: 8,
      sizes: [64, 200, 600],
      suspiciousShare: 0.3,
      seed: 11,
    });
    const runs: Record<string, { fates: PacketFate[]; egress: number }> = {};
    for (const mode of ['js', 'linked'] as const) {
      let egress = 0;
      const { report, fates } = await deploy(plan, nic, {
        target: { kind: 'softnic', dataPath: mode },
        durationSeconds: 0,
        isolation: 'none',
        recordFates: true,
        traffic,
        onEgress: () => egress++,
      });
      expect(report.totals.input).toBe(traffic.length);
      expect(fates).toHaveLength(traffic.length);
      runs[mode] = { fates: fates ?? [], egress };
    }
    const js = runs.js.fates;
    const linked = runs.linked.fates;
    const kinds = new Set<string>();
    const mismatches: string[] = [];
    traffic.forEach((_, i) => {
      const a = js[i];
      const b = linked[i];
      if (isMeterDrop(a) || isMeterDrop(b)) {
        kinds.add('meter');
        if (isMeterDrop(a) !== isMeterDrop(b) && !(a?.kind === 'forwarded' || b?.kind === 'forwarded'))
          mismatches.push(`#${i}: js ${describeFate(a)}, linked ${describeFate(b)}`);
        return;
      }
      kinds.add(a?.kind === 'dropped' ? a.where : 'forwarded');
      if (describeFate(a) !== describeFate(b))
        mismatches.push(`#${i}: js ${describeFate(a)}, linked ${describeFate(b)}`);
    });
    expect(mismatches.slice(0, 10)).toEqual([]);
    // The batch exercised forwarding and drops, not just one kind of fate.
    expect(kinds.has('forwarded')).toBe(true);
    expect(kinds.size).toBeGreaterThan(1);
    const forwarded = (f: PacketFate[]): number => f.filter((x) => x.kind === 'forwarded').length;
    expect(runs.js.egress).toBe(forwarded(js));
    expect(runs.linked.egress).toBe(forwarded(linked));
  });

  it('counts the same drops by reason without recorded fates (a graph without rate limiters)', async () => {
    const graphFile = join(EXAMPLES, 'enterprise-edge.yaml');
    const { plan, nic } = await prepareDeploy({
      input: graphFile,
      target: { kind: 'softnic' },
      durationSeconds: 0,
    });
    const { packets: traffic } = generateTraffic(plan, {
      packetsPerPath: 1500,
      flowsPerPath: 8,
      sizes: [64, 600],
      suspiciousShare: 0.4,
      seed: 5,
    });
    const totals: Record<string, unknown> = {};
    for (const mode of ['js', 'linked'] as const) {
      const { report } = await deploy(plan, nic, {
        target: { kind: 'softnic', dataPath: mode },
        durationSeconds: 0,
        isolation: 'none',
        traffic,
      });
      totals[mode] = { totals: report.totals, drops: report.dropsByReason };
    }
    const js = totals.js as { totals: { dropped: number; input: number } };
    expect(js.totals.input).toBe(traffic.length);
    expect(js.totals.dropped).toBeGreaterThan(0);
    expect(totals.linked).toEqual(totals.js);
  });
});
