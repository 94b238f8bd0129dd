/**
 * The offload decision for one NIC profile: which tenants and paths the NIC classifies and runs
 * (their rte_flow rules), and which stay in software, each with its one-line reason. It lowers,
 * moves what the profile cannot express to software, and lowers again until nothing is left over.
 */
import type { NicPipeline } from '../../../p4/ir';
import type { Plan } from '../../../partitioner/plan';
import type { NicPlacementReport } from '../../target';
import type { NicCaps } from '../caps';
import type { Cube } from './cube';
import type { FlowCounter, FlowRuleSet } from './ir';
import { lowerRules, type LowerOutput } from './lower';
import { gatherPipeline, type PipelineSpec } from './stages';

export interface OffloadResult {
  ruleSet: FlowRuleSet;
  placement: NicPlacementReport;
}

/** The wire ports a tenant's slice entries can match on. */
function portsOfTenant(entries: Array<{ cubes: Cube[] }>, ports: number[]): number[] {
  return ports.filter((port) =>
    entries.some((e) => e.cubes.some((c) => !c.port || ((BigInt(port) ^ c.port.value) & c.port.mask) === 0n)),
  );
}

export function decideOffload(
  plan: Plan,
  pipeline: NicPipeline,
  caps: NicCaps,
  ports: number[],
): OffloadResult {
  const spec = gatherPipeline(plan, pipeline);
  const softwareTenants = new Map<number, string>();
  const softwarePaths = new Map<number, string>();
  const notices: string[] = [];
  const grouped = caps.actions.includes('jump') && caps.priorities > 1;
  const has = (a: string): boolean => caps.actions.includes(a as never);

  if (!caps.flowApi) {
    notices.push(`${caps.name}: no flow API; the whole NIC half runs in software`);
  } else {
    // What the profile lacks outright, decided before lowering so that the reason names the NF.
    for (const t of spec.tenants) {
      const span = portsOfTenant(t.entries, ports);
      if (t.meter && !has('meter'))
        softwareTenants.set(t.tenant, `tenant rate limit: ${caps.name} has no METER action`);
      else if (t.meter && span.length > 1)
        softwareTenants.set(
          t.tenant,
          `tenant rate limit spans ports ${span.join(', ')}; a NIC meter is per port`,
        );
      for (const p of t.paths) {
        for (const s of p.stages) {
          const missing = s.needs.filter((a) => !has(a));
          if (grouped && missing.length && !softwarePaths.has(p.path.id))
            softwarePaths.set(
              p.path.id,
              `${s.nf.name} (${s.nf.type}) needs ${missing.map((a) => a.toUpperCase()).join(', ')}, which ${caps.name} lacks`,
            );
          if (s.entries.some((e) => e.meter) && span.length > 1 && !softwarePaths.has(p.path.id))
            softwarePaths.set(
              p.path.id,
              `${s.nf.name} meters traffic of ports ${span.join(', ')}; a NIC meter is per port`,
            );
        }
        if (
          grouped &&
          p.terminal.kind === 'drop' &&
          !(has('drop') && has('count')) &&
          !softwarePaths.has(p.path.id)
        )
          softwarePaths.set(
            p.path.id,
            `the path ends in a drop, and ${caps.name} cannot count what it drops`,
          );
      }
    }
  }

  let lowered: LowerOutput;
  let allSoftware = !caps.flowApi;
  for (;;) {
    // A metered tenant with any path in software goes to software whole: it must be metered once.
    for (const t of spec.tenants)
      if (t.meter && !softwareTenants.has(t.tenant) && t.paths.some((p) => softwarePaths.has(p.path.id)))
        softwareTenants.set(
          t.tenant,
          'its rate limit must be metered once, and some of its paths run in software',
        );
    lowered = lowerRules({
      spec,
      caps,
      ports,
      softwareTenants: new Set(softwareTenants.keys()),
      softwarePaths: new Set(softwarePaths.keys()),
    });
    if (!lowered.problems.length) break;
    let progress = false;
    for (const pr of lowered.problems) {
      if (pr.path !== undefined && !softwarePaths.has(pr.path)) {
        softwarePaths.set(pr.path, pr.reason);
        progress = true;
      } else if (pr.path === undefined && pr.tenant !== undefined && !softwareTenants.has(pr.tenant)) {
        softwareTenants.set(pr.tenant, pr.reason);
        progress = true;
      }
    }
    if (!progress) {
      // A rule of the pipeline's own frame (NSH, the defaults) cannot be expressed: no offload.
      notices.push(`${caps.name}: ${lowered.problems[0].reason}; the whole NIC half runs in software`);
      allSoftware = true;
      lowered = { ...lowered, rules: [], counters: [], meters: [], complete: false };
      break;
    }
  }

  const ruleSet = compact({
    nic: caps.name,
    ports,
    rules: lowered.rules,
    counters: lowered.counters,
    meters: lowered.meters,
    isolate: caps.isolate && lowered.complete && lowered.rules.length > 0,
    hostPaths: spec.tenants.flatMap((t) =>
      t.paths.flatMap((p) =>
        p.terminal.kind === 'host'
          ? [{ spi: p.path.id, tenant: t.tenant, si: p.terminal.si, queue: p.terminal.queue }]
          : [],
      ),
    ),
    dropCounter: spec.dropCounter,
  });
  return {
    ruleSet,
    placement: placementReport(
      plan,
      spec,
      caps,
      ruleSet,
      lowered,
      softwareTenants,
      softwarePaths,
      notices,
      allSoftware,
    ),
  };
}

