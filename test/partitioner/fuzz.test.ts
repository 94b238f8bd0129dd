// Bad input always gets diagnostics, never a crash: mutated examples either load or throw a
// GraphError whose every diagnostic has a location inside the file.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GraphError, parseGraph, partition } from '../../partitioner';

const examples = ['enterprise-edge', 'multi-tenant', 'branch-heavy'].map((e) =>
  readFileSync(`examples/${e}.yaml`, 'utf8'),
);

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete-line' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap-lines' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('replace-char' as const),
    at: fc.nat(),
    ch: fc.constantFrom(':', '{', '-', ' ', 'x', '9', "'", '#'),
  }),
  fc.record({
    kind: fc.constant('replace-token' as const),
    at: fc.nat(),
    ch: fc.constantFrom(
      'exit',
      'drop',
      'entry',
      'fw',
      '0',
      '-1',
      'null',
      '[]',
      '{}',
      '"80-20"',
      '10.0.0.1/8',
    ),
  }),
);

interface Mutation {
  kind: string;
  at: number;
  ch?: string;
}

function mutate(text: string, muts: Mutation[]): string {
  let lines = text.split('\n');
  for (const m of muts) {
    const i = m.at % lines.length;
    if (m.kind === 'delete-line') lines.splice(i, 1);
    else if (m.kind === 'swap-lines' && i + 1 < lines.length)
      [lines[i], lines[i + 1]] = [lines[i + 1], lines[i]];
    else if (m.kind === 'replace-char' && lines[i].length > 0) {
      const c = m.at % lines[i].length;
      lines[i] = lines[i].slice(0, c) + (m.ch ?? '') + lines[i].slice(c + 1);
    } else if (m.kind === 'replace-token') {
      const words = lines[i].split(/(\s+|[{},:[\]])/);
      const w = m.at % Math.max(1, words.length);
      words[w] = m.ch ?? '';
      lines[i] = words.join('');
    }
    if (lines.length === 0) lines = [''];
  }
  return lines.join('\n');
}

describe('loader robustness', () => {
  it('mutated examples load or fail with located diagnostics', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 2 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (e, muts) => {
          const text = mutate(examples[e], muts);
          const lineCount = text.split('\n').length;
          try {
            const g = parseGraph(text, 'm.yaml');
            // A graph that loads must partition (on the roomy default profile) or fail as a user error.
            await partition(g).catch((err: unknown) => {
              expect((err as Error).name).toMatch(/NfpError|GraphError/);
            });
          } catch (err) {
            expect(err).toBeInstanceOf(GraphError);
            for (const d of (err as GraphError).diagnostics) {
              expect(d.loc.file).toBe('m.yaml');
              expect(d.loc.line).toBeGreaterThanOrEqual(1);
              expect(d.loc.line).toBeLessThanOrEqual(lineCount + 1);
              expect(d.message.length).toBeGreaterThan(5);
            }
          }
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});
