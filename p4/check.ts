/**
 * The consistency check run on every emit: the tables, actions, fields and widths must agree
 * across the P4 source (read back from its text), the BMv2 JSON, the P4Info and the entries.
 * Any disagreement is an InternalError naming it; an inconsistent artifact is never written.
 */
import { InternalError } from '../partitioner/errors';
import type * as m from '../p4runtime/messages';
import type { Bmv2Json } from './emit/bmv2-json';
import type { NicEntries } from './emit/entries';

/** What every artifact must agree on. Keys are `name:kind:width`, params `name:width`. */
export interface Signature {
  tables: Map<string, { keys: string[]; actions: string[] }>;
  actions: Map<string, string[]>;
  counters: Map<string, number>;
  meters: Map<string, number>;
}

/** What the P4 sources and the P4Info must agree on beyond the signature. */
export interface ControlPlaneIds {
  /** `kind:name` → P4Runtime id (`table:MyIngress.steer`, `controller_header:packet_in`). */
  ids: Map<string, number>;
  /** Controller header name → its fields as `name:width`, in order. */
  controllerHeaders: Map<string, string[]>;
}

const fail = (message: string): never => {
  throw new InternalError('p4/check', message);
};

const MATCH_NAME: Record<number, string> = { 2: 'exact', 3: 'lpm', 4: 'ternary', 5: 'range' };

/**
 * Reads the signature back from P4_16 text in the shape p4/emit writes it, line by line, with
 * the annotations: `@name(".X")` gives an object's control-plane name (else `control.local`),
 * `@id(N)` its P4Runtime id, `@controller_header("k")` marks a packet I/O header, and a key's
 * `@name("x")` its field name. `intrinsics` gives the width of architecture fields used as keys.
 */
