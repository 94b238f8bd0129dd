#!/usr/bin/env node
// Entry point of the `nfp` CLI. Commands live in dist/cli/commands (built from cli/commands).
const oclif = require('@oclif/core');

// Always the built commands, whatever NODE_ENV says: oclif would otherwise run the TypeScript
// sources through tsx under NODE_ENV=development or test, which is not what users run.
oclif.settings.enableAutoTranspile = false;

oclif.execute({ dir: __dirname }).catch(oclif.handle);
