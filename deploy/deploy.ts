/**
 * `nfp deploy`: put a plan's NIC half on a target, start the host half, run traffic through both,
 * and report what happened to every packet.
 *
 * Deploy works through the Target interface only (targets/target.ts) and never asks which kind of
 * target it drives: the target starts its device, installs the NIC half atomically, says how the
 * host runtime attaches, and provides the data path; deploy runs the same steps for all.
 *
 * Deployment is atomic: each step registers how to undo itself, and a failure undoes every
 * completed step in reverse before the error (naming the failed step) is thrown. On a device that
 * outlives the deployment, the NIC half it ran before is restored instead of left half-replaced.
 */
import type { NicArtifacts } from '../p4';
import { NfpError } from '../partitioner/errors';
import type { Plan } from '../partitioner/plan';
import * as host from '../host-runtime/lib';
import type { IsolationBackend, LoadedHostPlan } from '../host-runtime/lib';
import { planArtifacts } from '../host-runtime/lib/isolation';
import {
  emptyRun,
  isTarget,
  openTarget,
  TargetError,
  type PacketFate,
  type Target,
  type TargetSpec,
  type TrafficPacket,
} from '../targets';
import { buildReport, type DeployReport } from './report';
import { frameClassifier } from './traffic';

export type DeployStep =
  'start-target' | 'connect' | 'push-pipeline' | 'write-entries' | 'start-host' | 'traffic' | 'report';

/** A deployment failed; everything it had set up was undone. */
export class DeployError extends NfpError {
  constructor(
    readonly step: DeployStep,
    cause: string,
    hint?: string,
  ) {
    super(`deploy failed at step "${step}": ${cause}`, hint);
  }
}

export interface DeployOptions {
  /** The target, or the spec of one to open (TargetSpec in targets/index.ts). */
  target: Target | TargetSpec;
  /** Run every tenant under this backend instead of the plan's choice. */
  isolation?: IsolationBackend;
  workers?: number;
  /** Packets to send, replayed until `durationSeconds` passed (at least once). */
  traffic: TrafficPacket[];
  durationSeconds: number;
  /** Called with every frame that leaves a wire port (for `--pcap-out`). */
  onEgress?: (port: number, frame: Buffer) => void;
  /** Keep each first-pass packet's fate (differential tests); costs a little speed. */
  recordFates?: boolean;
  /** Called about once a second with packets seen per tenant so far. */
  onProgress?: (p: DeployProgress) => void;
  /** Called after each completed step (for `--verbose` and the CLI's progress line). */
  onStep?: (step: DeployStep) => void;
  /** Aborting (Ctrl-C) stops the traffic and tears down cleanly. */
  signal?: AbortSignal;
  /**
   * Called once everything is deployed, as traffic starts: `live.report()` builds the report of
   * the run so far (metrics endpoints, a node agent's status) until the deployment ends.
   */
  onLive?: (live: LiveDeployment) => void;
}

/** A deployment while its traffic runs. */
export interface LiveDeployment {
  /** The report so far: the data path's account, host stats and NIC counters read now. */
  report(): Promise<DeployReport>;
}

export interface DeployProgress {
  elapsedSeconds: number;
  input: number;
  perTenantPps: Record<string, number>;
}

export type { PacketFate };

export interface DeployResult {
  report: DeployReport;
  /** Fate of each packet of the first pass over `traffic`, when `recordFates`. */
  fates?: PacketFate[];
}

type Undo = () => Promise<void> | void;

/** Runs the deployment; resolves with its report, or rejects with DeployError after undoing. */
export async function deploy(plan: Plan, nic: NicArtifacts, opts: DeployOptions): Promise<DeployResult> {
  // Teardown stops what the deploy started; rollback restores what it replaced on a device.
  const teardown: Undo[] = [];
  const rollback: Undo[] = [];
  let step: DeployStep = 'start-target';
  let ended = false;
  const done = (s: DeployStep): void => opts.onStep?.(s);
  try {
    const target = isTarget(opts.target) ? opts.target : openTarget(opts.target);

    // 1. The device: embedded, launched, opened or connected to.
    teardown.push(() => target.stop());
    await target.start(plan);
    done('start-target');

    // 2. The NIC half, all or nothing (connect, push-pipeline, write-entries).
    step = 'connect';
    const installed = await target.install(nic, (s) => {
      done(s);
      step = s === 'connect' ? 'push-pipeline' : 'write-entries';
    });
    rollback.push(() => installed.rollback());

    // 3. The host half, attached where the target says its host queues are.
    step = 'start-host';
    const attachment = target.hostAttachment(plan);
    let loaded: LoadedHostPlan | undefined;
    if (attachment.kind === 'runtime') {
      host.start({
        workers: opts.workers ?? 1,
        mode: attachment.mode,
        captureDrops: attachment.captureDrops,
        queueSize: 4096,
        port: attachment.port,
        devices: attachment.devices,
      });
      // Sandboxed backends run NFs built for them; build (or reuse the cached) modules first.
      const artifacts = await planArtifacts(plan, opts.isolation);
      loaded = host.load(plan, { isolation: opts.isolation, artifacts });
      teardown.push(() => host.stop());
      await target.linkHost(loaded);
      done('start-host');
    }

    // 4. Traffic.
    step = 'traffic';
    const dataPath = target.dataPath({
      plan,
      nic,
      host: loaded,
      recordFates: opts.recordFates ?? false,
      onEgress: opts.onEgress,
      classify: frameClassifier(plan),
    });
    teardown.push(() => dataPath.close());
    const describe = { ...target.describe(), isolation: opts.isolation };
    opts.onLive?.({
      report: async () => {
        if (ended) throw new NfpError('the deployment has ended');
        const counters = await target.readCounters();
        return buildReport(
          plan,
          nic,
          dataPath.snapshot?.() ?? emptyRun(),
          loaded ? host.stats() : undefined,
          counters,
          describe,
        );
      },
    });
    const run = await dataPath.run(opts.traffic, opts.durationSeconds, {
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
    ended = true;
    done('traffic');

    // 5. Report: host stats, the NIC's counters as the target reads them.
    step = 'report';
    const report = buildReport(
      plan,
      nic,
      run,
      loaded ? host.stats() : undefined,
      await target.readCounters(),
      {
        ...target.describe(),
        isolation: opts.isolation,
      },
    );
    done('report');
    // A completed run leaves nothing running (a device that outlives nfp keeps its NIC half).
    await unwind(teardown);
    return { report, fates: run.fates };
  } catch (err) {
    ended = true;
    await unwind(rollback);
    await unwind(teardown);
    if (err instanceof DeployError) throw err;
    if (err instanceof TargetError) throw new DeployError(err.step, err.message, err.hint);
    const message = err instanceof Error ? err.message : String(err);
    throw new DeployError(step, message, err instanceof NfpError ? err.hint : undefined);
  }
}

async function unwind(undo: Undo[]): Promise<void> {
  for (const u of [...undo].reverse()) {
    try {
      await u();
    } catch {
      // Teardown continues; the original error is what the user needs.
    }
  }
}
