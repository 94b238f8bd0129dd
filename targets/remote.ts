/**
 * A P4Runtime device that is already running somewhere (`--grpc ADDRESS`): a stand-alone softnic,
 * simple_switch_grpc, or any switch that takes BMv2 JSON. nfp only connects, installs the NIC
 * half (restoring the device's previous pipeline on failure), reads counters and disconnects; the
 * device's own ports carry the traffic and the NIC half stays deployed after nfp exits.
 */
import type { Plan } from '../partitioner/plan';
import { CarriedDataPath } from './carried-datapath';
import { P4RuntimeTarget, type P4RuntimeSession } from './p4runtime-target';
import type { DataPath, HostAttachment } from './target';

export class RemoteP4RuntimeTarget extends P4RuntimeTarget {
  constructor(
    name: string,
    private readonly remote: string,
    session: P4RuntimeSession,
  ) {
    super(name, session);
  }

  protected async startDevice(_plan: Plan): Promise<string> {
    return this.remote;
  }

  protected async stopDevice(): Promise<void> {}

  hostAttachment(): HostAttachment {
    return { kind: 'none', why: `the device at ${this.remote} carries its own traffic` };
  }

  dataPath(): DataPath {
    return new CarriedDataPath();
  }
}
