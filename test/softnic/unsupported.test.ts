/**
 * BMv2 JSON outside the softnic's subset is rejected at load with a message naming the
 * construct, and never half-loaded.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../targets/softnic/native';
import { fixture } from './helpers';

type Program = Record<string, unknown> & {
  actions: Array<{ name: string; primitives: unknown[] }>;
  pipelines: Array<{ tables: Array<Record<string, unknown>>; conditionals: Array<Record<string, unknown>> }>;
  parsers: Array<{
    parse_states: Array<
      Record<string, unknown> & { parser_ops: unknown[]; transitions: Array<Record<string, unknown>> }
    >;
  }>;
  calculations: Array<Record<string, unknown>>;
  header_types: Array<{ fields: unknown[][] }>;
};

function base(): Program {
  return JSON.parse(fixture('l2l3.json')) as Program;
}

function loadError(prog: unknown): string {
  const e = createEngine();
  try {
    e.load(typeof prog === 'string' ? prog : JSON.stringify(prog));
  } catch (err) {
    expect((err as { code?: number }).code).toBe(3);
    return (err as Error).message;
  }
  throw new Error('the program was accepted');
}

const cases: Array<[string, (p: Program) => unknown, string]> = [
  [
    'clone primitive',
    (p) => p.actions[1].primitives.push({ op: 'clone_ingress_pkt_to_egress', parameters: [] }),
    'unsupported primitive "clone_ingress_pkt_to_egress" in action MyIngress.drop',
  ],
  [
    'resubmit primitive',
    (p) => p.actions[3].primitives.push({ op: 'resubmit', parameters: [] }),
    'unsupported primitive "resubmit" in action MyIngress.set_nhop',
  ],
  [
    'register arrays',
    (p) => (p.register_arrays = [{ name: 'r', id: 0, size: 4, bitwidth: 32 }]),
    'unsupported construct: registers ("register_arrays": 1 declared)',
  ],
  [
    'header stacks',
    (p) => (p.header_stacks = [{ name: 'vlan', id: 0, size: 2, header_type: 'ethernet_t', header_ids: [] }]),
    'unsupported construct: header stacks ("header_stacks": 1 declared)',
  ],
  [
    'parser value sets',
    (p) => (p.parse_vsets = [{ name: 'pvs', id: 0, compressed_bitwidth: 16 }]),
    'unsupported construct: parser value sets ("parse_vsets": 1 declared)',
  ],
  [
    'digests',
    (p) => (p.learn_lists = [{ id: 1, name: 'mac_learn', elements: [] }]),
    'unsupported construct: digests (learn lists) ("learn_lists": 1 declared)',
  ],
  [
    'action profile table',
    (p) => (p.pipelines[0].tables[2].type = 'indirect'),
    'unsupported construct: table MyIngress.acl of type "indirect" (action profiles/selectors)',
  ],
  [
    'direct meter',
    (p) => (p.pipelines[0].tables[3].direct_meters = 'MyIngress.m'),
    'unsupported construct: direct meter on table MyIngress.route',
  ],
  [
    'idle timeout',
    (p) => (p.pipelines[0].tables[3].support_timeout = true),
    'unsupported construct: idle timeout on table MyIngress.route',
  ],
  [
    'crc32 calculation',
    (p) => (p.calculations[0].algo = 'crc32'),
    'unsupported construct: calculation algorithm "crc32" in calculation calc',
  ],
  [
    'payload checksum input',
    (p) => (p.calculations[0].input as unknown[]).push({ type: 'payload', value: null }),
    'unsupported construct: calculation input of type "payload" in calculation calc',
  ],
  [
    'varbit field',
    (p) => p.header_types[3].fields.push(['options', '*']),
    'unsupported construct: varbit field ipv4_t.options',
  ],
  [
    'signed field',
    (p) => p.header_types[3].fields.push(['s', 8, true]),
    'unsupported construct: signed field ipv4_t.s',
  ],
  [
    'field wider than 128 bits',
    (p) => p.header_types[3].fields.push(['wide', 256, false]),
    'unsupported construct: field ipv4_t.wide is 256 bits wide (at most 128 supported)',
  ],
  [
    'value-set transition',
    (p) => (p.parsers[0].parse_states[0].transitions[0].type = 'parse_vset'),
    'unsupported construct: transition of type "parse_vset" (value sets) in parse state start',
  ],
  [
    'variable-length extract',
    (p) => p.parsers[0].parse_states[2].parser_ops.push({ op: 'extract_VL', parameters: [] }),
    'unsupported construct: parser op "extract_VL" in parse state parse_ipv4',
  ],
  [
    'multicast',
    (p) =>
      p.actions[3].primitives.push({
        op: 'assign',
        parameters: [
          { type: 'field', value: ['standard_metadata', 'mcast_grp'] },
          { type: 'hexstr', value: '0x0001' },
        ],
      }),
    'unsupported construct: multicast (write to standard_metadata.mcast_grp) in primitive "assign" of action MyIngress.set_nhop',
  ],
  [
    'saturating cast operator',
    (p) =>
      (p.pipelines[0].conditionals[3].expression = {
        type: 'expression',
        value: {
          op: 'usat_cast',
          left: { type: 'hexstr', value: '0x1' },
          right: { type: 'hexstr', value: '0x8' },
        },
      }),
    'unsupported construct: expression operator "usat_cast" in conditional node_7',
  ],
  [
    'extra pipeline',
    (p) => (p.pipelines as unknown[]).push({ name: 'mirror', tables: [], conditionals: [] }),
    'unsupported construct: pipeline "mirror" (v1model has ingress and egress)',
  ],
  [
    'extern instances',
    (p) => (p.extern_instances = [{ name: 'x', id: 0, type: 'MyExtern', attribute_values: [] }]),
    'unsupported construct: extern instances ("extern_instances": 1 declared)',
  ],
];

describe('softnic rejects constructs outside its subset', () => {
  it.each(cases)('%s', (_name, mutate, message) => {
    const p = base();
    mutate(p);
    expect(loadError(p)).toBe(message);
  });

  it('accepts the unmodified fixture (the mutations above are what breaks it)', () => {
    expect(() => createEngine().load(fixture('l2l3.json'))).not.toThrow();
  });

  it('rejects malformed input with a position, and non-v1model programs by name', () => {
    expect(loadError('{"header_types": [1, }')).toMatch(/^BMv2 JSON is not valid JSON: .* at offset \d+$/);
    expect(loadError('[]')).toBe('not a BMv2 JSON program: top level is not an object');
    const p = base();
    (p.header_types[1].fields as unknown[][]).splice(0, 3);
    expect(loadError(p)).toMatch(/^not a v1model program: standard_metadata/);
  });
});
