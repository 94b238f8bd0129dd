// The bad-graph corpus: each file under bad/ ends with the exact diagnostics the loader must
// report ("# expect: line:col: key: message"), in order, and nothing else.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGraph } from '../../partitioner';
import { expectCorpusDiagnostics } from './corpus';

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
      expectCorpusDiagnostics(join(dir, f), loadGraph);
    });
  }
});
