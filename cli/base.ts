/**
 * Base of every nfp command: turns thrown errors into one readable message and a non-zero exit,
 * never a stack trace (set NFP_DEBUG=1 to see one).
 */
import { Command } from '@oclif/core';
import { NfpError, InternalError } from '../partitioner/errors';

export abstract class NfpCommand<T> extends Command {
  static override enableJsonFlag = true;

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<T> {
    if (process.env.NFP_DEBUG) console.error(err.stack);
    // oclif's own parse errors (unknown flag, missing arg) already read well.
    if (err.oclif) return super.catch(err) as Promise<T>;
    const thrown: unknown = err;
    if (thrown instanceof NfpError) {
      const hint = thrown.hint ? `\nhint: ${thrown.hint}` : '';
      this.logToStderr(`error: ${thrown.message}${hint}`);
      this.exit(1);
    }
    if (err instanceof InternalError) {
      this.logToStderr(
        `${err.message}\nThis is a bug in nfp; please report it with the input that caused it.`,
      );
      this.exit(70);
    }
    this.logToStderr(`error: ${err.message}`);
    this.exit(1);
  }
}
