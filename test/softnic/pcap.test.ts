/** The softnic's pcap reader/writer and port-spec parser, including malformed files. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter, readPcap } from '../../targets/pcap';
import { parsePcapFiles, parsePortSpec, pcapOutputFile } from '../../targets/softnic/ports';

const dir = mkdtempSync(join(tmpdir(), 'nfp-softnic-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('softnic pcap files', () => {
  it('writes frames that read back identically, with their timestamps', () => {
    const f = join(dir, 'a.pcap');
    const w = new PcapWriter(f);
    const frames = [Buffer.from('00112233445566778899aabb0800', 'hex'), Buffer.alloc(60, 7)];
    w.write(frames[0], 1_700_000_000_123_456_000n);
    w.write(frames[1], 1_700_000_001_000_000_000n);
    w.close();
    const r = readPcap(f);
    expect(r.map((x) => x.data)).toEqual(frames);
    expect(r[0].timeNs).toBe(1_700_000_000_123_456_000n);
  });

  it('reads big-endian nanosecond captures', () => {
    const h = Buffer.alloc(24);
    h.writeUInt32BE(0xa1b23c4d, 0);
    h.writeUInt16BE(2, 4);
    h.writeUInt16BE(4, 6);
    h.writeUInt32BE(65535, 16);
    h.writeUInt32BE(1, 20);
    const rec = Buffer.alloc(16);
    rec.writeUInt32BE(10, 0);
    rec.writeUInt32BE(5, 4);
    rec.writeUInt32BE(3, 8);
    rec.writeUInt32BE(3, 12);
    const f = join(dir, 'be.pcap');
    writeFileSync(f, Buffer.concat([h, rec, Buffer.from([1, 2, 3])]));
    expect(readPcap(f)).toEqual([{ timeNs: 10_000_000_005n, data: Buffer.from([1, 2, 3]) }]);
  });

  it('names the problem in malformed files', () => {
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, Buffer.from('0a0d0d0a00000000', 'hex'));
    expect(() => readPcap(bad)).toThrow(/not a pcap file \(shorter than its 24-byte header\)/);
    writeFileSync(bad, Buffer.alloc(24, 0x42));
    expect(() => readPcap(bad)).toThrow(/bad magic; pcapng is not supported/);
    const w = new PcapWriter(bad);
    w.write(Buffer.alloc(40));
    w.close();
    const whole = readPcap(bad);
    expect(whole).toHaveLength(1);
    writeFileSync(bad, readFileSync(bad).subarray(0, 24 + 16 + 10));
    expect(() => readPcap(bad)).toThrow(/truncated frame at byte 24/);
    expect(() => readPcap(join(dir, 'missing.pcap'))).toThrow(/cannot read pcap file/);
  });

  it('parses port specs and names pcap outputs', () => {
    expect(parsePortSpec('3@pcap:/tmp/x.pcap')).toEqual({ id: 3, kind: 'pcap', target: '/tmp/x.pcap' });
    expect(parsePortSpec('0@iface:veth0')).toEqual({ id: 0, kind: 'iface', target: 'veth0' });
    expect(() => parsePortSpec('511@pcap:x')).toThrow(/511 is the drop port/);
    expect(() => parsePortSpec('x@pcap:y')).toThrow(/bad port "x@pcap:y"/);
    expect(pcapOutputFile('/a/in.pcap')).toBe('/a/in.out.pcap');
    expect(pcapOutputFile('/a/trace')).toBe('/a/trace.out.pcap');
  });

  it("names a pcap port's files, and refuses an input that does not exist", () => {
    const input = join(dir, 'port-in.pcap');
    new PcapWriter(input).close();
    expect(parsePcapFiles(input)).toEqual({ input, output: join(dir, 'port-in.out.pcap') });
    expect(parsePcapFiles(`rx=${input},tx=/a/o.pcap`)).toEqual({ input, output: '/a/o.pcap' });
    expect(parsePcapFiles('tx=/a/o.pcap')).toEqual({ input: undefined, output: '/a/o.pcap' });
    expect(() => parsePcapFiles(join(dir, 'none.pcap'))).toThrow(/cannot read .*none\.pcap: no such file/);
    expect(() => parsePcapFiles('rx=/nonexistent/in.pcap')).toThrow(/cannot read \/nonexistent\/in\.pcap/);
    expect(() => parsePcapFiles('tx=a.pcap,tx=b.pcap')).toThrow(/bad pcap port files/);
  });
});
