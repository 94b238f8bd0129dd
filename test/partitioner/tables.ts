// Evaluates a plan's classification tables the way a NIC does: the highest-priority matching
// tenant rule, then the highest-priority matching path rule of that tenant. Written here, apart
// from the rule generator, so that the property test compares two independent computations.
import type { Plan, PlanPath } from '../../partitioner/plan';
import type { PacketHeaders } from '../../partitioner/reference';
import { matchesPacket, parseIp, prefixContains, type PacketFields } from '../../partitioner';

export function fieldsOf(h: PacketHeaders): PacketFields {
  const ip = (s: string): NonNullable<ReturnType<typeof parseIp>> => {
    const a = parseIp(s);
    if (!a) throw new Error(`bad ip ${s}`);
    return a;
  };
  return {
    ingressPort: h.ingressPort,
    vlan: h.vlan ?? 0,
    proto: h.proto,
    srcIp: ip(h.srcIp),
    dstIp: ip(h.dstIp),
    srcPort: h.srcPort ?? 0,
    dstPort: h.dstPort ?? 0,
    dscp: h.dscp,
  };
}

export function tableTenant(plan: Plan, f: PacketFields): number | undefined {
  let best: { tenant: number; priority: number } | undefined;
  for (const r of plan.tenantRules) {
    if (r.ingressPort !== undefined && r.ingressPort !== f.ingressPort) continue;
    if (r.vlan !== undefined && r.vlan !== f.vlan) continue;
    if (r.dstPrefix && !(f.dstIp && prefixContains(r.dstPrefix, f.dstIp))) continue;
    if (r.srcPrefix && !(f.srcIp && prefixContains(r.srcPrefix, f.srcIp))) continue;
    if (!best || r.priority > best.priority) best = r;
  }
  return best?.tenant;
}

export function tablePath(plan: Plan, tenant: number, f: PacketFields): PlanPath | undefined {
  let best: { path: number; priority: number } | undefined;
  for (const r of plan.pathRules) {
    if (r.tenant !== tenant || !matchesPacket(r.match, f)) continue;
    if (!best || r.priority > best.priority) best = r;
  }
  return best ? plan.paths.find((p) => p.id === best.path) : undefined;
}

/** NF names (without the tenant prefix) and terminal of a plan path, comparable with the reference. */
export function describePath(plan: Plan, p: PlanPath): { nodes: string[]; terminal: string } {
  return {
    nodes: p.hops.map((h) => plan.nfs[h.nf].name.split('.').slice(1).join('.')),
    terminal: p.terminal.kind === 'exit' ? 'exit' : `drop:${p.terminal.reason}`,
  };
}
