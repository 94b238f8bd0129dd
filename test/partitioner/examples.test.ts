// The example user NF compiles against NF ABI v1 and agrees with its manifest.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const hasClang = spawnSync('clang', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasClang) console.warn('examples.test: skipping the tagger.c compile check: clang is not installed');

describe('examples/nf/tagger', () => {
  it.skipIf(!hasClang)('compiles cleanly against host-runtime/include/nfp/nf.h', () => {
    const r = spawnSync(
      'clang',
      [
        '-std=c11',
        '-Wall',
        '-Wextra',
        '-Werror',
        '-fsyntax-only',
        '-I',
        'host-runtime/include',
        'examples/nf/tagger.c',
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('declares the same name, regions and verdicts in C and in its manifest', () => {
    const m = parse(readFileSync('examples/nf/tagger.manifest.yaml', 'utf8')) as Record<string, unknown>;
    const c = readFileSync('examples/nf/tagger.c', 'utf8');
    expect(c).toContain(`.name = "${String(m.name)}"`);
    expect(c).toContain(`.verdicts = { ${(m.verdicts as string[]).map((v) => `"${v}"`).join(', ')} }`);
    expect(c).toContain('.reads = NFP_REGION_L3 | NFP_REGION_PAYLOAD');
    expect(m.reads).toEqual(['l3', 'payload']);
    expect(c).toContain('.writes = NFP_REGION_L3');
    expect(m.writes).toEqual(['l3']);
  });
});
