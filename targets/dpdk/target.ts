/**
 * `--target dpdk`: the NIC half on the host runtime's own DPDK ports, on any DPDK NIC. What the
 * NIC's driver can do is offloaded through rte_flow (classification to the path's queue, MARK,
 * DROP, COUNT, meters); everything else runs in software: the softnic engine executes the same
 * BMv2 JSON pipeline inline on the lcore that receives each burst, before the host NFs, and on
 * the lcore that transmits what the host NFs finished (the return path).
 *
 * Without `--port`, the target makes its own ports: one veth pair per wire port in a network
 * namespace, DPDK's net_af_packet on the ends here, the traffic sent and read on the far ends.
 */
import type { NicArtifacts } from '../../p4';
import type { Plan } from '../../partitioner/plan';
import type { LoadedHostPlan } from '../../host-runtime/lib';
import { CarriedDataPath } from '../carried-datapath';
import type { Lab } from '../netns';
import { installArtifacts } from '../softnic/install';
import { SoftnicDevice } from '../softnic/device';
import type { NativeEngine } from '../softnic/native';
import {
  TargetError,
  type DataPath,
  type DataPathContext,
  type HostAttachment,
  type Installed,
  type InstallStep,
  type NicCounters,
  type NicPlacementReport,
  type Target,
  type TargetDescription,
} from '../target';
import { WireDataPath, type WireEnd } from '../wire-datapath';
import { givenPorts, labPorts, type WirePort } from './ports';

export interface DpdkTargetOptions {
  /** `N@DEVARGS` per wire port; absent: a veth lab in a namespace. */
  ports?: string[];
}

/** The inline engine's view of its counters (inline.cc). */
export interface InlineStats {
  attached: boolean;
  software: number;
  offloaded: number;
  toHost: number;
  returned: number;
  toWire: number;
  crossPort: number;
  dropped: number;
  txFull: number;
  noPort: number;
  multiSegment: number;
  tooLong: number;
}

interface InlineEngine {
  attachInline(
    hostHandle: number,
    config: {
      wirePorts: Int32Array;
      hostPorts: Int32Array;
      returnPorts: Int32Array;
      tenantOfSpi?: Int32Array;
      siOfSpi?: Int32Array;
      byQueue?: Int32Array;
    },
  ): void;
  inlineStats(): InlineStats;
}

export class DpdkTarget implements Target {
  private lab: Lab | undefined;
  private ports: WirePort[] = [];
  private queues = 1;
  private device: SoftnicDevice | undefined;
  private nic: NicArtifacts | undefined;
  private placement: NicPlacementReport | undefined;

  constructor(private readonly options: DpdkTargetOptions = {}) {}

  describe(): TargetDescription {
    const where = this.ports.map((p) => `${p.port}@${p.far ? p.devargs.split(',')[0] : p.devargs}`);
    return {
      target: 'dpdk',
      address: where.join(' ') || '(not started)',
      deviceId: 0,
      ...(this.placement ? { placement: this.placement } : {}),
    };
  }

  async start(plan: Plan): Promise<void> {
    this.queues = Math.max(1, plan.queues.length);
    try {
      if (this.options.ports?.length) {
        this.ports = givenPorts(this.options.ports, plan.profile.wirePorts);
      } else {
        const made = labPorts(plan.profile.wirePorts, this.queues);
        this.lab = made.lab;
        this.ports = made.ports;
      }
    } catch (err) {
      if (err instanceof Error)
        throw new TargetError('start-target', err.message, (err as { hint?: string }).hint);
      throw err;
    }
  }

