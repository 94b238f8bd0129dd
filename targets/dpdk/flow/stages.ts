/**
 * Gathering pass: what the NIC pipeline IR says each tenant, path and wire-side NF does, in the
 * terms the rte_flow lowering needs (first-match tables of cubes, actions, outcomes). It builds
 * nothing for the NIC; lower.ts does.
 */
import { NfpError } from '../../../partitioner/errors';
import type { Plan, PlanNf, PlanPath } from '../../../partitioner/plan';
import type { ActionCall, IrEntry, NicPipeline, Table } from '../../../p4/ir';
import { nfIdent } from '../../../p4/names';
import { cubesOfEntry, ones, WIDTH, type Cube } from './cube';
import type { FlowAction } from './ir';

/** Where a packet goes after a stage entry: on along the path (maybe to another exit), or a drop. */
export type Outcome = { kind: 'continue'; exitPort?: number } | { kind: 'drop'; reason: number };

/** One entry of a first-match table: the cubes it covers, what it does, where it leads. */
export interface StageEntry {
  cubes: Cube[];
  actions: FlowAction[];
  /** NIC counter cells it adds to (a monitor). */
  cells: Cell[];
  /** A meter it runs the packet through (red: dropped as `meter-red`). */
  meter?: MeterUse;
  outcome: Outcome;
  what: string;
}

export interface Cell {
  counter: string;
  index: number;
}

export interface MeterUse {
  meter: string;
  index: number;
}

/** A wire-side NIC NF of a path, as a first-match table (actions only: one catch-all entry). */
export interface Stage {
  nf: PlanNf;
  entries: StageEntry[];
  /** Flow actions the NIC must have for this stage (checked against the profile). */
  needs: FlowAction['type'][];
}

/** A classification entry; `order` is its place in its table's first-match order. */
export interface ClassEntry {
  cubes: Cube[];
  what: string;
  order: number;
}

export interface PathSpec {
  path: PlanPath;
  /** Its classification entries (tenant key removed). */
  entries: ClassEntry[];
  stages: Stage[];
  /** NIC NFs of the path that run after the host (on the return path: always software). */
  returnSide: PlanNf[];
  terminal:
    | { kind: 'host'; queue: number; si: number }
    | { kind: 'exit'; port: number }
    | { kind: 'drop'; reason: number };
}

export interface TenantSpec {
  tenant: number;
  name: string;
  /** Its slice entries (ingress port kept as the `port` field). */
  entries: ClassEntry[];
  meter?: MeterUse;
  paths: PathSpec[];
}

export interface PipelineSpec {
  control: string;
  tenants: TenantSpec[];
  dropCounter: string;
  dropCode(name: string): number;
  meters: Map<string, { cir: number; cbs: number }>;
}

/** The side a NIC hop of a path runs on (as p4/lower/stages.ts places it). */
function wireSide(plan: Plan, p: PlanPath, index: number): boolean {
  const hop = p.hops[index];
  if (!p.needsHost) return true;
  if (hop.spot === 'nic-post') return false;
  const hostAfter = p.hops.some((h, i) => h.spot === 'host' && i > index);
  return !(plan.nfs[hop.nf]?.type === 'router' && hostAfter);
}

/** Entries of a table in the order the NIC pipeline looks at them: larger priority first. */
function firstMatchOrder(entries: IrEntry[]): IrEntry[] {
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (b.e.priority ?? 0) - (a.e.priority ?? 0) || a.i - b.i)
    .map((x) => x.e);
}

