/** Lookups over a NIC pipeline IR that every emitter and the consistency check share. */
import { InternalError } from '../partitioner/errors';
import type { Action, FieldRef, NicPipeline, Table } from './ir';

export class IrIndex {
  private readonly widths = new Map<string, number>();
  private readonly actions: Map<string, Action>;
  private readonly tables: Map<string, Table>;

  constructor(readonly pipeline: NicPipeline) {
    const types = new Map(pipeline.headerTypes.map((t) => [t.name, t]));
    for (const inst of pipeline.instances) {
      const t = types.get(inst.type);
      if (!t) throw new InternalError('p4/ir', `instance ${inst.name} has unknown type ${inst.type}`);
      for (const fl of t.fields) this.widths.set(`${inst.name}.${fl.name}`, fl.width);
    }
    this.actions = new Map(pipeline.actions.map((a) => [a.name, a]));
    this.tables = new Map(pipeline.tables.map((t) => [t.name, t]));
  }

  width(ref: FieldRef): number {
    const w = this.widths.get(`${ref.instance}.${ref.field}`);
    if (w === undefined) throw new InternalError('p4/ir', `unknown field ${ref.instance}.${ref.field}`);
    return w;
  }

  action(name: string): Action {
    const a = this.actions.get(name);
    if (!a) throw new InternalError('p4/ir', `unknown action ${name}`);
    return a;
  }

  table(name: string): Table {
    const t = this.tables.get(name);
    if (!t) throw new InternalError('p4/ir', `unknown table ${name}`);
    return t;
  }

  /** The control-plane name p4c gives a control-local object: `MyIngress.x`; NoAction stays bare. */
  qualified(local: string): string {
    return local === 'NoAction' ? local : `${this.pipeline.control}.${local}`;
  }
}

/** Hex of a value padded to the byte width of `bits` (BMv2 JSON style: `0x00ff`). */
export function hexBytes(value: bigint, bits: number): string {
  const digits = Math.max(1, Math.ceil(bits / 8)) * 2;
  return `0x${value.toString(16).padStart(digits, '0')}`;
}
