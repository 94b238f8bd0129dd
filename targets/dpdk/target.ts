/**
 * `--target dpdk`: the NIC half on the host runtime's own DPDK ports, on any DPDK NIC. What the
 * NIC's driver can do is offloaded through rte_flow (classification to the path's queue, MARK,
 * DROP, COUNT, meters); everything else runs in software: the softnic engine executes the same
 * BMv2 JSON pipeline inline on the lcore that receives each burst, before the host NFs, and on
 * the lcore that transmits what the host NFs finished (the return path).
 *
 * Without `--port`, the target makes its own ports: one veth pair per wire port in a network
 * namespace, DPDK's net_af_packet on the ends here, the traffic sent and read on the far ends.
 *
 * Offload (`offload: 'auto'`, the default) is a speed-up, never a requirement: rules the NIC's
 * driver refuses leave the NIC half in software, with a notice. `offload: 'require'` makes a
 * refusal fail the deployment instead (atomically: no rule stays behind); `'off'` installs none.
 */
import { readFileSync } from 'node:fs';
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
import { familyOfDriver, familyOfPciIds, nicCaps, type NicFamily } from './caps';
import { emitFlowArtifacts, type FlowRuleSet } from './flow';
import { loadDpdk, nativeRuleSet, type FlowInstallError } from './native';
import { givenPorts, isPci, labPorts, type WirePort } from './ports';

export type OffloadMode = 'auto' | 'require' | 'off';

export interface DpdkTargetOptions {
  /** `N@DEVARGS` per wire port; absent: a veth lab in a namespace. */
  ports?: string[];
  /** The NIC's family (its capability profile); `auto`: from the ports' PCI ids or vdev drivers. */
  nic?: NicFamily | 'auto';
  offload?: OffloadMode;
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
  /** Frames the NIC classified whose verdict the stage did not trust (a wire check failed): run in software. */
  rechecked: number;
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
  private plan: Plan | undefined;
  private family: NicFamily = 'software';
  private placement: NicPlacementReport | undefined;
  private ruleSet: FlowRuleSet | undefined;
  /** The installed rule set (native id), while the host plan holds it. */
  private flows: number | undefined;

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
    this.plan = plan;
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
    this.family =
      this.options.nic && this.options.nic !== 'auto' ? this.options.nic : familyOfPorts(this.ports);
    if (this.options.offload === 'require' && !nicCaps(this.family).flowApi) {
      throw new TargetError(
        'start-target',
        `offload is required, but the ports (${this.ports.map((p) => p.devargs.split(',')[0]).join(', ')}) have no flow API (NIC family ${this.family})`,
        'name the NIC family with --nic if it was not recognised, or use --offload auto to run the NIC half in software',
      );
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
    // The NIC's part: the rule set its profile takes (checked before anything is installed).
    const family = this.options.offload === 'off' ? 'software' : this.family;
    const flows = emitFlowArtifacts(
      this.plan!,
      nic,
      family,
      this.ports.map((p) => p.port),
    );
    onStep?.('write-entries');
    this.device = device;
    this.nic = nic;
    this.ruleSet = flows.ruleSet;
    this.placement = flows.placement;
    if (this.options.offload === 'off')
      this.placement.notices.unshift('offload is off: the NIC half runs in software');
    return {
      rollback: async () => {
        // Nothing outlives the deployment: the rules go with the host plan, the engine with the target.
      },
    };
  }

  hostAttachment(): HostAttachment {
    const devices = this.ports.filter((p) => isPci(p.devargs)).map((p) => p.devargs);
    return {
      kind: 'runtime',
      port: {
        kind: 'ports',
        devargs: this.ports.map((p) => p.devargs).join(';'),
        ...(this.ruleSet?.isolate ? { isolate: true } : {}),
      },
      mode: 'presorted',
      captureDrops: false,
      ...(devices.length ? { devices } : {}),
    };
  }

  async linkHost(host: LoadedHostPlan): Promise<void> {
    const engine = this.engine();
    const nic = this.nic!;
    const rs = this.ruleSet!;
    const hostPorts = nic.pipeline.hostPorts;
    // Frames the host transmits on hardware queue q re-enter the pipeline on its host port.
    const returnPorts = Int32Array.from({ length: this.queues }, (_, q) => hostPorts[q] ?? hostPorts[0]);
    // What a MARK stands for: a host path's SPI carries its tenant and first service index.
    const maxSpi = Math.max(0, ...rs.hostPaths.map((h) => h.spi));
    const tenantOfSpi = new Int32Array(maxSpi + 1).fill(-1);
    const siOfSpi = new Int32Array(maxSpi + 1).fill(0);
    for (const h of rs.hostPaths) {
      tenantOfSpi[h.spi] = h.tenant;
      siOfSpi[h.spi] = h.si;
    }
    try {
      engine.attachInline(host.handle, {
        wirePorts: Int32Array.from(this.ports, (p) => p.port),
        hostPorts: Int32Array.from(hostPorts),
        returnPorts,
        tenantOfSpi,
        siOfSpi,
      });
    } catch (err) {
      throw new TargetError('start-host', `cannot run the NIC pipeline inline: ${(err as Error).message}`);
    }
    if (rs.rules.length) this.installFlows(host);
  }

