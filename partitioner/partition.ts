/**
 * The partitioner pipeline: check the graph against the profile, enumerate paths, build and
 * solve the placement, then derive spots, queues, fragmentation points, resource use and the
 * per-NF reasons into a Plan.
 */
import { dirname, resolve } from 'node:path';
import type { ServiceGraph, Tenant } from './graph';
import type {
  FragmentationPoint,
  NicProfile,
  Plan,
  PlanNf,
  PlanPath,
  PathRule,
  ResourceUse,
  TenantRule,
} from './plan';
import { PLAN_VERSION } from './plan';
import type { Diagnostic } from './errors';
import { GraphError, NfpError } from './errors';
import { CATALOGUE, ZERO_COST, hostCyclesFor, type NicCost } from './catalogue';
import { enumerateRoutes, type Route } from './paths';
import { hasRange, ternaryExpansion } from './match';
import { COST_KEYS, evaluatePlacement, maxPathStages, nicUse, type PlacementProblem } from './placement';
import { solveMilp, type SolveResult } from './milp';
import { solveHeuristic } from './heuristic';
import { assignQueues } from './queues';
import { resolveProfile } from './profiles';
import type { RouterConfig } from './nf-config';

export type SolverChoice = 'milp' | 'heuristic' | 'auto';

export interface PartitionOptions {
  profile?: string | NicProfile;
  solver?: SolverChoice;
}

/** 'auto' uses the exact MILP up to this many free NFs, the heuristic beyond. */
export const AUTO_MILP_MAX_FREE = 80;
/** Pipeline stages the classification tables take (tenant table, path table). */
export const CLASSIFICATION_STAGES = 2;

const RESOURCE_WORDS: Record<string, string> = {
  exactEntries: 'NIC exact-match budget exhausted',
  ternaryEntries: 'NIC TCAM budget exhausted',
  lpmEntries: 'NIC LPM budget exhausted',
  rangeEntries: 'NIC range-match budget exhausted',
  meters: 'NIC meters exhausted',
  counters: 'NIC counters exhausted',
};

function checkPorts(g: ServiceGraph, profile: NicProfile): void {
  const diags: Diagnostic[] = [];
  const ports = profile.wirePorts;
  const bad = (p: number): boolean => !ports.includes(p);
  const list = `${ports.join(', ')}`;
  g.tenants.forEach((t, i) => {
    const key = `tenants[${i}]`;
    if (t.slice.ingressPort !== undefined && bad(t.slice.ingressPort)) {
      diags.push({
        loc: t.loc,
        key: `${key}.slice.ingressPort`,
        message: `ingress port ${t.slice.ingressPort} is not a wire port of profile ${profile.name} (${list})`,
      });
    }
    if (bad(t.egressPort)) {
      diags.push({
        loc: t.loc,
        key: `${key}.egressPort`,
        message: `egress port ${t.egressPort} is not a wire port of profile ${profile.name} (${list})`,
      });
    }
    for (const nf of t.nfs) {
      if (nf.type !== 'router') continue;
      const rc = nf.config as RouterConfig;
      for (const p of [
        ...rc.routes.map((r) => r.port),
        ...(rc.defaultPort !== undefined ? [rc.defaultPort] : []),
      ]) {
        if (bad(p))
          diags.push({
            loc: nf.loc,
            key: `${key}.nfs.${nf.name}`,
            message: `route port ${p} is not a wire port of profile ${profile.name} (${list})`,
          });
      }
    }
  });
  if (diags.length > 0) throw new GraphError(diags);
}

function routeName(t: Tenant, r: Route): string {
  const end = r.terminal.kind === 'exit' ? 'exit' : `drop (${r.terminal.reason})`;
  return `${t.name}: ${[...r.nodes, end].join(' → ')}`;
}

function line(used: number, available: number): { used: number; available: number } {
  return { used, available };
}

