/**
 * A real BMv2 (`simple_switch_grpc`) that nfp launches in a network namespace of its own, its
 * ports veth pairs into this one: the host runtime attaches to the host ports' veths through
 * net_af_packet, and traffic goes in and out through raw sockets on the wire ports' veths.
 */
import type { Plan } from '../../partitioner/plan';
import { LabError } from '../netns';
import { P4RuntimeTarget, type P4RuntimeSession } from '../p4runtime-target';
import { TargetError, type DataPath, type DataPathContext, type HostAttachment } from '../target';
import { WireDataPath, type WireEnd } from '../wire-datapath';
import { Bmv2LaunchError, launchBmv2, type Bmv2Switch, type SwitchCommand } from './launch';

export class Bmv2Target extends P4RuntimeTarget {
  private launched: Bmv2Switch | undefined;

  constructor(
    session: P4RuntimeSession,
    /** Run this P4Runtime switch instead of simple_switch_grpc (tests: the stand-alone softnic). */
    private readonly command?: SwitchCommand,
  ) {
    super('bmv2', session);
  }

  protected async startDevice(plan: Plan): Promise<string> {
    try {
      this.launched = await launchBmv2({
        wirePorts: plan.profile.wirePorts,
        hostPorts: hostPortsByQueue(plan),
        deviceId: this.session.deviceId,
        command: this.command,
      });
    } catch (err) {
      if (err instanceof Bmv2LaunchError || err instanceof LabError)
        throw new TargetError('start-target', err.message, err.hint);
      throw err;
    }
    return this.launched.address;
  }

  protected async stopDevice(): Promise<void> {
    await this.launched?.stop();
    this.launched = undefined;
  }

  hostAttachment(): HostAttachment {
    const sw = this.need();
    // Each host queue is a net_af_packet port on its host port's veth.
    return {
      kind: 'runtime',
      port: {
        kind: 'vdevs',
        devargs: sw.hostInterfaces
          .map((ifname) => `net_af_packet_${ifname},iface=${ifname},qpairs=1`)
          .join(';'),
      },
      mode: 'presorted',
      captureDrops: false,
    };
  }

  dataPath(ctx: DataPathContext): DataPath {
    const ends = new Map<number, WireEnd>(
      [...this.need().wireInterfaces].map(([port, ifname]) => [port, { ifname }]),
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

  private need(): Bmv2Switch {
    if (!this.launched) throw new Error('the BMv2 switch is not started');
    return this.launched;
  }
}

/** The NIC's host port of each host queue, in queue order (one port when the plan has none). */
function hostPortsByQueue(plan: Plan): number[] {
  const ports = plan.queues.map((q) => plan.profile.hostPorts[q.id]);
  return ports.length ? ports : plan.profile.hostPorts.slice(0, 1);
}
