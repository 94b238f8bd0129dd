/**
 * P4_16 source text shared by the v1model and PNA emitters: declarations, the parser, actions,
 * tables and the apply block. The architecture supplies the few things that differ (intrinsic
 * metadata, externs, block signatures and the package).
 */
import { InternalError } from '../../partitioner/errors';
import type {
  Action,
  Cond,
  ControlNode,
  Expr,
  FieldRef,
  NicPipeline,
  Op,
  Operand,
  ParserState,
  Table,
} from '../ir';
import { IrIndex } from '../ir-util';
import type { P4InfoIds } from './p4info';

export interface Flavor {
  /** `standard_metadata.ingress_port` or `istd.input_port` for the `std` instance (a table key). */
  std(field: string): string;
  /** The frame's length in the parser, bit<32>. */
  packetLength(pkt: string): string;
  /** A `std` field read as a `bit<width>` value (PNA's port is a `type`, so it needs casts). */
  stdRead(field: string, width: number): string;
  /**
   * Annotations in front of a control-plane object named `name` (qualified, as in P4Info) with
   * P4Runtime id `id`: `@id` always, `@name` where the architecture's own name would differ.
   */
  annotate(name: string, id: number): string;
  /** Annotations after a table key on a `std` field (its P4Info name where it differs). */
  keyAnnotation(field: string): string;
  drop(): string;
  forward(port: string): string;
  counterDecl(name: string, size: number): string;
  count(counter: string, index: string): string;
  meterDecl(name: string, size: number, unit: 'bytes' | 'packets'): string;
  meter(meter: string, index: string, result: string, resultWidth: number): string;
}

/** Comment text on one line, whatever names the user chose. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export function lit(value: bigint, width: number): string {
  return `${width}w${value <= 9n ? value.toString() : `0x${value.toString(16)}`}`;
}

/** `@id(0x…)`: the P4Runtime id as p4c reads it (type prefix in the top byte). */
export function idAnnotation(id: number): string {
  return `@id(0x${id.toString(16).padStart(8, '0')})`;
}

export class P4Writer {
  readonly ix: IrIndex;

  /**
   * `cpControl` is the control whose name qualifies control-plane names (P4Info's, which are
   * program.p4's), when this program's own control is named differently (PNA).
   */
  constructor(
    readonly p: NicPipeline,
    readonly fl: Flavor,
    readonly ids: P4InfoIds,
    readonly cpControl: string = p.control,
  ) {
    this.ix = new IrIndex(p);
  }

  /** The P4Info name of a control-local object. */
  private cpName(local: string): string {
    return local === 'NoAction' ? local : `${this.cpControl}.${local}`;
  }

  field(ref: FieldRef): string {
    if (ref.instance === 'std') return this.fl.std(ref.field);
    if (ref.instance === 'meta') return `meta.${ref.field}`;
    return `hdr.${ref.instance}.${ref.field}`;
  }

  /** A field as a value of its IR width (what conditions, selects and assignments read). */
  value(ref: FieldRef): string {
    return ref.instance === 'std' ? this.fl.stdRead(ref.field, this.ix.width(ref)) : this.field(ref);
  }

  /** The id of a control-plane object by its local name, for `@id`. */
  private id(kind: keyof P4InfoIds, local: string): number {
    const name = kind === 'controllerHeaders' ? local : this.cpName(local);
    const id = this.ids[kind].get(name);
    if (id === undefined) throw new InternalError('p4/emit', `no P4Runtime id for ${kind} ${name}`);
    return id;
  }

  private annotated(
    kind: 'tables' | 'actions' | 'counters' | 'meters',
    local: string,
    pad: string,
  ): string[] {
    return [`${pad}${this.fl.annotate(this.cpName(local), this.id(kind, local))}`];
  }

  operand(o: Operand, width: number, params: Action['params'] = []): string {
    switch (o.kind) {
      case 'const':
        return lit(o.value, width);
      case 'param': {
        const prm = params.find((x) => x.name === o.name);
        if (!prm) throw new InternalError('p4/emit', `action parameter ${o.name} is not declared`);
        return prm.width === width ? o.name : `(bit<${width}>)${o.name}`;
      }
      case 'field': {
        if (o.ref.instance === 'std') return this.fl.stdRead(o.ref.field, width);
        const w = this.ix.width(o.ref);
        return w === width ? this.field(o.ref) : `(bit<${width}>)${this.field(o.ref)}`;
      }
    }
  }

