/**
 * Golden files: every example graph, partitioned, emits exactly the saved NIC artifacts.
 * Regenerate after an intended change with `UPDATE_GOLDEN=1 npx vitest run test/p4/golden`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGraph, partition } from '../../partitioner/index';
import { emitNicArtifacts } from '../../p4/index';

const EXAMPLES = join(__dirname, '../../examples');
const GOLDEN = join(__dirname, 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** p4info.bin is checked by decoding it (artifacts.test.ts); its text twin is golden here. */
const COMPARED = ['program.p4', 'program.pna.p4', 'bmv2.json', 'p4info.txtpb', 'entries.json'];

const examples = existsSync(EXAMPLES)
  ? readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
  : [];

describe('golden NIC artifacts for every example graph', () => {
  it('has example graphs to check', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  for (const file of examples) {
    const name = basename(file, '.yaml');
    it(`${name}: artifacts match test/p4/golden/${name}/`, async () => {
      const graph = loadGraph(join(EXAMPLES, file));
      const plan = await partition(graph, {});
      // The graph path is machine-specific; the golden files name the example relative to the repo.
      const a = emitNicArtifacts({ ...plan, graphFile: `examples/${file}` });
      const dir = join(GOLDEN, name);
      if (UPDATE) mkdirSync(dir, { recursive: true });
      for (const path of COMPARED) {
        const f = a.files.find((x) => x.path === path);
        const text = typeof f?.contents === 'string' ? f.contents : '';
        // JSON goldens get a suffix prettier leaves alone: they must stay byte-identical to the output.
        const golden = join(dir, path.endsWith('.json') ? `${path}.golden` : path);
        if (UPDATE) writeFileSync(golden, text);
        expect(
          existsSync(golden),
          `missing ${golden}: run UPDATE_GOLDEN=1 npx vitest run test/p4/golden`,
        ).toBe(true);
        expect(text, `${name}/${path} differs from its golden file`).toBe(readFileSync(golden, 'utf8'));
      }
    });
  }
});
