/**
 * BMv2 JSON (behavioral-model docs/JSON_format.md, version 2.23) for simple_switch, and the
 * softnic, which executes the same file. Only the subset listed in docs/p4.md is ever emitted.
 */
import type { Cond, ControlNode, Expr, FieldRef, NicPipeline, Op, Operand, ParserState, Table } from '../ir';
import { InternalError } from '../../partitioner/errors';
import { hexBytes, IrIndex } from '../ir-util';
import { keyName } from './names';

/** BMv2 instance names: the v1model intrinsics must be called `standard_metadata`. */
export function bmv2Instance(instance: string): string {
  return instance === 'std' ? 'standard_metadata' : instance;
}

const field = (r: FieldRef): [string, string] => [bmv2Instance(r.instance), r.field];

export type Bmv2Value =
  | { type: 'field'; value: [string, string] }
  | { type: 'hexstr'; value: string }
  | { type: 'runtime_data'; value: number }
  | { type: 'header'; value: string }
  | { type: 'counter_array' | 'meter_array'; value: string }
  | { type: 'expression'; value: Bmv2Expr }
  | { type: 'regular'; value: string };

export interface Bmv2Expr {
  op: string;
  left: Bmv2Value | null;
  right: Bmv2Value;
}

/** The JSON document; kept loosely typed at the leaves because BMv2's format is heterogeneous. */
export interface Bmv2Json {
  [key: string]: unknown;
  header_types: Array<{ name: string; id: number; fields: Array<[string, number, boolean]> }>;
  headers: Array<{ name: string; id: number; header_type: string; metadata: boolean }>;
  actions: Array<{
    name: string;
    id: number;
    runtime_data: Array<{ name: string; bitwidth: number }>;
    primitives: Array<{ op: string; parameters: Bmv2Value[] }>;
  }>;
  pipelines: Array<{
    name: string;
    id: number;
    init_table: string | null;
    action_profiles: unknown[];
    tables: Bmv2Table[];
    conditionals: unknown[];
  }>;
  counter_arrays: Array<{ name: string; id: number; size: number; is_direct: boolean }>;
  meter_arrays: Array<{
    name: string;
    id: number;
    size: number;
    is_direct: boolean;
    type: string;
    rate_count: number;
  }>;
}

export interface Bmv2Table {
  name: string;
  id: number;
  key: Array<{ match_type: string; name: string; target: [string, string]; mask: null }>;
  match_type: string;
  type: 'simple';
  max_size: number;
  with_counters: false;
  support_timeout: false;
  direct_meters: null;
  action_ids: number[];
  actions: string[];
  next_tables: Record<string, string | null>;
  base_default_next: string | null;
  default_entry: {
    action_id: number;
    action_const: boolean;
    action_data: string[];
    action_entry_const: boolean;
  };
}

/** The field aliases simple_switch expects for the v1model intrinsics. */
const FIELD_ALIASES: Array<[string, [string, string]]> = [
  ['queueing_metadata.enq_timestamp', ['standard_metadata', 'enq_timestamp']],
  ['queueing_metadata.enq_qdepth', ['standard_metadata', 'enq_qdepth']],
  ['queueing_metadata.deq_timedelta', ['standard_metadata', 'deq_timedelta']],
  ['queueing_metadata.deq_qdepth', ['standard_metadata', 'deq_qdepth']],
  ['intrinsic_metadata.ingress_global_timestamp', ['standard_metadata', 'ingress_global_timestamp']],
  ['intrinsic_metadata.egress_global_timestamp', ['standard_metadata', 'egress_global_timestamp']],
  ['intrinsic_metadata.mcast_grp', ['standard_metadata', 'mcast_grp']],
  ['intrinsic_metadata.egress_rid', ['standard_metadata', 'egress_rid']],
  ['intrinsic_metadata.priority', ['standard_metadata', 'priority']],
];

const CORE_ERRORS: Array<[string, number]> = [
  ['NoError', 0],
  ['PacketTooShort', 1],
  ['NoMatch', 2],
  ['StackOutOfBounds', 3],
  ['HeaderTooShort', 4],
  ['ParserTimeout', 5],
  ['ParserInvalidArgument', 6],
];

