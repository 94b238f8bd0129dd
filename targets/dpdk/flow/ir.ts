/**
 * The rte_flow rule-set IR: what the NIC half becomes on a DPDK NIC. Every emitter (testpmd
 * lines, the JSON the native installer reads) is a plain translation of it, and the evaluator
 * (evaluate.ts) executes it with rte_flow's semantics.
 *
 * Values in network byte order are bigints of the field's width; a MARK is 24 bits or fewer.
 */
import type { NicFamily } from '../caps';

export interface Masked {
  value: bigint;
  mask: bigint;
}

export type FlowItem =
  /** `hasVlan` set: the frame must (true) or must not (false) carry a VLAN tag. */
  | { type: 'eth'; etherType?: number; hasVlan?: boolean }
  | { type: 'vlan'; vid: Masked }
  /** `versionIhl`: the header's first byte; `fragmentOffset`: flags and offset (MF is 0x2000). */
  | {
      type: 'ipv4';
      src?: Masked;
      dst?: Masked;
      proto?: Masked;
      dscp?: Masked;
      versionIhl?: Masked;
      fragmentOffset?: Masked;
    }
  | { type: 'ipv6'; src?: Masked; dst?: Masked; proto?: Masked; dscp?: Masked }
  | { type: 'tcp' | 'udp'; srcPort?: Masked; dstPort?: Masked }
  | { type: 'icmp' };

export type FlowAction =
  | { type: 'jump'; group: number }
  | { type: 'queue'; index: number }
  | { type: 'mark'; id: number }
  | { type: 'drop' }
  /** One flow counter; what it counts for is `FlowRuleSet.counters[id]`. */
  | { type: 'count'; id: number }
  /** A meter (`FlowRuleSet.meters[id]`): red drops the packet (meter-red), green goes on. */
  | { type: 'meter'; id: number }
  | { type: 'set_ipv4_dscp' | 'set_ipv6_dscp'; dscp: number }
  | { type: 'of_pop_vlan' }
  | { type: 'of_push_vlan'; ethertype: number }
  | { type: 'of_set_vlan_vid'; vid: number }
  | { type: 'set_mac_src' | 'set_mac_dst'; mac: string };

/** Who a rule is for, to name it in errors and reports. */
export interface FlowOrigin {
  tenant?: number;
  path?: number;
  nf?: string;
  what: string;
}

export interface FlowRule {
  /** The wire port (P4 port number) whose DPDK port the rule is created on. */
  port: number;
  group: number;
  /** rte_flow order: a smaller number is looked at first. */
  priority: number;
  pattern: FlowItem[];
  actions: FlowAction[];
  origin: FlowOrigin;
}

/** A flow counter adds to these NIC pipeline counter cells (`name` as in the P4Info). */
export interface FlowCounter {
  id: number;
  cells: Array<{ counter: string; index: number }>;
}

/** An srTCM meter (RFC 2697) with no excess burst: a single token bucket, green or red. */
export interface FlowMeter {
  id: number;
  /** Committed rate, bytes per second; committed burst, bytes. */
  cir: number;
  cbs: number;
  /** The NIC pipeline meter cell it stands for. */
  cell: { meter: string; index: number };
  /** The drop reason code a red packet is counted under. */
  redReason: number;
}

/** MARK values the software stage decodes (targets/softnic/engine/inline.h). */
export const MARK_WIRE = 0x800000;
export const MARK_SOFTWARE = 0xffffff;

export interface FlowRuleSet {
  nic: NicFamily;
  /** Wire ports, in the order of the host runtime's DPDK ports. */
  ports: number[];
  rules: FlowRule[];
  counters: FlowCounter[];
  meters: FlowMeter[];
  /** Ask the ports for flow isolation (every packet is matched by some rule). */
  isolate: boolean;
  /** For the software stage: what each host path's MARK stands for. */
  hostPaths: Array<{ spi: number; tenant: number; si: number; queue: number }>;
  /** The drop reason counter (P4Info name) and codes, for NIC drops counted by flow counters. */
  dropCounter: string;
}
