/**
 * What every P4Runtime target shares: become primary, install the NIC half atomically (pipeline,
 * then entries; on failure the device's previous pipeline and entries come back), read counters.
 * A subclass says how its device comes up (embedded, launched, already running), which device
 * config it takes (BMv2 JSON here; a P4 SmartNIC's vendor blob next), how the host runtime
 * attaches and what carries traffic.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { entriesToUpdates, type NicArtifacts } from '../p4';
import type { Plan } from '../partitioner/plan';
import type { LoadedHostPlan } from '../host-runtime/lib';
import { P4RuntimeClient } from '../p4runtime/client';
import { P4RuntimeError, P4RuntimeWriteError } from '../p4runtime/errors';
import type { Entity, ForwardingPipelineConfig, Update } from '../p4runtime/messages';
import { Atomicity, UpdateType } from '../p4runtime/messages';
import {
  TargetError,
  type DataPath,
  type DataPathContext,
  type HostAttachment,
  type Installed,
  type InstallStep,
  type NicCounters,
  type Target,
  type TargetDescription,
} from './target';

export interface P4RuntimeSession {
  deviceId: number;
  /** Election id to become primary with (default 1). */
  electionId?: number;
}

export abstract class P4RuntimeTarget implements Target {
  protected client: P4RuntimeClient | undefined;
  protected address = '';
  private counterNames = new Map<number, string>();
  private dropCounterId = 0;

  constructor(
    readonly name: string,
    protected readonly session: P4RuntimeSession,
  ) {}

  /** Brings the device up and returns its P4Runtime address. */
  protected abstract startDevice(plan: Plan): Promise<string>;
  /** Stops what startDevice() started (a device nfp did not start keeps running). */
  protected abstract stopDevice(): Promise<void>;
  abstract hostAttachment(plan: Plan): HostAttachment;
  abstract dataPath(ctx: DataPathContext): DataPath;

  /** The `p4_device_config` for the NIC half: BMv2 JSON for the softnic and BMv2. */
  protected deviceConfig(nic: NicArtifacts): Uint8Array {
    return Buffer.from(JSON.stringify(nic.bmv2));
  }

  describe(): TargetDescription {
    return { target: this.name, address: this.address, deviceId: this.session.deviceId };
  }

  /** The device runs the whole NIC half itself: nothing to join. */
  async linkHost(_host: LoadedHostPlan): Promise<void> {}

  async start(plan: Plan): Promise<void> {
    this.address = await this.startDevice(plan);
  }

  async install(nic: NicArtifacts, onStep?: (step: InstallStep) => void): Promise<Installed> {
    let step: InstallStep = 'connect';
    const fail = (err: unknown): never => {
      if (err instanceof TargetError) throw err;
      throw new TargetError(step, err instanceof Error ? err.message : String(err));
    };
    let client: P4RuntimeClient;
    try {
      client = this.client ?? (await this.connect());
    } catch (err) {
      return fail(err);
    }
    onStep?.('connect');

    // Keep what was there, so that a failure here or later in the deployment can put it back.
    step = 'push-pipeline';
    let previous: DeviceSnapshot;
    try {
      previous = await snapshotDevice(client);
      await client.setPipeline({ p4info: nic.p4info, deviceConfig: this.deviceConfig(nic) });
    } catch (err) {
      return fail(err);
    }
    onStep?.('push-pipeline');
    const rollback = (): Promise<void> => restoreDevice(client, previous);

    // Entries, all or nothing. Atomic writes are optional in P4Runtime (PI-based switches such
    // as simple_switch_grpc answer UNIMPLEMENTED): then write with CONTINUE_ON_ERROR, and a
    // failure is undone by re-committing the previous pipeline and its entries.
    step = 'write-entries';
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
      await rollback().catch(() => undefined);
      if (err instanceof P4RuntimeWriteError)
        throw new TargetError(step, describeWriteError(err, nic, atomic));
      return fail(err);
    }
    onStep?.('write-entries');
    this.counterNames = new Map(
      (nic.p4info.counters ?? []).map((c) => [Number(c.preamble?.id), c.preamble?.name ?? '']),
    );
    const drop = (nic.p4info.counters ?? []).find((c) => c.preamble?.name === nic.entries.dropCounter.name);
    this.dropCounterId = Number(drop?.preamble?.id ?? 0);
    return { rollback };
  }

  async readCounters(): Promise<NicCounters> {
    const out: NicCounters = {};
    if (!this.client) return out;
    for await (const e of this.client.read({ counterEntry: {} })) {
      const c = e.counterEntry;
      if (!c) continue;
      const name = this.counterNames.get(Number(c.counterId)) ?? String(c.counterId);
      const packets = Number(c.data?.packetCount ?? 0);
      if (packets === 0) continue;
      (out[name] ??= {})[Number(c.index?.index ?? 0)] = packets;
    }
    return out;
  }

  /** The installed pipeline's drop counter, by reason code (data paths poll it per packet). */
  protected async readDrops(): Promise<number[]> {
    const counts: number[] = [];
    if (!this.client) return counts;
    for await (const e of this.client.read({ counterEntry: { counterId: this.dropCounterId } })) {
      const c = e.counterEntry;
      if (c) counts[Number(c.index?.index ?? 0)] = Number(c.data?.packetCount ?? 0);
    }
    return counts;
  }

  async stop(): Promise<void> {
    this.client?.close();
    this.client = undefined;
    await this.stopDevice();
  }

  private async connect(): Promise<P4RuntimeClient> {
    const client = new P4RuntimeClient({
      address: this.address,
      deviceId: this.session.deviceId,
      electionId: this.session.electionId ?? 1,
      reconnect: false,
    });
    this.client = client;
    await client.connect(5000);
    await client.waitForPrimary(5000);
    return client;
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
