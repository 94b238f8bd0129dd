import { describe, expect, it } from 'vitest';
import { InternalError } from '../../partitioner/errors';
import { checkArtifacts, emitNicArtifacts, type NicArtifacts } from '../../p4/index';
import { P4_ID_PREFIX } from '../../p4/emit/p4info';
import { codecs } from '../../p4runtime/proto';
import { fileText } from './helpers';
import { twoTenantPlan } from './fixtures/plans';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function parts(a: NicArtifacts) {
  return {
    pipeline: a.pipeline,
    programP4: fileText(a, 'program.p4'),
    programPna: fileText(a, 'program.pna.p4'),
    bmv2: clone(a.bmv2),
    p4info: clone(a.p4info),
    entries: clone(a.entries),
  };
}

describe('emitNicArtifacts', () => {
  const a = emitNicArtifacts(twoTenantPlan());

  it('writes the six NIC artifacts', () => {
    expect(a.files.map((f) => f.path)).toEqual([
      'program.p4',
      'program.pna.p4',
      'bmv2.json',
      'p4info.txtpb',
      'p4info.bin',
      'entries.json',
    ]);
  });

  it('writes entries.json as JSON equal to the typed entries, one entry per line', () => {
    const text = fileText(a, 'entries.json');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(a.entries)));
    expect(text.split('\n').filter((l) => l.startsWith('    {"table":'))).toHaveLength(
      a.entries.tableEntries.length,
    );
  });

  it('is deterministic: the same plan gives byte-identical files', () => {
    const b = emitNicArtifacts(twoTenantPlan());
    for (let i = 0; i < a.files.length; i++) {
      expect(Buffer.from(b.files[i].contents).equals(Buffer.from(a.files[i].contents))).toBe(true);
    }
  });

  it('gives P4Info ids the spec prefixes and p4c-style names', () => {
    for (const t of a.p4info.tables ?? []) expect((t.preamble?.id ?? 0) >>> 24).toBe(P4_ID_PREFIX.TABLE);
    for (const x of a.p4info.actions ?? []) expect((x.preamble?.id ?? 0) >>> 24).toBe(P4_ID_PREFIX.ACTION);
    for (const c of a.p4info.counters ?? []) expect((c.preamble?.id ?? 0) >>> 24).toBe(P4_ID_PREFIX.COUNTER);
    for (const m of a.p4info.meters ?? []) expect((m.preamble?.id ?? 0) >>> 24).toBe(P4_ID_PREFIX.METER);
    const names = (a.p4info.tables ?? []).map((t) => t.preamble?.name);
    expect(names).toContain('MyIngress.tenant_classify');
    expect(names).toContain('MyIngress.nf0_acme_fw_acl');
    expect((a.p4info.actions ?? []).map((x) => x.preamble?.name)).toContain('NoAction');
    const tc = (a.p4info.tables ?? []).find((t) => t.preamble?.name === 'MyIngress.tenant_classify');
    expect(tc?.matchFields?.[0]).toMatchObject({
      id: 1,
      name: 'standard_metadata.ingress_port',
      bitwidth: 9,
    });
    const ids = [...(a.p4info.tables ?? []), ...(a.p4info.actions ?? [])].map((x) => x.preamble?.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encodes p4info.bin that decodes to the same P4Info, and a matching text format', () => {
    const bin = a.files.find((f) => f.path === 'p4info.bin')?.contents as Uint8Array;
    const back = codecs.P4Info.decode(bin);
    expect((back.tables ?? []).map((t) => [t.preamble?.id, t.preamble?.name])).toEqual(
      (a.p4info.tables ?? []).map((t) => [t.preamble?.id, t.preamble?.name]),
    );
    const txt = fileText(a, 'p4info.txtpb');
    expect(txt).toContain('name: "MyIngress.path_classify"');
    expect(txt).toContain('match_type: RANGE');
    expect(txt).toMatch(/^pkg_info \{\n {2}name: "program.p4"\n {2}arch: "v1model"\n\}/);
  });

  it('keeps user names from breaking the P4 text or the text format', () => {
    const plan = twoTenantPlan();
    plan.nfs[0] = { ...plan.nfs[0], name: 'acme.fw\n}"x\\' };
    const b = emitNicArtifacts(plan);
    expect(fileText(b, 'program.p4')).toContain('// firewall acme.fw }"x\\ (firewall, NF 0)');
    expect(fileText(b, 'p4info.txtpb')).toContain('brief: "firewall acme.fw\\012}\\"x\\\\ (firewall, NF 0)');
    expect(b.pipeline.tables.map((t) => t.name)).toContain('nf0_acme_fw_x_acl');
  });

  it('writes entries as canonical bytestrings, omitting don’t-care fields, larger priority first', () => {
    const tc = a.entries.tableEntries.filter((e) => e.table === 'MyIngress.tenant_classify');
    expect(tc.map((e) => e.priority)).toEqual([20, 10, 5]);
    expect(tc[1].match).toEqual([
      { field: 'standard_metadata.ingress_port', fieldId: 1, ternary: { value: '0x00', mask: '0x01ff' } },
    ]);
    for (const e of a.entries.tableEntries) {
      for (const p of e.action.params)
        expect(p.value).toMatch(/^0x([1-9a-f][0-9a-f]|0[0-9a-f])([0-9a-f]{2})*$/);
    }
    expect(a.entries.dropReasons.find((d) => d.name === 'nsh-on-wire')?.code).toBe(2);
    expect(a.entries.meterEntries.map((m) => m.meter)).toEqual([
      'MyIngress.tenant_meter',
      'MyIngress.nf8_beta_rl_meter',
    ]);
  });

  it('builds a BMv2 control graph where every table is reached once and every next exists', () => {
    const ingress = a.bmv2.pipelines[0];
    const tables = new Map(ingress.tables.map((t) => [t.name, t]));
    const conds = new Map(
      (
        ingress.conditionals as Array<{ name: string; true_next: string | null; false_next: string | null }>
      ).map((c) => [c.name, c]),
    );
    const seen = new Set<string>();
    const walk = (n: string | null): void => {
      if (n === null || seen.has(n)) return;
      seen.add(n);
      const t = tables.get(n);
      const c = conds.get(n);
      expect(t ?? c).toBeDefined();
      if (t) for (const next of Object.values(t.next_tables)) walk(next);
      if (c) {
        walk(c.true_next);
        walk(c.false_next);
      }
    };
    walk(ingress.init_table);
    for (const t of tables.keys()) expect(seen).toContain(t);
    expect(tables.size).toBe(a.pipeline.tables.length);
  });
});

