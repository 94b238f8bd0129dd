/**
 * Typed configuration of every built-in NF type.
 *
 * These shapes are the one contract shared by the graph format (YAML `config:`), the plan
 * (`plan.nfs[].config`), the P4 emitters (offloaded NFs) and the host runtime (config JSON handed
 * to the C NF's `init`). Addresses are strings in their usual text form; ports and numbers are
 * host-order integers.
 */

export type NfType =
  | 'firewall'
  | 'nat'
  | 'loadbalancer'
  | 'ids'
  | 'ratelimiter'
  | 'monitor'
  | 'vlan'
  | 'encap'
  | 'marker'
  | 'router'
  | 'macswap'
  | 'custom';

/** An inclusive port range; a single port is `{ lo: p, hi: p }`. */
export interface PortRange {
  lo: number;
  hi: number;
}

/** An IPv4 or IPv6 prefix, e.g. `10.0.0.0/8`; the address is already masked to `len` bits. */
export interface Prefix {
  family: 4 | 6;
  addr: string;
  len: number;
}

/** IP protocol number (6 = TCP, 17 = UDP, 1 = ICMP). YAML accepts the names too. */
export type IpProto = number;

/**
 * Header fields that a predicate, an ACL rule or a classification rule may constrain.
 * Every field is optional; an absent field matches anything. Fields are matched against the
 * packet as it arrived from the wire (before any NF rewrote it).
 */
export interface HeaderMatch {
  proto?: IpProto;
  srcPrefix?: Prefix;
  dstPrefix?: Prefix;
  srcPort?: PortRange;
  dstPort?: PortRange;
  dscp?: number;
  vlan?: number;
}

export interface FirewallRule {
  action: 'allow' | 'deny';
  match: HeaderMatch;
}

/** Stateless (first-match ACL, offloadable) or stateful (ACL + connection tracking, host only). */
export interface FirewallConfig {
  rules: FirewallRule[];
  /** Action when no rule matches. */
  default: 'allow' | 'deny';
  stateful: boolean;
}

/** Source NAT: rewrites the source address/port of outbound flows to `publicIp` and a pool port. */
export interface NatConfig {
  publicIp: string;
  portRange: PortRange;
  /** Maximum concurrent mappings (flow-state table size). */
  maxFlows: number;
}

/** Maglev consistent hashing over backends, with per-flow affinity. Rewrites the destination. */
export interface LoadBalancerConfig {
  vip: string;
  backends: string[];
  /** Maglev lookup table size; a prime. */
  tableSize: number;
  maxFlows: number;
}

/** Multi-pattern payload matching. A match yields the dynamic verdict `alert`, else `pass`. */
export interface IdsConfig {
  patterns: string[];
  /** Bytes of payload inspected per packet. */
  inspectBytes: number;
}

/** Token bucket. `perFlow: false` is an aggregate meter (offloadable); `true` runs on the host. */
export interface RateLimiterConfig {
  rateBps: number;
  burstBytes: number;
  perFlow: boolean;
}

/** Counters per path (offloadable) or per flow (`perFlow: true`, host only). */
export interface MonitorConfig {
  perFlow: boolean;
}

/** Push or pop an 802.1Q tag. */
export interface VlanConfig {
  op: 'push' | 'pop';
  vid: number;
}

/** Stateless encapsulation; v1 supports a rewrite of the outer Ethernet addresses. */
export interface EncapConfig {
  srcMac: string;
  dstMac: string;
}

/** Sets the DSCP field (IPv4 checksum fixed up). */
export interface MarkerConfig {
  dscp: number;
}

export interface Route {
  prefix: Prefix;
  port: number;
}

/** Longest-prefix-match routing of the destination address to an egress port. */
export interface RouterConfig {
  routes: Route[];
  /** Port for packets that match no route; absent means drop with reason `no-route`. */
  defaultPort?: number;
}

/** Swaps source and destination MAC; the cheapest possible NF, for benchmarks. */
export type MacswapConfig = Record<string, never>;

/** A user NF, described by its manifest. */
export interface CustomConfig {
  manifest: CustomManifest;
  /** Free-form config handed to the NF as JSON. */
  params: Record<string, unknown>;
}

export type PacketRegion = 'l2' | 'l3' | 'l4' | 'payload';

export interface CustomManifest {
  name: string;
  version: string;
  /** Path of the NF's C source or built artifact, relative to the graph file. */
  source: string;
  reads: PacketRegion[];
  writes: PacketRegion[];
  stateful: boolean;
  cyclesPerPacket: number;
  /** Dynamic verdicts the NF may return besides `pass` and `drop`. */
  verdicts: string[];
}

export interface NfConfigByType {
  firewall: FirewallConfig;
  nat: NatConfig;
  loadbalancer: LoadBalancerConfig;
  ids: IdsConfig;
  ratelimiter: RateLimiterConfig;
  monitor: MonitorConfig;
  vlan: VlanConfig;
  encap: EncapConfig;
  marker: MarkerConfig;
  router: RouterConfig;
  macswap: MacswapConfig;
  custom: CustomConfig;
}

export type NfConfig = NfConfigByType[NfType];
