/**
 * The lowering pass: a plan becomes a NIC pipeline IR. It decides the tables, their keys and
 * entries and the control flow; it prints nothing (the emitters do).
 */
import { InternalError, NfpError } from '../partitioner/errors';
import type { FirewallConfig, RouterConfig } from '../partitioner/nf-config';
import type { Plan, PlanNf, PlanPath } from '../partitioner/plan';
import { prefixMask, prefixValue } from '../partitioner/ip';
import { countAction, meterAction, SHARED_ACTIONS } from './actions';
import {
  COLOR_RED,
  DEPARSE_ORDER,
  DROP_REASONS,
  dropCode,
  f,
  HEADER_TYPES,
  INSTANCES,
  IPV4_CHECKSUM,
  PARSER,
} from './headers';
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
  NicPipeline,
  Table,
  TableKey,
} from './ir';
import { fromHeaderMatch, fromTenantRule, keyLayout, matchText, ruleMatches } from './keys';
import { macToBigInt, nfIdent } from './names';

export const INGRESS_CONTROL = 'MyIngress';
/** v1model ports are 9 bits; 511 is BMv2's drop port. */
const PORT_WIDTH = 9;
const MAX_PORT = 510;

/** Table sizes: the entries rounded up to a power of two, at least 16. */
function sizeFor(entries: number): number {
  let n = 16;
  while (n < entries) n *= 2;
  return n;
}

const call = (action: string, ...args: Array<number | bigint>): ActionCall => ({
  action,
  args: args.map((a) => BigInt(a)),
});

const eq = (instance: string, field: string, value: number | bigint): Cond => ({
  kind: 'eq',
  field: f(instance, field),
  value: BigInt(value),
});
const notDropped: Cond = eq('meta', 'drop', 0);
const and = (...args: Cond[]): Cond => (args.length === 1 ? args[0] : { kind: 'and', args });
const or = (...args: Cond[]): Cond => (args.length === 1 ? args[0] : { kind: 'or', args });

/** Where an NIC hop runs: on the wire side (before steering) or on the return side. */
type Side = 'wire' | 'return';

interface Stage {
  nf: PlanNf;
  side: Side;
  paths: number[];
}

class Builder {
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

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
    throw new NfpError(
      `${what} ${port} does not fit the NIC's 9-bit port numbers (0..${MAX_PORT})`,
      'use port numbers below 511 in the NIC profile and the graph',
    );
  }
}

/** Priorities must be ≥ 1 in P4Runtime; shift a table's priorities up when needed, keeping order. */
function priorityShift(ps: number[]): number {
  const min = ps.length ? Math.min(...ps) : 1;
  return min < 1 ? 1 - min : 0;
}

/**
 * Orders a tenant's NIC stages on one side so that every path sees its hops in path order
 * (a topological order of the per-path hop sequences; ties by NF id).
 */
function orderStages(plan: Plan, stages: Stage[], paths: PlanPath[], side: Side): Stage[] {
  const byNf = new Map(stages.map((s) => [s.nf.id, s]));
  const before = new Map<number, Set<number>>();
  for (const s of stages) before.set(s.nf.id, new Set());
  for (const p of paths) {
    const seq = p.hops.filter((h, i) => byNf.has(h.nf) && sideOf(plan, p, i) === side).map((h) => h.nf);
    for (let i = 1; i < seq.length; i++) before.get(seq[i])?.add(seq[i - 1]);
  }
  const out: Stage[] = [];
  const done = new Set<number>();
  while (out.length < stages.length) {
    const ready = stages
      .filter((s) => !done.has(s.nf.id) && [...(before.get(s.nf.id) ?? [])].every((d) => done.has(d)))
      .sort((a, b) => a.nf.id - b.nf.id);
    if (!ready.length) {
      throw new NfpError(
        `tenant ${stages[0].nf.tenant}: its paths visit offloaded NFs in conflicting orders`,
        'make the service graph acyclic',
      );
    }
    done.add(ready[0].nf.id);
    out.push(ready[0]);
  }
  return out;
}

