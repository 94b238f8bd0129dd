/**
 * Tenant-to-node assignment: bin packing of whole tenants onto nodes over host cycles, tenant
 * weight and the NIC resources of each node's profile.
 *
 * A tenant's demand on a NIC profile is estimated by placing it alone on that NIC (the greedy
 * placement): the NIC entries that takes plus its classification rules, and the host cycles per
 * packet that remain, times its packets per second. Each tenant has two variants: `offload` (that
 * placement) and `host` (every free NF on the host, so the NIC only classifies); the second is
 * tried only where the first fits nowhere. NIC capacities add up across tenants and stages are
 * per path, so tenants whose variants fit together also fit in the node's joint placement.
 */
import type { ServiceGraph, Tenant } from './graph';
import type { NicProfile } from './plan';
import { GraphError, NfpError } from './errors';
import { prepare } from './partition';
import { solveHeuristic } from './heuristic';
import { COST_KEYS, allHost, evaluatePlacement, nicUse } from './placement';
import type { ClusterNode, NodeResource, PackingStrategy, TenantAssignment, TenantPin } from './cluster';

export const RESOURCES: readonly NodeResource[] = ['hostCycles', 'weight', ...COST_KEYS];

export type Amounts = Record<NodeResource, number>;

export interface TenantVariant {
  variant: 'offload' | 'host';
  hostCyclesPerPacket: number;
  demand: Amounts;
}

/** A tenant's variants on one profile, or why it cannot run there at all. */
export type ProfileFit = { variants: TenantVariant[] } | { unfit: string };

export interface PackingInput {
  graph: ServiceGraph;
  nodes: ClusterNode[];
  pins: TenantPin[];
  offeredLoadPps: number;
  strategy: PackingStrategy;
  /** The cluster file, for locating pin errors. */
  clusterFile: string;
}

export interface Packing {
  /** Node index of each tenant id. */
  nodeOf: Map<number, number>;
  assignment: TenantAssignment[];
}

const EPS = 1e-9;

function zero(): Amounts {
  return {
    hostCycles: 0,
    weight: 0,
    exactEntries: 0,
    ternaryEntries: 0,
    lpmEntries: 0,
    rangeEntries: 0,
    meters: 0,
    counters: 0,
  };
}

/** Nothing used yet (read only). */
const NONE: Readonly<Amounts> = Object.freeze(zero());

export function capacityOf(n: ClusterNode): Amounts {
  const c = { ...zero(), hostCycles: n.hostCores * n.coreHz, weight: n.weightBudget ?? Infinity };
  for (const k of COST_KEYS) c[k] = n.profile[k];
  return c;
}

const LABEL: Record<NodeResource, string> = {
  hostCycles: 'host cycles/s',
  weight: 'tenant weight',
  exactEntries: 'NIC exactEntries',
  ternaryEntries: 'NIC ternaryEntries',
  lpmEntries: 'NIC lpmEntries',
  rangeEntries: 'NIC rangeEntries',
  meters: 'NIC meters',
  counters: 'NIC counters',
};

