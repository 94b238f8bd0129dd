/**
 * `N@iface:NAME` ports on real veth pairs: a frame sent into one veth crosses the softnic and
 * comes out of the other. Needs root (veth, AF_PACKET); skipped with a note otherwise.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { P4RuntimeClient } from '../../p4runtime/client';
import { p4infoFromJson } from '../../p4runtime/proto';
import { insert } from '../../p4runtime/updates';
import { loadSoftnic } from '../../targets/softnic/native';
import { startSoftnic, type SoftnicInstance } from '../../targets/softnic/serve';
import { fixture } from './helpers';
import { parsePacket, udpPacket } from './packets';

function canVeth(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['link', 'show'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const ok = canVeth();
if (!ok) console.warn('softnic iface test skipped: needs root and iproute2 to create veth pairs');

const tag = `sn${process.pid % 100000}`;
const pairs = [0, 1].map((i) => ({ inner: `${tag}a${i}`, outer: `${tag}b${i}` }));

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

afterAll(() => {
  if (!ok) return;
  for (const p of pairs) {
    try {
      ip('link', 'del', p.inner); // deleting one end removes the pair
    } catch {
      // already gone
    }
  }
});

describe('softnic interface ports', () => {
  let sn: SoftnicInstance | undefined;

  it.skipIf(!ok)('forwards a frame between two veth pairs', async () => {
    for (const p of pairs) {
      ip('link', 'add', p.inner, 'type', 'veth', 'peer', 'name', p.outer);
      for (const n of [p.inner, p.outer]) {
        execFileSync('sysctl', ['-qw', `net.ipv6.conf.${n}.disable_ipv6=1`], { stdio: 'ignore' });
        ip('link', 'set', n, 'up');
      }
    }
    sn = await startSoftnic({
      grpc: '127.0.0.1:0',
      ports: [`1@iface:${pairs[0].inner}`, `2@iface:${pairs[1].inner}`],
    });
    const client = new P4RuntimeClient({ address: sn.address, electionId: 1, reconnect: false });
    const mod = loadSoftnic();
    const sender = new mod.RawSocket(pairs[0].outer);
    const receiver = new mod.RawSocket(pairs[1].outer);
    try {
      await client.connect();
      await client.waitForPrimary();
      await client.setPipeline({
        p4info: p4infoFromJson(JSON.parse(fixture('l2l3.p4info.json'))),
        deviceConfig: fixture('l2l3.json'),
      });
      await client.write([
        insert(
          client.entities.tableEntry({
            table: 'route',
            match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
            action: 'set_nhop',
            params: { port: 2, dmac: '0a:0b:0c:0d:0e:0f' },
          }),
        ),
      ]);
      const payload = Buffer.from(`nfp-iface-${process.pid}`);
      const frame = udpPacket({ src: '192.0.2.1', dst: '10.1.1.1', ttl: 9, payload });
      let got: Buffer | undefined;
      for (let i = 0; i < 100 && !got; i++) {
        if (i % 20 === 0) sender.send(frame);
        await new Promise((r) => setTimeout(r, 20));
        got = receiver.recv(64).find((f) => f.includes(payload));
      }
      expect(got).toBeDefined();
      const p = parsePacket(got!);
      expect(p.dstMac).toBe('0a:0b:0c:0d:0e:0f');
      expect(p.ipv4?.ttl).toBe(8);
      expect(p.ipv4?.checksumOk).toBe(true);
    } finally {
      client.close();
      sender.close();
      receiver.close();
      await sn.stop();
    }
  });

  it.skipIf(!ok)('refuses an interface that does not exist, naming it', async () => {
    await expect(startSoftnic({ grpc: '127.0.0.1:0', ports: ['1@iface:nfp-nope0'] })).rejects.toThrow(
      'port 1: no network interface named "nfp-nope0"',
    );
  });
});