/** A path's reason, prefixed with the path unless it names it already. */
function pathReason(id: number, reason: string): string {
  return reason.startsWith(`path ${id}`) ? reason : `path ${id}: ${reason}`;
}

/** Keeps only the counters and meters some rule uses, numbered from 0 in order of use. */
function compact(rs: FlowRuleSet): FlowRuleSet {
  const counterIds = new Map<number, number>();
  const meterIds = new Map<number, number>();
  const rules = rs.rules.map((r) => ({
    ...r,
    actions: r.actions.map((a) => {
      if (a.type === 'count') {
        if (!counterIds.has(a.id)) counterIds.set(a.id, counterIds.size);
        return { type: 'count' as const, id: counterIds.get(a.id)! };
      }
      if (a.type === 'meter') {
        if (!meterIds.has(a.id)) meterIds.set(a.id, meterIds.size);
        return { type: 'meter' as const, id: meterIds.get(a.id)! };
      }
      return a;
    }),
  }));
  const counters: FlowCounter[] = [];
  for (const [old, id] of counterIds) counters[id] = { ...rs.counters[old], id };
  const meters = [...meterIds].map(([old, id]) => ({ ...rs.meters[old], id })).sort((a, b) => a.id - b.id);
  return { ...rs, rules, counters, meters };
}

