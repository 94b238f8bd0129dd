/** The readable summary that `nfp partition --cluster` prints: per node, what it serves and its load; the steering. */
import type { ClusterPlan, SteeringRule } from './cluster';

const pct = (used: number, available: number | undefined): string =>
  available === undefined || !Number.isFinite(available) || available <= 0
    ? `${used}`
    : `${used}/${available} (${Math.round((100 * used) / available)}%)`;

function si(x: number, unit: string): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G${unit}`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M${unit}`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k${unit}`;
  return `${x.toFixed(0)} ${unit}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function match(r: SteeringRule): string {
  const parts = [`in ${r.inPort}`];
  if (r.vlan !== undefined) parts.push(`vlan ${r.vlan}`);
  if (r.dstPrefix) parts.push(`dst ${r.dstPrefix}`);
  if (r.srcPrefix) parts.push(`src ${r.srcPrefix}`);
  return parts.join(', ');
}

/** At most `limit` steering rules are listed; the rest are counted (all are in cluster.json). */
export function renderClusterSummary(c: ClusterPlan, limit = 40): string {
  const out: string[] = [];
  const tenants = new Map(c.assignment.map((a) => [a.tenant, a]));
  out.push(
    `cluster plan for ${c.graphFile} on ${c.clusterFile}: ${c.assignment.length} tenants on ${c.nodes.length} nodes, ` +
      `${si(c.offeredLoadPps, 'pps')} offered, strategy ${c.strategy}; ${c.seconds.toFixed(3)} s`,
  );
  for (const n of c.nodes) {
    out.push('');
    const cycles = n.load.hostCycles;
    out.push(
      `node ${n.name} (${n.nic}, ${plural(n.hostCores, 'core')} at ${si(n.coreHz, 'Hz')}): ${plural(n.tenants.length, 'tenant')}, ${si(n.packetsPerSecond, 'pps')}; ` +
        `host cycles ${si(cycles.used, 'Hz')} of ${si(cycles.available, 'Hz')} (${cycles.available ? Math.round((100 * cycles.used) / cycles.available) : 0}%), ` +
        `weight ${pct(n.load.weight.used, n.load.weight.available)}`,
    );
    if (n.load.nic) {
      const r = n.load.nic;
      out.push(
        `  NIC: stages ${r.stages.used}/${r.stages.available}, ternary ${r.ternaryEntries.used}/${r.ternaryEntries.available}, ` +
          `exact ${r.exactEntries.used}/${r.exactEntries.available}, lpm ${r.lpmEntries.used}/${r.lpmEntries.available}, ` +
          `range ${r.rangeEntries.used}/${r.rangeEntries.available}, meters ${r.meters.used}/${r.meters.available}`,
      );
    }
    for (const s of n.slices.slice(0, limit)) {
      const a = tenants.get(s.tenant);
      const slice = [
        s.ingressPort !== undefined ? `port ${s.ingressPort}` : '',
        s.vlan !== undefined ? `vlan ${s.vlan}` : '',
        s.dstPrefix ? `dst ${s.dstPrefix}` : '',
        s.srcPrefix ? `src ${s.srcPrefix}` : '',
      ].filter(Boolean);
      out.push(`  ${s.name} [${slice.join(', ') || 'everything'}] ${a?.variant ?? ''}: ${a?.reason ?? ''}`);
    }
    if (n.slices.length > limit) out.push(`  … and ${n.slices.length - limit} more tenants`);
    if (n.plan) out.push(`  plan: ${n.plan}`);
  }
  out.push('');
  const rules = c.steering.rules;
  out.push(
    `steering (${rules.length} rules, first match by priority; uplinks ${JSON.stringify(c.steering.uplinks)}):`,
  );
  for (const r of rules.filter((x) => x.direction === 'to-node').slice(0, limit)) {
    out.push(
      `  ${match(r)} → port ${r.outPort} (${r.node} wire port ${r.wirePort}; tenant ${r.tenant?.name})`,
    );
  }
  const back = rules.filter((x) => x.direction === 'from-node').length;
  const shown = Math.min(limit, rules.length - back);
  if (rules.length - back > shown) out.push(`  … and ${rules.length - back - shown} more tenant rules`);
  out.push(`  and ${back} rules returning each node port's egress to its uplink`);
  return out.join('\n');
}