/** Everything the partitioner derives before solving: NFs, routes, rules and the placement problem. */
export interface Prepared {
  profile: NicProfile;
  nfs: PlanNf[];
  routes: Array<{ t: Tenant; r: Route; id: number }>;
  idOf: Map<Route, number>;
  hopIds: (t: Tenant, r: Route) => number[];
  tenantRules: TenantRule[];
  pathRules: PathRule[];
  fixed: NicCost;
  problem: PlacementProblem;
  tenantOf: Map<number, Tenant>;
}

/** Checks the graph against the profile and builds the placement problem (no solving). */
export function prepare(graph: ServiceGraph, profileOpt?: string | NicProfile): Prepared {
  const profile = resolveProfile(profileOpt);
  checkPorts(graph, profile);

  // NFs, in tenant order then declaration order; ids index plan.nfs.
  const nfs: PlanNf[] = [];
  const nfId = new Map<string, number>();
  for (const t of graph.tenants) {
    for (const nf of t.nfs) {
      nfId.set(`${t.id}/${nf.name}`, nfs.length);
      nfs.push({
        id: nfs.length,
        tenant: t.id,
        name: `${t.name}.${nf.name}`,
        type: nf.type,
        config: nf.config,
        placement: 'host',
        reason: '',
        hostCycles: hostCyclesFor(nf.type, nf.config, profile),
        verdicts: CATALOGUE[nf.type].verdicts(nf.config),
      });
    }
  }

  // Paths: per tenant, root routes in DFS order each followed by its branches.
  const routes: Array<{ t: Tenant; r: Route; id: number }> = [];
  const idOf = new Map<Route, number>();
  for (const t of graph.tenants) {
    for (const r of enumerateRoutes(t)) {
      const id = routes.length + 1;
      idOf.set(r, id);
      routes.push({ t, r, id });
    }
  }
  const hopIds = (t: Tenant, r: Route): number[] => r.nodes.map((n) => nfId.get(`${t.id}/${n}`) as number);
  const pathsThrough = new Array<number>(nfs.length).fill(0);
  for (const { t, r } of routes) for (const i of hopIds(t, r)) pathsThrough[i]++;

  // Classification takes its fixed share of the NIC first.
  const rangeOk = profile.matchKinds.includes('range');
  const pathRules: PathRule[] = [];
  const tenantRules: TenantRule[] = [];
  const fixed = { ...ZERO_COST, stages: CLASSIFICATION_STAGES };
  graph.tenants.forEach((t, i) => {
    tenantRules.push({ tenant: t.id, priority: graph.tenants.length - i, ...t.slice });
    fixed.ternaryEntries += 1;
    const roots = routes.filter((x) => x.t === t && !x.r.branchOf);
    roots.forEach((x, k) => {
      pathRules.push({ tenant: t.id, path: x.id, priority: roots.length - k, match: x.r.match });
      if (hasRange(x.r.match) && rangeOk) fixed.rangeEntries += 1;
      else fixed.ternaryEntries += ternaryExpansion(x.r.match);
      fixed.exactEntries += 1; // path → NSH/queue/egress action
    });
  });
  const capacity = {
    exactEntries: profile.exactEntries - fixed.exactEntries,
    ternaryEntries: profile.ternaryEntries - fixed.ternaryEntries,
    lpmEntries: profile.lpmEntries - fixed.lpmEntries,
    rangeEntries: profile.rangeEntries - fixed.rangeEntries,
    meters: profile.meters - fixed.meters,
    counters: profile.counters - fixed.counters,
  };
  for (const k of COST_KEYS) {
    if (capacity[k] < 0) {
      throw new NfpError(
        `classification alone needs ${fixed[k]} ${k} but profile ${profile.name} has ${profile[k]}`,
        'simplify the graph (fewer predicate branches or port ranges) or use a larger --target profile',
      );
    }
  }
  if (profile.stages < CLASSIFICATION_STAGES) {
    throw new NfpError(
      `profile ${profile.name} has ${profile.stages} stages; classification needs ${CLASSIFICATION_STAGES}`,
    );
  }

  const tenantOf = new Map(graph.tenants.map((t) => [t.id, t]));
  const problem: PlacementProblem = {
    items: nfs.map((nf) => {
      const t = tenantOf.get(nf.tenant) as Tenant;
      const inst = t.nfs.find((n) => `${t.name}.${n.name}` === nf.name);
      const hostOnly = CATALOGUE[nf.type].hostOnly(nf.config);
      const nicOnly = CATALOGUE[nf.type].nicOnly?.(nf.config);
      const fixedTo = hostOnly ? 'host' : nicOnly ? 'nic' : inst?.pin;
      return {
        hostCycles: nf.hostCycles,
        ...(fixedTo ? { fixed: fixedTo } : {}),
        cost: hostOnly ? ZERO_COST : CATALOGUE[nf.type].nicCost(nf.config, profile, pathsThrough[nf.id]),
      };
    }),
    paths: routes.map(({ t, r }) => ({ weight: t.trafficShare * r.share, hops: hopIds(t, r) })),
    capacity,
    stageBudget: profile.stages - CLASSIFICATION_STAGES,
    crossingCycles: profile.crossingCycles,
  };

  return { profile, nfs, routes, idOf, hopIds, tenantRules, pathRules, fixed, problem, tenantOf };
}

