/**
 * Reading captures (classic pcap, and pcapng as draft-ietf-opsawg-pcapng describes it; Ethernet
 * link type) and writing classic pcap files: the softnic's file ports, and deploy's `--traffic`
 * and `--pcap-out` (through targets/index.ts).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { NfpError } from '../partitioner/errors';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;

export interface PcapRecord {
  /** Capture time in nanoseconds since the epoch. */
  timeNs: bigint;
  data: Buffer;
}

/**
 * Reads every frame of a capture, pcap or pcapng (told apart by their first bytes); throws
 * NfpError naming the file on a malformed one.
 */
export function readPcap(file: string): PcapRecord[] {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch (err) {
    throw new NfpError(`cannot read pcap file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (b.length >= 4 && b.readUInt32LE(0) === PCAPNG_SHB) return readPcapng(file, b);
  if (b.length < 24) throw new NfpError(`${file} is not a pcap file (shorter than its 24-byte header)`);
  let le: boolean;
  let nanos: boolean;
  const m = b.readUInt32LE(0);
  if (m === MAGIC_US || m === MAGIC_NS) [le, nanos] = [true, m === MAGIC_NS];
  else if (b.readUInt32BE(0) === MAGIC_US || b.readUInt32BE(0) === MAGIC_NS)
    [le, nanos] = [false, b.readUInt32BE(0) === MAGIC_NS];
  else throw new NfpError(`${file} is neither a pcap nor a pcapng file (bad magic)`);
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const link = u32(20);
  if (link !== LINKTYPE_ETHERNET) throw new NfpError(`${file}: link type ${link} is not Ethernet (1)`);
  const out: PcapRecord[] = [];
  let off = 24;
  while (off < b.length) {
    if (off + 16 > b.length) throw new NfpError(`${file}: truncated record header at byte ${off}`);
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    if (off + 16 + incl > b.length) throw new NfpError(`${file}: truncated frame at byte ${off}`);
    const timeNs = BigInt(sec) * 1_000_000_000n + BigInt(frac) * (nanos ? 1n : 1000n);
    out.push({ timeNs, data: Buffer.from(b.subarray(off + 16, off + 16 + incl)) });
    off += 16 + incl;
  }
  return out;
}

// pcapng (draft-ietf-opsawg-pcapng): blocks of type, total length, body, total length again.
const PCAPNG_SHB = 0x0a0d0d0a; // section header block; its magic reads the same either way
const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;
const PCAPNG_IDB = 1; // interface description
const PCAPNG_OPB = 2; // packet block (obsolete)
const PCAPNG_SPB = 3; // simple packet
const PCAPNG_EPB = 6; // enhanced packet
const OPT_IF_TSRESOL = 9;

interface PcapngInterface {
  link: number;
  snaplen: number;
  /** Nanoseconds per timestamp unit, as a ratio: units * num / den. */
  num: bigint;
  den: bigint;
}

/** The frames of a pcapng file, in file order, from every section and interface. */
function readPcapng(file: string, b: Buffer): PcapRecord[] {
  const out: PcapRecord[] = [];
  let le = true;
  let ifaces: PcapngInterface[] = [];
  const bad = (off: number, what: string): never => {
    throw new NfpError(`${file}: malformed pcapng block at byte ${off}: ${what}`);
  };
  let off = 0;
  while (off < b.length) {
    if (off + 12 > b.length) bad(off, 'truncated block header');
    const type = le ? b.readUInt32LE(off) : b.readUInt32BE(off);
    if (type === PCAPNG_SHB) {
      // The byte-order magic says how this section (this block's length included) is written.
      if (off + 16 > b.length) bad(off, 'truncated section header');
      const magic = b.readUInt32LE(off + 8);
      if (magic === PCAPNG_BYTE_ORDER) le = true;
      else if (b.readUInt32BE(off + 8) === PCAPNG_BYTE_ORDER) le = false;
      else bad(off, 'bad byte-order magic');
      ifaces = [];
    }
    const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u16 = (o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const len = u32(off + 4);
    if (len < 12 || len % 4 !== 0 || off + len > b.length) bad(off, `block length ${len}`);
    if (u32(off + len - 4) !== len) bad(off, 'trailing block length differs');
    const body = off + 8;
    const end = off + len - 4;
    const frame = (iface: number, at: number, caplen: number, ts: bigint): void => {
      const i = ifaces[iface] ?? bad(off, `packet of undeclared interface ${iface}`);
      if (i.link !== LINKTYPE_ETHERNET)
        bad(off, `interface ${iface} has link type ${i.link}, not Ethernet (1)`);
      if (at + caplen > end) bad(off, `captured length ${caplen} overruns the block`);
      out.push({ timeNs: (ts * i.num) / i.den, data: Buffer.from(b.subarray(at, at + caplen)) });
    };
    switch (type) {
      case PCAPNG_IDB: {
        if (body + 8 > end) bad(off, 'truncated interface description');
        const iface: PcapngInterface = { link: u16(body), snaplen: u32(body + 4), num: 1000n, den: 1n };
        for (let o = body + 8; o + 4 <= end;) {
          const code = u16(o);
          const olen = u16(o + 2);
          if (code === 0) break;
          if (code === OPT_IF_TSRESOL && olen >= 1) {
            const v = b[o + 4];
            const units = v & 0x80 ? 2n ** BigInt(v & 0x7f) : 10n ** BigInt(v);
            [iface.num, iface.den] = [1_000_000_000n, units];
          }
          o += 4 + Math.ceil(olen / 4) * 4;
        }
        ifaces.push(iface);
        break;
      }
      case PCAPNG_EPB: {
        if (body + 20 > end) bad(off, 'truncated enhanced packet');
        const ts = (BigInt(u32(body + 4)) << 32n) | BigInt(u32(body + 8));
        frame(u32(body), body + 20, u32(body + 12), ts);
        break;
      }
      case PCAPNG_OPB: {
        if (body + 20 > end) bad(off, 'truncated packet block');
        const ts = (BigInt(u32(body + 4)) << 32n) | BigInt(u32(body + 8));
        frame(u16(body), body + 20, u32(body + 12), ts);
        break;
      }
      case PCAPNG_SPB: {
        if (body + 4 > end) bad(off, 'truncated simple packet');
        const i = ifaces[0] ?? bad(off, 'simple packet without an interface');
        const caplen = Math.min(u32(body), i.snaplen || Infinity, end - body - 4);
        frame(0, body + 4, caplen, 0n);
        break;
      }
      default:
      // Other blocks (name resolution, statistics, custom) carry no frames.
    }
    off += len;
  }
  return out;
}

/** Appends frames to a new pcap file (microsecond timestamps, Ethernet). */
export class PcapWriter {
  private fd: number | undefined;

  constructor(readonly file: string) {
    try {
      this.fd = openSync(file, 'w');
    } catch (err) {
      throw new NfpError(
        `cannot create pcap file ${file}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const h = Buffer.alloc(24);
    h.writeUInt32LE(MAGIC_US, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    writeSync(this.fd, h);
  }

  write(frame: Buffer, timeNs: bigint = process.hrtime.bigint()): void {
    if (this.fd === undefined) return;
    const wall = BigInt(Date.now()) * 1_000_000n;
    const t = timeNs > 1_000_000_000_000_000n ? timeNs : wall;
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Number(t / 1_000_000_000n), 0);
    r.writeUInt32LE(Number((t % 1_000_000_000n) / 1000n), 4);
    r.writeUInt32LE(frame.length, 8);
    r.writeUInt32LE(frame.length, 12);
    writeSync(this.fd, Buffer.concat([r, frame]));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
