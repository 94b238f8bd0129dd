import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitNicArtifacts } from '../../p4/index';
import { twoTenantPlan } from './fixtures/plans';

const schema = JSON.parse(readFileSync(join(__dirname, '../../schemas/bmv2.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strictTuples: false }).compile(schema);

describe('bmv2.json against schemas/bmv2.schema.json', () => {
  it('the emitted JSON is valid', () => {
    const { bmv2 } = emitNicArtifacts(twoTenantPlan());
    const ok = validate(JSON.parse(JSON.stringify(bmv2)));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('rejects a construct outside the documented subset', () => {
    const doc = JSON.parse(JSON.stringify(emitNicArtifacts(twoTenantPlan()).bmv2)) as {
      actions: Array<{ primitives: Array<{ op: string }> }>;
    };
    doc.actions[1].primitives.push({ op: 'modify_field_with_hash_based_offset', parameters: [] } as never);
    expect(validate(doc)).toBe(false);
  });

  it('rejects a table with direct counters (not in the subset)', () => {
    const doc = JSON.parse(JSON.stringify(emitNicArtifacts(twoTenantPlan()).bmv2)) as {
      pipelines: Array<{ tables: Array<{ with_counters: boolean }> }>;
    };
    doc.pipelines[0].tables[0].with_counters = true;
    expect(validate(doc)).toBe(false);
  });
});
