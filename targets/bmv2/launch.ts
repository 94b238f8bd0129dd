/**
 * Launches a real BMv2 (`simple_switch_grpc --no-p4`) for `nfp deploy --target bmv2`: the switch
 * runs in a network namespace of its own, each of its ports is one end of a veth pair whose other
 * end stays here (the wire ends for traffic, the host ends for the host runtime's net_af_packet
 * ports), and its P4Runtime server listens on a unix socket, so nothing is bound on the network.
 *
 * Everything it creates is named after this process (`nfp-<pid>-<n>`): `stop()` removes it, and a
 * later launch sweeps what a killed process left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NfpError } from '../../partitioner/errors';
import { Lab } from '../netns';

export { sweepStaleNamespaces } from '../netns';

export const BMV2_BINARY = 'simple_switch_grpc';

/** How to start a switch on given ports: its argv (run inside the namespace). */
export type SwitchCommand = (
  ports: Array<{ port: number; ifname: string }>,
  socket: string,
  logFile: string,
) => string[];

export interface Bmv2LaunchOptions {
  /** NIC ports that face the wire: traffic enters and leaves through their veth ends here. */
  wirePorts: number[];
  /** NIC ports that face the host, in host-queue order: the host runtime attaches to their ends. */
  hostPorts: number[];
  deviceId: number;
  /**
   * The port that connects to the controller (`--cpu-port`): PacketOut enters the pipeline
   * there and egress to it becomes PacketIn (default 255, as in nfp's NIC profiles).
   */
  cpuPort?: number;
  /** Binary to run (default: simple_switch_grpc on PATH). */
  binary?: string;
  /**
   * Another P4Runtime switch to run in the namespace instead (such as `nfp softnic` with iface
   * ports); its name is `binary`.
   */
  command?: SwitchCommand;
  /** How long to wait for the P4Runtime server (default 20 s). */
  readyTimeoutMs?: number;
}

export interface Bmv2Switch {
  /** P4Runtime address (a unix socket). */
  address: string;
  namespace: string;
  /** Interface here for each wire port. */
  wireInterfaces: Map<number, string>;
  /** Interface here for each host port, in the order of `hostPorts`. */
  hostInterfaces: string[];
  /** The switch's own log (warnings and errors). */
  logFile: string;
  /** The switch process (`ip netns exec` execs it, so this is the switch itself). */
  pid: number;
  stop(): Promise<void>;
}

/** The switch cannot be launched here; the message says what is missing. */
export class Bmv2LaunchError extends NfpError {}

export function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, binary))) return join(dir, binary);
  }
  return undefined;
}

export async function launchBmv2(opts: Bmv2LaunchOptions): Promise<Bmv2Switch> {
  const binary = opts.binary ?? (opts.command ? 'switch' : findOnPath(BMV2_BINARY));
  if (!binary) {
    throw new Bmv2LaunchError(
      `the bmv2 target needs ${BMV2_BINARY}, which is not on PATH`,
      'build it from p4lang/behavioral-model with --with-pi and put it on PATH, or pass --grpc HOST:PORT of a running one',
    );
  }
  if (process.getuid?.() !== 0) {
    throw new Bmv2LaunchError(
      'launching BMv2 creates a network namespace and veth pairs, which needs root (CAP_NET_ADMIN)',
      'run as root, or start simple_switch_grpc yourself and pass --grpc HOST:PORT',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'nfp-bmv2-'));
  const socket = join(dir, 'p4runtime.sock');
  const logFile = join(dir, 'bmv2.log');
  const wireInterfaces = new Map<number, string>();
  const hostInterfaces: string[] = [];
  let child: ChildProcess | undefined;
  let lab: Lab | undefined;

  const stop = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener('exit', onExit);
    // Deleting the namespace deletes the switch's veth ends, and with them their peers here.
    lab?.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  // If the process exits without stop() (an uncaught error), still leave nothing behind.
  const onExit = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  try {
    lab = new Lab('launching BMv2');
    const namespace = lab.namespace;
    const switchPorts: Array<{ port: number; ifname: string }> = [];
    const attach = (port: number, role: 'w' | 'h'): string => {
      const { here, there } = lab!.addVeth(port, role, `sw${port}`);
      switchPorts.push({ port, ifname: there });
      return here;
    };
    for (const port of opts.wirePorts) wireInterfaces.set(port, attach(port, 'w'));
    for (const port of opts.hostPorts) hostInterfaces.push(attach(port, 'h'));

    const argv = (opts.command ?? bmv2Command(binary, opts.deviceId, opts.cpuPort ?? 255))(
      switchPorts,
      socket,
      logFile,
    );
    child = spawn('ip', ['netns', 'exec', namespace, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
    while (!existsSync(socket)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Bmv2LaunchError(
          `${binary} exited (${child.exitCode ?? child.signalCode}) before serving P4Runtime: ${stderr.trim() || readLog(logFile)}`,
        );
      }
      if (Date.now() > deadline)
        throw new Bmv2LaunchError(
          `${binary} did not open its P4Runtime socket within ${opts.readyTimeoutMs ?? 20_000} ms`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
    // The socket file appears at bind(), a moment before the server accepts: wait for that too.
    while (!(await accepts(socket))) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline)
        throw new Bmv2LaunchError(
          `${binary} created its P4Runtime socket but never accepted on it: ${stderr.trim() || readLog(logFile)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address: `unix:${socket}`,
    namespace: lab.namespace,
    wireInterfaces,
    hostInterfaces,
    logFile,
    pid: child!.pid ?? 0,
    stop,
  };
}

/** simple_switch_grpc without a program, its P4Runtime server on the unix socket. */
function bmv2Command(binary: string, deviceId: number, cpuPort: number): SwitchCommand {
  return (ports, socket, logFile) => [
    binary,
    '--no-p4',
    '--device-id',
    String(deviceId),
    ...ports.flatMap((p) => ['-i', `${p.port}@${p.ifname}`]),
    '--log-file',
    logFile,
    '--log-level',
    'warn',
    '--',
    '--grpc-server-addr',
    `unix:${socket}`,
    '--cpu-port',
    String(cpuPort),
  ];
}

/** Whether something accepts connections on the unix socket `path`. */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}
