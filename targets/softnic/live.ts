/**
 * The softnic on live wire ports: frames that arrive on the network interfaces given for the wire
 * ports (AF_PACKET sockets, polled from the event loop) go through the softnic engine and the host
 * runtime exactly as generated traffic does (SoftnicDataPath), and what leaves a wire port is sent
 * out of that port's interface. Every packet is accounted for per tenant and path, live.
 *
 * This is what a node agent runs on a node whose NIC ports are ordinary netdevs (veth, a VF's
 * netdev); it polls like the stand-alone softnic's iface ports, so it is meant for moderate rates.
 */
import { NfpError } from '../../partitioner/errors';
import { emptyRun } from '../account';
import type { DataPath, TrafficOptions, TrafficPacket, TrafficRun } from '../target';
import type { SoftnicDataPath } from './datapath';
import { loadSoftnic, type NativeRawSocket } from './native';

/** Tenant and path of a wire frame, as the plan classifies it (0 and 0 when it has none). */
export type Classify = (port: number, frame: Buffer) => { tenant: number; path: number } | undefined;

/** Up to this many frames per interface and poll. */
const BURST = 256;

/** Opens one AF_PACKET socket per wire port (port → interface); all or none. */
export function openWireSockets(ports: Record<number, string>): Map<number, NativeRawSocket> {
  const mod = loadSoftnic();
  const sockets = new Map<number, NativeRawSocket>();
  try {
    for (const [port, ifname] of Object.entries(ports)) sockets.set(Number(port), new mod.RawSocket(ifname));
  } catch (err) {
    for (const s of sockets.values()) s.close();
    throw new NfpError(
      `cannot open the wire ports: ${err instanceof Error ? err.message : String(err)}`,
      'give existing interfaces (--port N@iface:NAME) and run as root',
    );
  }
  return sockets;
}

export class LivePortsDataPath implements DataPath {
  private running: TrafficRun | undefined;

  constructor(
    private readonly inner: SoftnicDataPath,
    private readonly sockets: Map<number, NativeRawSocket>,
    private readonly classify: Classify,
  ) {}

  /** Carries what arrives until `seconds` passed (forever when not finite) or aborted. */
  async run(_traffic: TrafficPacket[], seconds: number, opts: TrafficOptions = {}): Promise<TrafficRun> {
    const started = Date.now();
    const { signal } = opts;
    while (!signal?.aborted && Date.now() - started < seconds * 1000) {
      let got = 0;
      for (const [port, socket] of this.sockets) {
        const frames = socket.recv(BURST);
        if (frames.length === 0) continue;
        got += frames.length;
        await this.inner.carry(
          frames.map((data) => ({ port, data, ...(this.classify(port, data) ?? { tenant: 0, path: 0 }) })),
        );
      }
      if (got === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      else await new Promise((resolve) => setImmediate(resolve));
    }
    this.running = this.inner.snapshot();
    return this.running;
  }

  snapshot(): TrafficRun {
    return this.inner.snapshot() ?? emptyRun();
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}