function amount(x: number): string {
  if (!Number.isFinite(x)) return 'unlimited';
  if (Math.abs(x) >= 1e6) return x.toExponential(2);
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

/** The tenant's variants on a profile, placing it alone on that NIC. */
export function profileFit(t: Tenant, file: string, profile: NicProfile, pps: number): ProfileFit {
  const solo: ServiceGraph = { version: 1, file, tenants: [{ ...t, trafficShare: 1 }] };
  let prepared: ReturnType<typeof prepare>;
  try {
    prepared = prepare(solo, profile);
  } catch (err) {
    if (err instanceof GraphError) return { unfit: err.diagnostics[0].message };
    if (err instanceof NfpError) return { unfit: err.message };
    throw err;
  }
  const { problem, fixed } = prepared;
  const variants: TenantVariant[] = [];
  const make = (variant: TenantVariant['variant'], nic: boolean[]): TenantVariant => {
    const use = nicUse(problem, nic);
    const demand = { ...zero(), weight: t.weight };
    for (const k of COST_KEYS) demand[k] = fixed[k] + use[k];
    const hostCyclesPerPacket = evaluatePlacement(problem, nic).value;
    demand.hostCycles = hostCyclesPerPacket * pps;
    return { variant, hostCyclesPerPacket, demand };
  };
  let offload: boolean[];
  try {
    offload = solveHeuristic(problem).nic;
  } catch (err) {
    if (err instanceof NfpError) return { unfit: `${t.name}: ${err.message}` };
    throw err;
  }
  variants.push(make('offload', offload));
  const host = allHost(problem);
  if (host.some((x, i) => x !== offload[i])) variants.push(make('host', host));
  return { variants };
}

/** Why `d` does not fit in what `left` of `cap` remains, or undefined when it fits. */
function misfit(d: Amounts, used: Amounts, cap: Amounts): string | undefined {
  for (const k of RESOURCES) {
    if (used[k] + d[k] > cap[k] * (1 + EPS) + EPS) {
      return `${LABEL[k]}: needs ${amount(d[k])}, ${amount(Math.max(0, cap[k] - used[k]))} of ${amount(cap[k])} left`;
    }
  }
  return undefined;
}

/** The busiest resource's utilisation once `d` is added (0..1). */
function utilisation(d: Amounts, used: Amounts, cap: Amounts): number {
  let u = 0;
  for (const k of RESOURCES) {
    if (!Number.isFinite(cap[k]) || cap[k] <= 0) continue;
    u = Math.max(u, (used[k] + d[k]) / cap[k]);
  }
  return u;
}

export function packTenants(input: PackingInput): Packing {
  const { graph, nodes, strategy } = input;
  const caps = nodes.map(capacityOf);
  const used = nodes.map(zero);
  const pps = (t: Tenant): number => input.offeredLoadPps * t.trafficShare;

  // One estimate per tenant and distinct profile.
  const fits = new Map<Tenant, Map<string, ProfileFit>>();
  const fitOn = (t: Tenant, n: ClusterNode): ProfileFit => {
    let byProfile = fits.get(t);
    if (!byProfile) fits.set(t, (byProfile = new Map()));
    let f = byProfile.get(n.profile.name);
    if (!f) byProfile.set(n.profile.name, (f = profileFit(t, graph.file, n.profile, pps(t))));
    return f;
  };

  const byName = new Map(graph.tenants.map((t) => [t.name, t]));
  const pinned = new Map<Tenant, { node: number; pin: TenantPin }>();
  const pinProblems: string[] = [];
  for (const pin of input.pins) {
    const t = byName.get(pin.tenant);
    const where = `${input.clusterFile}:${pin.loc.line}:${pin.loc.col}: pins.${pin.tenant}`;
    if (!t) {
      const names = graph.tenants.map((x) => x.name);
      const near = names.find((x) => x.toLowerCase() === pin.tenant.toLowerCase());
      pinProblems.push(
        `${where}: the graph ${graph.file} has no tenant "${pin.tenant}"${near ? `; did you mean "${near}"?` : ''}`,
      );
      continue;
    }
    pinned.set(t, { node: nodes.findIndex((n) => n.name === pin.node), pin });
  }
  if (pinProblems.length)
    throw new NfpError(pinProblems.join('\n'), 'pin tenants by their names in the graph');

  // Biggest first: a tenant's size is its busiest resource on the node it fits most easily.
  const size = (t: Tenant): number => {
    let best = Infinity;
    nodes.forEach((n, i) => {
      const f = fitOn(t, n);
      if ('variants' in f) best = Math.min(best, utilisation(f.variants[0].demand, NONE, caps[i]));
    });
    return best;
  };
  const sizes = new Map(graph.tenants.map((t) => [t, size(t)]));
  const order = [
    ...graph.tenants.filter((t) => pinned.has(t)),
    ...graph.tenants
      .filter((t) => !pinned.has(t))
      .sort((a, b) => (sizes.get(b) as number) - (sizes.get(a) as number) || a.id - b.id),
  ];

  const nodeOf = new Map<number, number>();
  const assignment = new Map<number, TenantAssignment>();
  for (const t of order) {
    const pin = pinned.get(t);
    const candidates = pin ? [pin.node] : nodes.map((_, i) => i);
    let chosen: { node: number; variant: TenantVariant; score: number } | undefined;
    const why = new Map<number, string>();
    for (const variantIndex of [0, 1]) {
      for (const i of candidates) {
        const f = fitOn(t, nodes[i]);
        if ('unfit' in f) {
          why.set(i, f.unfit);
          continue;
        }
        const v = f.variants[variantIndex];
        if (!v) continue;
        const miss = misfit(v.demand, used[i], caps[i]);
        if (miss) {
          if (!why.has(i) || variantIndex === 0) why.set(i, miss);
          continue;
        }
        const score = utilisation(v.demand, used[i], caps[i]);
        const better =
          !chosen || (strategy === 'spread' ? score < chosen.score - EPS : score > chosen.score + EPS);
        if (better) chosen = { node: i, variant: v, score };
      }
      if (chosen) break;
    }
    if (!chosen) throw unplaceable(t, nodes, candidates, why, pin?.pin, input.clusterFile);
    const d = chosen.variant.demand;
    for (const k of RESOURCES) used[chosen.node][k] += d[k];
    nodeOf.set(t.id, chosen.node);
    const pct = `${Math.round(chosen.score * 100)}%`;
    assignment.set(t.id, {
      tenant: t.id,
      name: t.name,
      node: nodes[chosen.node].name,
      reason: pin
        ? `pinned by ${input.clusterFile}:${pin.pin.loc.line}`
        : `${strategy === 'spread' ? 'least' : 'most'} loaded node it fits (busiest resource then ${pct})`,
      variant: chosen.variant.variant,
      packetsPerSecond: pps(t),
      hostCyclesPerSecond: d.hostCycles,
    });
  }
  return { nodeOf, assignment: graph.tenants.map((t) => assignment.get(t.id) as TenantAssignment) };
}

function unplaceable(
  t: Tenant,
  nodes: ClusterNode[],
  candidates: number[],
  why: Map<number, string>,
  pin: TenantPin | undefined,
  clusterFile: string,
): NfpError {
  const where = `${t.loc.file}:${t.loc.line}:${t.loc.col}: tenant "${t.name}"`;
  const lines = candidates
    .slice(0, 12)
    .map((i) => `  ${nodes[i].name} (${nodes[i].profile.name}): ${why.get(i)}`);
  if (candidates.length > 12) lines.push(`  … and ${candidates.length - 12} more nodes`);
  const head = pin
    ? `${where}: does not fit on node "${pin.node}", where ${clusterFile}:${pin.loc.line} pins it:`
    : `${where}: fits on no node of the cluster:`;
  return new NfpError(
    `${head}\n${lines.join('\n')}`,
    pin
      ? `move the pin, or give node "${pin.node}" more of what is missing`
      : 'add a node, give nodes more host cores or a larger NIC profile, or raise the weight budgets',
  );
}
