/**
 * `nfp softnic` as a process: serves P4Runtime, replays a pcap port once a pipeline is pushed,
 * writes egress to pcap, and stops cleanly on SIGTERM. Bad flags give one clear error line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { P4RuntimeClient } from '../../p4runtime/client';
import { p4infoFromJson } from '../../p4runtime/proto';
import { insert } from '../../p4runtime/updates';
import { PcapWriter, readPcap } from '../../targets/pcap';
import { fixture } from './helpers';
import { parsePacket, udpPacket } from './packets';

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'nfp-softnic-cli-'));
const children: ChildProcess[] = [];

function nfpSoftnic(args: string[]): {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number>;
} {
  const script = `require('./cli/commands/softnic').default.run(${JSON.stringify(args)}).catch(require('@oclif/core').handle)`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return { child, out: () => out, err: () => err, exit };
}

async function until(cond: () => boolean, ms = 45_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('nfp softnic', () => {
  it('serves P4Runtime, forwards a replayed pcap and stops cleanly on SIGTERM', async () => {
    const input = join(dir, 'in.pcap');
    const w = new PcapWriter(input);
    w.write(udpPacket({ src: '1.1.1.1', dst: '10.0.0.1' }));
    w.write(udpPacket({ src: '1.1.1.1', dst: '10.0.0.2' }));
    w.write(udpPacket({ src: '1.1.1.1', dst: '9.9.9.9' })); // no route: dropped
    w.close();
    const wire2 = join(dir, 'wire2.out.pcap');
    const sn = nfpSoftnic([
      '--grpc',
      '127.0.0.1:0',
      '--device-id',
      '3',
      '--port',
      `1@pcap:${input}`,
      '--port',
      `2@pcap:tx=${wire2}`,
    ]);
    await until(() => /stop with Ctrl-C/.test(sn.out()));
    const address = /P4Runtime on (\S+),/.exec(sn.out())![1];
    expect(sn.out()).toContain(`port 1: pcap:${input} → ${join(dir, 'in.out.pcap')}`);
    expect(sn.out()).toContain(`port 2: pcap (output only) → ${wire2}`);
    const client = new P4RuntimeClient({ address, deviceId: 3, electionId: 1, reconnect: false });
    try {
      await client.connect();
      await client.waitForPrimary();
      await client.setPipeline({
        p4info: p4infoFromJson(JSON.parse(fixture('l2l3.p4info.json'))),
        deviceConfig: fixture('l2l3.json'),
      });
      // The replay starts on the first commit; entries race it, so write them through a second commit.
      await client.write([
        insert(
          client.entities.tableEntry({
            table: 'route',
            match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
            action: 'set_nhop',
            params: { port: 2, dmac: '0a:0a:0a:0a:0a:0a' },
          }),
        ),
      ]);
    } finally {
      client.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    sn.child.kill('SIGTERM');
    expect(await sn.exit).toBe(0);
    expect(sn.out()).toMatch(/softnic: stopped; 3 received/);
    const out = readPcap(wire2);
    expect(sn.out()).toContain(`port 2: wrote ${out.length} frames to ${wire2}`);
    // Frames replayed before the route existed were dropped; those after it went to port 2.
    const m = /(\d+) received, (\d+) sent, dropped (\d+) in ingress/.exec(sn.out())!;
    expect(Number(m[2])).toBe(out.length);
    expect(Number(m[2]) + Number(m[3])).toBe(3);
    for (const r of out) expect(parsePacket(r.data).dstMac).toBe('0a:0a:0a:0a:0a:0a');
  });

  it('rejects a bad port with one error line and exit status 1', async () => {
    const sn = nfpSoftnic(['--grpc', '127.0.0.1:0', '--port', '1@tap:x']);
    expect(await sn.exit).toBe(1);
    expect(sn.err()).toContain('error: bad port "1@tap:x"');
    expect(sn.err()).toContain('hint: write N@pcap:FILE');
    expect(sn.err()).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(dir, 'x.out.pcap'))).toBe(false);
  });

  it('refuses a pcap port whose input does not exist, before serving anything', async () => {
    const absent = join(dir, 'absent.pcap');
    const sn = nfpSoftnic(['--grpc', '127.0.0.1:0', '--port', `1@pcap:${absent}`]);
    expect(await sn.exit).toBe(1);
    expect(sn.err()).toContain(`error: cannot read ${absent}: no such file`);
    expect(sn.err()).toContain('hint: give the path of a pcap file to replay (or tx=OUT.pcap');
    expect(sn.out()).not.toContain('P4Runtime on');
    expect(existsSync(join(dir, 'absent.out.pcap'))).toBe(false);
  });
});
