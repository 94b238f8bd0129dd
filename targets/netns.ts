/**
 * A lab of veth pairs for a target with real ports on this machine: one network namespace per
 * lab, each port one veth pair whose one end stays here and whose other end lives in the
 * namespace. The launched BMv2 runs in the namespace; the dpdk target attaches DPDK to the ends
 * here and sends traffic from the namespace.
 *
 * Everything is named after this process (namespace `nfp-<pid>-<n>`, interfaces
 * `n<pid base 36><n><role><port>`): remove() deletes it, an exit without remove() still does, and
 * a later lab sweeps what a killed process left behind.
 */
import { spawnSync } from 'node:child_process';
import { NfpError } from '../partitioner/errors';

/** The lab cannot be built here; the message says what failed. */
export class LabError extends NfpError {}

let labs = 0;

function ip(args: string[], what: string): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) throw new LabError(`cannot run \`ip\` (${r.error.message})`, 'install iproute2');
  if (r.status !== 0) throw new LabError(`${what}: ip ${args.join(' ')}: ${r.stderr.trim()}`);
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

/** Kills what runs in the namespace and deletes it (and with it the veth ends inside). */
export function killNamespace(ns: string): void {
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

/** Settings that keep a veth end quiet and transparent: no IPv6 chatter, no offloads. */
function quiet(ifname: string, ns?: string): void {
  const run = (cmd: string, args: string[]): void =>
    ns ? quietly('ip', ['netns', 'exec', ns, cmd, ...args]) : quietly(cmd, args);
  run('sysctl', ['-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
  // Segmentation or checksum offloads would hand frames on that are not what was on the wire.
  run('ethtool', ['-K', ifname, 'tx', 'off', 'rx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
  run('ethtool', ['-K', ifname, 'rxvlan', 'off', 'txvlan', 'off']);
}

/**
 * The veths carry jumbo frames, so that a frame longer than the NIC takes reaches the target and
 * is dropped there (oversize), as on a real link, rather than refused by the sending kernel.
 */
const VETH_MTU = '9600';

export interface VethPair {
  /** The end in this namespace. */
  here: string;
  /** The end in the lab's namespace. */
  there: string;
}

export class Lab {
  readonly namespace: string;
  private readonly tag: string;
  private readonly pairs: VethPair[] = [];
  private readonly onExit = (): void => killNamespace(this.namespace);
  private removed = false;

  /** Creates the namespace (root or CAP_NET_ADMIN); `what` names the lab in errors. */
  constructor(what: string) {
    if (process.getuid?.() !== 0) {
      throw new LabError(
        `${what} creates a network namespace and veth pairs, which needs root (CAP_NET_ADMIN)`,
      );
    }
    sweepStaleNamespaces();
    const n = labs++;
    this.tag = `${process.pid.toString(36)}${n.toString(36)}`;
    this.namespace = `nfp-${process.pid}-${n}`;
    process.once('exit', this.onExit);
    try {
      ip(['netns', 'add', this.namespace], `cannot create the namespace for ${what}`);
      const sysctl = (k: string): void =>
        quietly('ip', ['netns', 'exec', this.namespace, 'sysctl', '-q', '-w', `${k}=1`]);
      sysctl('net.ipv6.conf.all.disable_ipv6');
      sysctl('net.ipv6.conf.default.disable_ipv6');
      ip(['-n', this.namespace, 'link', 'set', 'lo', 'up'], 'cannot bring up the namespace loopback');
    } catch (err) {
      this.remove();
      throw err;
    }
  }

  /** A veth pair for `port`: `here` in this namespace, `there` (named `there`) in the lab's. */
  addVeth(port: number, role: string, there: string): VethPair {
    const here = `n${this.tag}${role}${port}`;
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
        this.namespace,
      ],
      `cannot create the veth pair for port ${port}`,
    );
    const pair = { here, there };
    this.pairs.push(pair);
    quiet(here);
    quiet(there, this.namespace);
    ip(['link', 'set', here, 'up'], `cannot bring up ${here}`);
    ip(['-n', this.namespace, 'link', 'set', there, 'up'], `cannot bring up ${there}`);
    return pair;
  }

  /** Deletes the namespace and every veth pair; safe to call twice. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    process.removeListener('exit', this.onExit);
    killNamespace(this.namespace);
    for (const p of this.pairs) quietly('ip', ['link', 'del', p.here]);
  }
}
