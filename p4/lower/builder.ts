/**
 * The lowering pass's tools: the builder that collects tables, actions, externs and entries, and
 * the small constructors for action calls and conditions.
 */
import { InternalError, NfpError } from '../../partitioner/errors';
import type { Plan, PlanNf, PlanPath } from '../../partitioner/plan';
import { SHARED_ACTIONS } from '../actions';
import { f } from '../headers';
import type {
  Action,
  ActionCall,
  Cond,
  ControlNode,
  Counter,
  IrEntry,
  IrMatch,
  Meter,
  MeterConfig,
  Table,
} from '../ir';
import { matchText } from '../keys';

export const INGRESS_CONTROL = 'MyIngress';
/** v1model ports are 9 bits; 511 is BMv2's drop port. */
export const PORT_WIDTH = 9;
export const MAX_PORT = 510;

/** Table sizes: the entries rounded up to a power of two, at least 16. */
export function sizeFor(entries: number): number {
  let n = 16;
  while (n < entries) n *= 2;
  return n;
}

export const call = (action: string, ...args: Array<number | bigint>): ActionCall => ({
  action,
  args: args.map((a) => BigInt(a)),
});

export const eq = (instance: string, field: string, value: number | bigint): Cond => ({
  kind: 'eq',
  field: f(instance, field),
  value: BigInt(value),
});
export const notDropped: Cond = eq('meta', 'drop', 0);
export const and = (...args: Cond[]): Cond => (args.length === 1 ? args[0] : { kind: 'and', args });
export const or = (...args: Cond[]): Cond => (args.length === 1 ? args[0] : { kind: 'or', args });

/** Where an NIC hop runs: on the wire side (before steering) or on the return side. */
export type Side = 'wire' | 'return';

export interface Stage {
  nf: PlanNf;
  side: Side;
  paths: number[];
}

export class Builder {
  readonly actions = new Map<string, Action>();
  readonly tables: Table[] = [];
  readonly counters: Counter[] = [];
  readonly meters: Meter[] = [];
  readonly entries: IrEntry[] = [];
  /** Per table: entry count and the match+priority keys already present (duplicates are skipped). */
  private readonly perTable = new Map<string, Set<string>>();
  private readonly counts = new Map<string, number>();
  readonly meterConfigs: MeterConfig[] = [];

  readonly maxPath: number;
  readonly pathById: Map<number, PlanPath>;

  constructor(readonly plan: Plan) {
    this.maxPath = Math.max(0, ...plan.paths.map((p) => p.id));
    this.pathById = new Map(plan.paths.map((p) => [p.id, p]));
  }

  action(a: Action): string {
    this.actions.set(a.name, a);
    return a.name;
  }

  shared(name: string): string {
    const a = SHARED_ACTIONS[name];
    if (!a) throw new InternalError('p4/lower', `no shared action ${name}`);
    return this.action(a);
  }

  table(t: Omit<Table, 'size'> & { size?: number }): ControlNode {
    for (const a of t.actions) if (!this.actions.has(a)) this.shared(a);
    const n = this.counts.get(t.name) ?? 0;
    this.tables.push({ ...t, size: t.size ?? (t.keys.length === 0 ? 1 : sizeFor(n)) });
    return { kind: 'apply', table: t.name };
  }

  /** A keyless table whose only behaviour is its const default action. */
  fixed(name: string, action: ActionCall, comment: string): ControlNode {
    return this.table({
      name,
      keys: [],
      actions: [action.action],
      defaultAction: action,
      constDefault: true,
      comment,
    });
  }

  entryCount(table: string): number {
    return this.counts.get(table) ?? 0;
  }

  entry(e: IrEntry): void {
    this.entries.push(e);
    this.counts.set(e.table, (this.counts.get(e.table) ?? 0) + 1);
  }

  /** Adds a rule's entries (several when ranges are expanded), skipping exact duplicates. */
  ruleEntries(
    table: string,
    matches: IrMatch[][],
    priority: number,
    action: ActionCall,
    comment: string,
  ): void {
    let seen = this.perTable.get(table);
    if (!seen) this.perTable.set(table, (seen = new Set()));
    for (const m of matches) {
      const key = `${matchText(m)}#${priority}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.entry({ table, match: m, priority, action, comment });
    }
  }
}

export function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
    throw new NfpError(
      `${what} ${port} does not fit the NIC's 9-bit port numbers (0..${MAX_PORT})`,
      'use port numbers below 511 in the NIC profile and the graph',
    );
  }
}

/** Priorities must be ≥ 1 in P4Runtime; shift a table's priorities up when needed, keeping order. */
export function priorityShift(ps: number[]): number {
  const min = ps.length ? Math.min(...ps) : 1;
  return min < 1 ? 1 - min : 0;
}
