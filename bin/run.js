#!/usr/bin/env node
// Entry point of the `nfp` CLI. Commands live in dist/cli/commands (built from cli/commands).
require('@oclif/core').execute({ dir: __dirname }).catch(require('@oclif/core/handle'));