function tableMatchType(t: Table): string {
  const kinds = new Set(t.keys.map((k) => k.matchKind));
  if (kinds.has('range')) return 'range';
  if (kinds.has('ternary')) return 'ternary';
  if (kinds.has('lpm')) return 'lpm';
  return 'exact';
}

class Bmv2Emitter {
  readonly ix: IrIndex;
  private readonly actionIds = new Map<string, number>();
  private readonly condNames = new Map<ControlNode, string>();
  private readonly tables: Bmv2Table[] = [];
  private readonly conditionals: unknown[] = [];

  constructor(readonly p: NicPipeline) {
    this.ix = new IrIndex(p);
    p.actions.forEach((a, i) => this.actionIds.set(a.name, i));
  }

  hex(value: bigint, ref: FieldRef): Bmv2Value {
    return { type: 'hexstr', value: hexBytes(value, this.ix.width(ref)) };
  }

  operand(o: Operand, width: number, params: string[]): Bmv2Value {
    switch (o.kind) {
      case 'const':
        return { type: 'hexstr', value: hexBytes(o.value, width) };
      case 'param':
        return { type: 'runtime_data', value: params.indexOf(o.name) };
      case 'field':
        return { type: 'field', value: field(o.ref) };
    }
  }

  primitive(o: Op, params: string[]): { op: string; parameters: Bmv2Value[] } {
    switch (o.op) {
      case 'assign':
        return {
          op: 'assign',
          parameters: [
            { type: 'field', value: field(o.dst) },
            this.operand(o.src, this.ix.width(o.dst), params),
          ],
        };
      case 'setValid':
        return { op: 'add_header', parameters: [{ type: 'header', value: o.header }] };
      case 'setInvalid':
        return { op: 'remove_header', parameters: [{ type: 'header', value: o.header }] };
      case 'drop':
        return { op: 'mark_to_drop', parameters: [{ type: 'header', value: 'standard_metadata' }] };
      case 'forward':
        return {
          op: 'assign',
          parameters: [
            { type: 'field', value: ['standard_metadata', 'egress_spec'] },
            this.operand(o.port, this.p.portWidth, params),
          ],
        };
      case 'count':
        return {
          op: 'count',
          parameters: [
            { type: 'counter_array', value: this.ix.qualified(o.counter) },
            this.operand(o.index, 32, params),
          ],
        };
      case 'meter':
        return {
          op: 'execute_meter',
          parameters: [
            { type: 'meter_array', value: this.ix.qualified(o.meter) },
            this.operand(o.index, 32, params),
            { type: 'field', value: field(o.result) },
          ],
        };
    }
  }

  expr(c: Cond): Bmv2Expr {
    const wrap = (e: Bmv2Expr): Bmv2Value => ({ type: 'expression', value: e });
    switch (c.kind) {
      case 'eq':
      case 'ne':
      case 'gt':
        return {
          op: { eq: '==', ne: '!=', gt: '>' }[c.kind],
          left: { type: 'field', value: field(c.field) },
          right: this.hex(c.value, c.field),
        };
      case 'error':
        return {
          op: c.op === 'eq' ? '==' : '!=',
          left: { type: 'field', value: ['standard_metadata', 'parser_error'] },
          right: { type: 'hexstr', value: hexBytes(BigInt(this.errorCode(c.error)), 32) },
        };
      case 'valid':
        return { op: 'd2b', left: null, right: { type: 'field', value: [c.header, '$valid$'] } };
      case 'not':
        return { op: 'not', left: null, right: wrap(this.expr(c.arg)) };
      case 'and':
      case 'or': {
        // Binary in BMv2: fold left.
        let e = this.expr(c.args[0]);
        for (const a of c.args.slice(1)) e = { op: c.kind, left: wrap(e), right: wrap(this.expr(a)) };
        return e;
      }
    }
  }

  /** The number BMv2 gives an error: the core library's first, then the program's, in order. */
  errorCode(name: string): number {
    const all = this.errors();
    const e = all.find(([n]) => n === name);
    if (!e) throw new InternalError('p4/emit/bmv2', `unknown parser error ${name}`);
    return e[1];
  }

  errors(): Array<[string, number]> {
    return [...CORE_ERRORS, ...this.p.errors.map((e, i): [string, number] => [e, CORE_ERRORS.length + i])];
  }

