/**
 * Runs the softnic as a stand-alone P4Runtime device, in the style of `simple_switch_grpc
 * --no-p4`: a P4Runtime server with the SoftnicDevice under it and the given ports attached.
 * External controllers push the pipeline and entries; packets flow through the ports.
 */
import { NfpError } from '../../partitioner/errors';
import { P4RuntimeServer } from '../../p4runtime/server';
import { SoftnicDevice, type SoftnicStats } from './device';
import { loadSoftnic } from './native';
import { EthdevPort, IfacePort, parsePcapFiles, parsePortSpec, PcapPort, type SoftnicPort } from './ports';

export interface SoftnicServeOptions {
  /** host:port to serve P4Runtime on (default 127.0.0.1:9559). */
  grpc?: string;
  deviceId?: number;
  /** `N@pcap:FILE` (or `N@pcap:rx=IN,tx=OUT`), `N@iface:NAME` or `N@ethdev:DEVARGS` */
  ports?: string[];
  cpuPort?: number;
}

export interface SoftnicInstance {
  address: string;
  deviceId: number;
  ports: Array<{ id: number; describe: string; output?: string }>;
  device: SoftnicDevice;
  /** Stops the server and closes every port; returns the final packet counts. */
  stop(): Promise<SoftnicStats>;
}

function makePort(spec: string): { port: SoftnicPort; output?: string } {
  const p = parsePortSpec(spec);
  if (p.kind === 'pcap') {
    const files = parsePcapFiles(p.target);
    return { port: new PcapPort(p.id, files), output: files.output };
  }
  if (p.kind === 'ethdev') return { port: new EthdevPort(p.id, p.target) };
  return { port: new IfacePort(p.id, p.target) };
}

/** Starts a softnic P4Runtime server; everything started is torn down again if a step fails. */
export async function startSoftnic(opts: SoftnicServeOptions): Promise<SoftnicInstance> {
  // Port specs and their input files first: nothing starts when one is wrong.
  const made = (opts.ports ?? []).map(makePort);
  loadSoftnic(); // fail early, with a build hint, when the native engine is missing
  const ids = new Set<number>();
  for (const m of made) {
    if (ids.has(m.port.id)) throw new NfpError(`port ${m.port.id} is given twice`);
    if (m.port.id === opts.cpuPort) throw new NfpError(`port ${m.port.id} is also the CPU port`);
    ids.add(m.port.id);
  }
  const device = new SoftnicDevice({ cpuPort: opts.cpuPort });
  if (ids.has(device.cpuPort)) throw new NfpError(`port ${device.cpuPort} is also the CPU port`);
  const deviceId = opts.deviceId ?? 1;
  const server = new P4RuntimeServer({ device, deviceId, address: opts.grpc ?? '127.0.0.1:9559' });
  try {
    await server.start();
  } catch (err) {
    throw new NfpError(
      `cannot serve P4Runtime on ${opts.grpc ?? '127.0.0.1:9559'}: ${err instanceof Error ? err.message : String(err)}`,
      'pick a free address with --grpc HOST:PORT (port 0 picks any free port)',
    );
  }
  try {
    for (const m of made) await device.addPort(m.port);
  } catch (err) {
    await server.stop(0);
    throw err;
  }
  return {
    address: server.address,
    deviceId,
    ports: made.map((m) => ({ id: m.port.id, describe: m.port.describe, output: m.output })),
    device,
    async stop(): Promise<SoftnicStats> {
      await server.stop(); // closes the device and with it every port
      return device.getStats();
    },
  };
}
