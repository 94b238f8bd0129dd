/**
 * Graphviz picture of a plan, for a design review: one box per tenant (in file order), its NFs in
 * the halves where they run left to right as a packet meets them (NIC before the host, host, NIC
 * after the host), the graph's edges with their predicates (parallel ones merged) and dashed red
 * verdict branches, and a table of the paths: share, hops with where each runs, host queue.
 */
import type { Edge, ServiceGraph, Tenant } from './graph';
import { DROP, ENTRY, EXIT } from './graph';
import type { Plan, PlanNf, Spot } from './plan';
import type { HeaderMatch } from './nf-config';
import { formatPrefix } from './ip';

export function describeMatch(m: HeaderMatch): string {
  const parts: string[] = [];
  const names: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };
  if (m.proto !== undefined) parts.push(names[m.proto] ?? `proto ${m.proto}`);
  if (m.srcPrefix) parts.push(`src ${formatPrefix(m.srcPrefix)}`);
  if (m.dstPrefix) parts.push(`dst ${formatPrefix(m.dstPrefix)}`);
  const port = (r: { lo: number; hi: number }): string => (r.lo === r.hi ? String(r.lo) : `${r.lo}-${r.hi}`);
  if (m.srcPort) parts.push(`sport ${port(m.srcPort)}`);
  if (m.dstPort) parts.push(`dport ${port(m.dstPort)}`);
  if (m.dscp !== undefined) parts.push(`dscp ${m.dscp}`);
  if (m.vlan !== undefined) parts.push(`vlan ${m.vlan}`);
  return parts.length > 0 ? parts.join(' ') : 'any';
}

/** A share as a person reads it: `57%`, `<1%` for a small non-zero one, never `0%` for it. */
export function formatShare(share: number): string {
  if (share > 0 && share < 0.005) return '<1%';
  if (share < 1 && share > 0.995) return '>99%';
  return `${Math.round(share * 100)}%`;
}

const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
/** Text inside an HTML-like label. */
const h = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const HALVES: Array<{ spot: Spot; label: string; color: string }> = [
  { spot: 'nic-pre', label: 'NIC', color: '#dcecf7' },
  { spot: 'host', label: 'host', color: '#fbe9c8' },
  { spot: 'nic-post', label: 'NIC, after the host', color: '#dcecf7' },
];
const SPOT_COLOR: Record<Spot, string> = { 'nic-pre': '#2b6ca3', host: '#a35f00', 'nic-post': '#2b6ca3' };

/** Where each NF of the tenant runs as packets meet it: the spot of its first hop on any path. */
function spots(plan: Plan, t: Tenant): Map<string, Spot> {
  const out = new Map<string, Spot>();
  const short = (nf: PlanNf): string => nf.name.slice(t.name.length + 1);
  for (const p of plan.paths.filter((x) => x.tenant === t.id)) {
    for (const hop of p.hops) {
      const nf = plan.nfs[hop.nf];
      if (!out.has(short(nf))) out.set(short(nf), hop.spot);
    }
  }
  for (const nf of plan.nfs.filter((n) => n.tenant === t.id)) {
    if (!out.has(short(nf))) out.set(short(nf), nf.placement === 'host' ? 'host' : 'nic-pre');
  }
  return out;
}

/** The tenant's edges with the same ends and kind merged into one, its predicates one per line. */
function mergedEdges(t: Tenant): Array<{ from: string; to: string; verdict: boolean; labels: string[] }> {
  const out = new Map<string, { from: string; to: string; verdict: boolean; labels: string[] }>();
  for (const e of t.edges) {
    const verdict = e.verdict !== undefined;
    const key = `${e.from}\u0000${e.to}\u0000${verdict}`;
    const m = out.get(key) ?? { from: e.from, to: e.to, verdict, labels: [] };
    const label = edgeLabel(e);
    if (label && !m.labels.includes(label)) m.labels.push(label);
    out.set(key, m);
  }
  // Where a node's edges carry predicates, the one without is the default route: say so.
  const merged = [...out.values()];
  for (const m of merged) {
    const guarded = merged.some((o) => o.from === m.from && !o.verdict && o.labels.length > 0);
    if (guarded && !m.verdict && m.labels.length === 0) m.labels.push('otherwise');
  }
  return merged;
}

function edgeLabel(e: Edge): string {
  if (e.verdict !== undefined) return `on ${e.verdict}`;
  if (e.when) return describeMatch(e.when);
  return '';
}

function nfLabel(name: string, type: string): string {
  const kind = name === type ? '' : `<br/><font point-size="8" color="#555555">${h(type)}</font>`;
  return `<<b>${h(name)}</b>${kind}>`;
}

/**
 * The tenant's label: its name and facts, then its paths as a table (id, share, hops coloured by
 * where they run, host queue). As the cluster's label it takes no part in the layout.
 */