  headerTypes(): string[] {
    const out: string[] = [];
    for (const t of this.p.headerTypes) {
      if (t.name === 'standard_metadata_t') continue; // declared by v1model.p4
      const kw = t.name === 'metadata_t' ? 'struct' : 'header';
      if (t.controllerHeader)
        out.push(
          `@controller_header("${t.controllerHeader}") ${idAnnotation(this.id('controllerHeaders', t.name))}`,
        );
      out.push(`${kw} ${t.name} {`);
      for (const fl of t.fields) out.push(`    bit<${fl.width}> ${fl.name};`);
      out.push('}', '');
    }
    out.push('struct headers_t {');
    for (const i of this.p.instances) if (!i.metadata) out.push(`    ${i.type} ${i.name};`);
    out.push('}', '');
    return out;
  }

  /** The program's own parser errors. */
  errorDecl(): string[] {
    return this.p.errors.length
      ? ['error {', ...this.p.errors.map((e, i, a) => `    ${e}${i < a.length - 1 ? ',' : ''}`), '}', '']
      : [];
  }

  /** A parser-time number, as bit<32>. */
  private num(e: Expr, pkt: string): string {
    switch (e.kind) {
      case 'field': {
        const w = this.ix.width(e.ref);
        return w === 32 ? this.field(e.ref) : `(bit<32>)${this.field(e.ref)}`;
      }
      case 'const':
        return lit(e.value, 32);
      case 'packetLength':
        return this.fl.packetLength(pkt);
      case 'add':
      case 'sub':
      case 'mul':
        return `(${this.num(e.a, pkt)} ${{ add: '+', sub: '-', mul: '*' }[e.kind]} ${this.num(e.b, pkt)})`;
      default:
        throw new InternalError('p4/emit', `a ${e.kind} test is not a number`);
    }
  }

  /** A parser-time test. */
  private test(e: Expr, pkt: string): string {
    switch (e.kind) {
      case 'eq':
      case 'ne':
      case 'le':
      case 'ge':
        return `${this.num(e.a, pkt)} ${{ eq: '==', ne: '!=', le: '<=', ge: '>=' }[e.kind]} ${this.num(e.b, pkt)}`;
      case 'and':
      case 'or':
        return e.args.map((x) => `(${this.test(x, pkt)})`).join(e.kind === 'and' ? ' && ' : ' || ');
      default:
        throw new InternalError('p4/emit', `a ${e.kind} expression is not a test`);
    }
  }

  /** The value assigned to a field of `width` bits. */
  private setValue(e: Expr, width: number, pkt: string): string {
    if (e.kind === 'field' || e.kind === 'const') return this.operand(e, width);
    return `(bit<${width}>)${this.num(e, pkt)}`;
  }

  parserStates(pkt: string): string[] {
    const out: string[] = [];
    for (const s of this.p.parser) out.push(...this.parserState(s, pkt));
    return out;
  }

  private parserState(s: ParserState, pkt: string): string[] {
    const out = [`    state ${s.name} {`];
    if (s.extract) out.push(`        ${pkt}.extract(hdr.${s.extract});`);
    for (const c of s.checks ?? []) out.push(`        verify(${this.test(c.cond, pkt)}, error.${c.error});`);
    for (const x of s.sets)
      out.push(`        ${this.field(x.dst)} = ${this.setValue(x.src, this.ix.width(x.dst), pkt)};`);
    if (s.select) {
      const keys = s.select.keys;
      const widths = keys.map((k) => this.ix.width(k));
      out.push(`        transition select(${keys.map((k) => this.value(k)).join(', ')}) {`);
      for (const c of s.select.cases) {
        const vals = c.values.map((v, i) =>
          c.masks ? `${lit(v, widths[i])} &&& ${lit(c.masks[i], widths[i])}` : lit(v, widths[i]),
        );
        out.push(`            ${vals.length > 1 ? `(${vals.join(', ')})` : vals[0]}: ${c.next};`);
      }
      out.push(`            default: ${s.select.default};`, '        }');
    } else {
      out.push(`        transition ${s.next ?? 'accept'};`);
    }
    out.push('    }');
    return out;
  }

  private op(o: Op, a: Action): string {
    switch (o.op) {
      case 'assign': {
        const w = this.ix.width(o.dst);
        return `${this.field(o.dst)} = ${this.operand(o.src, w, a.params)};`;
      }
      case 'setValid':
        return `hdr.${o.header}.setValid();`;
      case 'setInvalid':
        return `hdr.${o.header}.setInvalid();`;
      case 'drop':
        return this.fl.drop();
      case 'forward':
        return this.fl.forward(this.operand(o.port, this.p.portWidth, a.params));
      case 'count':
        return this.fl.count(o.counter, this.operand(o.index, 32, a.params));
      case 'meter':
        return this.fl.meter(
          o.meter,
          this.operand(o.index, 32, a.params),
          this.field(o.result),
          this.ix.width(o.result),
        );
    }
  }

