/**
 * Errors nfp shows to users. A user error names the user's input and suggests a fix; an
 * internal error names the code that broke. The CLI prints either without a stack trace.
 */
import type { SourceLocation } from './graph';

/** Base of every error caused by the user's input or environment. */
export class NfpError extends Error {
  constructor(
    message: string,
    /** A suggested fix, printed on its own line. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One problem in a user's file. */
export interface Diagnostic {
  loc: SourceLocation;
  /** The offending key path, e.g. `tenants[1].nfs.fw.config.rules[2].dstPort`. */
  key: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.loc.file}:${d.loc.line}:${d.loc.col}: ${d.key}: ${d.message}`;
}

/** All problems found in one file; several are reported at once. */
export class GraphError extends NfpError {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
  }
}

/** A broken invariant inside nfp: a bug, never the user's fault. */
export class InternalError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`internal error in ${where}: ${message}`);
    this.name = 'InternalError';
  }
}
