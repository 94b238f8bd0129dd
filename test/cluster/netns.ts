/**
 * Network namespaces and veth links for the simulated cluster, all named after one tag so that a
 * crashed run's leftovers can be found and removed, and processes started inside them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout || '').trim()}`);
  return r.stdout;
}

export class Lab {
  readonly namespaces: string[] = [];
  readonly processes: ChildProcess[] = [];
  private n = 0;

  constructor(readonly tag: string) {}

  /** A namespace with loopback up and IPv6 off (no router solicitations on the test links). */
  netns(name: string): string {
    const ns = `${this.tag}-${name}`;
    sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    return ns;
  }

  /** A veth pair: end `a` named `aName` in namespace `aNs` (undefined: this one), end `b` likewise. */
  link(aNs: string | undefined, aName: string, bNs: string | undefined, bName: string): void {
    const t1 = `${this.tag}${this.n++}a`;
    const t2 = `${this.tag}${this.n++}b`;
    sh('ip', ['link', 'add', t1, 'type', 'veth', 'peer', 'name', t2]);
    for (const [tmp, ns, name] of [
      [t1, aNs, aName],
      [t2, bNs, bName],
    ] as Array<[string, string | undefined, string]>) {
      if (ns) {
        sh('ip', ['link', 'set', tmp, 'netns', ns]);
        sh('ip', ['-n', ns, 'link', 'set', tmp, 'name', name]);
        sh('ip', ['-n', ns, 'link', 'set', name, 'up']);
      } else {
        sh('ip', ['link', 'set', tmp, 'name', name]);
        sh('sysctl', ['-qw', `net.ipv6.conf.${name}.disable_ipv6=1`]);
        sh('ip', ['link', 'set', name, 'up']);
      }
    }
  }

  /** Runs `node bin/run.js ...args` inside `ns` (the built CLI), collecting its output. */
  nfp(ns: string, args: string[], log: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, 'bin/run.js', ...args], {
      // The built CLI (dist/), not oclif's development mode that NODE_ENV=test selects.
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const take = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log.push(line);
    };
    p.stdout?.on('data', take);
    p.stderr?.on('data', take);
    this.processes.push(p);
    return p;
  }

  /** Stops every process (SIGKILL after 5 s) and removes every namespace, with its links. */
  async close(): Promise<void> {
    await Promise.all(
      this.processes.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            const t = setTimeout(() => p.kill('SIGKILL'), 5000);
            p.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
    for (const ns of this.namespaces) spawnSync('ip', ['netns', 'del', ns]);
    this.namespaces.length = 0;
  }
}

/** Waits for `p` to exit; resolves with its exit code (or the signal's name). */
export function exited(p: ChildProcess): Promise<number | string> {
  if (p.exitCode !== null) return Promise.resolve(p.exitCode);
  if (p.signalCode !== null) return Promise.resolve(p.signalCode);
  return new Promise((resolve) => p.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}
