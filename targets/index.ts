/**
 * The targets package's front: the Target contract, and `openTarget`, which turns a target's
 * spec into one. `deploy/` reaches targets through this module only.
 */
import { Bmv2Target } from './bmv2/target';
import { DpdkTarget, type OffloadMode } from './dpdk/target';
import type { NicFamily } from './dpdk/caps';
import type { SwitchCommand } from './bmv2/launch';
import { RemoteP4RuntimeTarget } from './remote';
import { SoftnicTarget } from './softnic/target';
import type { DataPathMode } from './softnic/datapath';
import type { Target } from './target';

export * from './target';
export { emptyRun } from './account';
export { PcapWriter, readPcap, type PcapRecord } from './pcap';
export type { SwitchCommand } from './bmv2/launch';
export type { DataPathMode } from './softnic/datapath';
export { NIC_FAMILIES, type NicFamily } from './dpdk/caps';
export type { OffloadMode } from './dpdk/target';

/** The NIC target kinds `nfp deploy --target` offers. */
export const TARGET_KINDS = ['softnic', 'bmv2', 'dpdk'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

interface P4RuntimeSpec {
  /** An already running device to install on (HOST:PORT or unix:PATH); absent: nfp starts one. */
  grpc?: string;
  deviceId?: number;
  electionId?: number;
}

/** What to open; each kind takes its own settings. */
export type TargetSpec =
  | ({
      kind: 'softnic';
      /** How batches cross to the host (tests compare the two). */
      dataPath?: DataPathMode;
      /** Wire port → network interface: carry the live traffic arriving there (a node agent). */
      ports?: Record<number, string>;
    } & P4RuntimeSpec)
  | ({
      kind: 'bmv2';
      /** Run this switch instead of simple_switch_grpc (tests). */
      switchCommand?: SwitchCommand;
    } & P4RuntimeSpec)
  | {
      kind: 'dpdk';
      /** `N@DEVARGS` per wire port (a PCI address or a vdev spec); absent: veth ports in a namespace. */
      ports?: string[];
      /** The NIC family whose rte_flow profile applies (default: recognised from the ports). */
      nic?: NicFamily | 'auto';
      /** auto: offload what the NIC takes, software for the rest; require: a refusal fails; off. */
      offload?: OffloadMode;
    };

/** A target for `spec`, not yet started. */
export function openTarget(spec: TargetSpec): Target {
  if (spec.kind === 'dpdk')
    return new DpdkTarget({ ports: spec.ports, nic: spec.nic, offload: spec.offload });
  const session = { deviceId: spec.deviceId ?? 1, electionId: spec.electionId };
  if (spec.grpc !== undefined) return new RemoteP4RuntimeTarget(spec.kind, spec.grpc, session);
  return spec.kind === 'softnic'
    ? new SoftnicTarget(session, spec.dataPath, spec.ports)
    : new Bmv2Target(session, spec.switchCommand);
}

/** Whether `t` is a Target already (rather than a spec). */
export function isTarget(t: Target | TargetSpec): t is Target {
  return typeof (t as Partial<Target>).install === 'function';
}
