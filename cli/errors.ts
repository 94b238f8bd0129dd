/**
 * How every nfp command reports a failure, in one place: the error becomes one `CliError` value,
 * printed as `error: …` / `hint: …` on stderr and, under `--json`, also as `{"error": CliError}` on
 * stdout (schemas/cli/error.schema.json). Exit status: 1 for the user's input or environment, 2 for
 * usage (bad flags, unknown command), 70 for a bug in nfp.
 */
import type { Interfaces } from '@oclif/core';
import { GraphError, InternalError, NfpError, type ErrorLocation } from '../partitioner/errors';
import { closest } from '../partitioner/reader';

export interface CliError {
  /** Stable, kebab case: `file-not-found`, `graph-error`, `deploy-error`, `usage-error`, … */
  code: string;
  message: string;
  hint?: string;
  location?: ErrorLocation;
  /** A bad graph: every problem, each with its location and key. */
  diagnostics?: Array<ErrorLocation & { key: string; message: string }>;
  /** A failed deployment: the step that failed (everything before it was undone). */
  step?: string;
  exitCode: number;
}

interface OclifError extends Error {
  oclif?: { exit?: number };
  code?: string;
}

export const EXIT_USER = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

/** The CliError of anything a command threw. `command` is its id with spaces (`nf build`). */
export function describeError(err: unknown, command?: string): CliError {
  if (err instanceof NfpError) {
    const step = (err as { step?: unknown }).step;
    const out: CliError = {
      code: err.errorCode,
      message: err.message,
      hint: err.hint,
      location: err.location,
      diagnostics:
        err instanceof GraphError
          ? err.diagnostics.map((d) => ({ ...d.loc, key: d.key, message: d.message }))
          : undefined,
      step: typeof step === 'string' ? step : undefined,
      exitCode: EXIT_USER,
    };
    // Absent, not undefined: the JSON shows only what applies.
    for (const k of Object.keys(out) as Array<keyof CliError>) if (out[k] === undefined) delete out[k];
    return out;
  }
  if (err instanceof InternalError) {
    return {
      code: 'internal-error',
      message: err.message,
      hint: 'this is a bug in nfp; please report it with the input that caused it (NFP_DEBUG=1 prints a stack trace)',
      exitCode: EXIT_INTERNAL,
    };
  }
  const e = err instanceof Error ? (err as OclifError) : new Error(String(err));
  if ((e as OclifError).oclif) {
    // oclif's parser: unknown flag, missing argument, a value not among the options.
    const lines = e.message.split('\n').filter((l) => !/^See more help with/.test(l));
    return {
      code: 'usage-error',
      message: lines.join('\n').trim(),
      hint: `see \`nfp ${command ? `${command} ` : ''}--help\``,
      exitCode: (e as OclifError).oclif?.exit ?? EXIT_USAGE,
    };
  }
  return {
    code: 'unexpected-error',
    message: e.message,
    hint: 'this may be a bug in nfp; NFP_DEBUG=1 prints a stack trace to report',
    exitCode: EXIT_USER,
  };
}

/** The human form, for stderr. */
export function renderError(e: CliError): string {
  return `error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`;
}

/**
 * Prints `e` (stderr always; stdout as JSON when `json`) and sets the exit status. Used by
 * NfpCommand.catch and by the hooks that run before any command exists (unknown command).
 */
export function reportError(e: CliError, json: boolean): void {
  process.stderr.write(`${renderError(e)}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ error: e }, null, 2)}\n`);
  process.exitCode = e.exitCode;
}

/** The command ids as users type them (`nf build`). */
function commandNames(config: Interfaces.Config): string[] {
  return config.commands.filter((c) => !c.hidden).map((c) => c.id.replace(/:/g, ' '));
}

/**
 * `nfp deplyo g.yaml`: oclif hands over the words it could not resolve, joined with `:`. The
 * longest leading run of words close to a command's name is the suggestion.
 */
export function unknownCommand(config: Interfaces.Config, typedId: string): CliError {
  const words = typedId.split(':');
  const names = commandNames(config);
  const topics = new Set(names.filter((n) => n.includes(' ')).map((n) => n.split(' ')[0]));
  let typedWords = topics.has(words[0]) && words.length > 1 ? 2 : 1;
  let suggestion: string | undefined;
  for (let n = Math.min(words.length, 3); n >= 1 && !suggestion; n--) {
    suggestion = closest(words.slice(0, n).join(' '), names);
    if (suggestion) typedWords = n;
  }
  const typed = words.slice(0, typedWords).join(' ');
  return {
    code: 'unknown-command',
    message: `"${typed}" is not an nfp command${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
    hint: `the commands are: ${names.sort().join(', ')}; \`nfp help COMMAND\` explains one`,
    exitCode: EXIT_USAGE,
  };
}