function placementReport(
  plan: Plan,
  spec: PipelineSpec,
  caps: NicCaps,
  rs: FlowRuleSet,
  lowered: LowerOutput,
  softwareTenants: Map<number, string>,
  softwarePaths: Map<number, string>,
  notices: string[],
  allSoftware: boolean,
): NicPlacementReport {
  const grouped = caps.actions.includes('jump') && caps.priorities > 1;
  const pathWhere = new Map<number, { where: 'nic' | 'partly' | 'software'; reason: string }>();
  for (const t of spec.tenants) {
    for (const p of t.paths) {
      const id = p.path.id;
      let w: { where: 'nic' | 'partly' | 'software'; reason: string };
      if (!caps.flowApi) w = { where: 'software', reason: `${caps.name} has no flow API` };
      else if (softwareTenants.has(t.tenant))
        w = { where: 'software', reason: `tenant ${t.name}: ${softwareTenants.get(t.tenant)}` };
      else if (softwarePaths.has(id)) w = { where: 'software', reason: softwarePaths.get(id)! };
      else if (allSoftware) w = { where: 'software', reason: notices[notices.length - 1] };
      else if (grouped)
        w = { where: 'nic', reason: 'classified, steered and its NIC NFs run by rte_flow rules' };
      else {
        const s = lowered.installed.get(id) ?? { rules: 0, installed: 0 };
        const why = s.reason ?? 'no rule';
        w =
          s.installed === 0
            ? { where: 'software', reason: why }
            : s.installed < s.rules
              ? {
                  where: 'partly',
                  reason: `${s.installed} of ${s.rules} rule(s) in the NIC; first left out: ${why}`,
                }
              : { where: 'nic', reason: `all ${s.rules} rule(s) in the NIC` };
      }
      pathWhere.set(id, w);
    }
  }
  const nfs: NicPlacementReport['nfs'] = [];
  for (const nf of plan.nfs) {
    if (nf.placement !== 'nic') continue;
    // After the host: on a root path's return side, or on a path only a host verdict enters.
    const viaReturn =
      spec.tenants.some((t) => t.paths.some((p) => p.returnSide.some((x) => x.id === nf.id))) ||
      plan.paths.some((p) => p.branchOf && p.hops.some((h) => h.nf === nf.id && h.spot !== 'host'));
    const paths = spec.tenants.flatMap((t) => t.paths).filter((p) => p.stages.some((s) => s.nf.id === nf.id));
    if (viaReturn) {
      nfs.push({
        name: nf.name,
        where: 'software',
        reason:
          'runs after the host: the return path (NSH removed) runs in software on the transmitting lcore',
      });
      continue;
    }
    const notNic = paths.find((p) => pathWhere.get(p.path.id)?.where !== 'nic');
    nfs.push(
      notNic
        ? {
            name: nf.name,
            where: 'software',
            reason: pathReason(notNic.path.id, pathWhere.get(notNic.path.id)?.reason ?? ''),
          }
        : {
            name: nf.name,
            where: 'nic',
            reason: `rte_flow on ${caps.name}${paths.length ? ` (paths ${paths.map((p) => p.path.id).join(', ')})` : ''}`,
          },
    );
  }
  const rules = rs.rules.length;
  notices.push(
    rules
      ? `${rules} rte_flow rule(s) on ${rs.ports.length} port(s); flow isolation ${rs.isolate ? 'on' : `off (${caps.isolate ? 'unmatched packets must reach the software pipeline' : `${caps.name} has none`})`}`
      : 'no rte_flow rules: every packet runs the software pipeline',
  );
  return {
    nic: caps.name,
    nfs,
    checks: wireChecks(caps, rs),
    paths: [...pathWhere].map(([id, w]) => ({
      id,
      name: plan.paths.find((p) => p.id === id)?.name ?? String(id),
      where: w.where,
      reason: w.reason,
    })),
    notices,
  };
}

/** Where each of the NIC parser's checks runs on this profile (the rules say what is in the NIC). */
function wireChecks(caps: NicCaps, rs: FlowRuleSet): NonNullable<NicPlacementReport['checks']> {
  if (!caps.flowApi)
    return ['oversize', 'malformed', 'qinq', 'nsh-on-wire', 'fragment, ip-options', 'not-ipv4'].map(
      (check) => ({
        check,
        where: 'software' as const,
        reason: `${caps.name} has no flow API: the software pipeline runs every check`,
      }),
    );
  const ruled = (what: RegExp): boolean => rs.rules.some((r) => what.test(r.origin.what));
  const recheck = 'rte_flow matches no lengths: the software stage rechecks every frame the NIC steered';
  const where = (
    inNic: boolean,
    nic: string,
    software: string,
  ): { where: 'nic' | 'software'; reason: string } =>
    inNic ? { where: 'nic', reason: nic } : { where: 'software', reason: software };
  return [
    { check: 'oversize', where: 'software', reason: `frame length: ${recheck}` },
    { check: 'malformed', where: 'software', reason: `header lengths: ${recheck}` },
    {
      check: 'qinq',
      ...where(
        ruled(/^stacked VLAN tag/),
        'outer TPID 0x88a8 / 0x9100 dropped by group-0 rules; a second 802.1Q tag rechecked in software',
        `${caps.name} cannot order a TPID rule before the tenant slices: rechecked in software`,
      ),
    },
    {
      check: 'nsh-on-wire',
      ...where(
        ruled(/^NSH on a wire port/),
        'EtherType 0x894f dropped by a rule',
        `${caps.name}: rechecked in software`,
      ),
    },
    {
      check: 'fragment, ip-options',
      ...where(
        ruled(/^IPv4 with options or a fragment/),
        'IPv4 version_ihl and fragment_offset: group-0 rules send them to the software pipeline',
        `${caps.name} matches neither IHL nor fragment_offset: steered ones are rechecked in software, IPv4 drops by L4 ports stay in software`,
      ),
    },
    {
      check: 'not-ipv4',
      ...where(
        caps.actions.includes('jump') && caps.priorities > 1 && caps.flowApi,
        'a group per IP-aware NF stage takes IPv4 only and drops the rest',
        'IP-aware NF stages in flat rules match IPv4 only; the rest runs in software',
      ),
    },
  ];
}
