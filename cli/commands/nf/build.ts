import { basename, extname, join } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { NfpCommand } from '../../base';
import { buildNf, type ArtifactKind } from '../../../host-runtime/lib/isolation';

export interface NfBuildResult {
  artifact: string;
  kind: ArtifactKind;
  /** `artifact#k` names NF k of a chain module. */
  nfs: string[];
}

export default class NfBuild extends NfpCommand<NfBuildResult> {
  static override summary = 'Build NF C sources into a module for an isolation backend.';

  static override description = `Compiles NFs written against include/nfp/nf.h for the host runtime's isolation backends:
  sfi     clang --target=wasm32-wasi (wasi-libc) -> wasm2c -> native shared object: the NF runs in its
          own linear memory with explicit bounds checks and a cycle-budget watchdog (isolation: sfi)
  native  a plain shared object (isolation: mpk and process)

Several sources make one chain module: the NFs run in the given order with one sandbox crossing
per batch (load NF k as ARTIFACT#k). See docs/isolation.md.`;

  static override examples = [
    {
      description: 'Sandbox the example NF (writes out/nf/tagger.sfi.so)',
      command: '<%= config.bin %> <%= command.id %> examples/nf/tagger.c',
    },
    {
      description: 'Build it for mpk and process, naming the module',
      command: '<%= config.bin %> <%= command.id %> examples/nf/tagger.c --backend native -o tagger.so',
    },
    {
      description: 'A tenant chain in one sandbox, sharing a helper source',
      command: '<%= config.bin %> <%= command.id %> fw.c nat.c lb.c --lib json.c -I include -o chain.sfi.so',
    },
  ];

  static override strict = false;
  static override args = {
    sources: Args.string({ description: 'NF C source files (one NF each)', required: true }),
  };

  static override flags = {
    output: Flags.string({
      char: 'o',
      description: 'module to write [default: out/nf/<first source>.<backend>.so]',
    }),
    backend: Flags.option({
      description: 'what to build for',
      options: ['sfi', 'native'] as const,
      default: 'sfi',
    })(),
    lib: Flags.string({ description: 'a source shared by the module’s NFs (repeatable)', multiple: true }),
    include: Flags.string({ char: 'I', description: 'an include directory (repeatable)', multiple: true }),
    define: Flags.string({
      char: 'D',
      description: 'a preprocessor definition NAME[=VALUE] (repeatable)',
      multiple: true,
    }),
    memory: Flags.integer({ description: 'sfi: linear memory in MiB (fixed size)', min: 2, max: 1024 }),
  };

  async run(): Promise<NfBuildResult> {
    const { argv, flags } = await this.parse(NfBuild);
    const sources = argv as string[];
    const kind: ArtifactKind = flags.backend;
    const artifact = await buildNf({
      kind,
      sources,
      out: flags.output ?? join('out', 'nf', `${basename(sources[0], extname(sources[0]))}.${kind}.so`),
      libs: flags.lib,
      includes: flags.include,
      defines: flags.define,
      memoryMiB: flags.memory,
    });
    const nfs = sources.length === 1 ? [artifact] : sources.map((_, k) => `${artifact}#${k}`);
    this.log(`built ${kind} module ${artifact} (${sources.length} NF${sources.length === 1 ? '' : 's'})`);
    return { artifact, kind, nfs };
  }
}