export function signatureFromP4(
  text: string,
  control: string,
  intrinsics: Record<string, number>,
): Signature & ControlPlaneIds {
  const types = new Map<string, Map<string, number>>();
  const members = new Map<string, string>();
  const local = (n: string): string => (n === 'NoAction' ? n : `${control}.${n}`);
  const sig: Signature & ControlPlaneIds = {
    tables: new Map(),
    actions: new Map(),
    counters: new Map(),
    meters: new Map(),
    ids: new Map(),
    controllerHeaders: new Map(),
  };
  const rawKeys = new Map<string, Array<[string, string, number | undefined]>>();
  const tableName = new Map<string, string>();
  const actionName = new Map<string, string>();
  let type: Map<string, number> | undefined;
  let typeName = '';
  let controllerHeader = '';
  let table = '';
  // Annotations on the line before a declaration.
  let pending: { name?: string; id: number } | undefined;
  const take = (kind: string, n: string): string => {
    const name = pending?.name ?? local(n);
    if (pending) sig.ids.set(`${kind}:${name}`, pending.id);
    pending = undefined;
    return name;
  };
  let m: RegExpExecArray | null;
  for (const line of text.split('\n')) {
    if (type) {
      if (line === '}') {
        if (controllerHeader)
          sig.controllerHeaders.set(
            controllerHeader,
            [...type].map(([n, w]) => `${n}:${w}`),
          );
        type = undefined;
        controllerHeader = '';
      } else if ((m = /^ {4}bit<(\d+)> (\w+);$/.exec(line))) type.set(m[2], Number(m[1]));
      else if (typeName === 'headers_t' && (m = /^ {4}(\w+) (\w+);$/.exec(line))) members.set(m[2], m[1]);
      continue;
    }
    if ((m = /^@controller_header\("(\w+)"\) @id\((0x[0-9a-f]+)\)$/.exec(line))) {
      controllerHeader = m[1];
      sig.ids.set(`controller_header:${m[1]}`, Number(m[2]));
    } else if ((m = /^(?:header|struct) (\w+) \{$/.exec(line))) {
      typeName = m[1];
      type = new Map();
      types.set(typeName, type);
    } else if ((m = /^ {4}(?:@name\("\.([\w.]+)"\) )?@id\((0x[0-9a-f]+)\)$/.exec(line))) {
      pending = { name: m[1], id: Number(m[2]) };
    } else if (table) {
      if (line === '    }') table = '';
      else if ((m = /^ {12}([\w.]+): (\w+)(?: @name\("([\w.]+)"\))?;$/.exec(line)))
        rawKeys.get(table)?.push([m[3] ?? m[1], m[2], m[3] ? intrinsics[m[3]] : undefined]);
      else if ((m = /^ {8}actions = \{(.*)\}$/.exec(line))) {
        const actions = m[1]
          .split(';')
          .map((x) => x.trim())
          .filter(Boolean)
          .map((a) => actionName.get(a) ?? local(a));
        if (actions.includes('NoAction')) sig.actions.set('NoAction', []);
        sig.tables.set(tableName.get(table) ?? '', { keys: [], actions: actions.sort() });
      }
    } else if ((m = /^ {4}table (\w+) \{$/.exec(line))) {
      table = m[1];
      tableName.set(table, take('table', m[1]));
      rawKeys.set(table, []);
    } else if ((m = /^ {4}action (\w+)\(([^)]*)\) \{$/.exec(line))) {
      const name = m[1];
      const full = take('action', name);
      actionName.set(name, full);
      const params = m[2]
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .map((x) => {
          const pm = /^bit<(\d+)> (\w+)$/.exec(x);
          return pm
            ? `${pm[2]}:${pm[1]}`
            : fail(`program text: cannot read parameter "${x}" of action ${name}`);
        });
      sig.actions.set(full, params);
    } else if ((m = /^ {4}(counter|meter|Counter|Meter)(?:<.*>)?\(32w(\d+), [\w.]+\) (\w+);$/.exec(line))) {
      const kind = m[1].toLowerCase();
      (kind === 'counter' ? sig.counters : sig.meters).set(take(kind, m[3]), Number(m[2]));
    }
  }
  const width = (expr: string): number => {
    const parts = expr.split('.');
    let w: number | undefined;
    if (parts[0] === 'hdr' && parts.length === 3) w = types.get(members.get(parts[1]) ?? '')?.get(parts[2]);
    else if (parts[0] === 'meta' && parts.length === 2) w = types.get('metadata_t')?.get(parts[1]);
    else w = intrinsics[expr];
    return w ?? fail(`program text: cannot resolve the width of ${expr}`);
  };
  for (const [t, keys] of rawKeys) {
    const entry =
      sig.tables.get(tableName.get(t) ?? '') ?? fail(`program text: table ${t} has no actions list`);
    entry.keys = keys.map(([expr, kind, w]) => `${expr}:${kind}:${w ?? width(expr)}`);
  }
  return sig;
}

/** The ids and controller headers of a P4Info, for comparison with a P4 source's annotations. */
export function idsFromP4Info(info: m.P4Info): ControlPlaneIds {
  const ids = new Map<string, number>();
  const put = (kind: string, xs: { preamble?: m.Preamble | null }[] | undefined): void => {
    for (const x of xs ?? []) ids.set(`${kind}:${x.preamble?.name ?? ''}`, x.preamble?.id ?? 0);
  };
  put('table', info.tables);
  put(
    'action',
    (info.actions ?? []).filter((a) => a.preamble?.name !== 'NoAction'),
  );
  put('counter', info.counters);
  put('meter', info.meters);
  put('controller_header', info.controllerPacketMetadata);
  const controllerHeaders = new Map(
    (info.controllerPacketMetadata ?? []).map((h) => [
      h.preamble?.name ?? '',
      (h.metadata ?? []).map((x) => `${x.name}:${x.bitwidth}`),
    ]),
  );
  return { ids, controllerHeaders };
}

/** Throws naming the first id or controller header on which a P4 source and the P4Info differ. */
export function compareIds(a: ControlPlaneIds, an: string, b: ControlPlaneIds, bn: string): void {
  for (const [k, v] of a.ids)
    if (b.ids.get(k) !== v) fail(`${k} has @id ${v} in ${an} but ${b.ids.get(k) ?? 'no id'} in ${bn}`);
  for (const k of b.ids.keys()) if (!a.ids.has(k)) fail(`${k} has an id in ${bn} but no @id in ${an}`);
  for (const [k, v] of b.controllerHeaders)
    if ((a.controllerHeaders.get(k) ?? []).join(',') !== v.join(','))
      fail(
        `controller header ${k}: ${an} has (${a.controllerHeaders.get(k)?.join(', ') ?? 'none'}), ${bn} has (${v.join(', ')})`,
      );
  for (const k of a.controllerHeaders.keys())
    if (!b.controllerHeaders.has(k)) fail(`controller header ${k} is in ${an} but not in ${bn}`);
}

export function signatureFromBmv2(json: Bmv2Json): Signature {
  const widths = new Map<string, number>();
  const typeOf = new Map(json.headers.map((h) => [h.name, h.header_type]));
  for (const t of json.header_types) for (const [n, w] of t.fields) widths.set(`${t.name}.${n}`, w);
  const width = (target: [string, string]): number =>
    widths.get(`${typeOf.get(target[0])}.${target[1]}`) ??
    fail(`bmv2.json: key target ${target.join('.')} is not a declared field`);
  const sig: Signature = { tables: new Map(), actions: new Map(), counters: new Map(), meters: new Map() };
  for (const a of json.actions)
    sig.actions.set(
      a.name,
      a.runtime_data.map((r) => `${r.name}:${r.bitwidth}`),
    );
  for (const pl of json.pipelines) {
    for (const t of pl.tables) {
      sig.tables.set(t.name, {
        keys: t.key.map((k) => `${k.name}:${k.match_type}:${width(k.target)}`),
        actions: [...t.actions].sort(),
      });
    }
  }
  for (const c of json.counter_arrays) sig.counters.set(c.name, c.size);
  for (const x of json.meter_arrays) sig.meters.set(x.name, x.size);
  return sig;
}

export function signatureFromP4Info(info: m.P4Info): Signature {
  const actionName = new Map((info.actions ?? []).map((a) => [a.preamble?.id ?? 0, a.preamble?.name ?? '']));
  const sig: Signature = { tables: new Map(), actions: new Map(), counters: new Map(), meters: new Map() };
  for (const a of info.actions ?? []) {
    sig.actions.set(
      a.preamble?.name ?? '',
      (a.params ?? []).map((x) => `${x.name}:${x.bitwidth}`),
    );
  }
  for (const t of info.tables ?? []) {
    sig.tables.set(t.preamble?.name ?? '', {
      keys: (t.matchFields ?? []).map(
        (k) => `${k.name}:${MATCH_NAME[k.matchType ?? 0] ?? '?'}:${k.bitwidth}`,
      ),
      actions: (t.actionRefs ?? [])
        .map(
          (r) =>
            actionName.get(r.id ?? 0) ??
            fail(`p4info: table ${t.preamble?.name} refers to unknown action id ${r.id}`),
        )
        .sort(),
    });
  }
  for (const c of info.counters ?? []) sig.counters.set(c.preamble?.name ?? '', Number(c.size));
  for (const x of info.meters ?? []) sig.meters.set(x.preamble?.name ?? '', Number(x.size));
  return sig;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Throws naming the first disagreement between two signatures. */
export function compareSignatures(a: Signature, an: string, b: Signature, bn: string): void {
  const sets = <T>(
    what: string,
    x: Map<string, T>,
    y: Map<string, T>,
    same: (p: T, q: T) => boolean,
    show: (v: T) => string,
  ): void => {
    for (const [k, v] of x) {
      if (!y.has(k)) fail(`${what} ${k} is in ${an} but not in ${bn}`);
      const w = y.get(k) as T;
      if (!same(v, w)) fail(`${what} ${k} differs: ${an} has ${show(v)}, ${bn} has ${show(w)}`);
    }
    for (const k of y.keys()) if (!x.has(k)) fail(`${what} ${k} is in ${bn} but not in ${an}`);
  };
  sets('action', a.actions, b.actions, sameList, (v) => `(${v.join(', ')})`);
  sets(
    'table',
    a.tables,
    b.tables,
    (p, q) => sameList(p.keys, q.keys) && sameList(p.actions, q.actions),
    (v) => `keys [${v.keys.join(', ')}] actions [${v.actions.join(', ')}]`,
  );
  sets(
    'counter',
    a.counters,
    b.counters,
    (p, q) => p === q,
    (v) => `size ${v}`,
  );
  sets(
    'meter',
    a.meters,
    b.meters,
    (p, q) => p === q,
    (v) => `size ${v}`,
  );
}

const hexValue = (s: string, what: string): bigint =>
  /^0x[0-9a-f]+$/.test(s)
    ? BigInt(s)
    : fail(`entries.json: ${what} "${s}" is not a canonical hex bytestring`);

/** Every entry must name a P4Info table, field and action by matching name and id, with values that fit. */
export function checkEntries(entries: NicEntries, info: m.P4Info): void {
  const tables = new Map((info.tables ?? []).map((t) => [t.preamble?.name ?? '', t]));
  const actions = new Map((info.actions ?? []).map((a) => [a.preamble?.name ?? '', a]));
  entries.tableEntries.forEach((e, i) => {
    const where = `entry ${i + 1} (${e.table})`;
    const t = tables.get(e.table) ?? fail(`entries.json: ${where} names a table missing from p4info`);
    if (t.preamble?.id !== e.tableId)
      fail(`entries.json: ${where} has table id ${e.tableId}, p4info says ${t.preamble?.id}`);
    for (const fm of e.match) {
      const mf = (t.matchFields ?? []).find((x) => x.id === fm.fieldId);
      if (!mf || mf.name !== fm.field)
        fail(`entries.json: ${where} matches field ${fm.field} (id ${fm.fieldId}) not in the table`);
      const bw = mf?.bitwidth ?? 0;
      const vals =
        'exact' in fm
          ? [fm.exact.value]
          : 'ternary' in fm
            ? [fm.ternary.value, fm.ternary.mask]
            : 'lpm' in fm
              ? [fm.lpm.value]
              : [fm.range.low, fm.range.high];
      const kind = Object.keys(fm).find((k) => k !== 'field' && k !== 'fieldId');
      if (kind !== MATCH_NAME[mf?.matchType ?? 0])
        fail(`entries.json: ${where} uses ${kind} on ${fm.field}, a ${MATCH_NAME[mf?.matchType ?? 0]} field`);
      for (const v of vals)
        if (hexValue(v, fm.field) >> BigInt(bw) !== 0n)
          fail(`entries.json: ${where} value ${v} does not fit ${fm.field} (${bw} bits)`);
      if ('ternary' in fm && (BigInt(fm.ternary.value) & ~BigInt(fm.ternary.mask)) !== 0n) {
        fail(`entries.json: ${where} ternary value of ${fm.field} has bits outside its mask`);
      }
    }
    const a =
      actions.get(e.action.name) ??
      fail(`entries.json: ${where} uses action ${e.action.name} missing from p4info`);
    if (a.preamble?.id !== e.action.id)
      fail(`entries.json: ${where} has action id ${e.action.id}, p4info says ${a.preamble?.id}`);
    if (!(t.actionRefs ?? []).some((r) => r.id === e.action.id))
      fail(`entries.json: ${where} uses action ${e.action.name}, not an action of the table`);
    const params = a.params ?? [];
    if (params.length !== e.action.params.length)
      fail(
        `entries.json: ${where} gives ${e.action.params.length} params to ${e.action.name}, which takes ${params.length}`,
      );
    e.action.params.forEach((p, j) => {
      const decl = params[j];
      if (decl.name !== p.name || decl.id !== p.id)
        fail(`entries.json: ${where} param ${p.name} does not match ${e.action.name}'s ${decl.name}`);
      if (hexValue(p.value, p.name) >> BigInt(decl.bitwidth ?? 0) !== 0n)
        fail(`entries.json: ${where} param ${p.name}=${p.value} does not fit ${decl.bitwidth} bits`);
    });
    const needsPriority = (t.matchFields ?? []).some((x) => x.matchType === 4 || x.matchType === 5);
    if (needsPriority !== (e.priority !== undefined && e.priority >= 1))
      fail(`entries.json: ${where} priority ${e.priority} is wrong for its table`);
  });
  const meters = new Map((info.meters ?? []).map((x) => [x.preamble?.name ?? '', x]));
  for (const me of entries.meterEntries) {
    const x = meters.get(me.meter) ?? fail(`entries.json: meter ${me.meter} missing from p4info`);
    if (x.preamble?.id !== me.meterId || me.index < 0 || me.index >= Number(x.size))
      fail(`entries.json: meter entry ${me.meter}[${me.index}] does not fit p4info`);
  }
}

/**
 * Names that core.p4, v1model.p4 or pna.p4 declare at top level. An emitted declaration with one
 * of these names would shadow the architecture's (p4c warns; vendor compilers may refuse).
 */
export const ARCH_NAMES: ReadonlySet<string> = new Set([
  // core.p4
  'NoAction',
  'packet_in',
  'packet_out',
  'verify',
  'static_assert',
  'match_kind',
  'error',
  'exact',
  'ternary',
  'lpm',
  'range',
  'optional',
  'selector',
  'dontcare',
  // v1model.p4
  'standard_metadata_t',
  'CounterType',
  'MeterType',
  'HashAlgorithm',
  'CloneType',
  'counter',
  'direct_counter',
  'meter',
  'direct_meter',
  'register',
  'action_profile',
  'action_selector',
  'random',
  'digest',
  'mark_to_drop',
  'hash',
  'Checksum16',
  'verify_checksum',
  'update_checksum',
  'verify_checksum_with_payload',
  'update_checksum_with_payload',
  'resubmit',
  'resubmit_preserving_field_list',
  'recirculate',
  'recirculate_preserving_field_list',
  'clone',
  'clone3',
  'clone_preserving_field_list',
  'truncate',
  'assert',
  'assume',
  'log_msg',
  'Parser',
  'VerifyChecksum',
  'Ingress',
  'Egress',
  'ComputeChecksum',
  'Deparser',
  'V1Switch',
  // pna.p4
  'PortId_t',
  'PortIdUint_t',
  'Hash',
  'Checksum',
  'InternetChecksum',
  'Counter',
  'DirectCounter',
  'Meter',
  'DirectMeter',
  'Register',
  'Random',
  'ActionProfile',
  'ActionSelector',
  'Digest',
  'drop_packet',
  'send_to_port',
  'mirror_packet',
  'add_entry',
  'allocate_flow_id',
  'set_entry_expire_time',
  'restart_expire_timer',
  'update_expire_info',
  'SelectByDirection',
  'MainParserT',
  'PreControlT',
  'MainControlT',
  'MainDeparserT',
  'PNA_NIC',
]);

/** Throws naming the first emitted declaration that would shadow an architecture name. */
export function checkArchNames(p: {
  tables: { name: string }[];
  actions: { name: string }[];
  counters: { name: string }[];
  meters: { name: string }[];
  headerTypes: { name: string }[];
  parser: { name: string }[];
}): void {
  const named: [string, { name: string }[]][] = [
    ['table', p.tables],
    ['action', p.actions.filter((a) => a.name !== 'NoAction')],
    ['counter', p.counters],
    ['meter', p.meters],
    ['header type', p.headerTypes.filter((t) => t.name !== 'standard_metadata_t')],
    ['parser state', p.parser],
  ];
  for (const [kind, xs] of named)
    for (const x of xs)
      if (ARCH_NAMES.has(x.name)) fail(`${kind} ${x.name} shadows a name the architecture declares`);
}