  /** Validates every rule, then creates them; a refusal falls back to software or fails (require). */
  private installFlows(host: LoadedHostPlan): void {
    const rs = this.ruleSet!;
    const dpdk = loadDpdk();
    const ports = dpdk.portInfo(host.handle);
    ports.forEach((p, i) => {
      const seen = familyOfDriver(p.driver);
      if (seen !== this.family && seen !== 'software')
        this.placement!.notices.push(
          `port ${this.ports[i].port} runs driver ${p.driver} (${seen}), rules are for ${this.family}`,
        );
    });
    try {
      this.flows = dpdk.flowInstall(host.handle, nativeRuleSet(rs));
      return;
    } catch (err) {
      const e = err as FlowInstallError;
      const rule = e.phase === 'meter' ? undefined : rs.rules[e.index];
      const port = rule ? rule.port : this.ports[0].port;
      const driver = ports[this.ports.findIndex((p) => p.port === port)]?.driver ?? '?';
      const what =
        e.phase === 'meter'
          ? `meter ${e.index} (${rs.meters[e.index]?.cell.meter}[${rs.meters[e.index]?.cell.index}])`
          : `rule ${e.index} (${rule?.origin.what ?? '?'})`;
      const message = `wire port ${port} (${driver}) refused ${what} at ${e.phase === 'meter' ? 'rte_mtr' : `rte_flow_${e.phase}`}: ${e.message}; no rule was left installed`;
      if (this.options.offload === 'require')
        throw new TargetError(
          'write-entries',
          message,
          'use --offload auto to run what the NIC refuses in software',
        );
      // The NIC half runs in software: every packet reaches the inline pipeline unmarked.
      if (ports.some((p) => p.isolate === 0)) {
        const back = dpdk.flowIsolate(host.handle, false);
        if (back.some((rc) => rc !== 0))
          throw new TargetError(
            'write-entries',
            `${message}; and the ports cannot leave flow isolation, so no traffic would reach them`,
          );
      }
      this.placement = {
        nic: this.family,
        nfs: this.placement!.nfs.map((n) => ({
          ...n,
          where: 'software',
          reason: 'the NIC refused the rules: software fallback',
        })),
        paths: this.placement!.paths?.map((p) => ({
          ...p,
          where: 'software',
          reason: 'the NIC refused the rules: software fallback',
        })),
        notices: [`${message}: the NIC half runs in software (offload is a speed-up, not a requirement)`],
      };
      this.ruleSet = { ...rs, rules: [], counters: [], meters: [], isolate: false };
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
      () => this.readDrops(),
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
    // What the NIC counted itself: flow counters and red meter drops, into the same cells.
    const add = (name: string, index: number, n: number): void => {
      if (n > 0) (out[name] ??= {})[index] = (out[name]?.[index] ?? 0) + n;
    };
    const rs = this.ruleSet;
    if (this.flows !== undefined && rs) {
      const read = loadDpdk().flowRead(this.flows);
      read.counters.forEach((n, id) => {
        for (const cell of rs.counters[id]?.cells ?? []) add(cell.counter, cell.index, n);
      });
      read.meterRed.forEach((n, i) => add(rs.dropCounter, rs.meters[i].redReason, n));
    }
    return out;
  }

  /** The inline engine's own counters (software, offloaded, cross-port...). */
  inlineStats(): InlineStats | undefined {
    const engine = this.device?.engine as (NativeEngine & Partial<InlineEngine>) | undefined;
    return engine?.inlineStats?.();
  }

  async stop(): Promise<void> {
    // The host plan (and with it the inline stage and the rules) is stopped by deploy before this.
    this.flows = undefined;
    await this.device?.close();
    this.device = undefined;
    this.lab?.remove();
    this.lab = undefined;
  }

  private async readDrops(): Promise<number[]> {
    const nic = this.nic;
    const counts: number[] = [];
    if (!nic) return counts;
    const cells = (await this.readCounters())[nic.entries.dropCounter.name] ?? {};
    for (const r of nic.entries.dropReasons) counts[r.code] = cells[r.code] ?? 0;
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

/** The family of the ports: from a PCI device's ids in sysfs, or a vdev's driver (software). */
function familyOfPorts(ports: WirePort[]): NicFamily {
  const families = ports.map((p) => {
    if (!isPci(p.devargs)) return familyOfDriver(p.devargs.split(',')[0]);
    try {
      const dir = `/sys/bus/pci/devices/${p.devargs}`;
      return familyOfPciIds(
        Number(readFileSync(`${dir}/vendor`, 'utf8')),
        Number(readFileSync(`${dir}/device`, 'utf8')),
      );
    } catch {
      return 'software';
    }
  });
  // One rule set for all ports: a mixed set gets what every one of them can take.
  return families.every((f) => f === families[0]) ? families[0] : 'software';
}
