/**
 * Graphviz picture of a plan: per tenant, the NIC half and the host half as clusters, the graph's
 * edges with their predicates or verdicts, and the paths listed with where each hop runs.
 */
import type { Edge, ServiceGraph } from './graph';
import type { Plan } from './plan';
import type { HeaderMatch } from './nf-config';
import { formatPrefix } from './ip';

// Labels use dot's own escapes (\\n, \\l); names cannot contain backslashes, so only quotes need escaping.
const q = (s: string): string => `"${s.replace(/"/g, '\\"')}"`;

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

function edgeLabel(e: Edge): string {
  if (e.verdict !== undefined) return `verdict ${e.verdict}`;
  if (e.when) return describeMatch(e.when);
  return '';
}

export function renderDot(plan: Plan, graph: ServiceGraph): string {
  const out: string[] = [
    'digraph nfp {',
    '  rankdir=LR; compound=true; fontname="Helvetica"; node [fontname="Helvetica", fontsize=10]; edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const t of graph.tenants) {
    const id = (n: string): string => q(`t${t.id}.${n}`);
    out.push(`  subgraph ${q(`cluster_t${t.id}`)} {`, `    label=${q(`tenant ${t.name}`)}; style=rounded;`);
    out.push(
      `    ${id('entry')} [label="entry", shape=circle];`,
      `    ${id('exit')} [label="exit:${t.egressPort}", shape=doublecircle];`,
    );
    out.push(`    ${id('drop')} [label="drop", shape=octagon];`);
    for (const half of ['nic', 'host'] as const) {
      const nfs = plan.nfs.filter((n) => n.tenant === t.id && n.placement === half);
      if (nfs.length === 0) continue;
      const color = half === 'nic' ? 'lightblue' : 'moccasin';
      out.push(
        `    subgraph ${q(`cluster_t${t.id}_${half}`)} {`,
        `      label=${q(half === 'nic' ? 'NIC' : 'host')}; style=filled; color=${color};`,
      );
      for (const n of nfs) {
        const short = n.name.slice(t.name.length + 1);
        out.push(
          `      ${id(short)} [label=${q(`${short}\\n${n.type}`)}, shape=box, style="filled", fillcolor=white, tooltip=${q(n.reason)}];`,
        );
      }
      out.push('    }');
    }
    for (const e of t.edges) {
      const label = edgeLabel(e);
      const style = e.verdict !== undefined ? ', style=dashed, color=red' : '';
      out.push(`    ${id(e.from)} -> ${id(e.to)} [label=${q(label)}${style}];`);
    }
    const lines = plan.paths
      .filter((p) => p.tenant === t.id)
      .map((p) => {
        const hops = p.hops.map((h) => `${plan.nfs[h.nf].name.slice(t.name.length + 1)}@${h.spot}`);
        const end = p.terminal.kind === 'exit' ? 'exit' : 'drop';
        return `P${p.id} (${(p.share * 100).toFixed(0)}%): ${[...hops, end].join(' > ')}${p.needsHost ? ` q${p.queue ?? '-'}` : ''}`;
      });
    out.push(`    ${id('paths')} [shape=note, label=${q(`${lines.join('\\l')}\\l`)}];`);
    out.push('  }');
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
