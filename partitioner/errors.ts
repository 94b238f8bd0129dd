/**
 * Errors nfp shows to users. A user error names the user's input and suggests a fix; an
 * internal error names the code that broke. The CLI prints either without a stack trace.
 */
import type { SourceLocation } from './graph';

/** Where in the user's input an error is: a file, and the line and column when known. */
export interface ErrorLocation {
  file: string;
  line?: number;
  col?: number;
}

/** Base of every error caused by the user's input or environment. */
export class NfpError extends Error {
  /**
   * A stable machine-readable name (the `code` of the CLI's `--json` error object): given, or the
   * class name in kebab case (`GraphError` → `graph-error`; a plain NfpError is `error`).
   */
  readonly errorCode: string;
  /** The offending input, when the error is about one file. */
  readonly location?: ErrorLocation;

  constructor(
    message: string,
    /** A suggested fix, printed on its own line. */
    readonly hint?: string,
    details: { code?: string; location?: ErrorLocation } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.errorCode =
      details.code ??
      (new.target.name === 'NfpError'
        ? 'error'
        : new.target.name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase());
    this.location = details.location;
  }
}

/** An input file that does not exist or cannot be read; see `requireFile` (files.ts). */
export class MissingFileError extends NfpError {
  constructor(message: string, hint: string, file: string) {
    super(message, hint, { code: 'file-not-found', location: { file } });
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
    super(diagnostics.map(formatDiagnostic).join('\n'), undefined, { location: diagnostics[0]?.loc });
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