function tenantLabel(plan: Plan, t: Tenant): string {
  const share = t.trafficShare < 1 ? `, ${formatShare(t.trafficShare)} of the traffic` : '';
  const title =
    `<tr><td align="left" colspan="4"><font point-size="12"><b>tenant ${h(t.name)}</b></font>` +
    `<font point-size="9"> (id ${t.id}${h(share)}, isolation ${t.isolation})</font></td></tr>`;
  const rows = plan.paths
    .filter((p) => p.tenant === t.id)
    .map((p) => {
      const hops = p.hops.map((hop) => {
        const name = plan.nfs[hop.nf].name.slice(t.name.length + 1);
        return `<font color="${SPOT_COLOR[hop.spot]}">${h(name)}</font>`;
      });
      const end = p.terminal.kind === 'exit' ? `out:${p.terminal.port}` : 'drop';
      const via = p.branchOf ? ` <i>(on ${h(p.branchOf.verdict)})</i>` : '';
      return (
        `<tr><td align="left">P${p.id}</td><td align="right">${h(formatShare(p.share))}</td>` +
        `<td align="left">${[...hops, h(end)].join(' → ')}${via}</td>` +
        `<td align="left">${p.needsHost ? `queue ${p.queue ?? '-'}` : 'NIC only'}</td></tr>`
      );
    });
  const head =
    '<tr><td align="left"><b>path</b></td><td align="right"><b>share</b></td>' +
    `<td align="left"><b>hops</b> (on the <font color="${SPOT_COLOR['nic-pre']}">NIC</font> or the ` +
    `<font color="${SPOT_COLOR.host}">host</font>)</td><td align="left"></td></tr>`;
  return (
    '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' +
    `${title}<tr><td colspan="4"><font point-size="9"><table border="0" cellborder="0" cellspacing="0" cellpadding="2">` +
    `${head}${rows.join('')}</table></font></td></tr></table>>`
  );
}

export function renderDot(plan: Plan, graph: ServiceGraph): string {
  const title =
    `${graph.file} on ${plan.profile.name}: ` +
    `${plan.objective.value.toFixed(1)} expected host cycles/packet (${plan.objective.solver})`;
  const out: string[] = [
    'digraph nfp {',
    `  graph [rankdir=LR, newrank=true, nodesep=0.3, ranksep=0.5, fontname="Helvetica", fontsize=14, labelloc=t, labeljust=l, label=${q(title)}];`,
    '  node [fontname="Helvetica", fontsize=10, shape=box, style="rounded,filled", fillcolor=white, color="#555555"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#444444", arrowsize=0.7];',
  ];
  // dot stacks unconnected clusters bottom-up in the order it reads them: write the tenants last
  // first, so the picture shows them top to bottom in file order.
  for (const t of [...graph.tenants].reverse()) {
    const id = (n: string): string => q(`t${t.id}.${n}`);
    out.push(
      `  subgraph ${q(`cluster_t${t.id}`)} {`,
      `    label=${tenantLabel(plan, t)}; labeljust=l; style=rounded; color="#888888";`,
    );
    const edges = mergedEdges(t);
    const used = (n: string): boolean => edges.some((e) => e.from === n || e.to === n);
    out.push(`    ${id(ENTRY)} [label="in", shape=circle, width=0.45, fixedsize=true];`);
    if (used(EXIT)) {
      out.push(
        `    ${id(EXIT)} [label=${q(`out:${t.egressPort}`)}, shape=doublecircle, width=0.5, fixedsize=true];`,
      );
    }
    if (used(DROP)) out.push(`    ${id(DROP)} [label="drop", shape=octagon, fillcolor="#f6d6d6"];`);
    const at = spots(plan, t);
    for (const half of HALVES) {
      const nfs = plan.nfs.filter(
        (n) => n.tenant === t.id && at.get(n.name.slice(t.name.length + 1)) === half.spot,
      );
      if (nfs.length === 0) continue;
      out.push(
        `    subgraph ${q(`cluster_t${t.id}_${half.spot === 'host' ? 'host' : half.spot === 'nic-pre' ? 'nic' : 'nic_post'}`)} {`,
        `      label=${q(half.label)}; style="rounded,filled"; color=${q(half.color)}; fontsize=10;`,
      );
      for (const n of nfs) {
        const short = n.name.slice(t.name.length + 1);
        out.push(`      ${id(short)} [label=${nfLabel(short, n.type)}, tooltip=${q(n.reason)}];`);
      }
      out.push('    }');
    }
    for (const e of edges) {
      const attrs = [e.labels.length ? `label=${q(e.labels.join('\n'))}` : ''];
      // An NF the entry feeds sits right after it (without this, dot may park a leaf NF anywhere
      // between entry and exit, and its edges cross the picture).
      if (e.from === ENTRY) attrs.push('weight=4');
      if (e.verdict) attrs.push('style=dashed', 'color="#c0392b"', 'fontcolor="#c0392b"');
      // A verdict branch goes back against the flow as often as not; it must not bend the ranks.
      if (e.verdict) attrs.push('constraint=false');
      const list = attrs.filter(Boolean);
      out.push(`    ${id(e.from)} -> ${id(e.to)}${list.length ? ` [${list.join(', ')}]` : ''};`);
    }
    out.push('  }');
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