export function gatherPipeline(plan: Plan, pipeline: NicPipeline): PipelineSpec {
  const tables = new Map(pipeline.tables.map((t) => [t.name, t]));
  const entriesOf = new Map<string, IrEntry[]>();
  for (const e of pipeline.entries) {
    const list = entriesOf.get(e.table) ?? [];
    list.push(e);
    entriesOf.set(e.table, list);
  }
  const table = (name: string): Table => {
    const t = tables.get(name);
    if (!t) throw new NfpError(`the NIC pipeline has no table ${name}`, 'regenerate the NIC artifacts');
    return t;
  };
  const codes = new Map(pipeline.dropReasons.map((r) => [r.name, r.code]));
  const dropCode = (name: string): number => {
    const c = codes.get(name);
    if (c === undefined) throw new NfpError(`the NIC pipeline has no drop reason ${name}`);
    return c;
  };
  const q = (local: string): string => `${pipeline.control}.${local}`;
  const meters = new Map(
    pipeline.meterConfigs.map((m) => [`${m.meter}#${m.index}`, { cir: m.cir, cbs: m.cburst }] as const),
  );
  const param = (a: ActionCall, i: number): number => Number(a.args[i]);

  // Tenant slices.
  const tenantTable = table('tenant_classify');
  const tenantEntries = new Map<number, ClassEntry[]>();
  const policed = new Set<number>();
  for (const [order, e] of firstMatchOrder(entriesOf.get('tenant_classify') ?? []).entries()) {
    if (e.action.action !== 'set_tenant') continue;
    const t = param(e.action, 0);
    if (param(e.action, 1)) policed.add(t);
    const { cubes } = cubesOfEntry(
      tenantTable.keys.map((k) => k.field),
      e.match,
    );
    const list = tenantEntries.get(t) ?? [];
    list.push({ cubes, what: e.comment, order });
    tenantEntries.set(t, list);
  }

  // Path classification, per tenant.
  const pathTable = table('path_classify');
  const pathEntries = new Map<number, ClassEntry[]>();
  for (const [order, e] of firstMatchOrder(entriesOf.get('path_classify') ?? []).entries()) {
    if (e.action.action !== 'set_path') continue;
    const p = param(e.action, 0);
    const { cubes } = cubesOfEntry(
      pathTable.keys.map((k) => k.field),
      e.match,
    );
    const list = pathEntries.get(p) ?? [];
    list.push({ cubes, what: e.comment, order });
    pathEntries.set(p, list);
  }
  const steer = new Map(
    (entriesOf.get('steer') ?? []).map(
      (e) => [Number((e.match[0] as { value: bigint }).value), e.action] as const,
    ),
  );
  const queueIndex = new Map(plan.queues.map((qq, i) => [qq.id, i] as const));
  const pathExit = new Map(
    (entriesOf.get('path_exit') ?? []).map(
      (e) => [Number((e.match[0] as { value: bigint }).value), e.action] as const,
    ),
  );

  const stageOf = (nf: PlanNf): Stage => {
    const base = nfIdent(nf);
    const cfg = nf.config as unknown as Record<string, unknown>;
    const pass = (actions: FlowAction[], what: string, extra: Partial<StageEntry> = {}): StageEntry => ({
      cubes: [{}],
      actions,
      cells: [],
      outcome: { kind: 'continue' },
      what,
      ...extra,
    });
    switch (nf.type) {
      case 'firewall': {
        const t = table(`${base}_acl`);
        const keys = t.keys.map((k) => k.field);
        const entries = firstMatchOrder(entriesOf.get(t.name) ?? []).map((e): StageEntry => ({
          cubes: cubesOfEntry(keys, e.match).cubes,
          actions: [],
          cells: [],
          outcome:
            e.action.action === 'acl_permit'
              ? { kind: 'continue' }
              : { kind: 'drop', reason: param(e.action, 0) },
          what: e.comment,
        }));
        const d = t.defaultAction;
        entries.push({
          cubes: [{}],
          actions: [],
          cells: [],
          outcome:
            d.action === 'acl_permit' ? { kind: 'continue' } : { kind: 'drop', reason: Number(d.args[0]) },
          what: `${nf.name}: default ${d.action === 'acl_permit' ? 'allow' : 'deny'}`,
        });
        return { nf, entries, needs: ['drop', 'count'] };
      }
      case 'monitor':
        return {
          nf,
          entries: [pass([], `${nf.name}: count`, { cells: [{ counter: q(`${base}_packets`), index: -1 }] })],
          needs: ['count'],
        };
      case 'ratelimiter':
        return {
          nf,
          entries: [pass([], `${nf.name}: meter`, { meter: { meter: q(`${base}_meter`), index: 0 } })],
          needs: ['meter'],
        };
      case 'marker': {
        const dscp = Number(cfg.dscp);
        return {
          nf,
          entries: [
            pass([{ type: 'set_ipv4_dscp', dscp }], `${nf.name}: DSCP ${dscp} (IPv4)`, {
              cubes: [{ ipVer: { value: 4n, mask: ones(WIDTH.ipVer) } }],
            }),
            pass([{ type: 'set_ipv6_dscp', dscp }], `${nf.name}: DSCP ${dscp} (IPv6)`, {
              cubes: [{ ipVer: { value: 6n, mask: ones(WIDTH.ipVer) } }],
            }),
            pass([], `${nf.name}: not IP, nothing to mark`),
          ],
          needs: ['set_ipv4_dscp', 'set_ipv6_dscp'],
        };
      }
      case 'vlan': {
        const tagged: Cube = { tagged: { value: 1n, mask: 1n } };
        if (cfg.op === 'pop') {
          return {
            nf,
            entries: [
              pass([{ type: 'of_pop_vlan' }], `${nf.name}: pop`, { cubes: [tagged] }),
              pass([], `${nf.name}: untagged, nothing to pop`),
            ],
            needs: ['of_pop_vlan'],
          };
        }
        const vid = Number(cfg.vid);
        return {
          nf,
          entries: [
            pass([{ type: 'of_set_vlan_vid', vid }], `${nf.name}: tagged, VID ${vid}`, { cubes: [tagged] }),
            pass(
              [
                { type: 'of_push_vlan', ethertype: 0x8100 },
                { type: 'of_set_vlan_vid', vid },
              ],
              `${nf.name}: push VID ${vid}`,
            ),
          ],
          needs: ['of_push_vlan', 'of_set_vlan_vid'],
        };
      }
      case 'encap':
        return {
          nf,
          entries: [
            pass(
              [
                { type: 'set_mac_src', mac: String(cfg.srcMac) },
                { type: 'set_mac_dst', mac: String(cfg.dstMac) },
              ],
              `${nf.name}: rewrite MACs`,
            ),
          ],
          needs: ['set_mac_src', 'set_mac_dst'],
        };
      case 'router': {
        const entries: StageEntry[] = [];
        for (const fam of [4, 6] as const) {
          const t = tables.get(`${base}_route${fam === 6 ? '6' : ''}`);
          if (!t) continue;
          const famCube: Cube = { ipVer: { value: BigInt(fam), mask: ones(WIDTH.ipVer) } };
          const keys = t.keys.map((k) => k.field);
          const ordered = (entriesOf.get(t.name) ?? [])
            .map((e, i) => ({
              e,
              i,
              len: e.match[0]?.kind === 'lpm' ? e.match[0].prefixLen : (e.priority ?? 0),
            }))
            .sort((a, b) => b.len - a.len || a.i - b.i)
            .map((x) => x.e);
          const outcomeOf = (a: ActionCall): Outcome =>
            a.action === 'set_egress'
              ? { kind: 'continue', exitPort: Number(a.args[0]) }
              : { kind: 'drop', reason: Number(a.args[0]) };
          for (const e of ordered) {
            entries.push({
              cubes: cubesOfEntry(keys, e.match).cubes.map((c) => ({ ...famCube, ...c })),
              actions: [],
              cells: [],
              outcome: outcomeOf(e.action),
              what: e.comment,
            });
          }
          entries.push({
            cubes: [famCube],
            actions: [],
            cells: [],
            outcome: outcomeOf(t.defaultAction),
            what: `${nf.name}: IPv${fam} default`,
          });
        }
        entries.push(pass([], `${nf.name}: not IP, not routed`));
        return { nf, entries, needs: ['mark', 'queue'] };
      }
      default:
        throw new NfpError(`NF ${nf.name} (${nf.type}) is placed on the NIC but has no NIC stage`);
    }
  };

  const tenants: TenantSpec[] = [...plan.tenants]
    .sort((a, b) => a.id - b.id)
    .map((t) => {
      const paths: PathSpec[] = plan.paths
        .filter((p) => p.tenant === t.id && !p.branchOf)
        .map((p) => {
          const stages: Stage[] = [];
          const returnSide: PlanNf[] = [];
          p.hops.forEach((h, i) => {
            const nf = plan.nfs[h.nf];
            if (h.spot === 'host' || nf.placement !== 'nic') return;
            if (wireSide(plan, p, i)) stages.push(stageOf(nf));
            else returnSide.push(nf);
          });
          let terminal: PathSpec['terminal'];
          if (p.needsHost) {
            const s = steer.get(p.id);
            terminal = {
              kind: 'host',
              queue: queueIndex.get(p.queue ?? -1) ?? 0,
              si: s ? param(s, 1) : p.hostHops,
            };
          } else if (p.terminal.kind === 'exit') terminal = { kind: 'exit', port: p.terminal.port };
          else {
            // The code the pipeline drops it with (path_exit's exit_drop).
            const exit = pathExit.get(p.id);
            terminal = {
              kind: 'drop',
              reason: exit?.action === 'exit_drop' ? param(exit, 0) : dropCode('graph-drop'),
            };
          }
          return { path: p, entries: pathEntries.get(p.id) ?? [], stages, returnSide, terminal };
        });
      return {
        tenant: t.id,
        name: t.name,
        entries: tenantEntries.get(t.id) ?? [],
        ...(policed.has(t.id) ? { meter: { meter: q('tenant_meter'), index: t.id } } : {}),
        paths,
      };
    });
  return {
    control: pipeline.control,
    tenants,
    dropCounter: q('drop_reasons'),
    dropCode,
    meters: new Map([...meters].map(([k, v]) => [k.replace(/^([^#]+)/, (m) => q(m)), v])),
  };
}
