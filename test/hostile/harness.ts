/**
 * Replays hostile frames through one data path of a deployment and checks that every frame is
 * accounted for (forwarded, or dropped with a named reason) and meets the fate the reference
 * semantics gives its bytes (partitioner/reference.ts `frameFate`), packet by packet.
 *
 * The data paths are rows of DATA_PATHS; a new target joins every hostile test with one row.
 */
import { addonBuilt } from '../../host-runtime/lib';
import { loadGraph } from '../../partitioner';
import { deploy, generateTraffic, prepareDeploy, type DeployReport } from '../../deploy';
import type { Plan } from '../../partitioner/plan';
import type { PacketFate, TargetSpec, TrafficPacket } from '../../targets';
import { trafficFromFrames } from '../../deploy/traffic';
import { checkReportInvariants, compareWithReference } from '../deploy/differential';
import { realPortsUnavailable, softnicSwitch } from '../deploy/softnic-switch';
import { BMV2_BINARY, findOnPath } from '../../targets/bmv2/launch';
import type { HostileFrame } from './corpus';

export interface DataPathCase {
  name: string;
  target: () => TargetSpec;
  /** Why this machine cannot run it (the tests then say so), or undefined. */
  unavailable?: () => string | undefined;
  /**
   * For paths that send one frame at a time (slower): the corpus is built on this many valid
   * packets instead of 24, every frame of it replayed (each cut at every byte), and the fuzz
   * frames are sampled evenly down to `maxFrames`.
   */
  corpusBases?: number;
  maxFrames?: number;
  /**
   * Frames this path's own plumbing changes before the NIC half sees them (not nfp's doing):
   * left out of its replay, their number and the reason printed.
   */
  alters?: { why: string; frame: (data: Buffer) => boolean };
}

/**
 * What DPDK 22.11's net_af_packet changes on receive: its socket joins a fanout group with the
 * kernel's IP reassembly flag (so an IPv4 fragment is held until its datagram is whole, and a lone
 * one never arrives), and the kernel takes an 802.1ad tag off that the PMD puts back as 802.1Q.
 */
export function alteredByAfPacket(d: Buffer): boolean {
  if (d.length < 14) return false;
  let type = d.readUInt16BE(12);
  let ip = 14;
  if (type === 0x88a8) return true;
  if (type === 0x8100 && d.length >= 18) {
    type = d.readUInt16BE(16);
    ip = 18;
  }
  if (type !== 0x0800 || d.length < ip + 20) return false;
  // The kernel's checks before it holds a fragment (ip_check_defrag): a readable IPv4 header
  // whose total length fits the frame, then MF or a fragment offset.
  const ihl = d[ip] & 0x0f;
  const totalLen = d.readUInt16BE(ip + 2);
  if (d[ip] >> 4 !== 4 || ihl < 5 || totalLen < ihl * 4 || d.length < ip + totalLen) return false;
  return (d.readUInt16BE(ip + 6) & 0x3fff) !== 0;
}

export const DATA_PATHS: DataPathCase[] = [
  {
    name: 'softnic, linked',
    target: () => ({ kind: 'softnic', dataPath: 'linked' }),
    unavailable: () => (addonBuilt() ? undefined : 'needs the native addon (npm run build)'),
  },
  {
    name: 'softnic, js',
    target: () => ({ kind: 'softnic', dataPath: 'js' }),
    unavailable: () => (addonBuilt() ? undefined : 'needs the native addon (npm run build)'),
  },
  {
    name: 'real ports (launched switch, veth, net_af_packet)',
    target: () => ({ kind: 'bmv2', switchCommand: softnicSwitch }),
    unavailable: () => (addonBuilt() ? realPortsUnavailable() : 'needs the native addon (npm run build)'),
    corpusBases: 5,
    maxFrames: 500,
  },
  {
    name: 'real BMv2 (simple_switch_grpc launched on veth)',
    target: () => ({ kind: 'bmv2' }),
    unavailable: () =>
      findOnPath(BMV2_BINARY) === undefined
        ? 'simple_switch_grpc is not on PATH'
        : addonBuilt()
          ? realPortsUnavailable()
          : 'needs the native addon (npm run build)',
    corpusBases: 5,
    maxFrames: 500,
  },
  {
    // --target dpdk without --port: veth pairs in a namespace, net_af_packet on them (no flow
    // API, so the whole NIC half runs in software: the softnic engine inline in the host runtime).
    name: 'dpdk (net_af_packet over veth, NIC half inline)',
    target: () => ({ kind: 'dpdk' }),
    unavailable: () => (addonBuilt() ? realPortsUnavailable() : 'needs the native addon (npm run build)'),
    corpusBases: 5,
    maxFrames: 500,
    alters: {
      why: 'net_af_packet (DPDK 22.11) holds IPv4 fragments for reassembly and rewrites 802.1ad tags as 802.1Q',
      frame: alteredByAfPacket,
    },
  },
];

