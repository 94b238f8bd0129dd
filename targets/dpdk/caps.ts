/**
 * Capability profiles per PMD family: what a NIC's driver takes through rte_flow, as DPDK 22.11's
 * guides say (doc/guides/nics/overview: the "rte_flow items/actions availability" tables, and
 * each driver's page: mlx5.rst, ice.rst, i40e.rst). The offload pass (offload.ts) checks every
 * rule it would create against the profile; what a profile does not allow runs in software.
 * Where a guide gives no number, the profile says where the number comes from.
 */
import { NfpError } from '../../partitioner/errors';
import { CUBE_FIELDS, type CubeField } from './flow/cube';
import { didYouMean } from '../../partitioner/reader';

export type FlowItemKind = 'eth' | 'vlan' | 'ipv4' | 'ipv6' | 'tcp' | 'udp' | 'icmp';

export type FlowActionKind =
  | 'queue'
  | 'mark'
  | 'drop'
  | 'count'
  | 'jump'
  | 'meter'
  | 'set_ipv4_dscp'
  | 'set_ipv6_dscp'
  | 'of_pop_vlan'
  | 'of_push_vlan'
  | 'of_set_vlan_vid'
  | 'set_mac_src'
  | 'set_mac_dst';

export const NIC_FAMILIES = ['mlx5', 'ice', 'i40e', 'software'] as const;
export type NicFamily = (typeof NIC_FAMILIES)[number];

export interface NicCaps {
  name: NicFamily;
  description: string;
  /** Where the facts come from. */
  source: string;
  /** The PMD implements rte_flow at all. */
  flowApi: boolean;
  items: FlowItemKind[];
  /** A rule may match on the EtherType alone (NSH on the wire is dropped that way). */
  etherTypeMatch: boolean;
  /** A rule may match every packet (an `eth` item with no field). */
  matchAll: boolean;
  /**
   * IPv4 `version_ihl` and `fragment_offset` under a mask: the NIC can send IPv4 fragments and
   * headers with options to software before any rule reads L4 ports from them.
   */
  ipv4HeaderChecks: boolean;
  /** ETH `has_vlan` (a pattern that tells tagged from untagged frames). */
  hasVlan: boolean;
  /** Header fields a rule may match on. */
  fields: CubeField[];
  /** Bit masks a field may have: any, or only all ones (exact). */
  masks: 'any' | 'exact';
  /** Every rule of one flow type (ipv4-tcp, ipv4-udp, ...) matches the same fields (flow director). */
  oneInputSetPerFlowType: boolean;
  /** Priority levels per group; 1: the NIC cannot order rules, so offloaded rules must not overlap. */
  priorities: number;
  actions: FlowActionKind[];
  /** Width of a MARK value. */
  markBits: number;
  maxRules: number;
  maxQueues: number;
  /** rte_flow_isolate: only traffic a rule matches reaches the port's queues. */
  isolate: boolean;
}

