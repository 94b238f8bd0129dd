/**
 * What `nfp deploy` does, as a library call: turn its input (a graph or a plan folder) into a plan
 * and NIC artifacts, build the traffic, deploy, and write the egress pcap.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { emitNicArtifacts, type NicArtifacts } from '../p4';
import { loadGraph, partition, validatePlan } from '../partitioner';
import { NfpError } from '../partitioner/errors';
import { requireFile } from '../partitioner/files';
import type { Plan } from '../partitioner/plan';
import type { IsolationBackend } from '../host-runtime/lib';
import {
  deploy,
  type DeployOptions,
  type DeployProgress,
  type DeployResult,
  type DeployStep,
} from './deploy';
import { PcapWriter, readPcap, type PcapRecord, type TargetSpec } from '../targets';
import {
  DEFAULT_GENERATOR,
  trafficFromFrames,
  generateTraffic,
  type GeneratedPacket,
  type GeneratorSpec,
} from './traffic';

export {
  deploy,
  DeployError,
  type DeployStep,
  type DeployOptions,
  type DeployResult,
  type LiveDeployment,
} from './deploy';
export { renderReport, type DeployReport } from './report';
export { TARGET_KINDS, NIC_FAMILIES, type TargetKind, type TargetSpec } from '../targets';
export { generateTraffic, parseGeneratorSpec, DEFAULT_GENERATOR, type GeneratedPacket } from './traffic';

export interface DeployRequest {
  /** A service graph file, or a folder holding plan.json from `nfp partition`. */
  input: string;
  target: TargetSpec;
  /** NIC profile to partition a graph for (default: the target kind's own). */
  profile?: string;
  /**
   * Captures to replay (pcap or pcapng): a file, or files each with the wire port its frames
   * enter on (real captures come one per port). Frames of several files interleave by their
   * capture times.
   */
  traffic?: string | TrafficSource[];
  /** Wire port of the captures that name none (default: the profile's first wire port). */
  trafficPort?: number;
  generate?: GeneratorSpec;
  durationSeconds: number;
  pcapOut?: string;
  isolation?: IsolationBackend;
  workers?: number;
  recordFates?: boolean;
  onProgress?: (p: DeployProgress) => void;
  /** Called after each step, with a line saying what it produced where it has one. */
  onStep?: (s: DeployStep | 'partition' | 'emit', detail?: string) => void;
  signal?: AbortSignal;
  /** Called as traffic starts with a handle on the running deployment (live reports, metrics). */
  onLive?: DeployOptions['onLive'];
}

/** One capture to replay, and the wire port its frames enter on (default: `trafficPort`). */
export interface TrafficSource {
  file: string;
  port?: number;
}

/** `PORT=FILE` or `FILE`, as `--traffic` takes them. */
export function parseTrafficSource(text: string): TrafficSource {
  const m = /^(\d+)=(.+)$/.exec(text);
  return m ? { port: Number(m[1]), file: m[2] } : { file: text };
}

/** Every capture, read before any other work, so that a missing or bad file stops nothing half-done. */
function readCaptures(sources: TrafficSource[]): Array<{ source: TrafficSource; records: PcapRecord[] }> {
  return sources.map((source) => {
    requireFile(source.file, {
      what: 'a pcap or pcapng capture to replay (PORT=FILE: the wire port its frames enter on)',
    });
    const records = readPcap(source.file);
    if (records.length === 0) throw new NfpError(`${source.file}: the capture holds no packets`);
    return { source, records };
  });
}

export interface Prepared {
  plan: Plan;
  nic: NicArtifacts;
  traffic: GeneratedPacket[];
  /** Root paths the generator could not reach (shadowed), reported to the user. */
  unreachablePaths: number[];
}

export async function prepareDeploy(req: DeployRequest): Promise<Prepared> {
  // Every input file before any work: a missing one reads as it does in every command.
  requireFile(req.input, {
    what: 'a service graph or a plan folder',
    example: 'examples/enterprise-edge.yaml',
    folder: true,
  });
  const sources = typeof req.traffic === 'string' ? [{ file: req.traffic }] : (req.traffic ?? []);
  const captures = readCaptures(sources);
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
    // Custom NF sources travel with the folder (nf/, from `nfp partition`).
    if (plan.sourceDir) plan = { ...plan, sourceDir: resolve(req.input, plan.sourceDir) };
  } else {
    plan = await partition(loadGraph(req.input), { profile: req.profile ?? req.target.kind });
  }
  const fromFolder = statSync(req.input).isDirectory();
  const host = plan.paths.filter((p) => p.needsHost).length;
  req.onStep?.(
    'partition',
    `${fromFolder ? `${join(req.input, 'plan.json')}: ` : ''}${plan.tenants.length} tenant(s), ${plan.paths.length} path(s), ${host} through the host`,
  );
  const nic = emitNicArtifacts(plan);
  req.onStep?.(
    'emit',
    `NIC half kept in memory: ${nic.files.map((f) => f.path).join(', ')}, ${nic.entries.tableEntries.length} table entries; ` +
      (fromFolder
        ? `re-emitted from the plan (${join(req.input, 'nic')} is not read)`
        : '`nfp partition GRAPH --out DIR` writes them to DIR/nic'),
  );
  if (captures.length) {
    const wire = new Set(plan.profile.wirePorts);
    const frames = captures.flatMap(({ source, records }) => {
      const port = source.port ?? req.trafficPort ?? plan.profile.wirePorts[0];
      if (!wire.has(port))
        throw new NfpError(
          `${source.file}: port ${port} is not a wire port of NIC profile ${plan.profile.name}`,
          `its wire ports are ${plan.profile.wirePorts.join(', ')}`,
        );
      return records.map((r) => ({ port, data: r.data, timeNs: r.timeNs }));
    });
    // As the wire saw them: by capture time across files (stable within a file).
    if (captures.length > 1) frames.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
    return { plan, nic, traffic: trafficFromFrames(plan, frames), unreachablePaths: [] };
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
      onLive: req.onLive,
    });
    return { ...result, prepared };
  } finally {
    pcapOut?.close();
  }
}
