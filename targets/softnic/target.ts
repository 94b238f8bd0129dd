/**
 * The embedded softnic as a target: a SoftnicDevice in this process behind a P4Runtime server on
 * a loopback port (so deploy installs through the same client code as on a real switch), the host
 * runtime's host queues as in-memory rings, and traffic carried in-process by SoftnicDataPath.
 */
import type { Plan } from '../../partitioner/plan';
import { P4RuntimeServer } from '../../p4runtime/server';
import { P4RuntimeTarget, type P4RuntimeSession } from '../p4runtime-target';
import type { DataPath, DataPathContext, HostAttachment } from '../target';
import { SoftnicDataPath, type DataPathMode } from './datapath';
import { SoftnicDevice } from './device';
import { LivePortsDataPath, openWireSockets } from './live';

export class SoftnicTarget extends P4RuntimeTarget {
  private device: SoftnicDevice | undefined;
  private server: P4RuntimeServer | undefined;

  constructor(
    session: P4RuntimeSession,
    private readonly mode: DataPathMode = 'auto',
    /** Wire port → network interface: carry live traffic on them instead of generated traffic. */
    private readonly ports?: Record<number, string>,
  ) {
    super('softnic', session);
  }

  protected async startDevice(_plan: Plan): Promise<string> {
    this.device = new SoftnicDevice();
    this.server = new P4RuntimeServer({
      device: this.device,
      deviceId: this.session.deviceId,
      address: '127.0.0.1:0',
    });
    await this.server.start();
    return this.server.address;
  }

  protected async stopDevice(): Promise<void> {
    await this.server?.stop(100);
    this.server = undefined;
  }

  hostAttachment(): HostAttachment {
    // The engine hands frames to the host queues itself; dropped ones come back with a reason.
    return { kind: 'runtime', port: { kind: 'ring' }, mode: 'presorted', captureDrops: true };
  }

  dataPath(ctx: DataPathContext): DataPath {
    if (!this.device || !ctx.host) throw new Error('the softnic data path needs a started device and host');
    if (this.ports) {
      const sockets = openWireSockets(this.ports);
      const onEgress = (port: number, frame: Buffer): void => {
        sockets.get(port)?.send(frame);
        ctx.onEgress?.(port, frame);
      };
      const inner = new SoftnicDataPath(ctx.plan, this.device, ctx.nic, ctx.host, false, onEgress, this.mode);
      return new LivePortsDataPath(inner, sockets, ctx.classify ?? (() => undefined));
    }
    return new SoftnicDataPath(
      ctx.plan,
      this.device,
      ctx.nic,
      ctx.host,
      ctx.recordFates,
      ctx.onEgress,
      this.mode,
    );
  }
}