export async function partition(graph: ServiceGraph, opts: PartitionOptions = {}): Promise<Plan> {
  const { profile, nfs, routes, idOf, hopIds, tenantRules, pathRules, fixed, problem, tenantOf } = prepare(
    graph,
    opts.profile,
  );
  const started = performance.now();
  const free = problem.items.filter((it) => !it.fixed).length;
  const solver = opts.solver ?? 'auto';
  const useMilp = solver === 'milp' || (solver === 'auto' && free <= AUTO_MILP_MAX_FREE);
  const result: SolveResult = useMilp ? await solveMilp(problem) : solveHeuristic(problem);
  const seconds = (performance.now() - started) / 1000;
  const nic = result.nic;

  const use = nicUse(problem, nic);
  // The paths through each NF: only they change when it moves.
  const pathsOf: PlacementProblem['paths'][] = nfs.map(() => []);
  for (const path of problem.paths) for (const i of new Set(path.hops)) pathsOf[i].push(path);
  nfs.forEach((nf, i) => {
    nf.placement = nic[i] ? 'nic' : 'host';
    nf.reason = reasonFor({ ...problem, paths: pathsOf[i] }, nic, i, nf, tenantOf, use);
  });

  const paths: PlanPath[] = routes.map(({ t, r, id }) => {
    const ids = hopIds(t, r);
    let seenHost = false;
    const hops = ids.map((nf) => {
      if (!nic[nf]) seenHost = true;
      return {
        nf,
        spot: !nic[nf] ? ('host' as const) : seenHost ? ('nic-post' as const) : ('nic-pre' as const),
      };
    });
    const hostHops = hops.filter((h) => h.spot === 'host').length;
    const path: PlanPath = {
      id,
      tenant: t.id,
      name: routeName(t, r),
      hops,
      terminal:
        r.terminal.kind === 'exit'
          ? { kind: 'exit', port: t.egressPort }
          : { kind: 'drop', reason: r.terminal.reason },
      share: r.share,
      needsHost: hostHops > 0,
      hostHops,
    };
    if (r.branchOf) {
      path.branchOf = {
        path: idOf.get(r.branchOf.route) as number,
        hop: r.branchOf.hop,
        verdict: r.branchOf.verdict,
      };
    }
    return path;
  });
  const fragmentationPoints: FragmentationPoint[] = [];
  for (const { r, id, t } of routes) {
    const byHop = new Map<number, Record<string, number>>();
    for (const b of r.branches)
      byHop.set(b.hop, { ...(byHop.get(b.hop) ?? {}), [b.verdict]: idOf.get(b.route) as number });
    for (const [hop, branches] of byHop) {
      paths[id - 1].hops[hop].branches = branches;
      fragmentationPoints.push({ tenant: t.id, nf: paths[id - 1].hops[hop].nf, path: id, branches });
    }
  }

  const weightOf = (p: PlanPath): number => problem.paths[p.id - 1].weight;
  const queues = assignQueues(paths, profile.hostQueues, weightOf);

  const resources: ResourceUse = {
    stages: line(CLASSIFICATION_STAGES + maxPathStages(problem, nic), profile.stages),
    exactEntries: line(fixed.exactEntries + use.exactEntries, profile.exactEntries),
    ternaryEntries: line(fixed.ternaryEntries + use.ternaryEntries, profile.ternaryEntries),
    lpmEntries: line(fixed.lpmEntries + use.lpmEntries, profile.lpmEntries),
    rangeEntries: line(fixed.rangeEntries + use.rangeEntries, profile.rangeEntries),
    meters: line(fixed.meters + use.meters, profile.meters),
    counters: line(fixed.counters + use.counters, profile.counters),
    hostQueues: line(queues.length, profile.hostQueues),
  };
  const ev = evaluatePlacement(problem, nic);
  const custom = graph.tenants.some((t) => t.nfs.some((n) => n.type === 'custom'));
  return {
    version: PLAN_VERSION,
    graphFile: graph.file,
    // Where the custom NFs' sources are (their manifests name them relative to the graph file).
    ...(custom ? { sourceDir: resolve(dirname(graph.file)) } : {}),
    profile,
    tenants: graph.tenants.map((t) => ({
      id: t.id,
      name: t.name,
      weight: t.weight,
      ...(t.rateLimit ? { rateLimit: t.rateLimit } : {}),
      egressPort: t.egressPort,
      trafficShare: t.trafficShare,
      isolation: t.isolation,
      ...(t.packetAccess ? { packetAccess: t.packetAccess } : {}),
    })),
    nfs,
    paths,
    tenantRules,
    pathRules,
    queues,
    fragmentationPoints,
    resources,
    objective: {
      value: ev.value,
      hostCycles: ev.hostCycles,
      crossingCycles: ev.crossingCycles,
      solver: useMilp ? 'milp' : 'heuristic',
      optimal: result.optimal,
      seconds,
    },
  };
}

