/**
 * Offloaded NF stages: each NIC-placed NF instance becomes its tables, externs and entries,
 * ordered per tenant in path order and gated by the paths that visit it.
 */
import { NfpError } from '../../partitioner/errors';
import { IP_AWARE_NFS } from '../../partitioner/reference';
import { prefixMask, prefixValue } from '../../partitioner/ip';
import type { FirewallConfig, RouterConfig } from '../../partitioner/nf-config';
import type { Plan, PlanNf, PlanPath } from '../../partitioner/plan';
import { countAction, meterAction } from '../actions';
import { COLOR_RED, dropCode, f } from '../headers';
import type { ControlNode, IrMatch, MeterConfig, TableKey } from '../ir';
import { fromHeaderMatch, keyLayout, ruleMatches } from '../keys';
import { macToBigInt, nfIdent } from '../names';
import { and, type Builder, call, checkPort, eq, notDropped, or, type Side, type Stage } from './builder';

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

/**
 * The control nodes of one offloaded NF instance. An IP-aware NF (partitioner/reference.ts
 * IP_AWARE_NFS) takes only what the host's NFs take: the parser's `ip_fault` drops the rest.
 */
function lowerStage(b: Builder, s: Stage): ControlNode[] {
  const nodes = lowerNf(b, s);
  if (!IP_AWARE_NFS.has(s.nf.type)) return nodes;
  const base = nfIdent(s.nf) + (s.side === 'return' ? '_post' : '');
  return [
    {
      kind: 'if',
      cond: { kind: 'ne', field: f('meta', 'ip_fault'), value: 0n },
      then: [
        b.fixed(
          `${base}_ip_fault`,
          call(b.shared('drop_ip_fault')),
          `${s.nf.name} takes unfragmented IPv4 only`,
        ),
      ],
      else: nodes,
    },
  ];
}

/** The control nodes of one offloaded NF instance; adds its tables, externs and entries. */
function lowerNf(b: Builder, s: Stage): ControlNode[] {
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
        // One tag only: an already tagged frame gets its VID rewritten instead (no QinQ).
        return [
          {
            kind: 'if',
            cond: { kind: 'not', arg: { kind: 'valid', header: 'vlan' } },
            then: [
              b.fixed(`${base}_vlan`, call(b.shared('vlan_push'), cfg.vid), `vlan push ${cfg.vid}: ${where}`),
            ],
            else: [
              b.fixed(
                `${base}_vlan_retag`,
                call(b.shared('vlan_set_vid'), cfg.vid),
                `vlan push ${cfg.vid} onto a tagged frame: rewrite its VID (${where})`,
              ),
            ],
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
  // IPv4 and IPv6 each take their own table; an IPv6 packet of a router without IPv6 routes gets
  // the default, and a frame that is not IP has no route.
  const byFamily: ControlNode[][] = [];
  for (const family of [4, 6] as const) {
    const routes = cfg.routes.filter((r) => r.prefix.family === family);
    if (family === 6 && !routes.length) {
      byFamily.push([b.fixed(`${base}_route6`, dflt, `router ${where}: no IPv6 routes, the default`)]);
      continue;
    }
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
    byFamily.push([
      b.table({
        name,
        keys: [key],
        actions: ['set_egress', 'mark_drop'],
        defaultAction: dflt,
        constDefault: false,
        comment: `router ${where}: IPv${family} longest prefix match`,
      }),
    ]);
  }
  const notIp = b.fixed(
    `${base}_not_ip`,
    call('mark_drop', dropCode('no-route')),
    `router ${where}: not IP, no route`,
  );
  return [
    {
      kind: 'if',
      cond: eq('meta', 'ip_ver', 4),
      then: byFamily[0],
      else: [{ kind: 'if', cond: eq('meta', 'ip_ver', 6), then: byFamily[1], else: [notIp] }],
    },
  ];
}

export function meterConfig(
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
export function lowerSide(b: Builder, side: Side): ControlNode[] {
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