  /** A parser-time expression (verify conditions, computed sets). */
  pexpr(e: Expr): Bmv2Value {
    const wrap = (op: string, left: Bmv2Value, right: Bmv2Value): Bmv2Value => ({
      type: 'expression',
      value: { op, left, right },
    });
    switch (e.kind) {
      case 'field':
        return { type: 'field', value: field(e.ref) };
      case 'const':
        return { type: 'hexstr', value: hexBytes(e.value, 32) };
      case 'packetLength':
        return { type: 'field', value: ['standard_metadata', 'packet_length'] };
      case 'add':
      case 'sub':
      case 'mul':
      case 'eq':
      case 'ne':
      case 'le':
      case 'ge': {
        const op = { add: '+', sub: '-', mul: '*', eq: '==', ne: '!=', le: '<=', ge: '>=' }[e.kind];
        return wrap(op, this.pexpr(e.a), this.pexpr(e.b));
      }
      case 'and':
      case 'or': {
        let v = this.pexpr(e.args[0]);
        for (const a of e.args.slice(1)) v = wrap(e.kind, v, this.pexpr(a));
        return v;
      }
    }
  }

  /** Names conditionals in pre-order, so numbering follows the source. */
  nameConds(nodes: ControlNode[]): void {
    for (const n of nodes) {
      if (n.kind !== 'if') continue;
      this.condNames.set(n, `node_${this.condNames.size + 1}`);
      this.nameConds(n.then);
      this.nameConds(n.else);
    }
  }

