/**
 * The dpdk target's native part (targets/dpdk/engine/flow_install.cc, in the `nfp_host` addon):
 * installing an rte_flow rule set on a loaded host plan's DPDK ports, all or nothing, reading its
 * counters back, and what the plan's ports are.
 */
import { addon } from '../../host-runtime/lib/native';
import { NfpError } from '../../partitioner/errors';
import type { FlowAction, FlowItem, FlowRuleSet, Masked } from './flow/ir';

/** Which DPDK call refused, and the index of the rule (or meter) it refused. */
export interface FlowInstallError extends Error {
  phase: 'meter' | 'build' | 'validate' | 'create';
  index: number;
}

export interface FlowReadout {
  /** Hits per flow counter id, summed over its rules. */
  counters: number[];
  /** Red packets per meter, in the rule set's meter order. */
  meterRed: number[];
  /** Rules whose counter could not be read. */
  unread: number;
}

export interface PortInfo {
  portId: number;
  driver: string;
  queues: number;
  /** rte_flow_isolate's answer when isolation was asked for (0 or -errno); 1: not asked. */
  isolate: number;
}

interface DpdkModule {
  flowInstall(
    hostHandle: number,
    ruleSet: NativeRuleSet,
    options?: { recording?: { phase: string; index: number } },
  ): number;
  flowRead(id: number): FlowReadout;
  flowRemove(id: number): void;
  flowLive(): { flows: number; meters: number; validated: number; created: number };
  flowIsolate(hostHandle: number, on: boolean): number[];
  portInfo(hostHandle: number): PortInfo[];
  abiVersion: number;
}

type NativeValue = [number, number] | [Buffer, Buffer];

interface NativeRuleSet {
  rules: Array<{
    port: number;
    group: number;
    priority: number;
    pattern: Array<Record<string, unknown>>;
    actions: Array<{ type: string; value?: number; mac?: Buffer }>;
  }>;
  meters: Array<{ id: number; port: number; cir: number; cbs: number }>;
  counters: number;
}

/** The dpdk part of the `nfp_host` addon; NfpError with a build hint when it is missing. */
export function loadDpdk(): DpdkModule {
  const mod = addon() as unknown as { dpdk?: DpdkModule };
  if (!mod.dpdk)
    throw new NfpError("the dpdk target's native part is not built", 'run `npm run build:native`');
  return mod.dpdk;
}

function value(m: Masked, width: number): NativeValue {
  if (width <= 32) return [Number(m.value), Number(m.mask)];
  const hex = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(width / 4, '0'), 'hex');
  return [hex(m.value), hex(m.mask)];
}

function item(it: FlowItem): Record<string, unknown> {
  switch (it.type) {
    case 'eth':
      return {
        type: 'eth',
        ...(it.etherType !== undefined ? { etherType: it.etherType } : {}),
        ...(it.hasVlan !== undefined ? { hasVlan: it.hasVlan } : {}),
      };
    case 'vlan':
      return { type: 'vlan', vid: value(it.vid, 12) };
    case 'ipv4':
    case 'ipv6': {
      const w = it.type === 'ipv4' ? 32 : 128;
      const o: Record<string, unknown> = { type: it.type };
      if (it.src) o.src = value(it.src, w);
      if (it.dst) o.dst = value(it.dst, w);
      if (it.proto) o.proto = value(it.proto, 8);
      if (it.dscp) o.dscp = value(it.dscp, 6);
      if (it.type === 'ipv4' && it.versionIhl) o.versionIhl = value(it.versionIhl, 8);
      if (it.type === 'ipv4' && it.fragmentOffset) o.fragmentOffset = value(it.fragmentOffset, 16);
      return o;
    }
    case 'tcp':
    case 'udp':
      return {
        type: it.type,
        ...(it.srcPort ? { srcPort: value(it.srcPort, 16) } : {}),
        ...(it.dstPort ? { dstPort: value(it.dstPort, 16) } : {}),
      };
    case 'icmp':
      return { type: 'icmp' };
  }
}

function action(a: FlowAction): { type: string; value?: number; mac?: Buffer } {
  switch (a.type) {
    case 'jump':
      return { type: a.type, value: a.group };
    case 'queue':
      return { type: a.type, value: a.index };
    case 'mark':
    case 'count':
    case 'meter':
      return { type: a.type, value: a.id };
    case 'set_ipv4_dscp':
    case 'set_ipv6_dscp':
      return { type: a.type, value: a.dscp };
    case 'of_push_vlan':
      return { type: a.type, value: a.ethertype };
    case 'of_set_vlan_vid':
      return { type: a.type, value: a.vid };
    case 'set_mac_src':
    case 'set_mac_dst':
      return { type: a.type, mac: Buffer.from(a.mac.replace(/[:-]/g, ''), 'hex') };
    default:
      return { type: a.type };
  }
}

/** The rule set in the installer's terms: ports by index in the host plan's port order. */
export function nativeRuleSet(rs: FlowRuleSet): NativeRuleSet {
  const index = (port: number): number => rs.ports.indexOf(port);
  return {
    rules: rs.rules.map((r) => ({
      port: index(r.port),
      group: r.group,
      priority: r.priority,
      pattern: r.pattern.map(item),
      actions: r.actions.map(action),
    })),
    meters: rs.meters.map((m) => {
      const user = rs.rules.find((r) => r.actions.some((a) => a.type === 'meter' && a.id === m.id));
      return { id: m.id, port: index(user?.port ?? rs.ports[0]), cir: m.cir, cbs: m.cbs };
    }),
    counters: rs.counters.length,
  };
}