export const NIC_CAPS: Record<NicFamily, NicCaps> = {
  mlx5: {
    name: 'mlx5',
    description: 'NVIDIA ConnectX-5/6/7 and BlueField (mlx5 PMD, DV flow engine)',
    source:
      'DPDK 22.11 guides: nics/overview (rte_flow tables), nics/mlx5 (groups and JUMP, 21844 priorities in groups > 0, meter policy, 24-bit MARK with dv_xmeta_en=0, flow isolated mode, IPv4 IHL and fragment_offset matching)',
    flowApi: true,
    items: ['eth', 'vlan', 'ipv4', 'ipv6', 'tcp', 'udp', 'icmp'],
    etherTypeMatch: true,
    matchAll: true,
    ipv4HeaderChecks: true,
    hasVlan: true,
    fields: CUBE_FIELDS,
    masks: 'any',
    oneInputSetPerFlowType: false,
    priorities: 21844,
    actions: [
      'queue',
      'mark',
      'drop',
      'count',
      'jump',
      'meter',
      'set_ipv4_dscp',
      'set_ipv6_dscp',
      'of_pop_vlan',
      'of_push_vlan',
      'of_set_vlan_vid',
      'set_mac_src',
      'set_mac_dst',
    ],
    markBits: 24,
    // Rules live in host memory (Direct Rules); a million is well within what mlx5 inserts.
    maxRules: 1_000_000,
    maxQueues: 1024,
    isolate: true,
  },
  ice: {
    name: 'ice',
    description: 'Intel E810 (ice PMD, switch and flow director engines, non-pipeline mode)',
    source:
      'DPDK 22.11 guides: nics/overview (rte_flow tables: no JUMP, no METER, no header rewrites), nics/ice (priority only selects the pipeline stage; non-pipeline mode ignores it); 16K flow director filters from the E810 datasheet',
    flowApi: true,
    items: ['eth', 'vlan', 'ipv4', 'ipv6', 'tcp', 'udp', 'icmp'],
    etherTypeMatch: true,
    matchAll: false,
    ipv4HeaderChecks: false,
    hasVlan: false,
    fields: CUBE_FIELDS,
    masks: 'exact',
    oneInputSetPerFlowType: false,
    priorities: 1,
    actions: ['queue', 'mark', 'drop', 'count'],
    markBits: 32,
    maxRules: 16384,
    maxQueues: 256,
    isolate: false,
  },
  i40e: {
    name: 'i40e',
    description: 'Intel X710/XL710/XXV710 (i40e PMD, flow director, perfect match)',
    source:
      'DPDK 22.11 guides: nics/overview (rte_flow tables: no COUNT, no JUMP, no ICMP item), nics/i40e (flow director: one input set per packet type, "Conflict with the first rule\'s input set"); 8K flow director filters from the XL710 datasheet',
    flowApi: true,
    items: ['eth', 'vlan', 'ipv4', 'ipv6', 'tcp', 'udp'],
    etherTypeMatch: true,
    matchAll: false,
    ipv4HeaderChecks: false,
    hasVlan: false,
    // The flow director's input sets: addresses, L4 ports, the VLAN TCI (no DSCP, no protocol alone).
    fields: ['port', 'ipVer', 'src4', 'dst4', 'src6', 'dst6', 'l4src', 'l4dst', 'vid', 'tagged', 'ethType'],
    masks: 'exact',
    oneInputSetPerFlowType: true,
    priorities: 1,
    actions: ['queue', 'mark', 'drop'],
    markBits: 32,
    maxRules: 8192,
    maxQueues: 64,
    isolate: false,
  },
  software: {
    name: 'software',
    description: 'a port whose PMD has no flow API (net_af_packet, net_ring, net_pcap, ...): all in software',
    source: 'DPDK 22.11 guides: nics/overview (no rte_flow items or actions for these PMDs)',
    flowApi: false,
    items: [],
    etherTypeMatch: false,
    matchAll: false,
    ipv4HeaderChecks: false,
    hasVlan: false,
    fields: [],
    masks: 'exact',
    oneInputSetPerFlowType: false,
    priorities: 1,
    actions: [],
    markBits: 0,
    maxRules: 0,
    maxQueues: 1024,
    isolate: false,
  },
};

/** The profile of a family name; NfpError with a close match on an unknown one. */
export function nicCaps(name: string): NicCaps {
  const caps = (NIC_CAPS as Record<string, NicCaps | undefined>)[name];
  if (!caps) {
    throw new NfpError(
      `unknown NIC family "${name}"${didYouMean(name, [...NIC_FAMILIES])}`,
      `use one of: ${NIC_FAMILIES.join(', ')}`,
    );
  }
  return caps;
}

/** The family of a DPDK driver name (rte_eth_dev_info.driver_name), `software` for the rest. */
export function familyOfDriver(driver: string): NicFamily {
  if (/mlx5/.test(driver)) return 'mlx5';
  if (/(^|_)ice(_|$)/.test(driver)) return 'ice';
  if (/i40e/.test(driver)) return 'i40e';
  return 'software';
}

const MELLANOX = 0x15b3;
const INTEL = 0x8086;
/** mlx4 devices (ConnectX-3): a different PMD, not profiled here. */
const MLX4 = new Set([0x1003, 0x1004, 0x1007]);
const E810 = new Set([0x1591, 0x1592, 0x1593, 0x1599, 0x159a, 0x159b]);
const X710 = new Set([
  0x0d58, 0x1572, 0x1574, 0x1580, 0x1581, 0x1583, 0x1584, 0x1585, 0x1586, 0x1587, 0x1588, 0x1589, 0x158a,
  0x158b, 0x37d0, 0x37d1, 0x37d2, 0x37d3,
]);

/**
 * The family of a PCI device by its vendor and device id (what `lspci -n` shows), before any
 * driver runs: the ids of the NICs the profiles describe, `software` for every other device.
 */
export function familyOfPciIds(vendor: number, device: number): NicFamily {
  if (vendor === MELLANOX && !MLX4.has(device)) return 'mlx5';
  if (vendor === INTEL && E810.has(device)) return 'ice';
  if (vendor === INTEL && X710.has(device)) return 'i40e';
  return 'software';
}
