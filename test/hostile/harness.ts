/**
 * Replays hostile frames through one data path of a deployment and checks that every frame is
 * accounted for (forwarded, or dropped with a named reason) and meets the fate the reference
 * semantics gives its bytes (partitioner/reference.ts `frameFate`), packet by packet.
 *
 * The data paths are rows of DATA_PATHS; a new target joins every hostile test with one row
 * (for example `{ name: 'dpdk', target: () => ({ kind: 'dpdk' }) }` once targets/index.ts knows
 * the kind).
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
): Promise<HostileRun & { frames: HostileFrame[]; valid: TrafficPacket[] }> {
  const target = dp.target();
  const { plan, nic, valid } = await baseTraffic(graphFile, target);
  let list = frames(valid);
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
  return { report, fates, failures, byClass, frames: list, valid };
}
