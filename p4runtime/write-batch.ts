/**
 * Splitting a Write into requests under the message-size limit. Updates are encoded once; a
 * WriteRequest is its header fields followed by the pre-encoded updates (field 4), which is a
 * valid protobuf encoding because fields may appear in any order and repeated fields concatenate.
 */
import { codecs } from './proto';
import type { Update, WriteRequest } from './messages';

/** The key and length of field 4 (WriteRequest.updates): tag byte 0x22, varint length. */
function fieldHead(length: number): Buffer {
  const bytes = [0x22];
  let n = length;
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
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
  // Fast path: the whole batch fits one request, so encode it in one go.
  if (updates.length <= maxUpdates) {
    const whole = codecs.WriteRequest.encode({ ...header, updates: updates as Update[] });
    if (whole.length <= maxBytes)
      return [
        {
          indices: updates.map((_, i) => i),
          bytes: Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength),
        },
      ];
  }
  const head = Buffer.from(codecs.WriteRequest.encode({ ...header, updates: [] }));
  const chunks: WriteChunk[] = [];
  let parts: Uint8Array[] = [head];
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
    const body = codecs.Update.encode(u);
    const fh = fieldHead(body.length);
    const len = fh.length + body.length;
    if (indices.length && (size + len > maxBytes || indices.length >= maxUpdates)) flush();
    parts.push(fh, body);
    indices.push(i);
    size += len;
  });
  flush();
  if (!chunks.length) chunks.push({ indices: [], bytes: head });
  return chunks;
}
