/**
 * `nfp deploy` as a user runs it: the built CLI, its --json report, bad input, and Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { P4RuntimeServer } from '../../p4runtime/server';
import { SoftnicDevice } from '../../targets/softnic/device';
import { readPcap } from '../../targets/pcap';

const ROOT = join(__dirname, '..', '..');
const NFP = join(ROOT, 'bin', 'run.js');
const EDGE = join(ROOT, 'examples', 'enterprise-edge.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'nfp-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function nfp(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [NFP, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** PATH without any folder that holds simple_switch_grpc. */
function pathWithoutBmv2(): string {
  return (process.env.PATH ?? '')
    .split(':')
    .filter((d) => d && !existsSync(join(d, 'simple_switch_grpc')))
    .join(':');
}

describe('nfp deploy (CLI)', () => {
  it('--json prints a report whose totals account for every packet', () => {
    const out = join(tmp, 'out.pcap');
    const r = nfp(['deploy', EDGE, '--duration', '1', '--json', '--pcap-out', out]);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as {
      totals: { input: number; forwarded: number; dropped: number };
      dropsByReason: Record<string, number>;
      tenants: Array<{
        name: string;
        paths: Array<{ nfs: Array<{ placement: string; cyclesPerPacket?: number }> }>;
      }>;
      nicCounters: Record<string, unknown>;
    };
    expect(report.totals.input).toBeGreaterThan(0);
    expect(report.totals.input).toBe(report.totals.forwarded + report.totals.dropped);
    const dropSum = Object.values(report.dropsByReason).reduce((a, b) => a + b, 0);
    expect(dropSum).toBe(report.totals.dropped);
    expect(report.tenants.map((t) => t.name)).toEqual(['edge']);
    const hostNfs = report.tenants[0].paths.flatMap((p) => p.nfs).filter((n) => n.placement === 'host');
    expect(hostNfs.length).toBeGreaterThan(0);
    expect(hostNfs.every((n) => (n.cyclesPerPacket ?? 0) > 0)).toBe(true);
    expect(Object.keys(report.nicCounters).length).toBeGreaterThan(0);
    // --pcap-out holds exactly the forwarded frames.
    expect(readPcap(out).length).toBe(report.totals.forwarded);
  });

  it('rejects bad input with one clear line and exit status 1', () => {
    const missing = nfp(['deploy', '/nonexistent/graph.yaml', '--duration', '0']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
    const spec = nfp(['deploy', EDGE, '--generate', 'sizes=12', '--duration', '0']);
    expect(spec.status).toBe(1);
    expect(spec.stderr).toMatch(/sizes: "12" is not a frame size in 60\.\.9000/);
    const bmv2 = nfp(['deploy', EDGE, '--target', 'bmv2', '--duration', '0'], {
      ...process.env,
      PATH: pathWithoutBmv2(),
    });
    expect(bmv2.status).toBe(1);
    expect(bmv2.stderr).toMatch(/needs simple_switch_grpc, which is not on PATH/);
    expect(bmv2.stderr).toMatch(/--grpc HOST:PORT/);
    for (const r of [missing, spec, bmv2]) expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('with --grpc and no --duration, keeps the NIC half deployed until Ctrl-C', async () => {
    // A running P4Runtime device: the stand-alone softnic.
    const device = new SoftnicDevice();
    const server = new P4RuntimeServer({ device, deviceId: 1, address: '127.0.0.1:0' });
    await server.start();
    try {
      const child = spawn(process.execPath, [NFP, 'deploy', EDGE, '--grpc', server.address], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`entries never written: ${stderr}`)), 60_000);
        child.stderr.on('data', () => {
          if (/write-entries done/.test(stderr)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      // Well past what a default duration would be for a generator of 0 s: still up.
      await new Promise((r) => setTimeout(r, 1500));
      expect(child.exitCode).toBeNull();
      expect(device.engine).toBeDefined();
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(code).toBe(0);
      expect(stdout).toMatch(/deployed on softnic/);
    } finally {
      await server.stop(100);
      await device.close();
    }
  }, 90_000);

  it('Ctrl-C stops the traffic, still reports, and leaves nothing behind', async () => {
    const child = spawn(process.execPath, [NFP, 'deploy', EDGE, '--duration', '120'], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Wait for traffic to flow (a progress line), then interrupt.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no progress line: ${stderr}`)), 60_000);
      child.stderr.on('data', () => {
        if (/\d+s \d+ packets/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const started = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(code).toBe(0);
    expect(stdout).toMatch(/every packet accounted for/);
    // The EAL's runtime folder of that process is gone, and it left no child process.
    expect(existsSync(`/var/run/dpdk/nfp-${child.pid}`)).toBe(false);
    const ps = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' });
    expect(ps.stdout.trim()).toBe('');
  });
});
