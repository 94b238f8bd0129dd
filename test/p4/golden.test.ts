/**
 * Golden files: for every example graph, the NIC artifacts emitted from its saved plan
 * (`plan.json.golden`, the partitioner's output when the goldens were made) must match the saved
 * artifacts byte for byte, so only a change in p4/ can change them. A fresh partition of each
 * example must still emit (the consistency check runs inside emitNicArtifacts).
 * Regenerate after an intended change with `UPDATE_GOLDEN=1 npx vitest run test/p4/golden`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGraph, partition } from '../../partitioner/index';
import type { Plan } from '../../partitioner/plan';
import { emitNicArtifacts } from '../../p4/index';

const EXAMPLES = join(__dirname, '../../examples');
const GOLDEN = join(__dirname, 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** p4info.bin is checked by decoding it (artifacts.test.ts); its text twin is golden here. */
const COMPARED = ['program.p4', 'program.pna.p4', 'bmv2.json', 'p4info.txtpb', 'entries.json'];
/** JSON goldens get a suffix prettier leaves alone: they must stay byte-identical to the output. */
const goldenName = (path: string): string => (path.endsWith('.json') ? `${path}.golden` : path);

const examples = existsSync(EXAMPLES)
  ? readdirSync(EXAMPLES)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
  : [];

async function freshPlan(file: string): Promise<Plan> {
  const plan = await partition(loadGraph(join(EXAMPLES, file)), {});
  // The graph path is machine-specific; the goldens name the example relative to the repo.
  return { ...plan, graphFile: `examples/${file}`, objective: { ...plan.objective, seconds: 0 } };
}

describe('golden NIC artifacts for every example graph', () => {
  it('has example graphs to check', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  for (const file of examples) {
    const name = basename(file, '.yaml');
    const dir = join(GOLDEN, name);
    const planFile = join(dir, 'plan.json.golden');

    it(`${name}: a fresh partition still emits consistent artifacts`, async () => {
      const plan = await freshPlan(file);
      expect(emitNicArtifacts(plan).files).toHaveLength(6);
      if (UPDATE) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(planFile, `${JSON.stringify(plan, null, 2)}\n`);
      }
    });

    it(`${name}: artifacts from the saved plan match test/p4/golden/${name}/`, () => {
      expect(
        existsSync(planFile),
        `missing ${planFile}: run UPDATE_GOLDEN=1 npx vitest run test/p4/golden`,
      ).toBe(true);
      const a = emitNicArtifacts(JSON.parse(readFileSync(planFile, 'utf8')) as Plan);
      for (const path of COMPARED) {
        const f = a.files.find((x) => x.path === path);
        const text = typeof f?.contents === 'string' ? f.contents : '';
        const golden = join(dir, goldenName(path));
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
