/**
 * Classic libpcap files (magic 0xa1b2c3d4, microsecond timestamps, LINKTYPE_ETHERNET): read for
 * `--traffic`, written for `--pcap-out`. The format is small and fixed, so it is parsed here
 * rather than through a native binding.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { NfpError } from '../../partitioner/errors';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

export interface PcapPacket {
  /** Capture time in microseconds since the epoch. */
  timeUs: number;
  data: Buffer;
}

export class PcapError extends NfpError {}

export function readPcap(file: string): PcapPacket[] {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new PcapError(`${file}: cannot read: ${(err as Error).message}`);
  }
  return parsePcap(buf, file);
}

export function parsePcap(buf: Buffer, file = '<pcap>'): PcapPacket[] {
  if (buf.length < GLOBAL_HEADER) throw new PcapError(`${file}: not a pcap file (shorter than its header)`);
  const magicLe = buf.readUInt32LE(0);
  const magicBe = buf.readUInt32BE(0);
  let le: boolean;
  let nanos: boolean;
  if (magicLe === MAGIC_US || magicLe === MAGIC_NS) {
    le = true;
    nanos = magicLe === MAGIC_NS;
  } else if (magicBe === MAGIC_US || magicBe === MAGIC_NS) {
    le = false;
    nanos = magicBe === MAGIC_NS;
  } else {
    const hint =
      buf.readUInt32BE(0) === 0x0a0d0d0a ? ' (this is pcapng; convert it with `editcap -F pcap`)' : '';
    throw new PcapError(`${file}: not a pcap file: bad magic 0x${magicBe.toString(16)}${hint}`);
  }
  const u32 = (off: number): number => (le ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
  const linktype = u32(20);
  if (linktype !== LINKTYPE_ETHERNET) {
    throw new PcapError(`${file}: link type ${linktype} is not Ethernet (1)`);
  }
  const packets: PcapPacket[] = [];
  let off = GLOBAL_HEADER;
  while (off < buf.length) {
    if (off + RECORD_HEADER > buf.length) {
      throw new PcapError(`${file}: truncated record header at byte ${off} (packet ${packets.length + 1})`);
    }
    const sec = u32(off);
    const frac = u32(off + 4);
    const capLen = u32(off + 8);
    off += RECORD_HEADER;
    if (off + capLen > buf.length) {
      throw new PcapError(`${file}: packet ${packets.length + 1} is truncated (${capLen} bytes declared)`);
    }
    packets.push({
      timeUs: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac),
      data: Buffer.from(buf.subarray(off, off + capLen)),
    });
    off += capLen;
  }
  return packets;
}

export function encodePcap(packets: PcapPacket[]): Buffer {
  const header = Buffer.alloc(GLOBAL_HEADER);
  header.writeUInt32LE(MAGIC_US, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [header];
  for (const p of packets) {
    const rec = Buffer.alloc(RECORD_HEADER);
    rec.writeUInt32LE(Math.floor(p.timeUs / 1e6), 0);
    rec.writeUInt32LE(Math.floor(p.timeUs % 1e6), 4);
    rec.writeUInt32LE(p.data.length, 8);
    rec.writeUInt32LE(p.data.length, 12);
    parts.push(rec, p.data);
  }
  return Buffer.concat(parts);
}

export function writePcap(file: string, packets: PcapPacket[]): void {
  writeFileSync(file, encodePcap(packets));
}
