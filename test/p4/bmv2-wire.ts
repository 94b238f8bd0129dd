/**
 * A real simple_switch_grpc with nfp's pipeline loaded, for tests: launched in a namespace with
 * one veth pair per wire and host port (targets/bmv2/launch.ts), programmed over P4Runtime by
 * nfp's client, and driven through raw sockets on the veth ends, so a frame can be sent into any
 * port and whatever leaves any port collected.
 */
import { launchBmv2, type Bmv2Switch } from '../../targets/bmv2/launch';
import { loadSoftnic, type NativeRawSocket } from '../../targets/softnic/native';
import { entriesToUpdates, type NicArtifacts } from '../../p4';
import { P4RuntimeClient } from '../../p4runtime/client';
import { insert, modify } from '../../p4runtime/updates';
import { UpdateType } from '../../p4runtime/messages';

export interface WireFrame {
  port: number;
  data: Buffer;
}

export interface Bmv2Wire {
  sw: Bmv2Switch;
  client: P4RuntimeClient;
  send(port: number, frame: Buffer): void;
  /** Frames that left any port, waiting up to `ms` for the first and a little for the rest. */
  collect(ms?: number): Promise<WireFrame[]>;
  close(): Promise<void>;
}

/** Launches BMv2 with the artifacts' ports and CPU port, loads `deviceConfig` and the entries. */
export async function bmv2Wire(a: NicArtifacts, deviceConfig: string): Promise<Bmv2Wire> {
  const p = a.pipeline;
  const sw = await launchBmv2({
    wirePorts: p.wirePorts,
    hostPorts: p.hostPorts,
    deviceId: 1,
    cpuPort: p.cpuPort,
  });
  const sockets = new Map<number, NativeRawSocket>();
  const client = new P4RuntimeClient({ address: sw.address, electionId: 10, reconnect: false });
  const close = async (): Promise<void> => {
    client.close();
    for (const s of sockets.values()) s.close();
    await sw.stop();
  };
  try {
    const { RawSocket } = loadSoftnic();
    for (const [port, ifname] of sw.wireInterfaces) sockets.set(port, new RawSocket(ifname));
    p.hostPorts.forEach((port, i) => sockets.set(port, new RawSocket(sw.hostInterfaces[i])));
    await client.connect();
    await client.waitForPrimary();
    await client.setPipeline({ p4info: a.p4info, deviceConfig });
    await client.write(
      entriesToUpdates(a.entries).map((u) =>
        u.type === UpdateType.INSERT ? insert(u.entity!) : modify(u.entity!),
      ),
    );
  } catch (err) {
    await close();
    throw err;
  }
  const drain = (): WireFrame[] =>
    [...sockets].flatMap(([port, s]) => s.recv(64).map((data) => ({ port, data })));
  return {
    sw,
    client,
    send(port, frame): void {
      const s = sockets.get(port);
      if (!s) throw new Error(`no veth for port ${port}`);
      s.send(frame);
    },
    async collect(ms = 300): Promise<WireFrame[]> {
      const out: WireFrame[] = [];
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const got = drain();
        out.push(...got);
        if (out.length && !got.length) break;
        await new Promise((r) => setTimeout(r, out.length ? 20 : 5));
      }
      return out;
    },
    close,
  };
}
