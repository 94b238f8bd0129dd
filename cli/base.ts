/**
 * Base of every nfp command. A new command gets, by extending NfpCommand<Result>:
 *
 * - `--json`: `run()` returns the Result, which oclif prints as JSON on stdout; the human output
 *   goes through `this.log` (muted under --json) and progress through `this.progress` (stderr).
 * - errors: whatever `run()` throws (an NfpError with a hint, a GraphError with its diagnostics,
 *   an oclif usage error) is printed as `error: …` / `hint: …` on stderr and, under --json, also as
 *   `{"error": {code, message, hint, location, …}}` on stdout; exit status 1 (input), 2 (usage) or
 *   70 (a bug, InternalError). Never a stack trace (NFP_DEBUG=1 prints one). See cli/errors.ts.
 * - a contract, checked by test/cli/contract.test.ts for every command it finds:
 *   schemas/cli/<id>.schema.json describes the Result (`<id>` is the command id with `-` for
 *   spaces: `nf-build`), schemas/cli/error.schema.json every error; docs/cli.md documents every
 *   flag exactly as `--help` shows it. Add a success case for the new command to that test.
 * - inputs: check files with `requireFile` (partitioner/files.ts) before any work starts, and
 *   declare enumerated flags with `Flags.option({options: [...] as const})`, not casts.
 */
import { Command } from '@oclif/core';
import { describeError, reportError } from './errors';

export abstract class NfpCommand<T> extends Command {
  static override enableJsonFlag = true;

  /** A progress line on stderr, muted under --json (stdout then carries only the result). */
  protected progress(line: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${line}\n`);
  }

  protected override async catch(err: Error & { oclif?: { exit?: number }; code?: string }): Promise<T> {
    // `this.exit()` inside run() is not a failure to report.
    if (err.code === 'EEXIT') throw err;
    if (process.env.NFP_DEBUG) console.error(err.stack);
    const e = describeError(err, this.id?.replace(/:/g, ' '));
    reportError(e, this.jsonEnabled());
    return this.exit(e.exitCode);
  }
}
