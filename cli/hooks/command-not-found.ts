/**
 * `nfp deplyo g.yaml`: an unknown command gets a "did you mean" and the list of commands (as JSON
 * too under --json), exit status 2. Registered in package.json (oclif.hooks).
 */
import type { Hook } from '@oclif/core';
import { reportError, unknownCommand } from '../errors';

const hook: Hook.CommandNotFound = async function (opts) {
  reportError(unknownCommand(opts.config, opts.id), (opts.argv ?? []).includes('--json'));
};

export default hook;
