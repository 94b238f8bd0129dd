/**
 * `nfp deploy`: push a plan's NIC half to a target over P4Runtime, start the host half, run
 * traffic through both, and report what happened to every packet.
 *
 * Deployment is atomic: each step registers how to undo itself, and a failure undoes every
 * completed step in reverse before the error (naming the failed step) is thrown. On an external
 * P4Runtime target the previous pipeline and entries are restored instead of left half-replaced.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { NicArtifacts } from '../p4';
import { NfpError } from '../partitioner/errors';
import type { Plan } from '../partitioner/plan';
import * as host from '../host-runtime/lib';
import type { IsolationBackend } from '../host-runtime/lib';
import { planArtifacts } from '../host-runtime/lib/isolation';
import { P4RuntimeClient } from '../p4runtime/client';
import { P4RuntimeError, P4RuntimeWriteError } from '../p4runtime/errors';
import type { Entity, ForwardingPipelineConfig, Update } from '../p4runtime/messages';
import { Atomicity, UpdateType } from '../p4runtime/messages';
import { P4RuntimeServer } from '../p4runtime/server';
import { SoftnicDevice } from '../targets/softnic/device';
import { entriesToUpdates } from '../targets/softnic/install';
import { Bmv2LaunchError, launchBmv2, type Bmv2Switch, type SwitchCommand } from '../targets/bmv2/launch';
import { emptyRun, type TrafficRun } from './account';
import { DataPath, type PacketFate } from './datapath';
import { WireDataPath } from './wire-datapath';
import { buildReport, type DeployReport } from './report';
import type { GeneratedPacket } from './traffic';

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
  target: 'softnic' | 'bmv2';
  /** An already running P4Runtime device (softnic or simple_switch_grpc); absent: start one. */
  grpc?: string;
  deviceId: number;
  electionId?: number;
  /**
   * For `bmv2` without `grpc`: run this P4Runtime switch in the namespace instead of
   * simple_switch_grpc (tests run the stand-alone softnic there when BMv2 is absent).
   */
  switchCommand?: SwitchCommand;
  /** Run every tenant under this backend instead of the plan's choice. */
  isolation?: IsolationBackend;
  workers?: number;
  /** Packets to send, replayed until `durationSeconds` passed (at least once). */
  traffic: GeneratedPacket[];
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
}

export interface DeployProgress {
  elapsedSeconds: number;
  input: number;
  perTenantPps: Record<string, number>;
}

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
  const enter = (s: DeployStep): void => {
    step = s;
  };
  const done = (s: DeployStep): void => opts.onStep?.(s);
  try {
    // 1. The target: the embedded softnic behind a loopback P4Runtime server, or an external one.
    let address = opts.grpc;
    let device: SoftnicDevice | undefined;
    let launched: Bmv2Switch | undefined;
    if (!address && opts.target === 'softnic') {
      device = new SoftnicDevice();
      const server = new P4RuntimeServer({ device, deviceId: opts.deviceId, address: '127.0.0.1:0' });
      await server.start();
      teardown.push(() => server.stop(100));
      address = server.address;
    } else if (!address) {
      // A real BMv2 in a namespace of its own, its ports veth pairs into this one.
      try {
        launched = await launchBmv2({
          wirePorts: plan.profile.wirePorts,
          hostPorts: hostPortsByQueue(plan),
          deviceId: opts.deviceId,
          command: opts.switchCommand,
        });
      } catch (err) {
        if (err instanceof Bmv2LaunchError) throw new DeployError(step, err.message, err.hint);
        throw err;
      }
      const sw = launched;
      teardown.push(() => sw.stop());
      address = sw.address;
    }
    done('start-target');

    // 2. Become primary.
    enter('connect');
    const client = new P4RuntimeClient({
      address,
      deviceId: opts.deviceId,
      electionId: opts.electionId ?? 1,
      reconnect: false,
    });
    teardown.push(() => client.close());
    await client.connect(5000);
    await client.waitForPrimary(5000);
    done('connect');

    // 3. Pipeline. Keep what was there, so a later failure can put it back.
    enter('push-pipeline');
    const previous = await snapshotDevice(client);
    await client.setPipeline({ p4info: nic.p4info, deviceConfig: JSON.stringify(nic.bmv2) });
    rollback.push(() => restoreDevice(client, previous));
    done('push-pipeline');

    // 4. Entries, all or nothing. Atomic writes are optional in P4Runtime (PI-based switches such
    // as simple_switch_grpc answer UNIMPLEMENTED): then write with CONTINUE_ON_ERROR, and a
    // failure is undone by the rollback, which re-commits the previous pipeline and its entries.
    enter('write-entries');
    const updates = entriesToUpdates(nic.entries);
    let atomic = true;
    try {
      try {
        await client.write(updates, { atomicity: Atomicity.ROLLBACK_ON_ERROR });
      } catch (err) {
        if (!(err instanceof P4RuntimeError) || err.code !== GrpcStatus.UNIMPLEMENTED) throw err;
        atomic = false;
        await client.write(updates, { atomicity: Atomicity.CONTINUE_ON_ERROR });
      }
    } catch (err) {
      if (err instanceof P4RuntimeWriteError)
        throw new DeployError(step, describeWriteError(err, nic, atomic));
      throw err;
    }
    done('write-entries');

    // An external device carries the traffic on its own ports: the NIC half stays deployed and
    // runs until stopped; only its counters are reported.
    if (!device && !launched) {
      enter('traffic');
      await sleep(opts.durationSeconds * 1000, opts.signal);
      done('traffic');
      enter('report');
      const report = await buildReport(plan, nic, emptyRun(), undefined, client, {
        target: opts.target,
        address,
        deviceId: opts.deviceId,
        isolation: opts.isolation,
      });
      done('report');
      client.close();
      return { report };
    }

    // 5. The host half: on the softnic its queues are in-memory rings the engine feeds; on a
    // launched BMv2 each host queue is a net_af_packet port on that host port's veth.
    enter('start-host');
    host.start({
      workers: opts.workers ?? 1,
      mode: 'presorted',
      captureDrops: !launched,
      queueSize: 4096,
      port: launched
        ? {
            kind: 'vdevs',
            devargs: launched.hostInterfaces
              .map((ifname) => `net_af_packet_${ifname},iface=${ifname},qpairs=1`)
              .join(';'),
          }
        : { kind: 'ring' },
    });
    // Sandboxed backends run NFs built for them; build (or reuse the cached) modules first.
    const artifacts = await planArtifacts(plan, opts.isolation);
    const loaded = host.load(plan, { isolation: opts.isolation, artifacts });
    teardown.push(() => host.stop());
    done('start-host');

    // 6. Traffic.
    enter('traffic');
    let run: TrafficRun;
    if (launched) {
      const wire = new WireDataPath(
        plan,
        nic,
        client,
        launched.wireInterfaces,
        opts.recordFates ?? false,
        true,
        opts.onEgress,
      );
      wire.open();
      teardown.push(() => wire.close());
      run = await wire.runTraffic(opts.traffic, opts.durationSeconds, opts.onProgress, opts.signal);
    } else {
      const datapath = new DataPath(plan, device!, nic, loaded, opts.recordFates ?? false, opts.onEgress);
      run = await datapath.runTraffic(opts.traffic, opts.durationSeconds, opts.onProgress, opts.signal);
    }
    done('traffic');

    // 7. Report: host stats, NIC counters read back over P4Runtime.
    enter('report');
    const report = await buildReport(plan, nic, run, host.stats(), client, {
      target: opts.target,
      address,
      deviceId: opts.deviceId,
      isolation: opts.isolation,
    });
    done('report');
    // A completed run leaves nothing running.
    await unwind(teardown);
    return { report, fates: run.fates };
  } catch (err) {
    await unwind(rollback);
    await unwind(teardown);
    if (err instanceof DeployError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new DeployError(step, message, err instanceof NfpError ? err.hint : undefined);
  }
}

