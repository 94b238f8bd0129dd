/**
 * Generated inputs: for seeded synthetic graphs of several shapes, partitioned by the heuristic
 * solver, every emit passes the consistency check (it runs inside emitNicArtifacts), the BMv2
 * schema, and the structural invariants of steering.
 */
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { partition } from '../../partitioner/index';
import { syntheticGraph } from '../../partitioner/synthetic';
import { emitNicArtifacts } from '../../p4/index';

const schema = JSON.parse(readFileSync(join(__dirname, '../../schemas/bmv2.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strictTuples: false }).compile(schema);

const SHAPES = [
  { tenants: 1, nfsPerTenant: 3, seed: 11 },
  { tenants: 4, nfsPerTenant: 5, seed: 12, forks: 4, idsRate: 0.3 },
  { tenants: 12, nfsPerTenant: 4, seed: 13, forks: 2 },
  { tenants: 30, nfsPerTenant: 6, seed: 14, idsRate: 0 },
];

describe('emit on synthetic plans', () => {
  it.each(SHAPES)('$tenants tenants × $nfsPerTenant NFs (seed $seed)', async (shape) => {
    const plan = await partition(syntheticGraph(shape), { solver: 'heuristic' });
    const noRange = { ...plan.profile, matchKinds: plan.profile.matchKinds.filter((k) => k !== 'range') };
    for (const a of [emitNicArtifacts(plan), emitNicArtifacts(plan, { profile: noRange })]) {
      expect(validate(JSON.parse(JSON.stringify(a.bmv2))), JSON.stringify(validate.errors?.slice(0, 3))).toBe(
        true,
      );
      const steered = new Set(
        a.pipeline.entries.filter((e) => e.table === 'steer').map((e) => e.action.action),
      );
      expect([...steered].every((x) => x === 'to_host')).toBe(true);
      const steerPaths = a.pipeline.entries
        .filter((e) => e.table === 'steer')
        .map((e) => (e.match[0].kind === 'exact' ? Number(e.match[0].value) : -1));
      for (const id of steerPaths) expect(plan.paths.find((p) => p.id === id)?.needsHost).toBe(true);
      expect(steerPaths.length).toBe(plan.paths.filter((p) => p.needsHost && !p.branchOf).length);
    }
  });
});
