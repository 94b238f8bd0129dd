/**
 * Reading and writing classic pcap files (libpcap format, Ethernet link type): the softnic's file
 * ports, and deploy's `--traffic` and `--pcap-out` (through targets/index.ts).
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

/** Reads every frame of a pcap file; throws NfpError naming the file on a malformed one. */
export function readPcap(file: string): PcapRecord[] {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch (err) {
    throw new NfpError(`cannot read pcap file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (b.length < 24) throw new NfpError(`${file} is not a pcap file (shorter than its 24-byte header)`);
  let le: boolean;
  let nanos: boolean;
  const m = b.readUInt32LE(0);
  if (m === MAGIC_US || m === MAGIC_NS) [le, nanos] = [true, m === MAGIC_NS];
  else if (b.readUInt32BE(0) === MAGIC_US || b.readUInt32BE(0) === MAGIC_NS)
    [le, nanos] = [false, b.readUInt32BE(0) === MAGIC_NS];
  else
    throw new NfpError(
      `${file} is not a pcap file (bad magic; pcapng is not supported)`,
      'convert it with `editcap -F pcap`',
    );
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
