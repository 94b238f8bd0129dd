/**
 * `npm run bench -- partition [--quick]`: partitioner speed and heuristic quality.
 *  - heuristic on a generated 200-tenant × 10-NF graph (target < 2 s), and (without --quick) the
 *    MILP on the same input beside it;
 *  - MILP on one tenant of 30 NFs (target < 5 s), with the heuristic on the same input beside it;
 *  - the heuristic's relative gap to the MILP over random medium graphs (median, p95, max);
 *  - cluster planning: 1,000 tenants × 6 NFs on 50 nodes (target < 10 s): assignment, every
 *    node's partition (solver auto) and the steering rules, in wall and CPU seconds; the
 *    heuristic-only time beside it.
 * Last line: {"heuristicSeconds":…,"milpSeconds":…,"heuristicGapP95":…,"clusterSeconds":…,"clusterCpuSeconds":…}
 */
import { execSync } from 'node:child_process';
import { partition } from '../partitioner';
import { solveMilp } from '../partitioner/milp';
import { solveHeuristic } from '../partitioner/heuristic';
import { quantile, syntheticClusterYaml, syntheticGraph, syntheticPlacement } from '../partitioner/synthetic';
import { parseCluster } from '../partitioner/cluster-load';
import { planCluster } from '../partitioner/cluster-plan';

function cpuModel(): string {
  try {
    const line = execSync('lscpu', { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Model name:'));
    return line ? line.replace('Model name:', '').trim() : 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  console.log(`machine: ${cpuModel()}; node ${process.version}${quick ? '; --quick' : ''}`);

  // Warm up: HiGHS (a WebAssembly module loaded once per process) and the JIT, on small inputs,
  // so that the timings measure partitioning rather than start-up.
  const warm = syntheticGraph({ tenants: 4, nfsPerTenant: 6, seed: 9 });
  await partition(warm, { solver: 'milp' });
  await partition(warm, { solver: 'heuristic' });

  const t0 = performance.now();
  const big = syntheticGraph({ tenants: 200, nfsPerTenant: 10, seed: 1 });
  const loadSeconds = (performance.now() - t0) / 1000;
  const h = await timed(() => partition(big, { solver: 'heuristic' }));
  const again = await timed(() => partition(big, { solver: 'heuristic' }));
  console.log(
    `200 tenants x 10 NFs: ${big.tenants.reduce((s, t) => s + t.nfs.length, 0)} NFs, ${h.value.paths.length} paths; ` +
      `load ${loadSeconds.toFixed(2)} s (YAML), partition with heuristic ${h.seconds.toFixed(3)} s ` +
      `(solver alone ${h.value.objective.seconds.toFixed(3)} s; a second run ${again.seconds.toFixed(3)} s), ` +
      `objective ${h.value.objective.value.toFixed(1)} cycles/pkt`,
  );

  if (!quick) {
    // The exact solver on the same large input, for the ratio and the true gap at scale.
    const exact = await timed(() => partition(big, { solver: 'milp' }));
    const gap =
      exact.value.objective.value > 0 ? h.value.objective.value / exact.value.objective.value - 1 : 0;
    console.log(
      `200 x 10 with the MILP: ${exact.seconds.toFixed(2)} s (optimal ${exact.value.objective.optimal}); ` +
        `heuristic ${(exact.seconds / h.seconds).toFixed(1)}x faster, gap ${(gap * 100).toFixed(3)}%`,
    );
  }

  const one = syntheticGraph({ tenants: 1, nfsPerTenant: 30, seed: 2, forks: 5 });
  const m = await timed(() => partition(one, { solver: 'milp' }));
  const mh = await timed(() => partition(one, { solver: 'heuristic' }));
  console.log(
    `1 tenant x 30 NFs, ${m.value.paths.length} paths: MILP ${m.seconds.toFixed(3)} s (objective ${m.value.objective.value.toFixed(1)}, ` +
      `optimal ${m.value.objective.optimal}); heuristic ${mh.seconds.toFixed(3)} s (objective ${mh.value.objective.value.toFixed(1)}); ` +
      `time ratio MILP/heuristic ${(m.seconds / mh.seconds).toFixed(1)}x`,
  );

  const count = quick ? 20 : 100;
  const gaps: number[] = [];
  for (let seed = 1; seed <= count; seed++) {
    const p = syntheticPlacement(1000 + seed, 4, 8);
    const exact = await solveMilp(p);
    const greedy = solveHeuristic(p);
    gaps.push(exact.value > 0 ? (greedy.value - exact.value) / exact.value : 0);
  }
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const p95 = quantile(gaps, 0.95);
  console.log(
    `heuristic gap to MILP over ${count} medium graphs (4 tenants x 8 NFs, binding NIC limits): ` +
      `median ${pct(quantile(gaps, 0.5))}, p95 ${pct(p95)}, max ${pct(Math.max(...gaps))}, ` +
      `optimal in ${gaps.filter((g) => g < 1e-9).length}/${count}`,
  );

  // Cluster planning at scale: the graph's YAML is loaded before the clock starts.
  const tenants = syntheticGraph({ tenants: 1000, nfsPerTenant: 6, seed: 3 });
  const cluster = parseCluster(
    syntheticClusterYaml({ nodes: 50, seed: 3, offeredLoadPps: 400e6 }),
    'synthetic-cluster-50.yaml',
  );
  // CPU time beside wall time: on a shared machine the wall clock also measures the neighbours.
  const cpu0 = process.cpuUsage();
  const c = await timed(() => planCluster(tenants, cluster));
  const cpu1 = process.cpuUsage(cpu0);
  const clusterCpuSeconds = (cpu1.user + cpu1.system) / 1e6;
  const ch = await timed(() => planCluster(tenants, cluster, { solver: 'heuristic' }));
  const util = c.value.cluster.nodes.map((n) => n.load.hostCycles.used / n.load.hostCycles.available);
  const per = c.value.cluster.nodes.map((n) => n.tenants.length);
  const milpNodes = [...c.value.plans.values()].filter((p) => p.objective.solver === 'milp').length;
  console.log(
    `cluster: 1000 tenants x 6 NFs on 50 nodes (40 softnic, 10 bmv2), 400 Mpps offered: planned in ${c.seconds.toFixed(2)} s (${clusterCpuSeconds.toFixed(2)} s of CPU) ` +
      `(${milpNodes} nodes by MILP, the rest heuristic; all-heuristic ${ch.seconds.toFixed(2)} s, ${(c.seconds / ch.seconds).toFixed(1)}x); ` +
      `tenants per node ${Math.min(...per)}-${Math.max(...per)}, host load ${(Math.min(...util) * 100).toFixed(0)}-${(Math.max(...util) * 100).toFixed(0)}%, ` +
      `${c.value.cluster.steering.rules.length} steering rules`,
  );
  console.log(
    JSON.stringify({
      heuristicSeconds: h.seconds,
      milpSeconds: m.seconds,
      heuristicGapP95: p95,
      clusterSeconds: c.seconds,
      clusterCpuSeconds,
    }),
  );
}
