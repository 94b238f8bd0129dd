/**
 * Splitting a Write into requests under the message-size limit. Updates are encoded once; a
 * WriteRequest is its header fields followed by the pre-encoded updates (field 4), which is a
 * valid protobuf encoding because fields may appear in any order and repeated fields concatenate.
 */
import { codecs } from './proto';
import type { Update, WriteRequest } from './messages';

/** Length-delimited field 4 (WriteRequest.updates): tag byte 0x22, varint length, bytes. */
function frame(bytes: Uint8Array): Buffer {
  const len: number[] = [];
  let n = bytes.length;
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([0x22, ...len]), bytes]);
}

export interface WriteChunk {
  /** Index in the caller's list of each update in this chunk. */
  indices: number[];
  bytes: Buffer;
}

/**
 * Encodes `header` (a WriteRequest without updates) and the updates into requests each at most
 * `maxBytes` long and holding at most `maxUpdates` updates. An update too large on its own gets
 * a request to itself (the server will then refuse it with RESOURCE_EXHAUSTED).
 */
export function encodeWriteChunks(
  header: WriteRequest,
  updates: readonly Update[],
  maxBytes: number,
  maxUpdates: number,
): WriteChunk[] {
  const head = Buffer.from(codecs.WriteRequest.encode({ ...header, updates: [] }));
  const chunks: WriteChunk[] = [];
  let parts: Buffer[] = [head];
  let indices: number[] = [];
  let size = head.length;
  const flush = (): void => {
    if (!indices.length) return;
    chunks.push({ indices, bytes: Buffer.concat(parts, size) });
    parts = [head];
    indices = [];
    size = head.length;
  };
  updates.forEach((u, i) => {
    const f = frame(codecs.Update.encode(u));
    if (indices.length && (size + f.length > maxBytes || indices.length >= maxUpdates)) flush();
    parts.push(f);
    indices.push(i);
    size += f.length;
  });
  flush();
  if (!chunks.length) chunks.push({ indices: [], bytes: head });
  return chunks;
}
