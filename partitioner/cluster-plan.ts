/**
 * Cluster planning, as a pipeline: assign whole tenants to nodes (packing.ts), partition each
 * node's tenants for its NIC profile, check each node's host load from its plan, and derive the
 * steering rules and the top-of-rack steering plan (steering.ts).
 */
import type { ServiceGraph, Tenant } from './graph';
import type { Plan } from './plan';
import { NfpError } from './errors';
import { formatPrefix } from './ip';
import { partition, type SolverChoice } from './partition';
import { packTenants } from './packing';
import { steeringRules, torGraph, torProfile } from './steering';
import {
  CLUSTER_VERSION,
  type ClusterDescription,
  type ClusterNodePlan,
  type ClusterPlan,
  type NodeSlice,
} from './cluster';

export interface ClusterPlanOptions {
  solver?: SolverChoice;
  /** Called after each node is partitioned (progress for long runs). */
  onNode?: (done: number, total: number, node: string) => void;
}

export interface ClusterPlanning {
  cluster: ClusterPlan;
  /** Each serving node's plan, by node name. */
  plans: Map<string, Plan>;
  /** The top-of-rack steering switch's plan (no host half). */
  tor: Plan;
}

/** Where a node's plan goes, relative to the cluster plan's folder. */
export function nodePlanPath(node: string): string {
  return `nodes/${node}/plan.json`;
}

export async function planCluster(
  graph: ServiceGraph,
  cluster: ClusterDescription,
  opts: ClusterPlanOptions = {},
): Promise<ClusterPlanning> {
  const started = performance.now();
  const packing = packTenants({
    graph,
    nodes: cluster.nodes,
    pins: cluster.pins,
    offeredLoadPps: cluster.offeredLoadPps,
    strategy: cluster.strategy,
    clusterFile: cluster.file,
  });

  const plans = new Map<string, Plan>();
  const nodes: ClusterNodePlan[] = [];
  for (const [i, n] of cluster.nodes.entries()) {
    const mine = graph.tenants.filter((t) => packing.nodeOf.get(t.id) === i);
    const pps = mine.reduce((s, t) => s + cluster.offeredLoadPps * t.trafficShare, 0);
    const capacity = n.hostCores * n.coreHz;
    const weight = mine.reduce((s, t) => s + t.weight, 0);
    const entry: ClusterNodePlan = {
      name: n.name,
      nic: n.profile.name,
      hostCores: n.hostCores,
      coreHz: n.coreHz,
      tenants: mine.map((t) => t.id),
      slices: mine.map(sliceOf),
      packetsPerSecond: pps,
      load: {
        hostCycles: { used: 0, available: capacity },
        weight: { used: weight, ...(n.weightBudget !== undefined ? { available: n.weightBudget } : {}) },
      },
      fabricPorts: Object.fromEntries(Object.entries(n.fabricPorts).map(([w, p]) => [String(w), p])),
    };
    if (mine.length > 0) {
      const plan = await partition(nodeGraph(graph, mine), { profile: n.profile, solver: opts.solver });
      const used = pps * plan.objective.value;
      if (used > capacity * (1 + 1e-9)) {
        throw new NfpError(
          `node "${n.name}" (${cluster.file}:${n.loc.line}): host cycles: its plan needs ${used.toExponential(3)} cycles/s ` +
            `for ${mine.length} tenants but ${n.hostCores} cores at ${n.coreHz.toExponential(2)} Hz give ${capacity.toExponential(3)}`,
          'give the node more hostCores, or try --solver milp (the assignment assumed each tenant placed as on a NIC of its own)',
        );
      }
      entry.load.hostCycles.used = used;
      entry.load.nic = plan.resources;
      entry.plan = nodePlanPath(n.name);
      plans.set(n.name, plan);
    }
    nodes.push(entry);
    opts.onNode?.(i + 1, cluster.nodes.length, n.name);
  }

  const tor = await partition(torGraph(cluster, graph.tenants, packing.nodeOf, cluster.file), {
    profile: torProfile(cluster),
    solver: 'heuristic',
  });
  return {
    cluster: {
      version: CLUSTER_VERSION,
      graphFile: graph.file,
      clusterFile: cluster.file,
      offeredLoadPps: cluster.offeredLoadPps,
      strategy: cluster.strategy,
      nodes,
      assignment: packing.assignment,
      steering: {
        uplinks: Object.fromEntries(Object.entries(cluster.uplinks).map(([w, p]) => [String(w), p])),
        rules: steeringRules(cluster, graph.tenants, packing.nodeOf),
      },
      seconds: (performance.now() - started) / 1000,
    },
    plans,
    tor,
  };
}

/** The node's share of the graph: its tenants, traffic shares renormalised to the node. */
function nodeGraph(graph: ServiceGraph, tenants: Tenant[]): ServiceGraph {
  const total = tenants.reduce((s, t) => s + t.trafficShare, 0);
  return {
    version: 1,
    file: graph.file,
    tenants: tenants.map((t) => ({
      ...t,
      trafficShare: total > 0 ? t.trafficShare / total : 1 / tenants.length,
    })),
  };
}

function sliceOf(t: Tenant): NodeSlice {
  const s: NodeSlice = { tenant: t.id, name: t.name };
  if (t.slice.ingressPort !== undefined) s.ingressPort = t.slice.ingressPort;
  if (t.slice.vlan !== undefined) s.vlan = t.slice.vlan;
  if (t.slice.dstPrefix) s.dstPrefix = formatPrefix(t.slice.dstPrefix);
  if (t.slice.srcPrefix) s.srcPrefix = formatPrefix(t.slice.srcPrefix);
  return s;
}