/** The plan's valid traffic: a few packets per root path, the base of every hostile frame. */
export async function baseTraffic(
  graphFile: string,
  target: TargetSpec,
): Promise<{ plan: Plan; nic: Awaited<ReturnType<typeof prepareDeploy>>['nic']; valid: TrafficPacket[] }> {
  const { plan, nic } = await prepareDeploy({ input: graphFile, target, durationSeconds: 0 });
  const { packets } = generateTraffic(plan, {
    packetsPerPath: 3,
    flowsPerPath: 3,
    sizes: [64, 200],
    suspiciousShare: 0.3,
    seed: 5,
  });
  return { plan, nic, valid: packets };
}

export interface HostileRun {
  report: DeployReport;
  fates: Array<PacketFate | undefined>;
  failures: string[];
  /** Fates by class: `forwarded` or the drop reason key. */
  byClass: Map<string, Map<string, number>>;
}

/**
 * Deploys `graphFile` on `dp`, replays `frames` once with fates recorded, compares each. With
 * `maxFrames`, the frames are sampled evenly down to that many.
 */
export async function replayHostile(
  graphFile: string,
  dp: DataPathCase,
  frames: (valid: TrafficPacket[]) => HostileFrame[],
  maxFrames?: number,
): Promise<HostileRun & { frames: HostileFrame[]; valid: TrafficPacket[]; leftOut: number }> {
  const target = dp.target();
  const { plan, nic, valid } = await baseTraffic(graphFile, target);
  let list = frames(valid);
  const before = list.length;
  if (dp.alters) {
    const alters = dp.alters;
    list = list.filter((f) => !alters.frame(f.data));
    if (list.length < before)
      console.warn(`${dp.name}: ${before - list.length} frames left out: ${alters.why}`);
  }
  const leftOut = before - list.length;
  if (maxFrames && list.length > maxFrames) {
    const step = list.length / maxFrames;
    list = Array.from({ length: maxFrames }, (_, i) => list[Math.floor(i * step)]);
  }
  // What the plan expects of each frame, from its bytes, as for a replayed capture.
  const expected = trafficFromFrames(plan, list);
  list = list.map((f, i) => ({ ...f, tenant: expected[i].tenant, path: expected[i].path }));
  // Each tenant under its own isolation backend (sfi sandboxes included), as a user deploys.
  const { report, fates = [] } = await deploy(plan, nic, {
    target,
    durationSeconds: 0,
    recordFates: true,
    traffic: list,
  });
  const graph = loadGraph(graphFile);
  const failures = [
    ...compareWithReference(dp.name, graph, list, fates).failures,
    ...checkReportInvariants(dp.name, plan, graph, list, fates, report),
  ];
  const byClass = new Map<string, Map<string, number>>();
  list.forEach((f, i) => {
    const fate = fates[i];
    const key = !fate ? 'none' : fate.kind === 'forwarded' ? 'forwarded' : `${fate.where}:${fate.reason}`;
    const m = byClass.get(f.class) ?? new Map<string, number>();
    m.set(key, (m.get(key) ?? 0) + 1);
    byClass.set(f.class, m);
  });
  return { report, fates, failures, byClass, frames: list, valid, leftOut };
}
