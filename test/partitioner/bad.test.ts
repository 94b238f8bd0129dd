// The bad-graph corpus: each file under bad/ ends with the exact diagnostics the loader must
// report ("# expect: line:col: key: message"), in order, and nothing else.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphError, loadGraph } from '../../partitioner';

const dir = join(__dirname, 'bad');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('bad graphs', () => {
  it('the corpus covers at least 15 kinds of problem', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  for (const f of files) {
    it(`${f} reports its exact problems`, () => {
      const file = join(dir, f);
      const expected = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('# expect: '))
        .map((l) => l.slice('# expect: '.length));
      expect(expected.length).toBeGreaterThan(0);
      let err: unknown;
      try {
        loadGraph(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GraphError);
      const g = err as GraphError;
      const got = g.diagnostics.map((d) => `${d.loc.line}:${d.loc.col}: ${d.key}: ${d.message}`);
      expect(got).toEqual(expected);
      // The user-facing message is file:line:col for every problem.
      for (const line of g.message.split('\n')) expect(line.startsWith(`${file}:`)).toBe(true);
    });
  }
});