/**
 * The side of the pipeline a NIC hop runs on. On a host path, pre-host stages run on the wire side
 * and post-host stages on the return side, except a router: its port choice would be lost on the
 * way to the host, so it runs when the packet comes back (on the headers as the host left them).
 */
function sideOf(plan: Plan, p: PlanPath, index: number): Side {
  const hop = p.hops[index];
  if (!p.needsHost) return 'wire';
  if (hop.spot === 'nic-post') return 'return';
  const hostAfter = p.hops.some((h, i) => h.spot === 'host' && i > index);
  return plan.nfs[hop.nf]?.type === 'router' && hostAfter ? 'return' : 'wire';
}

const OFFLOADABLE = new Set(['firewall', 'ratelimiter', 'monitor', 'vlan', 'encap', 'marker', 'router']);

function checkOffloadable(nf: PlanNf): void {
  const cfg = nf.config as unknown as Record<string, unknown>;
  const stateful =
    (nf.type === 'firewall' && cfg.stateful === true) ||
    ((nf.type === 'ratelimiter' || nf.type === 'monitor') && cfg.perFlow === true);
  if (!OFFLOADABLE.has(nf.type) || stateful) {
    throw new NfpError(
      `NF ${nf.name} (${nf.type}${stateful ? ', stateful' : ''}) is placed on the NIC but the NIC cannot run it`,
      `place ${nf.name} on the host (pin: host) or regenerate the plan`,
    );
  }
}

