/**
 * The cluster model: the nodes a cluster description (`cluster.yaml`, format v1) declares, and the
 * cluster plan that cluster planning produces (`cluster.json`, schemas/cluster-plan.schema.json):
 * which node serves which tenants, each node's load, and the steering rules the fabric in front of
 * the nodes needs. Loading lives in cluster-load.ts, assignment in packing.ts, the steering rules
 * in steering.ts, the pipeline in cluster-plan.ts.
 */
import type { SourceLocation } from './graph';
import type { NicProfile, ResourceLine, ResourceUse } from './plan';

export const CLUSTER_VERSION = 1;

/** How tenants are spread: `spread` keeps the busiest resource of every node low, `pack` fills nodes in turn. */
export type PackingStrategy = 'spread' | 'pack';

export interface ClusterNode {
  /** The Kubernetes node name (a DNS-1123 subdomain), unique in the cluster. */
  name: string;
  /** The node's NIC, as a profile: its tables, stages and wire ports bound what it can serve. */
  profile: NicProfile;
  /** Host cores given to nfp's workers. */
  hostCores: number;
  /** Cycles per second of one core. */
  coreHz: number;
  /** Sum of tenant weights the node's scheduler may share its cores among; absent: no limit. */
  weightBudget?: number;
  /** Fabric (ToR) port cabled to each NIC wire port of the node. */
  fabricPorts: Record<number, number>;
  loc: SourceLocation;
}

/** A tenant that must run on one node (by name, as in the service graph). */
export interface TenantPin {
  tenant: string;
  node: string;
  loc: SourceLocation;
}

export interface ClusterDescription {
  version: typeof CLUSTER_VERSION;
  file: string;
  /** Packets per second offered to all tenants together; each tenant gets its traffic share. */
  offeredLoadPps: number;
  strategy: PackingStrategy;
  nodes: ClusterNode[];
  pins: TenantPin[];
  /**
   * Fabric port where the cluster's traffic for NIC wire port p enters, and where what any node
   * sends out of its wire port p leaves (the fabric is port-preserving).
   */
  uplinks: Record<number, number>;
}

/** A demand or a capacity over the resources that assignment packs. */
export type NodeResource =
  | 'hostCycles'
  | 'weight'
  | 'exactEntries'
  | 'ternaryEntries'
  | 'lpmEntries'
  | 'rangeEntries'
  | 'meters'
  | 'counters';

export interface TenantAssignment {
  tenant: number;
  name: string;
  node: string;
  /** `pinned`, or the packing choice, e.g. "least loaded fitting node (busiest resource 41%)". */
  reason: string;
  /** `offload` (its NFs offloaded as on a NIC of its own) or `host` (NIC only for classification). */
  variant: 'offload' | 'host';
  /** Packets per second the tenant is expected to bring (offered load × traffic share). */
  packetsPerSecond: number;
  /** Expected host cycles per second, as estimated for the assignment. */
  hostCyclesPerSecond: number;
}

/** One rule of the fabric in front of the nodes; larger priority wins, first match. */
export interface SteeringRule {
  priority: number;
  /** `to-node`: cluster traffic into a node; `from-node`: a node's egress back to an uplink. */
  direction: 'to-node' | 'from-node';
  /** Fabric port the packet arrives on. */
  inPort: number;
  vlan?: number;
  /** Prefixes in text form, e.g. `10.1.0.0/16`. */
  dstPrefix?: string;
  srcPrefix?: string;
  /** Fabric port the packet leaves on. */
  outPort: number;
  node: string;
  /** The node's NIC wire port at the other end of the link. */
  wirePort: number;
  /** For `to-node` rules: the tenant whose slice this is. */
  tenant?: { id: number; name: string };
}

export interface NodeLoad {
  /** Expected host cycles per second against `hostCores × coreHz`, from the node's plan. */
  hostCycles: ResourceLine;
  /** Sum of tenant weights against the weight budget (`available` absent: no budget). */
  weight: { used: number; available?: number };
  /** The node plan's NIC resource use (absent when the node serves no tenant). */
  nic?: ResourceUse;
}

export interface NodeSlice {
  tenant: number;
  name: string;
  ingressPort?: number;
  vlan?: number;
  dstPrefix?: string;
  srcPrefix?: string;
}

export interface ClusterNodePlan {
  name: string;
  nic: string;
  hostCores: number;
  coreHz: number;
  /** Tenant ids the node serves, in graph order. */
  tenants: number[];
  /** The traffic slices the node serves: what the fabric steers to it. */
  slices: NodeSlice[];
  packetsPerSecond: number;
  load: NodeLoad;
  /** The node's plan, relative to the cluster plan's folder; absent when it serves no tenant. */
  plan?: string;
  fabricPorts: Record<string, number>;
}

export interface ClusterPlan {
  version: typeof CLUSTER_VERSION;
  graphFile: string;
  clusterFile: string;
  offeredLoadPps: number;
  strategy: PackingStrategy;
  nodes: ClusterNodePlan[];
  assignment: TenantAssignment[];
  steering: { uplinks: Record<string, number>; rules: SteeringRule[] };
  /** Seconds to plan the whole cluster (assignment, every node's partition, steering). */
  seconds: number;
}
