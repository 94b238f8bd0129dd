/**
 * The NF catalogue: for each built-in NF type, what the NIC can run as match-action, its default
 * host cost, its state, and the packet regions it reads and writes. The partitioner asks it
 * whether an instance (with its config) may be offloaded and what NIC resources that takes.
 */
import type {
  CustomConfig,
  FirewallConfig,
  IdsConfig,
  MonitorConfig,
  NfConfig,
  NfType,
  PacketRegion,
  RateLimiterConfig,
  RouterConfig,
} from './nf-config';
import type { NicProfile } from './plan';
import { hasRange, ternaryExpansion } from './match';

/** NIC resources one offloaded NF instance takes. */
export interface NicCost {
  stages: number;
  exactEntries: number;
  ternaryEntries: number;
  lpmEntries: number;
  rangeEntries: number;
  meters: number;
  counters: number;
}

export const ZERO_COST: NicCost = {
  stages: 0,
  exactEntries: 0,
  ternaryEntries: 0,
  lpmEntries: 0,
  rangeEntries: 0,
  meters: 0,
  counters: 0,
};

export interface CatalogueEntry {
  type: NfType;
  summary: string;
  /** What the NIC can run, in words; 'nothing' for host-only types. */
  nicPart: string;
  state: (c: NfConfig) => string;
  reads: (c: NfConfig) => PacketRegion[];
  writes: (c: NfConfig) => PacketRegion[];
  /** Default host cost, cycles per packet; a profile may override it per type. */
  hostCycles: (c: NfConfig) => number;
  /** Dynamic verdicts besides pass/drop. */
  verdicts: (c: NfConfig) => string[];
  /** Why this instance must run on the host, or undefined when the NIC can run it. */
  hostOnly: (c: NfConfig) => string | undefined;
  /** Why this instance must run on the NIC (the host runtime has no implementation of it). */
  nicOnly?: (c: NfConfig) => string | undefined;
  /** NIC resources when offloaded; `pathsThrough` counts the service paths that traverse it. */
  nicCost: (c: NfConfig, profile: NicProfile, pathsThrough: number) => NicCost;
}

const regions =
  (...r: PacketRegion[]) =>
  (): PacketRegion[] =>
    r;
const none = (): string[] => [];
const oneExact = (): NicCost => ({ ...ZERO_COST, stages: 1, exactEntries: 1 });