/** The control nodes of one offloaded NF instance; adds its tables, externs and entries. */
function lowerStage(b: Builder, s: Stage): ControlNode[] {
  const nf = s.nf;
  const base = nfIdent(nf) + (s.side === 'return' ? '_post' : '');
  const rangeOk = b.plan.profile.matchKinds.includes('range');
  const lpmOk = b.plan.profile.matchKinds.includes('lpm');
  const where = `${nf.name} (${nf.type}, NF ${nf.id}) on paths ${s.paths.join(', ')}${s.side === 'return' ? ', after the host' : ''}`;
  switch (nf.type) {
    case 'firewall': {
      const cfg = nf.config as FirewallConfig;
      const name = `${base}_acl`;
      const layout = keyLayout(
        cfg.rules.map((r) => fromHeaderMatch(r.match)),
        rangeOk,
      );
      cfg.rules.forEach((r, i) => {
        const action = r.action === 'allow' ? call('acl_permit') : call('mark_drop', dropCode('acl-deny'));
        b.ruleEntries(
          name,
          ruleMatches(layout, fromHeaderMatch(r.match)),
          cfg.rules.length - i,
          action,
          `${nf.name} rule ${i + 1}: ${r.action}`,
        );
      });
      b.shared('acl_permit');
      b.shared('mark_drop');
      const dflt = cfg.default === 'allow' ? call('acl_permit') : call('mark_drop', dropCode('acl-deny'));
      return [
        b.table({
          name,
          keys: layout.keys,
          actions: ['acl_permit', 'mark_drop'],
          defaultAction: dflt,
          constDefault: false,
          comment: `firewall ${where}: first-match ACL, default ${cfg.default}`,
        }),
      ];
    }
    case 'monitor': {
      const counter = `${base}_packets`;
      const maxPath = b.maxPath;
      b.counters.push({
        name: counter,
        size: maxPath + 1,
        comment: `monitor ${where}: packets and bytes per path`,
      });
      const act = b.action(countAction(`${base}_count`, counter, `monitor ${nf.name}: count per path`));
      return [b.fixed(`${base}_monitor`, call(act), `monitor ${where}`)];
    }
    case 'ratelimiter': {
      const cfg = nf.config as { rateBps: number; burstBytes: number };
      const meter = `${base}_meter`;
      b.meters.push({
        name: meter,
        size: 1,
        unit: 'bytes',
        comment: `rate limiter ${where}: one aggregate byte meter`,
      });
      b.meterConfigs.push(meterConfig(meter, 0, cfg.rateBps, cfg.burstBytes, `rate limiter ${nf.name}`));
      const act = b.action(
        meterAction(`${base}_execute`, meter, `rate limiter ${nf.name}: meter the aggregate`),
      );
      return [
        b.fixed(`${base}_police`, call(act), `rate limiter ${where}`),
        {
          kind: 'if',
          cond: eq('meta', 'color', COLOR_RED),
          then: [
            b.fixed(
              `${base}_red`,
              call('mark_drop', dropCode('meter-red')),
              `rate limiter ${nf.name}: over rate`,
            ),
          ],
          else: [],
        },
      ];
    }
    case 'vlan': {
      const cfg = nf.config as { op: 'push' | 'pop'; vid: number };
      if (cfg.op === 'push') {
        // Single tag only: a frame that is already tagged keeps its tag.
        return [
          {
            kind: 'if',
            cond: { kind: 'not', arg: { kind: 'valid', header: 'vlan' } },
            then: [
              b.fixed(`${base}_vlan`, call(b.shared('vlan_push'), cfg.vid), `vlan push ${cfg.vid}: ${where}`),
            ],
            else: [],
          },
        ];
      }
      return [
        {
          kind: 'if',
          cond: { kind: 'valid', header: 'vlan' },
          then: [b.fixed(`${base}_vlan`, call(b.shared('vlan_pop')), `vlan pop: ${where}`)],
          else: [],
        },
      ];
    }
    case 'marker': {
      const cfg = nf.config as { dscp: number };
      return [
        b.fixed(`${base}_mark`, call(b.shared('set_dscp'), cfg.dscp), `DSCP marker ${cfg.dscp}: ${where}`),
      ];
    }
    case 'encap': {
      const cfg = nf.config as { srcMac: string; dstMac: string };
      return [
        b.fixed(
          `${base}_encap`,
          call(b.shared('rewrite_macs'), macToBigInt(cfg.srcMac), macToBigInt(cfg.dstMac)),
          `encap ${cfg.srcMac} -> ${cfg.dstMac}: ${where}`,
        ),
      ];
    }
    case 'router':
      return lowerRouter(b, nf, base, where, lpmOk);
    default:
      throw new NfpError(`NF ${nf.name} (${nf.type}) cannot run on the NIC`, `place ${nf.name} on the host`);
  }
}

function lowerRouter(b: Builder, nf: PlanNf, base: string, where: string, lpmOk: boolean): ControlNode[] {
  const cfg = nf.config as RouterConfig;
  for (const r of cfg.routes) checkPort(r.port, `route port of ${nf.name}`);
  if (cfg.defaultPort !== undefined) checkPort(cfg.defaultPort, `default port of ${nf.name}`);
  b.shared('set_egress');
  b.shared('mark_drop');
  const dflt =
    cfg.defaultPort !== undefined
      ? call('set_egress', cfg.defaultPort)
      : call('mark_drop', dropCode('no-route'));
  const out: ControlNode[] = [];
  for (const family of [4, 6] as const) {
    const routes = cfg.routes.filter((r) => r.prefix.family === family);
    if (family === 6 && !routes.length) continue;
    const name = `${base}_route${family === 6 ? '6' : ''}`;
    const field = f(family === 4 ? 'ipv4' : 'ipv6', 'dstAddr');
    const key: TableKey = { field, matchKind: lpmOk ? 'lpm' : 'ternary' };
    for (const r of routes) {
      const value = prefixValue(r.prefix);
      const match: IrMatch = lpmOk
        ? { kind: 'lpm', value, prefixLen: r.prefix.len }
        : { kind: 'ternary', value, mask: prefixMask(family, r.prefix.len) };
      // As ternary, longer prefixes must win: priority = length + 1.
      b.entry({
        table: name,
        match: [match],
        priority: lpmOk ? undefined : r.prefix.len + 1,
        action: call('set_egress', r.port),
        comment: `${nf.name}: ${r.prefix.addr}/${r.prefix.len} -> port ${r.port}`,
      });
    }
    out.push({
      kind: 'if',
      cond: eq('meta', 'ip_ver', family),
      then: [
        b.table({
          name,
          keys: [key],
          actions: ['set_egress', 'mark_drop'],
          defaultAction: dflt,
          constDefault: false,
          comment: `router ${where}: IPv${family} longest prefix match`,
        }),
      ],
      else: [],
    });
  }
  return out;
}

