/**
 * Greedy placement for large inputs: start with every free NF on the host, then repeatedly
 * offload the NF (or run of consecutive NFs on a path, when no single move helps) that saves the most
 * expected host cycles per unit of NIC resource, while it fits; finish with a local search that
 * moves NFs back when that lowers the objective. Gains are kept per NF and refreshed only for
 * NFs that share a path with the one that moved.
 */
import { NfpError } from './errors';
import {
  COST_KEYS,
  allHost,
  evaluatePlacement,
  isFeasible,
  nicUse,
  type PlacementProblem,
} from './placement';
import type { SolveResult } from './milp';

interface Occurrence {
  path: number;
  pos: number;
}

/** Longest run of consecutive NFs tried as one move. */
const MAX_RUN = 16;

export function solveHeuristic(p: PlacementProblem): SolveResult {
  const nic = allHost(p);
  if (!isFeasible(p, nic)) {
    throw new NfpError(
      'NFs fixed on the NIC (pinned, or NIC-only such as routers) exceed its resources',
      'unpin some NFs or use a larger --target profile',
    );
  }
  const occ: Occurrence[][] = p.items.map(() => []);
  p.paths.forEach((path, pi) => path.hops.forEach((i, pos) => occ[i].push({ path: pi, pos })));
  const use = nicUse(p, nic);
  const pathStages = p.paths.map((path) =>
    path.hops.reduce((s, i) => s + (nic[i] ? p.items[i].cost.stages : 0), 0),
  );

  // Objective change when item i moves to the other side (negative = better).
  const delta = (i: number): number => {
    let d = 0;
    const toNic = !nic[i];
    for (const { path, pos } of occ[i]) {
      const { weight, hops } = p.paths[path];
      if (weight === 0) continue;
      const prevHost = pos > 0 && !nic[hops[pos - 1]];
      const nextHost = pos < hops.length - 1 && !nic[hops[pos + 1]];
      // Host segments starting at i or at its successor: with i on the host only i can start
      // one (when its predecessor is not on the host); with i on the NIC only its successor can.
      const segsHostI = prevHost ? 0 : 1;
      const segsNicI = nextHost ? 1 : 0;
      const segBefore = toNic ? segsHostI : segsNicI;
      const segAfter = toNic ? segsNicI : segsHostI;
      const cycles = toNic ? -p.items[i].hostCycles : p.items[i].hostCycles;
      d += weight * (cycles + p.crossingCycles * (segAfter - segBefore));
    }
    return d;
  };
  const units = (i: number): number => {
    let u = 1e-6;
    for (const k of COST_KEYS) if (p.capacity[k] > 0) u += p.items[i].cost[k] / p.capacity[k];
    if (p.stageBudget > 0) u += p.items[i].cost.stages / p.stageBudget;
    return u;
  };
  const fits = (i: number): boolean => {
    const c = p.items[i].cost;
    for (const k of COST_KEYS) if (use[k] + c[k] > p.capacity[k]) return false;
    return occ[i].every(({ path }) => pathStages[path] + c.stages <= p.stageBudget);
  };
  const move = (i: number): void => {
    const sign = nic[i] ? -1 : 1;
    nic[i] = !nic[i];
    for (const k of COST_KEYS) use[k] += sign * p.items[i].cost[k];
    for (const { path } of occ[i]) pathStages[path] += sign * p.items[i].cost.stages;
  };

  const free = p.items.map((it, i) => (it.fixed ? -1 : i)).filter((i) => i >= 0);
  const ratio = new Float64Array(p.items.length);
  const refresh = (i: number): void => {
    ratio[i] = !nic[i] && !p.items[i].fixed ? -delta(i) / units(i) : 0;
  };
  for (const i of free) refresh(i);
  const neighbours = (i: number): Set<number> => {
    const s = new Set<number>();
    for (const { path } of occ[i]) for (const j of p.paths[path].hops) s.add(j);
    return s;
  };

  for (;;) {
    let best = -1;
    for (const i of free)
      if (!nic[i] && ratio[i] > 1e-12 && (best < 0 || ratio[i] > ratio[best]) && fits(i)) best = i;
    if (best >= 0) {
      move(best);
      for (const j of neighbours(best)) refresh(j);
      continue;
    }
    // No single move helps: try runs of consecutive host NFs on a path, moved together, since
    // offloading a whole run avoids the crossings that moving one NF of it would add.
    let run: number[] | undefined;
    let runRatio = 1e-12;
    for (const path of p.paths) {
      if (path.weight === 0) continue;
      for (let h = 0; h < path.hops.length; h++) {
        const moved: number[] = [];
        let gain = 0;
        let cost = 0;
        for (let j = h; j < path.hops.length && moved.length < MAX_RUN; j++) {
          const i = path.hops[j];
          if (nic[i] || p.items[i].fixed || !fits(i)) break;
          gain -= delta(i);
          cost += units(i);
          move(i);
          moved.push(i);
          if (moved.length > 1 && gain / cost > runRatio) {
            runRatio = gain / cost;
            run = [...moved];
          }
        }
        for (let k = moved.length - 1; k >= 0; k--) move(moved[k]);
      }
    }
    if (!run) break;
    for (const i of run) move(i);
    for (const i of run) for (const j of neighbours(i)) refresh(j);
  }

  // Local search: single moves, then swaps (one NF back to the host to make room for another
  // that shares a path with it), while they strictly improve the objective.
  for (let round = 0; round < 8; round++) {
    let changed = false;
    for (const i of free) {
      if (delta(i) < -1e-9 && (nic[i] || fits(i))) {
        move(i);
        changed = true;
      }
    }
    for (const a of free) {
      if (!nic[a]) continue;
      for (const b of neighbours(a)) {
        if (nic[b] || p.items[b].fixed) continue;
        const da = delta(a);
        move(a);
        if (fits(b) && da + delta(b) < -1e-9) {
          move(b);
          changed = true;
          break;
        }
        move(a);
      }
    }
    if (!changed) break;
  }
  return { nic, value: evaluatePlacement(p, nic).value, optimal: false };
}
