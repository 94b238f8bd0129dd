/**
 * Steering: what the fabric in front of the nodes (a top-of-rack switch) must do so that each
 * tenant's slice reaches the node that serves it, and what the nodes send comes back out.
 *
 * The fabric is port-preserving: traffic for NIC wire port p enters on uplink p and is steered to
 * wire port p of the tenant's node; what a node sends out of its wire port p leaves on uplink p.
 * A slice without an ingress port is steered from every uplink the node's NIC has a port for.
 *
 * The same rules also become a service graph for a switch profile (`torGraph`), one pseudo-tenant
 * per rule with no NFs, so the ordinary partitioner and P4 back end emit a steering program for a
 * P4 top-of-rack switch (BMv2 JSON, P4Info, entries) that the softnic or simple_switch can run.
 */
import type { Edge, ServiceGraph, Tenant, TrafficSlice } from './graph';
import { ENTRY, EXIT } from './graph';
import type { NicProfile } from './plan';
import { formatPrefix } from './ip';
import type { ClusterDescription, ClusterNode, SteeringRule } from './cluster';

interface RuleWithSlice {
  rule: SteeringRule;
  slice: TrafficSlice;
}

function rulesWithSlices(
  cluster: ClusterDescription,
  tenants: Tenant[],
  nodeOf: Map<number, number>,
): RuleWithSlice[] {
  const out: RuleWithSlice[] = [];
  // A node's egress back to the uplinks: matched on the port alone, never overlapping the
  // tenant rules, which match on uplinks only.
  for (const n of cluster.nodes) {
    for (const [wire, port] of portsOf(n)) {
      out.push({
        rule: {
          priority: 0,
          direction: 'from-node',
          inPort: port,
          outPort: cluster.uplinks[wire],
          node: n.name,
          wirePort: wire,
        },
        slice: { ingressPort: port },
      });
    }
  }
  for (const t of tenants) {
    const n = cluster.nodes[nodeOf.get(t.id) as number];
    const wires = t.slice.ingressPort !== undefined ? [t.slice.ingressPort] : n.profile.wirePorts;
    for (const wire of wires) {
      const rule: SteeringRule = {
        priority: 0,
        direction: 'to-node',
        inPort: cluster.uplinks[wire],
        outPort: n.fabricPorts[wire],
        node: n.name,
        wirePort: wire,
        tenant: { id: t.id, name: t.name },
      };
      if (t.slice.vlan !== undefined) rule.vlan = t.slice.vlan;
      if (t.slice.dstPrefix) rule.dstPrefix = formatPrefix(t.slice.dstPrefix);
      if (t.slice.srcPrefix) rule.srcPrefix = formatPrefix(t.slice.srcPrefix);
      out.push({ rule, slice: { ...t.slice, ingressPort: cluster.uplinks[wire] } });
    }
  }
  out.forEach((r, i) => (r.rule.priority = out.length - i));
  return out;
}

function portsOf(n: ClusterNode): Array<[number, number]> {
  return Object.entries(n.fabricPorts)
    .map(([w, p]): [number, number] => [Number(w), p])
    .sort((a, b) => a[0] - b[0]);
}

/** The fabric's rules, highest priority first: node egress, then every tenant slice. */
export function steeringRules(
  cluster: ClusterDescription,
  tenants: Tenant[],
  nodeOf: Map<number, number>,
): SteeringRule[] {
  return rulesWithSlices(cluster, tenants, nodeOf).map((r) => r.rule);
}

/** The switch profile of the fabric: every cabled fabric port is a wire port; no host. */
export function torProfile(cluster: ClusterDescription): NicProfile {
  const ports = new Set<number>(Object.values(cluster.uplinks));
  for (const n of cluster.nodes) for (const p of Object.values(n.fabricPorts)) ports.add(p);
  return {
    name: 'tor',
    description: 'the top-of-rack steering switch in front of the cluster (v1model, no host)',
    stages: 16,
    exactEntries: 1 << 20,
    ternaryEntries: 1 << 20,
    lpmEntries: 0,
    rangeEntries: 0,
    meters: 0,
    counters: 1 << 20,
    hostQueues: 0,
    matchKinds: ['exact', 'ternary'],
    crossingCycles: 0,
    wirePorts: [...ports].sort((a, b) => a - b),
    hostPorts: [],
  };
}

/**
 * The steering rules as a service graph for `torProfile`: one tenant per rule, in priority order,
 * whose slice is the rule's match and whose traffic goes straight to the rule's out port.
 */
export function torGraph(
  cluster: ClusterDescription,
  tenants: Tenant[],
  nodeOf: Map<number, number>,
  file: string,
): ServiceGraph {
  const loc = { file, line: 1, col: 1 };
  const rules = rulesWithSlices(cluster, tenants, nodeOf);
  const graphTenants: Tenant[] = rules.map(({ rule, slice }, i) => {
    const edge: Edge = { from: ENTRY, to: EXIT, share: 1, index: 0, loc };
    const name =
      rule.direction === 'to-node'
        ? `${rule.tenant?.name}-to-${rule.node}-p${rule.wirePort}`
        : `${rule.node}-p${rule.wirePort}-out`;
    return {
      name,
      id: i + 1,
      slice,
      weight: 1,
      egressPort: rule.outPort,
      trafficShare: 1 / rules.length,
      isolation: 'none',
      nfs: [],
      edges: [edge],
      loc,
    };
  });
  return { version: 1, file, tenants: graphTenants };
}