function meterConfig(
  meter: string,
  index: number,
  bitsPerSecond: number,
  burstBytes: number,
  comment: string,
): MeterConfig {
  // Byte meters; CIR = PIR so the two-rate meter acts as one token bucket (green or red).
  const rate = Math.max(1, Math.round(bitsPerSecond / 8));
  const burst = Math.max(1, Math.round(burstBytes));
  return { meter, index, cir: rate, cburst: burst, pir: rate, pburst: burst, comment };
}

/** Tenant-wrapped stage nodes for one side of the pipeline. */
function lowerSide(b: Builder, side: Side): ControlNode[] {
  const plan = b.plan;
  const out: ControlNode[] = [];
  for (const t of [...plan.tenants].sort((x, y) => x.id - y.id)) {
    const paths = plan.paths.filter((p) => p.tenant === t.id);
    const stageMap = new Map<number, Stage>();
    for (const p of paths) {
      for (const [i, h] of p.hops.entries()) {
        const nf = plan.nfs[h.nf];
        if (!nf || h.spot === 'host' || sideOf(plan, p, i) !== side) continue;
        if (nf.placement !== 'nic') continue;
        checkOffloadable(nf);
        const s = stageMap.get(nf.id) ?? { nf, side, paths: [] };
        if (!s.paths.includes(p.id)) s.paths.push(p.id);
        stageMap.set(nf.id, s);
      }
    }
    if (!stageMap.size) continue;
    const nodes: ControlNode[] = [];
    for (const s of orderStages(plan, [...stageMap.values()], paths, side)) {
      s.paths.sort((x, y) => x - y);
      nodes.push({
        kind: 'if',
        cond: and(notDropped, or(...s.paths.map((id) => eq('meta', 'path', id)))),
        then: lowerStage(b, s),
        else: [],
        comment: `${s.nf.name} on paths ${s.paths.join(', ')}`,
      });
    }
    out.push({
      kind: 'if',
      cond: eq('meta', 'tenant', t.id),
      then: nodes,
      else: [],
      comment: `tenant ${t.id} (${t.name}): offloaded NFs ${side === 'wire' ? 'before steering' : 'after the host'}`,
    });
  }
  return out;
}

/** The references the lowering relies on; a hand-edited plan.json gets a specific error. */
function checkReferences(plan: Plan): void {
  const bad = (what: string): never => {
    throw new NfpError(
      `plan ${plan.graphFile || ''} is inconsistent: ${what}`.replace('  ', ' '),
      'regenerate it with `nfp partition`',
    );
  };
  const tenants = new Set(plan.tenants.map((t) => t.id));
  const paths = new Map(plan.paths.map((p) => [p.id, p]));
  plan.nfs.forEach((nf, i) => nf.id !== i && bad(`nfs[${i}] has id ${nf.id}`));
  for (const p of plan.paths) {
    if (!tenants.has(p.tenant)) bad(`path ${p.id} belongs to unknown tenant ${p.tenant}`);
    for (const h of p.hops) {
      if (!plan.nfs[h.nf]) bad(`path ${p.id} visits unknown NF ${h.nf}`);
      else if (plan.nfs[h.nf].tenant !== p.tenant)
        bad(`path ${p.id} visits NF ${plan.nfs[h.nf].name} of another tenant`);
    }
  }
  for (const r of plan.tenantRules)
    if (!tenants.has(r.tenant)) bad(`a tenant rule names unknown tenant ${r.tenant}`);
  for (const r of plan.pathRules) {
    const p = paths.get(r.path);
    if (!p) bad(`a path rule of tenant ${r.tenant} names unknown path ${r.path}`);
    else if (p.tenant !== r.tenant)
      bad(`a path rule of tenant ${r.tenant} names path ${r.path} of tenant ${p.tenant}`);
  }
}

