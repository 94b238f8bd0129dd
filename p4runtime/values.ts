/**
 * P4Runtime bytestrings: values of bit<W> fields as big-endian bytes in canonical form (the
 * shortest string holding the value; zero is one 0x00 byte). Users write numbers, bigints,
 * decimal/hex strings, IPv4, IPv6 or MAC addresses; these helpers turn them into canonical
 * bytestrings and check that they fit the field's width.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** What a user may write for a field or parameter value. */
export type P4Value = number | bigint | string | Uint8Array;

/** A value the schema refused; `what` names the field, e.g. `match field "hdr.ipv4.dst"`. */
export class ValueError extends Error {
  constructor(
    readonly what: string,
    message: string,
  ) {
    super(`${what}: ${message}`);
    this.name = 'ValueError';
  }
}

const MAC = /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/;

function ipv6ToBigInt(text: string): bigint {
  let s = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = ipv4ToBigInt(v4[1]);
    s = s.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n);
}

function ipv4ToBigInt(text: string): bigint {
  return text.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

/** Parses a user value to a non-negative bigint; `bitwidth` guides address forms. */
export function valueToBigInt(value: P4Value, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new ValueError(what, `negative value ${value} (P4Runtime values are unsigned)`);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new ValueError(what, `${value} is not a non-negative safe integer; use a bigint or a string`);
    return BigInt(value);
  }
  if (value instanceof Uint8Array) {
    let n = 0n;
    for (const b of value) n = (n << 8n) | BigInt(b);
    return n;
  }
  const s = value.trim();
  if (/^\d+$/.test(s)) return BigInt(s);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return BigInt(s);
  if (isIPv4(s)) return ipv4ToBigInt(s);
  if (MAC.test(s)) return BigInt(`0x${s.replace(/[:-]/g, '')}`);
  if (isIPv6(s)) return ipv6ToBigInt(s);
  throw new ValueError(
    what,
    `cannot read "${value}" as a value (expected a number, 0x-hex, IPv4, IPv6 or MAC address)`,
  );
}

/** Canonical bytestring of a non-negative bigint: shortest big-endian form, zero as 0x00. */
export function bigIntToBytes(n: bigint): Uint8Array {
  if (n === 0n) return Uint8Array.of(0);
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

/** Value of a bytestring as a bigint. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  if (bytes.length <= 6)
    return BigInt(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUIntBE(0, bytes.length));
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`);
}

/** Bits needed to hold the value of a bytestring (0 for zero). */
export function bitLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]));
}

/** Canonical form of a bytestring: leading zero bytes stripped, zero kept as one byte. */
export function canonicalBytes(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  if (bytes.length === 0) return Uint8Array.of(0);
  return i === 0 ? bytes : bytes.subarray(i);
}

/** Encodes a user value for a field of `bitwidth` bits, refusing values that do not fit. */
export function encodeValue(value: P4Value, bitwidth: number, what: string): Uint8Array {
  const n = valueToBigInt(value, what);
  if (bitwidth > 0 && n >> BigInt(bitwidth) !== 0n)
    throw new ValueError(what, `value ${formatValue(n, bitwidth)} does not fit in ${bitwidth} bits`);
  return bigIntToBytes(n);
}

/** All-ones mask of `bits` bits. */
export function ones(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** A readable form: IPv4/MAC for 32/48-bit fields, decimal otherwise. */
export function formatValue(n: bigint, bitwidth: number): string {
  if (bitwidth === 32 && n <= 0xffffffffn)
    return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  if (bitwidth === 48 && n <= ones(48))
    return n
      .toString(16)
      .padStart(12, '0')
      .replace(/(..)(?!$)/g, '$1:');
  return n.toString();
}

/**
 * A protobuf 64-bit field (number, decimal string, bigint or protobufjs Long) as a bigint;
 * unset is 0. Longs are converted from their two halves, not through a string.
 */
export function int64ToBigInt(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  const l = v as { low?: unknown; high?: unknown; unsigned?: boolean };
  if (typeof l.low === 'number' && typeof l.high === 'number')
    return (BigInt(l.unsigned ? l.high >>> 0 : l.high) << 32n) + BigInt(l.low >>> 0);
  return BigInt(String(v));
}