  /** Lowers a node list ending in `next`; returns the name of its first node. */
  flow(nodes: ControlNode[], next: string | null): string | null {
    let cur = next;
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i];
      if (n.kind === 'apply') {
        this.tables.push(this.table(this.ix.table(n.table), cur));
        cur = this.ix.qualified(n.table);
      } else {
        const name = this.condNames.get(n) ?? 'node_?';
        this.conditionals.push({
          name,
          id: Number(name.slice(5)) - 1,
          expression: { type: 'expression', value: this.expr(n.cond) },
          true_next: this.flow(n.then, cur),
          false_next: this.flow(n.else, cur),
        });
        cur = name;
      }
    }
    return cur;
  }

  table(t: Table, next: string | null): Bmv2Table {
    const actions = t.actions.map((a) => this.ix.qualified(a));
    const dflt = this.ix.action(t.defaultAction.action);
    return {
      name: this.ix.qualified(t.name),
      id: this.p.tables.indexOf(t),
      key: t.keys.map((k) => ({
        match_type: k.matchKind,
        name: keyName(k.field),
        target: field(k.field),
        mask: null,
      })),
      match_type: tableMatchType(t),
      type: 'simple',
      max_size: t.size,
      with_counters: false,
      support_timeout: false,
      direct_meters: null,
      action_ids: t.actions.map((a) => this.actionIds.get(a) ?? -1),
      actions,
      next_tables: Object.fromEntries(actions.map((a) => [a, next])),
      base_default_next: next,
      default_entry: {
        action_id: this.actionIds.get(dflt.name) ?? -1,
        action_const: t.constDefault,
        action_data: t.defaultAction.args.map((v, i) => hexBytes(v, dflt.params[i].width)),
        action_entry_const: t.constDefault,
      },
    };
  }

  parseState(s: ParserState, id: number): unknown {
    const ops: unknown[] = [];
    if (s.extract) ops.push({ op: 'extract', parameters: [{ type: 'regular', value: s.extract }] });
    for (const c of s.checks ?? []) {
      ops.push({
        op: 'verify',
        parameters: [
          this.pexpr(c.cond),
          { type: 'hexstr', value: hexBytes(BigInt(this.errorCode(c.error)), 32) },
        ],
      });
    }
    for (const x of s.sets) {
      // A computed value is wrapped once more than in a condition, as p4c writes it and
      // BMv2's parser `set` reads it (its "value" is itself a typed expression); a field or a
      // constant goes as it is.
      const v =
        x.src.kind === 'field' || x.src.kind === 'const'
          ? this.operand(x.src, this.ix.width(x.dst), [])
          : this.pexpr(x.src);
      const src: Bmv2Value | { type: 'expression'; value: Bmv2Value } =
        v.type === 'expression' ? { type: 'expression', value: v } : v;
      ops.push({ op: 'set', parameters: [{ type: 'field', value: field(x.dst) }, src] });
    }
    const next = (n: string): string | null => (n === 'accept' ? null : n);
    const keys = s.select?.keys ?? [];
    // Transition values are the byte-padded key fields concatenated, as the format requires.
    const concat = (vals: bigint[]): string =>
      `0x${vals.map((v, i) => hexBytes(v, this.ix.width(keys[i])).slice(2)).join('')}`;
    const transitions = s.select
      ? [
          ...s.select.cases.map((c) => ({
            type: 'hexstr',
            value: concat(c.values),
            mask: c.masks ? concat(c.masks) : null,
            next_state: next(c.next),
          })),
          { type: 'default', value: null, mask: null, next_state: next(s.select.default) },
        ]
      : [{ type: 'default', value: null, mask: null, next_state: next(s.next ?? 'accept') }];
    return {
      name: s.name,
      id,
      parser_ops: ops,
      transition_key: keys.map((k) => ({ type: 'field', value: field(k) })),
      transitions,
    };
  }

  emit(): Bmv2Json {
    const p = this.p;
    const headerTypes = p.headerTypes.map((t, id) => {
      const fields: Array<[string, number, boolean]> = t.fields.map((x) => [x.name, x.width, false]);
      const bits = t.fields.reduce((s, x) => s + x.width, 0);
      // BMv2 wants whole bytes; metadata gets a padding field as p4c adds one.
      if (bits % 8) fields.push(['_padding_0', 8 - (bits % 8), false]);
      return { name: t.name === 'standard_metadata_t' ? 'standard_metadata' : t.name, id, fields };
    });
    const headers = p.instances.map((i, id) => ({
      name: bmv2Instance(i.name),
      id,
      header_type: i.type === 'standard_metadata_t' ? 'standard_metadata' : i.type,
      metadata: i.metadata,
    }));
    this.nameConds(p.ingress);
    const init = this.flow(p.ingress, null);
    this.tables.sort((a, b) => a.id - b.id);
    (this.conditionals as Array<{ id: number }>).sort((a, b) => a.id - b.id);
    const ck = p.checksums[0];
    return {
      __meta__: { version: [2, 23], compiler: 'nfp' },
      program: 'program.p4',
      header_types: headerTypes,
      headers,
      header_stacks: [],
      header_union_types: [],
      header_unions: [],
      header_union_stacks: [],
      errors: this.errors(),
      enums: [],
      parsers: [
        {
          name: 'parser',
          id: 0,
          init_state: p.parser[0].name,
          parse_states: p.parser.map((s, i) => this.parseState(s, i)),
        },
      ],
      parse_vsets: [],
      deparsers: [{ name: 'deparser', id: 0, order: p.deparse }],
      meter_arrays: p.meters.map((m, id) => ({
        name: this.ix.qualified(m.name),
        id,
        is_direct: false,
        rate_count: 2,
        type: m.unit,
        size: m.size,
      })),
      counter_arrays: p.counters.map((c, id) => ({
        name: this.ix.qualified(c.name),
        id,
        is_direct: false,
        size: c.size,
      })),
      register_arrays: [],
      calculations: [
        {
          name: 'calc',
          id: 0,
          algo: 'csum16',
          input: ck.inputs.map((i) => ({ type: 'field', value: field(i) })),
        },
      ],
      learn_lists: [],
      actions: p.actions.map((a, id) => {
        const names = a.params.map((x) => x.name);
        return {
          name: this.ix.qualified(a.name),
          id,
          runtime_data: a.params.map((x) => ({ name: x.name, bitwidth: x.width })),
          primitives: a.ops.map((o) => this.primitive(o, names)),
        };
      }),
      pipelines: [
        {
          name: 'ingress',
          id: 0,
          init_table: init,
          action_profiles: [],
          tables: this.tables,
          conditionals: this.conditionals,
        },
        { name: 'egress', id: 1, init_table: null, action_profiles: [], tables: [], conditionals: [] },
      ],
      checksums: [
        {
          name: 'cksum',
          id: 0,
          target: field(ck.target),
          type: 'generic',
          calculation: 'calc',
          verify: false,
          update: true,
          if_cond: { type: 'expression', value: this.expr(ck.when) },
        },
      ],
      extern_instances: [],
      field_aliases: FIELD_ALIASES,
    };
  }
}

export function emitBmv2Json(p: NicPipeline): Bmv2Json {
  return new Bmv2Emitter(p).emit();
}