export function lowerPlan(plan: Plan): NicPipeline {
  checkReferences(plan);
  const b = new Builder(plan);
  const { profile } = plan;
  for (const p of profile.wirePorts) checkPort(p, 'wire port');
  for (const p of profile.hostPorts) checkPort(p, 'host port');
  const wire = new Set(profile.wirePorts);
  for (const p of profile.hostPorts) {
    if (wire.has(p))
      throw new NfpError(`port ${p} is both a wire port and a host port in profile ${profile.name}`);
  }
  if (!profile.matchKinds.includes('ternary')) {
    throw new NfpError(
      `NIC profile ${profile.name} has no ternary matches; tenant and path classification need them`,
      'use a NIC profile with ternary (TCAM) tables',
    );
  }
  const sortedPaths = [...plan.paths].sort((x, y) => x.id - y.id);

  // Port roles: host ports carry NSH; everything else is wire.
  for (const port of [...profile.hostPorts].sort((x, y) => x - y)) {
    b.entry({
      table: 'port_role',
      match: [{ kind: 'exact', value: BigInt(port) }],
      action: call('from_host'),
      comment: `host port ${port}`,
    });
  }
  const portRole = b.table({
    name: 'port_role',
    keys: [{ field: f('std', 'ingress_port'), matchKind: 'exact' }],
    actions: ['from_host', 'NoAction'],
    defaultAction: call('NoAction'),
    constDefault: false,
    comment: 'which ports face the host; every other port is a wire port',
  });

  // Tenant classification.
  b.shared('set_tenant');
  b.shared('mark_drop');
  const tenantRules = plan.tenantRules.map(fromTenantRule);
  const tLayout = keyLayout(tenantRules, false, ['port']);
  const tShift = priorityShift(plan.tenantRules.map((r) => r.priority));
  const policed = new Set(plan.tenants.filter((t) => t.rateLimit).map((t) => t.id));
  plan.tenantRules.forEach((r, i) => {
    if (r.ingressPort !== undefined) checkPort(r.ingressPort, 'tenant ingress port');
    const tenant = plan.tenants.find((t) => t.id === r.tenant);
    b.ruleEntries(
      'tenant_classify',
      ruleMatches(tLayout, tenantRules[i]),
      r.priority + tShift,
      call('set_tenant', r.tenant, policed.has(r.tenant) ? 1 : 0),
      `tenant ${r.tenant} (${tenant?.name ?? '?'}) slice`,
    );
  });
  const tenantClassify = b.table({
    name: 'tenant_classify',
    keys: tLayout.keys,
    actions: ['set_tenant', 'mark_drop'],
    defaultAction: call('mark_drop', dropCode('no-tenant')),
    constDefault: false,
    comment: 'wire packets into tenants by their traffic slice; no slice: drop (no-tenant)',
  });

  const policing: ControlNode[] = [];
  if (policed.size) {
    const size = Math.max(...plan.tenants.map((t) => t.id)) + 1;
    b.meters.push({
      name: 'tenant_meter',
      size,
      unit: 'bytes',
      comment: 'per-tenant rate limits, indexed by tenant id',
    });
    for (const t of [...plan.tenants].sort((x, y) => x.id - y.id)) {
      if (!t.rateLimit) continue;
      b.meterConfigs.push(
        meterConfig(
          'tenant_meter',
          t.id,
          t.rateLimit.bitsPerSecond,
          t.rateLimit.burstBytes,
          `tenant ${t.name}`,
        ),
      );
    }
    policing.push({
      kind: 'if',
      cond: eq('meta', 'policed', 1),
      then: [
        b.fixed('tenant_police', call('police_tenant'), "meter the tenant's aggregate rate"),
        {
          kind: 'if',
          cond: eq('meta', 'color', COLOR_RED),
          then: [
            b.fixed(
              'tenant_police_red',
              call('mark_drop', dropCode('meter-red')),
              'tenant over its rate limit',
            ),
          ],
          else: [],
        },
      ],
      else: [],
    });
  }

  // Path classification, per tenant, larger priority wins.
  b.shared('set_path');
  const pathRules = plan.pathRules.map((r) => fromHeaderMatch(r.match));
  const pLayout = keyLayout(pathRules, profile.matchKinds.includes('range'));
  const pShift = priorityShift(plan.pathRules.map((r) => r.priority));
  plan.pathRules.forEach((r, i) => {
    const path = b.pathById.get(r.path);
    const matches = ruleMatches(pLayout, pathRules[i]).map((m) => [
      { kind: 'exact', value: BigInt(r.tenant) } as IrMatch,
      ...m,
    ]);
    b.ruleEntries(
      'path_classify',
      matches,
      r.priority + pShift,
      call('set_path', r.path),
      `path ${r.path}: ${path?.name ?? '?'}`,
    );
  });
  const pathClassify = b.table({
    name: 'path_classify',
    keys: [{ field: f('meta', 'tenant'), matchKind: 'exact' }, ...pLayout.keys],
    actions: ['set_path', 'mark_drop'],
    defaultAction: call('mark_drop', dropCode('no-path')),
    constDefault: false,
    comment: "a tenant's packets into its root service paths",
  });

  // Where each root path leaves: offloaded paths get their wire port (or drop) before their NIC
  // stages run, so an offloaded router can still override the port; host paths are steered after.
  for (const p of sortedPaths) {
    if (p.branchOf) continue;
    let action: ActionCall;
    let what: string;
    if (p.needsHost) {
      action = call('NoAction');
      what = 'to the host after its NIC stages (see steer)';
    } else if (p.terminal.kind === 'drop') {
      action = call('mark_drop', dropCode(p.terminal.reason));
      what = `dropped on the NIC (${p.terminal.reason})`;
    } else {
      checkPort(p.terminal.port, `exit port of path ${p.id}`);
      action = call('to_wire', p.terminal.port);
      what = `fully offloaded, out of port ${p.terminal.port}`;
    }
    b.entry({
      table: 'path_exit',
      match: [{ kind: 'exact', value: BigInt(p.id) }],
      action,
      comment: `path ${p.id} (${p.name}): ${what}`,
    });
  }
  const pathExit = b.table({
    name: 'path_exit',
    keys: [{ field: f('meta', 'path'), matchKind: 'exact' }],
    actions: ['to_wire', 'mark_drop', 'NoAction'],
    defaultAction: call('mark_drop', dropCode('no-path')),
    constDefault: false,
    comment: 'fully offloaded paths: their wire port or drop; host paths: nothing yet',
  });

  const wireStages = lowerSide(b, 'wire');

  // Steering of root paths that need the host: push NSH, go to the path's host queue.
  for (const p of sortedPaths) {
    if (p.branchOf || !p.needsHost) continue;
    const port = profile.hostPorts[p.queue ?? -1];
    if (port === undefined) {
      throw new NfpError(
        `path ${p.id} (${p.name}) uses host queue ${p.queue ?? 'none'} but profile ${profile.name} has ${profile.hostPorts.length} host port(s)`,
        'add host ports to the NIC profile or regenerate the plan',
      );
    }
    b.entry({
      table: 'steer',
      match: [{ kind: 'exact', value: BigInt(p.id) }],
      action: call('to_host', port, p.hostHops),
      comment: `path ${p.id} (${p.name}): to the host on queue ${p.queue} (port ${port}), ${p.hostHops} host hop(s)`,
    });
  }
  const steer = b.table({
    name: 'steer',
    keys: [{ field: f('meta', 'path'), matchKind: 'exact' }],
    actions: ['to_host', 'NoAction'],
    defaultAction: call('NoAction'),
    constDefault: false,
    comment: 'host paths get NSH and go to their host queue; no other path ever has an entry here',
  });

  // The return path: host ports deliver NSH packets of the paths that visit the host.
  for (const p of sortedPaths) {
    if (!p.needsHost) continue;
    const action =
      p.terminal.kind === 'exit'
        ? call('return_to_wire', p.id, p.terminal.port)
        : call('return_drop', p.id, dropCode(p.terminal.reason));
    if (p.terminal.kind === 'exit') checkPort(p.terminal.port, `exit port of path ${p.id}`);
    b.entry({
      table: 'return_classify',
      match: [
        { kind: 'exact', value: BigInt(p.id) },
        { kind: 'exact', value: BigInt(p.tenant) },
      ],
      action,
      comment: `path ${p.id} (${p.name}) back from the host`,
    });
  }
  const returnClassify = b.table({
    name: 'return_classify',
    keys: [
      { field: f('nsh', 'spi'), matchKind: 'exact' },
      { field: f('nsh', 'tenant'), matchKind: 'exact' },
    ],
    actions: ['return_to_wire', 'return_drop', 'mark_drop'],
    defaultAction: call('mark_drop', dropCode('bad-spi')),
    constDefault: false,
    comment: 'packets back from the host: SPI and tenant must name a host path of that tenant',
  });
  const returnStages = lowerSide(b, 'return');

  const nshOnWire = b.fixed(
    'nsh_on_wire',
    call('mark_drop', dropCode('nsh-on-wire')),
    'NSH is internal: never accepted from the wire',
  );
  const noNsh = b.fixed(
    'no_nsh_from_host',
    call('mark_drop', dropCode('no-nsh-from-host')),
    'host ports must return NSH packets',
  );
  b.counters.push({ name: 'drop_reasons', size: DROP_REASONS.length + 1, comment: 'drops by reason code' });
  const dropPacket = b.fixed('drop_packet', call('drop_and_count'), 'drop, counted by reason');

  const ingress: ControlNode[] = [
    portRole,
    {
      kind: 'if',
      cond: eq('meta', 'from_host', 0),
      comment: 'from the wire',
      then: [
        {
          kind: 'if',
          cond: { kind: 'valid', header: 'nsh' },
          then: [nshOnWire],
          else: [
            tenantClassify,
            ...policing,
            { kind: 'if', cond: notDropped, then: [pathClassify], else: [] },
            { kind: 'if', cond: notDropped, then: [pathExit], else: [] },
            ...wireStages,
            { kind: 'if', cond: notDropped, then: [steer], else: [] },
          ],
        },
      ],
      else: [
        {
          kind: 'if',
          cond: { kind: 'valid', header: 'nsh' },
          then: [returnClassify, ...returnStages],
          else: [noNsh],
        },
      ],
    },
    { kind: 'if', cond: eq('meta', 'drop', 1), then: [dropPacket], else: [] },
  ];

  return {
    control: INGRESS_CONTROL,
    headerTypes: HEADER_TYPES,
    instances: INSTANCES,
    parser: PARSER,
    actions: [...b.actions.values()],
    tables: b.tables,
    counters: b.counters,
    meters: b.meters,
    ingress,
    checksums: [IPV4_CHECKSUM],
    deparse: DEPARSE_ORDER,
    entries: b.entries,
    meterConfigs: b.meterConfigs,
    dropReasons: DROP_REASONS,
    wirePorts: [...profile.wirePorts].sort((x, y) => x - y),
    hostPorts: [...profile.hostPorts].sort((x, y) => x - y),
    portWidth: PORT_WIDTH,
  };
}
