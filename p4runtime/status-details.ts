/**
 * The binary status details of a failed Write or Read: a google.rpc.Status carried in the
 * `grpc-status-details-bin` trailer, whose details are one packed p4.v1.Error per update (or
 * per read request).
 */
import { Metadata } from '@grpc/grpc-js';
import { codecs, P4_ERROR_TYPE_URL } from './proto';
import type { P4Error, RpcStatus } from './messages';

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** Builds the trailer for a Write or Read that ended with `errors` (one per update or request, in order). */
export function writeErrorTrailer(code: number, message: string, errors: readonly P4Error[]): Metadata {
  const status: RpcStatus = {
    code,
    message,
    details: errors.map((e) => ({ type_url: P4_ERROR_TYPE_URL, value: codecs.Error.encode(e) })),
  };
  const md = new Metadata();
  md.set(STATUS_DETAILS_KEY, Buffer.from(codecs.Status.encode(status)));
  return md;
}

/**
 * Decodes the per-update errors from a trailer; undefined when there is none or it does not
 * parse (a server may send a plain status instead).
 */
export function decodeWriteErrors(
  md: Metadata | undefined,
): { status: RpcStatus; errors: P4Error[] } | undefined {
  const raw = md?.get(STATUS_DETAILS_KEY)[0];
  if (!raw || typeof raw === 'string') return undefined;
  try {
    const status = codecs.Status.decode(raw);
    const errors: P4Error[] = [];
    for (const any of status.details ?? []) {
      if (!any.type_url?.endsWith('/p4.v1.Error') || !any.value) return undefined;
      errors.push(codecs.Error.decode(any.value));
    }
    return { status, errors };
  } catch {
    return undefined;
  }
}
