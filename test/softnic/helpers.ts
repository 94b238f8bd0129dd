/** Shared helpers for softnic tests: the fixture program and key/param encoding. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, type NativeEngine } from '../../targets/softnic/native';

export function fixture(name: string): string {
  return readFileSync(join(__dirname, 'fixtures', name), 'utf8');
}

/** `value` as a canonical-width big-endian Buffer of `width` bits. */
export function bits(value: number | bigint, width: number): Buffer {
  const n = Math.ceil(width / 8);
  const b = Buffer.alloc(n);
  let v = BigInt(value);
  for (let i = n - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

export function ipBits(s: string): Buffer {
  return Buffer.from(s.split('.').map((d) => parseInt(d, 10)));
}

export function macBits(s: string): Buffer {
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

/** A fresh engine with the L2/L3 fixture loaded. */
export function l2l3Engine(): NativeEngine {
  const e = createEngine();
  e.load(fixture('l2l3.json'));
  return e;
}
