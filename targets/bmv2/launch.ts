/**
 * Launches a real BMv2 (`simple_switch_grpc --no-p4`) for `nfp deploy --target bmv2`: the switch
 * runs in a network namespace of its own, each of its ports is one end of a veth pair whose other
 * end stays here (the wire ends for traffic, the host ends for the host runtime's net_af_packet
 * ports), and its P4Runtime server listens on a unix socket, so nothing is bound on the network.
 *
 * Everything it creates is named after this process (`nfp-<pid>-<n>`): `stop()` removes it, and a
 * later launch sweeps what a killed process left behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NfpError } from '../../partitioner/errors';

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

let launches = 0;

export function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, binary))) return join(dir, binary);
  }
  return undefined;
}

function ip(args: string[], what: string): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) throw new Bmv2LaunchError(`cannot run \`ip\` (${r.error.message})`, 'install iproute2');
  if (r.status !== 0) throw new Bmv2LaunchError(`${what}: ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

function quietly(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces (and with them their veths) of nfp processes that died without cleaning up. */
export function sweepStaleNamespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const removed: string[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^(nfp-(\d+)-\d+)\b/.exec(line.trim());
    if (!m || Number(m[2]) === process.pid || pidAlive(Number(m[2]))) continue;
    killNamespace(m[1]);
    removed.push(m[1]);
  }
  return removed;
}

function killNamespace(ns: string): void {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  for (const pid of (r.stdout ?? '').split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  quietly('ip', ['netns', 'del', ns]);
}

/**
 * The veths carry jumbo frames, so that a frame longer than the NIC takes reaches the switch and
 * is dropped there (oversize), as on a real link, rather than refused by the sending kernel.
 */
const VETH_MTU = '9600';

/** Interface names are at most 15 characters: `nfp` + pid (base 36) + launch + role + port. */
function ifName(tag: string, role: 'w' | 'h', port: number): string {
  return `n${tag}${role}${port}`;
}

/** Settings that keep a veth end quiet and transparent: no IPv6 chatter, no offloads. */
function quiet(ifname: string, ns?: string): void {
  const run = (cmd: string, args: string[]): void =>
    ns ? quietly('ip', ['netns', 'exec', ns, cmd, ...args]) : quietly(cmd, args);
  run('sysctl', ['-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
  // Segmentation or checksum offloads would hand frames on that are not what was on the wire.
  run('ethtool', ['-K', ifname, 'tx', 'off', 'rx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  run('ethtool', ['-K', ifname, 'rxvlan', 'off', 'txvlan', 'off']);
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
  sweepStaleNamespaces();
  const n = launches++;
  const tag = `${process.pid.toString(36)}${n.toString(36)}`;
  const namespace = `nfp-${process.pid}-${n}`;
  const dir = mkdtempSync(join(tmpdir(), 'nfp-bmv2-'));
  const socket = join(dir, 'p4runtime.sock');
  const logFile = join(dir, 'bmv2.log');
  const wireInterfaces = new Map<number, string>();
  const hostInterfaces: string[] = [];
  let child: ChildProcess | undefined;

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
    killNamespace(namespace);
    for (const name of [...wireInterfaces.values(), ...hostInterfaces]) quietly('ip', ['link', 'del', name]);
    rmSync(dir, { recursive: true, force: true });
  };
  // If the process exits without stop() (an uncaught error), still leave nothing behind.
  const onExit = (): void => {
    child?.kill('SIGKILL');
    killNamespace(namespace);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  try {
    ip(['netns', 'add', namespace], 'cannot create the switch namespace');
    quietly('ip', ['netns', 'exec', namespace, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    quietly('ip', ['netns', 'exec', namespace, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
    ip(['-n', namespace, 'link', 'set', 'lo', 'up'], 'cannot bring up the namespace loopback');
    const switchPorts: Array<{ port: number; ifname: string }> = [];
    const attach = (port: number, role: 'w' | 'h'): string => {
      const here = ifName(tag, role, port);
      const there = `sw${port}`;
      ip(
        [
          'link',
          'add',
          here,
          'mtu',
          VETH_MTU,
          'type',
          'veth',
          'peer',
          'name',
          there,
          'mtu',
          VETH_MTU,
          'netns',
          namespace,
        ],
        `cannot create the veth pair for port ${port}`,
      );
      quiet(here);
      quiet(there, namespace);
      ip(['link', 'set', here, 'up'], `cannot bring up ${here}`);
      ip(['-n', namespace, 'link', 'set', there, 'up'], `cannot bring up ${there}`);
      switchPorts.push({ port, ifname: there });
      return here;
    };
    for (const port of opts.wirePorts) wireInterfaces.set(port, attach(port, 'w'));
    for (const port of opts.hostPorts) hostInterfaces.push(attach(port, 'h'));

    const argv = (opts.command ?? bmv2Command(binary, opts.deviceId))(switchPorts, socket, logFile);
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
    namespace,
    wireInterfaces,
    hostInterfaces,
    logFile,
    pid: child!.pid ?? 0,
    stop,
  };
}

/** simple_switch_grpc without a program, its P4Runtime server on the unix socket. */
function bmv2Command(binary: string, deviceId: number): SwitchCommand {
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
