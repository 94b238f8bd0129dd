/**
 * Errors of the P4Runtime client and server. Each carries a gRPC status code and a message a
 * user can act on; none is thrown as a bare Error.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { NfpError } from '../partitioner/errors';
import type { Entity, P4Error, Update } from './messages';

/** gRPC canonical codes, re-exported so callers need not import grpc-js. */
export const Code = GrpcStatus;
export type Code = GrpcStatus;

/** Name of a gRPC code, e.g. `PERMISSION_DENIED`. */
export function codeName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? `CODE_${code}`;
}

/** A failed P4Runtime RPC or stream operation, with its gRPC code. */
export class P4RuntimeError extends NfpError {
  constructor(
    readonly code: number,
    message: string,
    hint?: string,
  ) {
    super(`${codeName(code)}: ${message}`, hint);
  }
}

/** One failed update of a Write batch: its index in the caller's list, the update, the error. */
export interface UpdateFailure {
  index: number;
  update: Update;
  error: P4Error;
}

/**
 * A Write in which some updates failed. `failures` lists each failed update (index in the
 * caller's list, the update itself, and the server's p4.v1.Error); updates not listed succeeded.
 */
export class P4RuntimeWriteError extends P4RuntimeError {
  constructor(
    code: number,
    readonly failures: readonly UpdateFailure[],
    readonly total: number,
  ) {
    super(
      code,
      `${failures.length} of ${total} updates failed:\n` +
        failures
          .map((f) => `  [${f.index}] ${codeName(f.error.canonicalCode ?? 2)}: ${f.error.message ?? ''}`)
          .join('\n'),
    );
  }
}

/** One failed request of a Read batch: its index in the caller's list, the entity, the error. */
export interface ReadFailure {
  index: number;
  entity: Entity;
  error: P4Error;
}

/**
 * A Read in which some requests failed (the spec's batch processing: the valid requests were
 * answered, then the call ended with UNKNOWN and one p4.v1.Error per request).
 */
export class P4RuntimeReadError extends P4RuntimeError {
  constructor(
    code: number,
    readonly failures: readonly ReadFailure[],
    readonly total: number,
  ) {
    super(
      code,
      `${failures.length} of ${total} read requests failed:\n` +
        failures
          .map((f) => `  [${f.index}] ${codeName(f.error.canonicalCode ?? 2)}: ${f.error.message ?? ''}`)
          .join('\n'),
    );
  }
}

/** A name, value or shape the P4Info schema rejects; raised before anything is sent. */
export class P4SchemaError extends NfpError {}

/** Raised by the client when this controller lost (or never had) the primary role. */
export class NotPrimaryError extends P4RuntimeError {
  constructor(message: string) {
    super(GrpcStatus.PERMISSION_DENIED, message, 'wait for the "primary" event or use a higher election id');
  }
}
