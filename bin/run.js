#!/usr/bin/env node
// Entry point of the `nfp` CLI. Commands live in dist/cli/commands (built from cli/commands).
const oclif = require('@oclif/core');

oclif.execute({ dir: __dirname }).catch(oclif.handle);
