/**
 * The runtime on a veth pair through DPDK's net_af_packet: packets sent into one end by a raw
 * socket (Python's AF_PACKET) cross the runtime and come back out of the same veth.
 */
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addonBuilt, decapNsh, encapNsh, load, start, stats, stop } from '../../host-runtime/lib/index';
import { hostOnlyPlan } from '../../host-runtime/lib/plan-builder';
import { ipv4Packet } from './packets';

const built = addonBuilt();
const isRoot = process.getuid?.() === 0;
let hasTools = false;
try {
  execFileSync('ip', ['-V'], { stdio: 'ignore' });
  execFileSync('python3', ['-V'], { stdio: 'ignore' });
  hasTools = true;
} catch {
  hasTools = false;
}
const skip = !built || !isRoot || !hasTools;
if (skip) {
  console.warn(
    `host-runtime af_packet test skipped: ${!built ? 'nfp_host.node is not built' : !isRoot ? 'needs root (veth)' : 'needs ip and python3'}`,
  );
}

const tag = `${process.pid % 100000}`;
const hostEnd = `nfpr${tag}`; // the runtime's port
const wireEnd = `nfpw${tag}`; // where the test sends and listens

beforeAll(() => {
  if (skip) return;
  execFileSync('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', wireEnd]);
  for (const dev of [hostEnd, wireEnd]) {
    execFileSync('sysctl', ['-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
    execFileSync('ip', ['link', 'set', dev, 'up']);
  }
});
afterAll(() => {
  if (skip) return;
  stop();
  execFileSync('ip', ['link', 'del', hostEnd], { stdio: 'ignore' });
});

// Sends hex frames on `dev`, then prints (hex, one a line) the frames that arrive on it within 2 s.
const PY = `
import socket, sys, time
dev = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((dev, 0))
s.settimeout(0.2)
frames = [bytes.fromhex(l) for l in sys.stdin.read().split()]
for f in frames:
    s.send(f)
want = len(frames) - int(sys.argv[2])
got = []
end = time.time() + 3
while time.time() < end and len(got) < want:
    try:
        data, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    got.append(data.hex())
print("\\n".join(got))
`;

function sendAndReceive(frames: Buffer[], expectDropped: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-c', PY, wireEnd, String(expectDropped)]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) =>
      code === 0
        ? resolve(
            out
              .split('\n')
              .filter((l) => l.length > 0)
              .map((l) => Buffer.from(l, 'hex')),
          )
        : reject(new Error(`python3 exited ${code}: ${err}`)),
    );
    p.stdin.end(frames.map((f) => f.toString('hex')).join('\n'));
  });
}

describe.skipIf(skip)('net_af_packet port on a veth pair', () => {
  it('runs the path over packets from the wire and sends them back', async () => {
    const plan = hostOnlyPlan([{ type: 'macswap', config: {} }], [{ id: 5, nfs: [0], queue: 0 }]);
    start({
      workers: 1,
      mode: 'mixed',
      port: { kind: 'vdev', devargs: `net_af_packet_nfp${tag},iface=${hostEnd}` },
    });
    load(plan, { isolation: 'none' });
    const frames = Array.from({ length: 20 }, (_, i) =>
      encapNsh(
        { spi: 5, si: 1, tenant: 1 },
        ipv4Packet({ src: `10.0.0.${i + 1}`, dst: '10.9.9.9', sport: 1000 + i, dport: 80 }),
      ),
    );
    const bad = encapNsh(
      { spi: 6, si: 1, tenant: 1 },
      ipv4Packet({ src: '10.0.0.1', dst: '10.9.9.9', sport: 1, dport: 80 }),
    );
    const back = await sendAndReceive([...frames, bad], 1);
    expect(back.length).toBe(frames.length);
    for (const b of back) {
      const d = decapNsh(b);
      expect(d?.tag).toEqual({ spi: 5, si: 0, tenant: 1 });
      // macswap ran: the inner source MAC is the one the frame was sent to
      expect(d!.frame.subarray(6, 12).toString('hex')).toBe('020000000002');
    }
    const s = stats();
    expect(s.drops['unknown-path']).toBe(1);
    expect(s.transmitted + s.dropped).toBe(s.received);
  });
});
