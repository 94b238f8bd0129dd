/** The readable summary that `nfp partition` prints: per tenant, per path, where each NF runs and why. */
import type { Plan, PlanPath } from './plan';

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function pathLine(plan: Plan, p: PlanPath): string {
  const hops = p.hops.map((h) => `${plan.nfs[h.nf].name.split('.')[1]}[${h.spot}]`);
  const end = p.terminal.kind === 'exit' ? `exit:${p.terminal.port}` : `drop(${p.terminal.reason})`;
  const where = p.needsHost ? `host queue ${p.queue ?? '-'}` : 'NIC only';
  const branch = p.branchOf
    ? `  (branch: verdict ${p.branchOf.verdict} of P${p.branchOf.path} hop ${p.branchOf.hop})`
    : '';
  return `    ${`P${p.id}`.padEnd(4)}  ${pct(p.share).padStart(6)}  ${[...hops, end].join(' → ')}   [${where}]${branch}`;
}

export function renderSummary(plan: Plan): string {
  const out: string[] = [];
  const o = plan.objective;
  out.push(`plan for ${plan.graphFile} on ${plan.profile.name} (${plan.profile.description})`);
  out.push(
    `objective: ${o.value.toFixed(1)} expected host cycles/packet (NF cycles ${o.hostCycles.toFixed(1)} + crossings ${o.crossingCycles.toFixed(1)}); ` +
      `${o.solver}${o.optimal ? ', optimal' : ''}, ${o.seconds.toFixed(3)} s`,
  );
  for (const t of plan.tenants) {
    out.push('');
    out.push(
      `tenant ${t.name} (id ${t.id}, ${pct(t.trafficShare)} of traffic, weight ${t.weight}, isolation ${t.isolation})`,
    );
    const nfs = plan.nfs.filter((n) => n.tenant === t.id);
    const w = Math.max(4, ...nfs.map((n) => n.name.length - t.name.length - 1));
    out.push('  NFs:');
    for (const n of nfs) {
      out.push(
        `    ${n.name.slice(t.name.length + 1).padEnd(w)}  ${n.type.padEnd(12)}  ${n.placement.padEnd(4)}  ${n.reason}`,
      );
    }
    out.push('  paths:');
    for (const p of plan.paths.filter((x) => x.tenant === t.id)) out.push(pathLine(plan, p));
    const frags = plan.fragmentationPoints.filter((f) => f.tenant === t.id);
    if (frags.length > 0) {
      out.push('  fragmentation points (dynamic branches decided on the host):');
      for (const f of frags) {
        const br = Object.entries(f.branches).map(([v, id]) => `${v} → P${id}`);
        out.push(`    ${plan.nfs[f.nf].name} on P${f.path}: ${br.join(', ')}`);
      }
    }
  }
  out.push('');
  out.push('NIC resources (used / available):');
  const res = Object.entries(plan.resources).map(([k, v]) => `${k} ${v.used}/${v.available}`);
  out.push(`  ${res.join(', ')}`);
  if (plan.queues.length > 0) {
    const qs = plan.queues.map(
      (q) => `q${q.id}: ${q.paths.map((id) => `P${id}`).join(' ')}${q.fragments ? ' (fragments)' : ''}`,
    );
    out.push(`host queues: ${qs.join('; ')}`);
  }
  return out.join('\n');
}