describe('the consistency check', () => {
  const a = emitNicArtifacts(twoTenantPlan());

  it('accepts the artifacts as emitted', () => {
    expect(() => checkArtifacts(parts(a))).not.toThrow();
  });

  it('names a width that differs in program.p4', () => {
    const x = parts(a);
    x.programP4 = x.programP4.replace('action set_path(bit<24> path)', 'action set_path(bit<23> path)');
    expect(() => checkArtifacts(x)).toThrow(InternalError);
    expect(() => checkArtifacts(x)).toThrow(
      /action MyIngress.set_path differs: program.p4 has \(path:23\), bmv2.json has \(path:24\)/,
    );
  });

  it('names a key field that differs in bmv2.json', () => {
    const x = parts(a);
    const t = x.bmv2.pipelines[0].tables.find((y) => y.name === 'MyIngress.path_classify');
    if (!t) throw new Error('no table');
    t.key[1].match_type = 'exact';
    expect(() => checkArtifacts(x)).toThrow(
      /table MyIngress.path_classify differs: program.p4 has keys \[meta.tenant:exact:16, meta.ip_proto:ternary:8/,
    );
  });

  it('names a table missing from the P4Info', () => {
    const x = parts(a);
    x.p4info.tables = (x.p4info.tables ?? []).filter((t) => t.preamble?.name !== 'MyIngress.steer');
    expect(() => checkArtifacts(x)).toThrow(/table MyIngress.steer is in program.p4 but not in p4info/);
  });

  it('names a P4Info bitwidth that differs', () => {
    const x = parts(a);
    const t = (x.p4info.tables ?? []).find((y) => y.preamble?.name === 'MyIngress.return_classify');
    if (!t?.matchFields) throw new Error('no table');
    t.matchFields[0].bitwidth = 16;
    expect(() => checkArtifacts(x)).toThrow(/table MyIngress.return_classify differs/);
  });

  it('names a table that differs in program.pna.p4', () => {
    const x = parts(a);
    x.programPna = x.programPna.replace('actions = { to_host; NoAction; }', 'actions = { to_host; }');
    expect(() => checkArtifacts(x)).toThrow(
      /table MyIngress.steer differs: program.p4 has .* program.pna.p4 has/,
    );
  });

  it('names an entry whose value does not fit its field', () => {
    const x = parts(a);
    const e = x.entries.tableEntries.find((y) => y.table === 'MyIngress.steer');
    if (!e) throw new Error('no entry');
    e.action.params[0].value = '0x0200';
    expect(() => checkArtifacts(x)).toThrow(
      /entries.json: entry \d+ \(MyIngress.steer\) param port=0x0200 does not fit 9 bits/,
    );
  });

  it('names an entry with a stale table id', () => {
    const x = parts(a);
    x.entries.tableEntries[0].tableId += 1;
    expect(() => checkArtifacts(x)).toThrow(/entries.json: entry 1 \(MyIngress.port_role\) has table id/);
  });
});