  async install(nic: NicArtifacts, onStep?: (step: InstallStep) => void): Promise<Installed> {
    // The software NIC: the same pipeline and entries any P4Runtime target gets, loaded straight
    // into the engine that will run inline.
    onStep?.('connect');
    const device = new SoftnicDevice();
    try {
      await installArtifacts(device, { p4info: nic.p4info, bmv2: nic.bmv2, entries: nic.entries });
    } catch (err) {
      await device.close();
      const message = err instanceof Error ? err.message : String(err);
      throw new TargetError(/^entry \d+/.test(message) ? 'write-entries' : 'push-pipeline', message);
    }
    onStep?.('push-pipeline');
    onStep?.('write-entries');
    this.device = device;
    this.nic = nic;
    this.placement = {
      nic: 'software',
      nfs: [],
      notices: [],
    };
    return {
      rollback: async () => {
        // Nothing outlives the deployment: the engine goes with the target.
      },
    };
  }

  hostAttachment(): HostAttachment {
    return {
      kind: 'runtime',
      port: { kind: 'ports', devargs: this.ports.map((p) => p.devargs).join(';') },
      mode: 'presorted',
      captureDrops: false,
    };
  }

  async linkHost(host: LoadedHostPlan): Promise<void> {
    const engine = this.engine();
    const nic = this.nic!;
    const hostPorts = nic.pipeline.hostPorts;
    // Frames the host transmits on hardware queue q re-enter the pipeline on its host port.
    const returnPorts = Int32Array.from({ length: this.queues }, (_, q) => hostPorts[q] ?? hostPorts[0]);
    try {
      engine.attachInline(host.handle, {
        wirePorts: Int32Array.from(this.ports, (p) => p.port),
        hostPorts: Int32Array.from(hostPorts),
        returnPorts,
      });
    } catch (err) {
      throw new TargetError('start-host', `cannot run the NIC pipeline inline: ${(err as Error).message}`);
    }
  }

  dataPath(ctx: DataPathContext): DataPath {
    const lab = this.ports.filter((p) => p.far);
    if (lab.length === 0) return new CarriedDataPath();
    const ends = new Map<number, WireEnd>(
      lab.map((p) => [p.port, { ifname: p.far!.ifname, netns: p.far!.netns }]),
    );
    return new WireDataPath(
      ctx.plan,
      ctx.nic,
      async () => this.readDrops(),
      ends,
      ctx.recordFates,
      ctx.host !== undefined,
      ctx.onEgress,
    );
  }

  async readCounters(): Promise<NicCounters> {
    const out: NicCounters = {};
    const engine = this.device?.engine;
    if (!engine || !this.nic) return out;
    for (const c of this.nic.p4info.counters ?? []) {
      const name = c.preamble?.name ?? '';
      const size = Number(c.size ?? 0);
      for (let i = 0; i < size; i++) {
        const packets = engine.counterRead(name, i).packets;
        if (packets > 0) (out[name] ??= {})[i] = packets;
      }
    }
    return out;
  }

  /** The inline engine's own counters (software, offloaded, cross-port...). */
  inlineStats(): InlineStats | undefined {
    const engine = this.device?.engine as (NativeEngine & Partial<InlineEngine>) | undefined;
    return engine?.inlineStats?.();
  }

  async stop(): Promise<void> {
    // The host plan (and with it the inline stage) is stopped by deploy before this runs.
    await this.device?.close();
    this.device = undefined;
    this.lab?.remove();
    this.lab = undefined;
  }

  private readDrops(): number[] {
    const engine = this.device?.engine;
    const nic = this.nic;
    const counts: number[] = [];
    if (!engine || !nic) return counts;
    for (const r of nic.entries.dropReasons)
      counts[r.code] = engine.counterRead(nic.entries.dropCounter.name, r.code).packets;
    return counts;
  }

  private engine(): NativeEngine & InlineEngine {
    const engine = this.device?.engine as (NativeEngine & Partial<InlineEngine>) | undefined;
    if (!engine?.attachInline)
      throw new TargetError(
        'start-host',
        'the softnic engine has no inline stage (rebuild the addon: npm run build:native)',
      );
    return engine as NativeEngine & InlineEngine;
  }
}
