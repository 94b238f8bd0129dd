// Placement: the MILP is exact (equals brute force over all 2^N placements on small graphs), and
// the greedy heuristic stays within 10% of it on medium graphs with binding NIC constraints.
import { describe, expect, it } from 'vitest';
import { bruteForce, evaluatePlacement, isFeasible } from '../../partitioner/placement';
import { solveMilp } from '../../partitioner/milp';
import { solveHeuristic } from '../../partitioner/heuristic';
import { quantile, syntheticGraph, syntheticPlacement } from '../../partitioner/synthetic';
import { prepare } from '../../partitioner/partition';

const tightProblem = syntheticPlacement;

describe('placement', () => {
  it('MILP equals brute force on random small graphs', async () => {
    let compared = 0;
    for (let seed = 1; compared < 40 && seed < 200; seed++) {
      const p = tightProblem(seed, 1 + (seed % 2), 3 + (seed % 5));
      const free = p.items.filter((it) => !it.fixed).length;
      if (free === 0 || free > 12) continue;
      const exact = bruteForce(p);
      expect(exact).toBeDefined();
      const milp = await solveMilp(p);
      expect(isFeasible(p, milp.nic)).toBe(true);
      expect(milp.optimal).toBe(true);
      expect(milp.value).toBeCloseTo(exact?.value ?? NaN, 6);
      compared++;
    }
    expect(compared).toBe(40);
  });

  it('MILP respects pins and host-only NFs', async () => {
    const p = tightProblem(5, 2, 6);
    const free = p.items.findIndex((it) => !it.fixed && it.cost.stages > 0);
    p.items[free] = { ...p.items[free], fixed: 'host' };
    const r = await solveMilp(p);
    expect(r.nic[free]).toBe(false);
    p.items.forEach((it, i) => {
      if (it.fixed) expect(r.nic[i]).toBe(it.fixed === 'nic');
    });
  });

  it('the heuristic is within 10% of the MILP on random medium graphs', async () => {
    const gaps: number[] = [];
    for (let seed = 1; seed <= 30; seed++) {
      const p = tightProblem(1000 + seed, 4, 8);
      const milp = await solveMilp(p);
      const h = solveHeuristic(p);
      expect(isFeasible(p, h.nic)).toBe(true);
      expect(h.value).toBeCloseTo(evaluatePlacement(p, h.nic).value, 9);
      expect(h.value).toBeGreaterThanOrEqual(milp.value - 1e-6);
      gaps.push(milp.value > 0 ? (h.value - milp.value) / milp.value : 0);
    }
    const fmt = (x: number): string => `${(x * 100).toFixed(2)}%`;
    console.log(
      `heuristic gap over ${gaps.length} medium graphs (4 tenants x 8 NFs): median ${fmt(quantile(gaps, 0.5))}, ` +
        `p95 ${fmt(quantile(gaps, 0.95))}, max ${fmt(Math.max(...gaps))}`,
    );
    expect(Math.max(...gaps)).toBeLessThanOrEqual(0.1);
  });
});

describe('heuristic on long chains', () => {
  it('finds the offloadable runs that only pay off together (single tenant, 30 NFs)', async () => {
    for (const seed of [2, 3, 4, 5]) {
      const graph = syntheticGraph({ tenants: 1, nfsPerTenant: 30, seed, forks: 5, idsRate: 0.05 });
      const { problem } = prepare(graph, 'softnic');
      const milp = await solveMilp(problem);
      const h = solveHeuristic(problem);
      expect(h.value / milp.value - 1, `seed ${seed}`).toBeLessThanOrEqual(0.1);
    }
  });
});