/** The entries the device rejected, by their entries.json comment; the rolled-back rest is counted. */
function describeWriteError(err: P4RuntimeWriteError, nic: NicArtifacts, atomic: boolean): string {
  const rejected = err.failures.filter((f) => f.error.canonicalCode !== GrpcStatus.ABORTED);
  const shown = (rejected.length ? rejected : err.failures).slice(0, 5).map((f) => {
    const what = nic.entries.tableEntries[f.index]?.comment ?? `update ${f.index}`;
    const code = GrpcStatus[f.error.canonicalCode ?? GrpcStatus.UNKNOWN] ?? 'UNKNOWN';
    return `\n  entry ${f.index} (${what}): ${code}: ${f.error.message ?? ''}`;
  });
  return (
    `the device rejected ${rejected.length} of ${err.total} entries; ` +
    (atomic ? 'the write was rolled back' : 'the previous pipeline was restored') +
    shown.join('')
  );
}

/** The NIC's host port of each host queue, in queue order (one port when the plan has none). */
function hostPortsByQueue(plan: Plan): number[] {
  const ports = plan.queues.map((q) => plan.profile.hostPorts[q.id]);
  return ports.length ? ports : plan.profile.hostPorts.slice(0, 1);
}

/** Waits `ms` (forever when not finite) or until aborted. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : setInterval(() => undefined, 1 << 30);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      clearInterval(timer);
      resolve();
    });
  });
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

interface DeviceSnapshot {
  config?: ForwardingPipelineConfig;
  entities: Entity[];
}

async function snapshotDevice(client: P4RuntimeClient): Promise<DeviceSnapshot> {
  let config: ForwardingPipelineConfig | undefined;
  try {
    config = await client.getPipeline();
  } catch {
    return { entities: [] };
  }
  if (!config?.p4info || !config.p4info.tables?.length) return { entities: [] };
  const entities: Entity[] = [];
  for await (const e of client.read({ tableEntry: {} })) entities.push(e);
  return { config, entities };
}

async function restoreDevice(client: P4RuntimeClient, prev: DeviceSnapshot): Promise<void> {
  if (!prev.config?.p4info) return;
  await client.setPipeline({
    p4info: prev.config.p4info,
    deviceConfig: prev.config.p4DeviceConfig ?? new Uint8Array(),
  });
  const updates: Update[] = prev.entities.map((entity) => ({ type: UpdateType.INSERT, entity }));
  if (updates.length) await client.write(updates);
}