export const CATALOGUE: Record<NfType, CatalogueEntry> = {
  firewall: {
    type: 'firewall',
    summary: 'first-match ACL over L3/L4 headers; optional connection tracking',
    nicPart: 'the stateless ACL, as one ternary (or range) table',
    state: (c) => ((c as FirewallConfig).stateful ? 'connection table' : 'none'),
    reads: regions('l3', 'l4'),
    writes: regions(),
    hostCycles: (c) =>
      40 + 6 * (c as FirewallConfig).rules.length + ((c as FirewallConfig).stateful ? 80 : 0),
    verdicts: none,
    hostOnly: (c) =>
      (c as FirewallConfig).stateful ? 'stateful: connection tracking needs host' : undefined,
    nicCost: (c, profile) => {
      const cost = { ...ZERO_COST, stages: 1 };
      const ranges = profile.matchKinds.includes('range');
      for (const rule of (c as FirewallConfig).rules) {
        if (hasRange(rule.match) && ranges) cost.rangeEntries += 1;
        else cost.ternaryEntries += ternaryExpansion(rule.match);
      }
      return cost;
    },
  },
  nat: {
    type: 'nat',
    summary: 'source NAT with a per-flow port mapping',
    nicPart: 'nothing',
    state: () => 'per-flow mapping table',
    reads: regions('l3', 'l4'),
    writes: regions('l3', 'l4'),
    hostCycles: () => 180,
    verdicts: none,
    hostOnly: () => 'stateful: per-flow port mappings need host',
    nicCost: () => ZERO_COST,
  },
  loadbalancer: {
    type: 'loadbalancer',
    summary: 'Maglev consistent hashing to backends with flow affinity',
    nicPart: 'nothing',
    state: () => 'Maglev table + per-flow affinity table',
    reads: regions('l3', 'l4'),
    writes: regions('l3'),
    hostCycles: () => 220,
    verdicts: none,
    hostOnly: () => 'stateful: per-flow backend affinity needs host',
    nicCost: () => ZERO_COST,
  },
  ids: {
    type: 'ids',
    summary: 'multi-pattern payload inspection; a match yields the verdict "alert"',
    nicPart: 'nothing',
    state: () => 'pattern automaton (read-only)',
    reads: regions('l3', 'l4', 'payload'),
    writes: regions(),
    hostCycles: (c) => 60 + 2 * (c as IdsConfig).inspectBytes,
    verdicts: () => ['alert'],
    hostOnly: () => 'payload inspection needs host',
    nicCost: () => ZERO_COST,
  },
  ratelimiter: {
    type: 'ratelimiter',
    summary: 'token bucket, aggregate or per flow',
    nicPart: 'the aggregate meter (one NIC meter)',
    state: (c) => ((c as RateLimiterConfig).perFlow ? 'per-flow token buckets' : 'one token bucket'),
    reads: regions('l3'),
    writes: regions(),
    hostCycles: (c) => ((c as RateLimiterConfig).perFlow ? 120 : 45),
    verdicts: none,
    hostOnly: (c) => ((c as RateLimiterConfig).perFlow ? 'stateful: per-flow buckets need host' : undefined),
    nicCost: () => ({ ...ZERO_COST, stages: 1, exactEntries: 1, meters: 1 }),
  },
  monitor: {
    type: 'monitor',
    summary: 'packet/byte counters per path or per flow',
    nicPart: 'per-path counters',
    state: (c) => ((c as MonitorConfig).perFlow ? 'per-flow counters' : 'per-path counters'),
    reads: regions('l3', 'l4'),
    writes: regions(),
    hostCycles: (c) => ((c as MonitorConfig).perFlow ? 90 : 30),
    verdicts: none,
    hostOnly: (c) => ((c as MonitorConfig).perFlow ? 'stateful: per-flow counters need host' : undefined),
    nicCost: (_c, _p, paths) => ({ ...ZERO_COST, stages: 1, counters: Math.max(1, paths) }),
  },
  vlan: {
    type: 'vlan',
    summary: 'push or pop an 802.1Q tag',
    nicPart: 'the push/pop action',
    state: () => 'none',
    reads: regions('l2'),
    writes: regions('l2'),
    hostCycles: () => 25,
    verdicts: none,
    hostOnly: () => undefined,
    nicCost: oneExact,
  },
  encap: {
    type: 'encap',
    summary: 'outer Ethernet address rewrite',
    nicPart: 'the rewrite action',
    state: () => 'none',
    reads: regions('l2'),
    writes: regions('l2'),
    hostCycles: () => 30,
    verdicts: none,
    hostOnly: () => undefined,
    nicCost: oneExact,
  },
  marker: {
    type: 'marker',
    summary: 'set the DSCP field',
    nicPart: 'the DSCP rewrite action',
    state: () => 'none',
    reads: regions('l3'),
    writes: regions('l3'),
    hostCycles: () => 20,
    verdicts: none,
    hostOnly: () => undefined,
    nicCost: oneExact,
  },
  router: {
    type: 'router',
    summary: 'longest-prefix match of the destination to an egress port',
    nicPart: 'the LPM table',
    state: () => 'route table (read-only)',
    reads: regions('l3'),
    writes: regions(),
    hostCycles: (c) => 50 + 2 * Math.ceil(Math.log2((c as RouterConfig).routes.length + 1)),
    verdicts: none,
    hostOnly: () => undefined,
    // Only the NIC chooses a packet's wire port; a host NF has no way to hand one back.
    nicOnly: () => 'only the NIC picks the wire port (the host runtime has no router)',
    nicCost: (c, profile) =>
      profile.matchKinds.includes('lpm')
        ? { ...ZERO_COST, stages: 1, lpmEntries: (c as RouterConfig).routes.length }
        : { ...ZERO_COST, stages: 1, ternaryEntries: (c as RouterConfig).routes.length },
  },
  macswap: {
    type: 'macswap',
    summary: 'swap source and destination MAC (benchmark NF)',
    nicPart: 'nothing',
    state: () => 'none',
    reads: regions('l2'),
    writes: regions('l2'),
    hostCycles: () => 12,
    verdicts: none,
    hostOnly: () => 'benchmark NF: host only by design',
    nicCost: () => ZERO_COST,
  },
  custom: {
    type: 'custom',
    summary: 'a user NF in C, described by its manifest',
    nicPart: 'nothing',
    state: (c) => ((c as CustomConfig).manifest.stateful ? 'user state' : 'none'),
    reads: (c) => (c as CustomConfig).manifest.reads,
    writes: (c) => (c as CustomConfig).manifest.writes,
    hostCycles: (c) => (c as CustomConfig).manifest.cyclesPerPacket,
    verdicts: (c) => (c as CustomConfig).manifest.verdicts,
    hostOnly: () => 'custom NF: user C code runs on the host',
    nicCost: () => ZERO_COST,
  },
};

export const NF_TYPES = Object.keys(CATALOGUE) as NfType[];

/** Host cycles for an instance under a profile (profile overrides win). */
export function hostCyclesFor(type: NfType, config: NfConfig, profile?: NicProfile): number {
  return profile?.hostCycles?.[type] ?? CATALOGUE[type].hostCycles(config);
}
