/**
 * The placement problem, independent of how it is solved: one binary decision per NF instance
 * (NIC or host), paths as ordered hop lists with traffic weights, and the NIC resources left
 * after classification. Both solvers and the brute-force test evaluate placements with
 * `evaluatePlacement`, so they agree on the objective by construction.
 */
import type { NicCost } from './catalogue';

export const COST_KEYS = [
  'exactEntries',
  'ternaryEntries',
  'lpmEntries',
  'rangeEntries',
  'meters',
  'counters',
] as const satisfies ReadonlyArray<keyof NicCost>;

export interface PlacementItem {
  /** Host cycles per packet when on the host. */
  hostCycles: number;
  /** Forced placement: host-only types, or a `pin:`. */
  fixed?: 'nic' | 'host';
  /** NIC resources when offloaded. */
  cost: NicCost;
}

export interface PlacementPath {
  /** Expected fraction of all traffic on this path (tenant share × path share). */
  weight: number;
  /** Item indexes in traversal order. */
  hops: number[];
}

export interface PlacementProblem {
  items: PlacementItem[];
  paths: PlacementPath[];
  /** NIC resources left for NFs once classification took its share. */
  capacity: Record<(typeof COST_KEYS)[number], number>;
  /** Pipeline stages left for NF tables on any one path. */
  stageBudget: number;
  crossingCycles: number;
}

export interface Evaluation {
  value: number;
  hostCycles: number;
  crossingCycles: number;
}

/** Objective of a placement (`nic[i]` true = on the NIC); feasibility is checked separately. */
export function evaluatePlacement(p: PlacementProblem, nic: readonly boolean[]): Evaluation {
  let host = 0;
  let crossings = 0;
  for (const path of p.paths) {
    let prevHost = false;
    let segs = 0;
    let cyc = 0;
    for (const i of path.hops) {
      const onHost = !nic[i];
      if (onHost) cyc += p.items[i].hostCycles;
      if (onHost && !prevHost) segs++;
      prevHost = onHost;
    }
    host += path.weight * cyc;
    crossings += path.weight * segs * p.crossingCycles;
  }
  return { value: host + crossings, hostCycles: host, crossingCycles: crossings };
}

/** Resource use of the NFs placed on the NIC. */
export function nicUse(
  p: PlacementProblem,
  nic: readonly boolean[],
): Record<(typeof COST_KEYS)[number], number> {
  const use = { exactEntries: 0, ternaryEntries: 0, lpmEntries: 0, rangeEntries: 0, meters: 0, counters: 0 };
  p.items.forEach((it, i) => {
    if (!nic[i]) return;
    for (const k of COST_KEYS) use[k] += it.cost[k];
  });
  return use;
}

/** Most NF stages any one path uses on the NIC. */
export function maxPathStages(p: PlacementProblem, nic: readonly boolean[]): number {
  let max = 0;
  for (const path of p.paths) {
    let s = 0;
    for (const i of path.hops) if (nic[i]) s += p.items[i].cost.stages;
    max = Math.max(max, s);
  }
  return max;
}

export function isFeasible(p: PlacementProblem, nic: readonly boolean[]): boolean {
  for (let i = 0; i < p.items.length; i++) {
    const f = p.items[i].fixed;
    if (f && (f === 'nic') !== nic[i]) return false;
  }
  const use = nicUse(p, nic);
  for (const k of COST_KEYS) if (use[k] > p.capacity[k]) return false;
  return maxPathStages(p, nic) <= p.stageBudget;
}

/** The placement with every free NF on the host (always within resources unless pins exceed them). */
export function allHost(p: PlacementProblem): boolean[] {
  return p.items.map((it) => it.fixed === 'nic');
}

/** Exhaustive search over the free items; for tests only (2^free placements). */
export function bruteForce(p: PlacementProblem): { nic: boolean[]; value: number } | undefined {
  const free = p.items.map((it, i) => (it.fixed ? -1 : i)).filter((i) => i >= 0);
  let best: { nic: boolean[]; value: number } | undefined;
  const nic = allHost(p);
  for (let mask = 0; mask < 1 << free.length; mask++) {
    free.forEach((i, b) => (nic[i] = ((mask >> b) & 1) === 1));
    if (!isFeasible(p, nic)) continue;
    const v = evaluatePlacement(p, nic).value;
    if (!best || v < best.value - 1e-9) best = { nic: [...nic], value: v };
  }
  return best;
}
