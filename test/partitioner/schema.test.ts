// The published JSON Schema of the graph format accepts every example and rejects structural
// mistakes (the loader's own checks go further; see bad.test.ts).
import { readFileSync, readdirSync } from 'node:fs';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import graphSchema from '../../schemas/graph.schema.json';

const validate = new Ajv({ allErrors: true, strict: false }).compile(graphSchema);

describe('schemas/graph.schema.json', () => {
  for (const f of readdirSync('examples').filter((x) => x.endsWith('.yaml'))) {
    it(`accepts examples/${f}`, () => {
      const ok = validate(parse(readFileSync(`examples/${f}`, 'utf8')));
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    });
  }

  const rejects: Array<[string, string]> = [
    ['unknown-top-key.yaml', 'tenants'],
    ['unknown-nf-type.yaml', 'type'],
    ['unknown-config-key.yaml', 'rule'],
    ['when-and-verdict.yaml', 'not'],
    ['reserved-nf-name.yaml', 'exit'],
    ['bad-version.yaml', 'version'],
  ];
  for (const [f, what] of rejects) {
    it(`rejects bad/${f}`, () => {
      expect(validate(parse(readFileSync(`test/partitioner/bad/${f}`, 'utf8')))).toBe(false);
      expect(JSON.stringify(validate.errors)).toContain(what);
    });
  }
});
