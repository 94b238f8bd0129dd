/**
 * What `nfp deploy` does, as a library call: turn its input (a graph or a plan folder) into a plan
 * and NIC artifacts, build the traffic, deploy, and write the egress pcap.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { emitNicArtifacts, type NicArtifacts } from '../p4';
import { loadGraph, partition, validatePlan } from '../partitioner';
import { NfpError } from '../partitioner/errors';
import type { Plan } from '../partitioner/plan';
import type { IsolationBackend } from '../host-runtime/lib';
import { deploy, type DeployProgress, type DeployResult, type DeployStep } from './deploy';
import { PcapWriter, readPcap, type TargetSpec } from '../targets';
import {
  DEFAULT_GENERATOR,
  trafficFromFrames,
  generateTraffic,
  type GeneratedPacket,
  type GeneratorSpec,
} from './traffic';

export { deploy, DeployError, type DeployStep, type DeployOptions, type DeployResult } from './deploy';
export { renderReport, type DeployReport } from './report';
export { TARGET_KINDS, type TargetKind, type TargetSpec } from '../targets';
export { generateTraffic, parseGeneratorSpec, DEFAULT_GENERATOR, type GeneratedPacket } from './traffic';

export interface DeployRequest {
  /** A service graph file, or a folder holding plan.json from `nfp partition`. */
  input: string;
  target: TargetSpec;
  /** NIC profile to partition a graph for (default: the target kind's own). */
  profile?: string;
  traffic?: string;
  /** Wire port the frames of `traffic` enter on (default: the profile's first wire port). */
  trafficPort?: number;
  generate?: GeneratorSpec;
  durationSeconds: number;
  pcapOut?: string;
  isolation?: IsolationBackend;
  workers?: number;
  recordFates?: boolean;
  onProgress?: (p: DeployProgress) => void;
  onStep?: (s: DeployStep | 'partition' | 'emit') => void;
  signal?: AbortSignal;
}

export interface Prepared {
  plan: Plan;
  nic: NicArtifacts;
  traffic: GeneratedPacket[];
  /** Root paths the generator could not reach (shadowed), reported to the user. */
  unreachablePaths: number[];
}

export async function prepareDeploy(req: DeployRequest): Promise<Prepared> {
  if (!existsSync(req.input)) throw new NfpError(`${req.input}: no such file or folder`);
  let plan: Plan;
  if (statSync(req.input).isDirectory()) {
    const file = join(req.input, 'plan.json');
    if (!existsSync(file)) {
      throw new NfpError(
        `${req.input} has no plan.json`,
        `run \`nfp partition GRAPH --out ${req.input}\` first`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new NfpError(`${file}: not valid JSON: ${(err as Error).message}`);
    }
    plan = validatePlan(json);
  } else {
    plan = await partition(loadGraph(req.input), { profile: req.profile ?? req.target.kind });
  }
  req.onStep?.('partition');
  const nic = emitNicArtifacts(plan);
  req.onStep?.('emit');
  if (req.traffic) {
    const port = req.trafficPort ?? plan.profile.wirePorts[0];
    const traffic = trafficFromFrames(
      plan,
      readPcap(req.traffic).map((p) => ({ port, data: p.data })),
    );
    if (traffic.length === 0) throw new NfpError(`${req.traffic}: the pcap holds no packets`);
    return { plan, nic, traffic, unreachablePaths: [] };
  }
  const generated = generateTraffic(plan, req.generate ?? DEFAULT_GENERATOR);
  return { plan, nic, traffic: generated.packets, unreachablePaths: generated.unreachablePaths };
}

export async function runDeploy(req: DeployRequest): Promise<DeployResult & { prepared: Prepared }> {
  const prepared = await prepareDeploy(req);
  const pcapOut = req.pcapOut ? new PcapWriter(req.pcapOut) : undefined;
  try {
    const result = await deploy(prepared.plan, prepared.nic, {
      target: req.target,
      isolation: req.isolation,
      workers: req.workers,
      traffic: prepared.traffic,
      durationSeconds: req.durationSeconds,
      recordFates: req.recordFates,
      onEgress: pcapOut ? (_port, frame) => pcapOut.write(frame) : undefined,
      onProgress: req.onProgress,
      onStep: req.onStep,
      signal: req.signal,
    });
    return { ...result, prepared };
  } finally {
    pcapOut?.close();
  }
}