function fmt(x: number): string {
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
}

/** One line saying why an NF runs where it does; `p` holds only the paths through NF `i`. */
function reasonFor(
  p: PlacementProblem,
  nic: boolean[],
  i: number,
  nf: PlanNf,
  tenants: Map<number, Tenant>,
  use: Record<(typeof COST_KEYS)[number], number>,
): string {
  const entry = CATALOGUE[nf.type];
  const hostOnly = entry.hostOnly(nf.config);
  if (hostOnly) return hostOnly;
  const nicOnly = entry.nicOnly?.(nf.config);
  if (nicOnly) return `NIC only: ${nicOnly}`;
  const t = tenants.get(nf.tenant) as Tenant;
  const pinned = t.nfs.find((n) => `${t.name}.${n.name}` === nf.name)?.pin;
  if (pinned) return `pinned to the ${pinned} by the graph (pin: ${pinned})`;
  const here = evaluatePlacement(p, nic).value;
  // Flip in place (and back) rather than copying the placement for every NF.
  nic[i] = !nic[i];
  const there = evaluatePlacement(p, nic).value;
  const stagesIfMoved = maxPathStages(p, nic);
  nic[i] = !nic[i];
  if (nic[i]) {
    return `offloaded (${entry.nicPart}): saves ${fmt(there - here)} expected host cycles/packet`;
  }
  for (const k of COST_KEYS) if (use[k] + p.items[i].cost[k] > p.capacity[k]) return RESOURCE_WORDS[k];
  if (stagesIfMoved > p.stageBudget) return 'NIC pipeline stages exhausted on one of its paths';
  if (p.paths.every((path) => path.weight === 0)) return 'no expected traffic: kept on host';
  if (there >= here) {
    return `kept on host: offloading would add PCIe crossings (${fmt(there - here)} cycles/packet worse)`;
  }
  return 'kept on host: its NIC resources go to NFs that save more';
}
