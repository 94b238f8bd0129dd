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
    writeFileSync(bad, Buffer.from('d4c3b2a100000000', 'hex'));
    expect(() => readPcap(bad)).toThrow(/not a pcap file \(shorter than its 24-byte header\)/);
    writeFileSync(bad, Buffer.from('0a0d0d0a00000000', 'hex'));
    expect(() => readPcap(bad)).toThrow(/malformed pcapng block at byte 0: truncated/);
    writeFileSync(bad, Buffer.alloc(24, 0x42));
    expect(() => readPcap(bad)).toThrow(/neither a pcap nor a pcapng file \(bad magic\)/);
    const w = new PcapWriter(bad);
    w.write(Buffer.alloc(40));
    w.close();
    const whole = readPcap(bad);
    expect(whole).toHaveLength(1);
    writeFileSync(bad, readFileSync(bad).subarray(0, 24 + 16 + 10));
    expect(() => readPcap(bad)).toThrow(/truncated frame at byte 24/);
    expect(() => readPcap(join(dir, 'missing.pcap'))).toThrow(/cannot read pcap file/);
  });

  it('reads pcapng (draft-ietf-opsawg-pcapng): sections of either byte order, interfaces, EPB/SPB/OPB', () => {
    // Section 1, little-endian: an interface with nanosecond resolution, an EPB, a block to skip.
    const le = Buffer.concat([
      shb(true),
      idb(true, 1, 9), // if_tsresol 9: 10^-9 s
      block(true, 6, u32s(true, 0, 0, 1_000_000_007, 3, 5), Buffer.from([1, 2, 3])),
      block(true, 0x00000bad, Buffer.alloc(8)), // unknown: skipped
      block(true, 6, u32s(true, 0, 0, 2_000_000_000, 2, 2), Buffer.from([4, 5])),
    ]);
    // Section 2, big-endian: default microseconds, a simple packet (snaplen 3), an obsolete one.
    const be = Buffer.concat([
      shb(false),
      idb(false, 1, undefined, 3),
      block(false, 3, u32s(false, 5), Buffer.from([9, 9, 9, 9, 9])),
      block(false, 2, Buffer.concat([u16s(false, 0, 0), u32s(false, 0, 7, 1, 1)]), Buffer.from([8])),
    ]);
    const f = join(dir, 'a.pcapng');
    writeFileSync(f, Buffer.concat([le, be]));
    expect(readPcap(f)).toEqual([
      { timeNs: 1_000_000_007n, data: Buffer.from([1, 2, 3]) },
      { timeNs: 2_000_000_000n, data: Buffer.from([4, 5]) },
      { timeNs: 0n, data: Buffer.from([9, 9, 9]) },
      { timeNs: 7_000n, data: Buffer.from([8]) },
    ]);
  });

  it('names the problem in malformed pcapng files', () => {
    const bad = join(dir, 'bad.pcapng');
    const ok = Buffer.concat([
      shb(true),
      idb(true, 1),
      block(true, 6, u32s(true, 0, 0, 0, 2, 2), Buffer.from([1, 2])),
    ]);
    writeFileSync(bad, ok.subarray(0, ok.length - 6));
    expect(() => readPcap(bad)).toThrow(/bad\.pcapng: malformed pcapng block at byte \d+: block length/);
    writeFileSync(
      bad,
      Buffer.concat([shb(true), idb(true, 101), block(true, 6, u32s(true, 0, 0, 0, 1, 1), Buffer.from([1]))]),
    );
    expect(() => readPcap(bad)).toThrow(/interface 0 has link type 101, not Ethernet \(1\)/);
    writeFileSync(
      bad,
      Buffer.concat([shb(true), block(true, 6, u32s(true, 3, 0, 0, 1, 1), Buffer.from([1]))]),
    );
    expect(() => readPcap(bad)).toThrow(/packet of undeclared interface 3/);
    writeFileSync(
      bad,
      Buffer.concat([shb(true), idb(true, 1), block(true, 6, u32s(true, 0, 0, 0, 99, 99), Buffer.from([1]))]),
    );
    expect(() => readPcap(bad)).toThrow(/captured length 99 overruns the block/);
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

// pcapng blocks, written from the format's description: type, total length, body (padded to 4
// bytes), total length again.
function u32s(le: boolean, ...xs: number[]): Buffer {
  const b = Buffer.alloc(4 * xs.length);
  xs.forEach((x, i) => (le ? b.writeUInt32LE(x, 4 * i) : b.writeUInt32BE(x, 4 * i)));
  return b;
}

function u16s(le: boolean, ...xs: number[]): Buffer {
  const b = Buffer.alloc(2 * xs.length);
  xs.forEach((x, i) => (le ? b.writeUInt16LE(x, 2 * i) : b.writeUInt16BE(x, 2 * i)));
  return b;
}

function block(le: boolean, type: number, fixed: Buffer, data: Buffer = Buffer.alloc(0)): Buffer {
  const pad = Buffer.alloc((4 - (data.length % 4)) % 4);
  const len = 12 + fixed.length + data.length + pad.length;
  return Buffer.concat([u32s(le, type, len), fixed, data, pad, u32s(le, len)]);
}

/** Section header: byte-order magic, version 1.0, section length unknown (-1). */
function shb(le: boolean): Buffer {
  const body = Buffer.concat([u32s(le, 0x1a2b3c4d), u16s(le, 1, 0), Buffer.alloc(8, 0xff)]);
  return block(le, 0x0a0d0d0a, body);
}

/** Interface description: link type, snaplen, an if_tsresol option when given. */
function idb(le: boolean, link: number, tsresol?: number, snaplen = 65535): Buffer {
  const opts =
    tsresol === undefined
      ? Buffer.alloc(0)
      : Buffer.concat([u16s(le, 9, 1), Buffer.from([tsresol, 0, 0, 0]), u16s(le, 0, 0)]);
  return block(le, 1, Buffer.concat([u16s(le, link, 0), u32s(le, snaplen), opts]));
}