  externs(): string[] {
    const out: string[] = [];
    for (const c of this.p.counters)
      out.push(
        `    // ${oneLine(c.comment)}`,
        ...this.annotated('counters', c.name, '    '),
        `    ${this.fl.counterDecl(c.name, c.size)}`,
      );
    for (const m of this.p.meters)
      out.push(
        `    // ${oneLine(m.comment)}`,
        ...this.annotated('meters', m.name, '    '),
        `    ${this.fl.meterDecl(m.name, m.size, m.unit)}`,
      );
    return out;
  }

  actions(): string[] {
    const out: string[] = [];
    for (const a of this.p.actions) {
      if (a.name === 'NoAction') continue; // from core.p4
      out.push('', `    // ${oneLine(a.comment)}`, ...this.annotated('actions', a.name, '    '));
      out.push(`    action ${a.name}(${a.params.map((x) => `bit<${x.width}> ${x.name}`).join(', ')}) {`);
      for (const o of a.ops) out.push(`        ${this.op(o, a)}`);
      out.push('    }');
    }
    return out;
  }

  private defaultCall(t: Table): string {
    const a = this.ix.action(t.defaultAction.action);
    const args = t.defaultAction.args.map((v, i) => lit(v, a.params[i].width));
    return `${a.name}(${args.join(', ')})`;
  }

  tables(): string[] {
    const out: string[] = [];
    for (const t of this.p.tables) {
      out.push(
        '',
        `    // ${oneLine(t.comment)}`,
        ...this.annotated('tables', t.name, '    '),
        `    table ${t.name} {`,
      );
      if (t.keys.length) {
        out.push('        key = {');
        for (const k of t.keys) {
          const note = k.field.instance === 'std' ? this.fl.keyAnnotation(k.field.field) : '';
          out.push(`            ${this.field(k.field)}: ${k.matchKind}${note ? ` ${note}` : ''};`);
        }
        out.push('        }');
      }
      out.push(`        actions = { ${t.actions.map((a) => `${a};`).join(' ')} }`);
      out.push(`        ${t.constDefault ? 'const ' : ''}default_action = ${this.defaultCall(t)};`);
      out.push(`        size = ${t.size};`, '    }');
    }
    return out;
  }

  cond(c: Cond): string {
    switch (c.kind) {
      case 'eq':
      case 'ne':
      case 'gt':
        return `${this.value(c.field)} ${{ eq: '==', ne: '!=', gt: '>' }[c.kind]} ${lit(c.value, this.ix.width(c.field))}`;
      case 'error':
        return `${this.fl.std('parser_error')} ${c.op === 'eq' ? '==' : '!='} error.${c.error}`;
      case 'valid':
        return `hdr.${c.header}.isValid()`;
      case 'not':
        return `!(${this.cond(c.arg)})`;
      case 'and':
      case 'or':
        return c.args
          .map((x) => (x.kind === 'and' || x.kind === 'or' ? `(${this.cond(x)})` : this.cond(x)))
          .join(c.kind === 'and' ? ' && ' : ' || ');
    }
  }

  apply(nodes: ControlNode[], depth: number): string[] {
    const pad = '    '.repeat(depth);
    const out: string[] = [];
    for (const n of nodes) {
      if (n.kind === 'apply') {
        out.push(`${pad}${n.table}.apply();`);
        continue;
      }
      if (n.comment) out.push(`${pad}// ${oneLine(n.comment)}`);
      out.push(`${pad}if (${this.cond(n.cond)}) {`, ...this.apply(n.then, depth + 1));
      if (n.else.length) out.push(`${pad}} else {`, ...this.apply(n.else, depth + 1));
      out.push(`${pad}}`);
    }
    return out;
  }

  checksumFields(): string {
    return this.p.checksums[0].inputs.map((i) => this.field(i)).join(',\n                ');
  }
}

/** One line per header that a comment in the generated source should explain. */
export function banner(p: NicPipeline, arch: string, source: string): string[] {
  return [
    `// Generated by nfp from ${oneLine(source)} for ${arch}. Do not edit: regenerate with \`nfp partition\`.`,
    `// Wire ports: ${p.wirePorts.join(', ') || 'none'}. Host ports: ${p.hostPorts.join(', ') || 'none'}.`,
    '// NSH (RFC 8300, EtherType 0x894F) marks packets on their way to or from the host: SPI = service',
    '// path id, SI = host hops left, MD type 2 context TLV = tenant id + the EtherType NSH displaced.',
    `// Drop reasons: ${p.dropReasons.map((d) => `${d.code}=${d.name}`).join(', ')}.`,
  ];
}
