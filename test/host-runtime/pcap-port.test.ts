/**
 * The runtime on a real DPDK ethdev other than the in-memory rings: net_pcap reads NSH packets
 * from a pcap file and writes what the workers transmit to another, which is read back here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonBuilt, decapNsh, encapNsh, load, start, stats, stop } from '../../host-runtime/lib/index';
import { hostOnlyPlan } from '../../host-runtime/lib/plan-builder';
import { ipv4Packet, parse } from './packets';

const built = addonBuilt();
if (!built)
  console.warn('host-runtime pcap port test skipped: nfp_host.node is not built (npm run build:native)');

const dir = mkdtempSync(join(tmpdir(), 'nfp-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writePcap(file: string, packets: Buffer[]): void {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20); // Ethernet
  const recs = packets.map((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    return Buffer.concat([r, p]);
  });
  writeFileSync(file, Buffer.concat([head, ...recs]));
}

function readPcap(file: string): Buffer[] {
  const b = readFileSync(file);
  const out: Buffer[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const len = b.readUInt32LE(off + 8);
    out.push(b.subarray(off + 16, off + 16 + len));
    off += 16 + len;
  }
  return out;
}

describe.skipIf(!built)('net_pcap port', () => {
  it('reads a pcap, runs the path (NAT), and writes every transmitted packet to the output pcap', async () => {
    const plan = hostOnlyPlan(
      [
        {
          type: 'nat',
          config: { publicIp: '198.51.100.7', portRange: { lo: 40000, hi: 40999 }, maxFlows: 1000 },
        },
      ],
      [{ id: 1, nfs: [0], queue: 0 }],
    );
    const n = 40;
    const input = Array.from({ length: n }, (_, i) =>
      encapNsh(
        { spi: 1, si: 1, tenant: 1 },
        ipv4Packet({ src: `10.0.0.${i + 1}`, dst: '8.8.8.8', sport: 5000 + i, dport: 53 }, `q${i}`),
      ),
    );
    input.push(Buffer.from(ipv4Packet({ src: '10.0.0.1', dst: '8.8.8.8', sport: 1, dport: 53 }))); // no NSH
    const inFile = join(dir, 'in.pcap');
    const outFile = join(dir, 'out.pcap');
    writePcap(inFile, input);
    start({
      workers: 1,
      mode: 'mixed',
      port: { kind: 'vdev', devargs: `net_pcap_nfp0,rx_pcap=${inFile},tx_pcap=${outFile}` },
    });
    load(plan, { isolation: 'none' });
    const deadline = Date.now() + 10_000;
    let s = stats();
    while (s.received < input.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      s = stats();
    }
    expect(s.received).toBe(input.length);
    expect(s.transmitted).toBe(n);
    expect(s.drops['no-nsh']).toBe(1);
    stop(); // closes the port, which flushes the output pcap
    const out = readPcap(outFile);
    expect(out.length).toBe(n);
    for (const pkt of out) {
      const d = decapNsh(pkt);
      expect(d?.tag).toEqual({ spi: 1, si: 0, tenant: 1 });
      const p = parse(d!.frame);
      expect(p.src).toBe('198.51.100.7');
      expect(p.ipChecksumOk && p.l4ChecksumOk).toBe(true);
    }
  });
});
