/**
 * Semantic checks of a tenant's graph and of the tenants' slices: dangling, cyclic and shadowed
 * edges, unreachable NFs, dead ends, misplaced verdicts, header predicates after a dynamic
 * verdict, and overlapping slices. Each finding is a diagnostic on the user's file.
 */
import type { Edge, NfInstance, Tenant, TrafficSlice } from './graph';
import { DROP, ENTRY, EXIT } from './graph';
import { CATALOGUE } from './catalogue';
import { prefixIntersect, formatPrefix } from './ip';
import { matchCovers } from './match';
import { didYouMean, sub, type Reader, type YNode } from './reader';

/** An edge with the YAML nodes of its parts, for precise error locations. */
export interface EdgeNodes {
  edge: Edge;
  key: string;
  from: YNode;
  to: YNode;
  when: YNode;
  verdict: YNode;
}

export interface TenantGraphInput {
  nfs: NfInstance[];
  /** Every NF name declared under `nfs:`, including ones whose config failed to parse. */
  declared: Set<string>;
  edges: Edge[];
  edgeNodes: EdgeNodes[];
  key: string;
  graphNode: YNode;
}

function describeEdge(e: Edge): string {
  const cond = e.verdict !== undefined ? ` on verdict ${e.verdict}` : e.when ? ' when …' : '';
  return `"${e.from} → ${e.to}"${cond}`;
}

export function checkTenantGraph(r: Reader, g: TenantGraphInput): void {
  const nfByName = new Map(g.nfs.map((n) => [n.name, n]));
  const known = [...g.declared];
  const valid: EdgeNodes[] = [];
  for (const en of g.edgeNodes) {
    const { from, to, verdict } = en.edge;
    let ok = true;
    if (from === EXIT || from === DROP) {
      r.error(
        en.from,
        sub(en.key, 'from'),
        `"${from}" is a terminal and has no out-edges; edges start at "entry" or at an NF`,
      );
      ok = false;
    } else if (from !== ENTRY && !g.declared.has(from)) {
      r.error(
        en.from,
        sub(en.key, 'from'),
        `unknown node "${from}" (edges start at "entry" or at an NF listed under nfs)${didYouMean(from, [ENTRY, ...known])}`,
      );
      ok = false;
    }
    if (to === ENTRY) {
      r.error(en.to, sub(en.key, 'to'), 'an edge cannot lead back to "entry"');
      ok = false;
    } else if (to !== EXIT && to !== DROP && !g.declared.has(to)) {
      r.error(
        en.to,
        sub(en.key, 'to'),
        `unknown node "${to}" (edges end at an NF, "exit" or "drop")${didYouMean(to, [EXIT, DROP, ...known])}`,
      );
      ok = false;
    }
    if (verdict !== undefined && ok) {
      const nf = nfByName.get(from);
      if (from === ENTRY) {
        r.error(
          en.verdict,
          sub(en.key, 'verdict'),
          '"entry" returns no verdicts; branch on headers with "when:" instead',
        );
        ok = false;
      } else if (nf) {
        const vs = CATALOGUE[nf.type].verdicts(nf.config);
        if (!vs.includes(verdict)) {
          const what =
            vs.length > 0
              ? `can return the verdict${vs.length > 1 ? 's' : ''} ${vs.map((v) => `"${v}"`).join(', ')}`
              : 'returns no dynamic verdicts';
          const implicit =
            verdict === 'pass' || verdict === 'drop'
              ? '; "pass" follows the default edge and "drop" drops'
              : '';
          r.error(
            en.verdict,
            sub(en.key, 'verdict'),
            `"${from}" (${nf.type}) ${what}, not "${verdict}"${implicit}${didYouMean(verdict, vs)}`,
          );
          ok = false;
        }
      }
    }
    if (ok) valid.push(en);
  }

  const out = new Map<string, EdgeNodes[]>();
  for (const en of valid) {
    const list = out.get(en.edge.from) ?? [];
    list.push(en);
    out.set(en.edge.from, list);
  }
  for (const [node, list] of out) checkNodeEdges(r, node, list);

  if (!out.has(ENTRY)) {
    r.error(
      g.graphNode,
      g.key ? sub(g.key, 'graph') : 'graph',
      'no edge starts at "entry"; add one such as { from: entry, to: <first NF> }',
    );
  }
  const starts = new Set(g.edges.map((e) => e.from));
  for (const nf of g.nfs) {
    if (!starts.has(nf.name)) {
      r.error(
        nf.loc,
        sub(sub(g.key, 'nfs'), nf.name),
        `NF "${nf.name}" has no out-edge; add one such as { from: ${nf.name}, to: exit }`,
      );
    }
  }
  const reached = checkCycles(r, out);
  if (out.has(ENTRY)) {
    for (const nf of g.nfs) {
      if (!reached.has(nf.name)) {
        r.error(
          nf.loc,
          sub(sub(g.key, 'nfs'), nf.name),
          `NF "${nf.name}" is unreachable: no edge path from "entry" leads to it`,
        );
      }
    }
  }
  checkPredicatesAfterVerdicts(r, out);
}

/** Mixed branch kinds and shadowed edges among one node's out-edges (first match wins). */
function checkNodeEdges(r: Reader, node: string, list: EdgeNodes[]): void {
  const firstWhen = list.find((en) => en.edge.when);
  const firstVerdict = list.find((en) => en.edge.verdict !== undefined);
  if (firstWhen && firstVerdict) {
    const later = firstWhen.edge.index > firstVerdict.edge.index ? firstWhen : firstVerdict;
    r.error(
      later.edge.loc,
      later.key,
      `"${node}" mixes header predicates (when) and dynamic verdicts (verdict); a node branches one way only`,
    );
    return;
  }
  for (let j = 1; j < list.length; j++) {
    const ej = list[j].edge;
    for (let i = 0; i < j; i++) {
      const ei = list[i].edge;
      const wins = firstVerdict
        ? ei.verdict === ej.verdict
        : ei.when === undefined || (ej.when !== undefined && matchCovers(ei.when, ej.when));
      if (wins) {
        r.error(
          ej.loc,
          list[j].key,
          `this edge is never taken: ${describeEdge(ei)} at line ${ei.loc.line} matches every packet it would, and the first match wins`,
        );
        break;
      }
    }
  }
}

/** Reports each edge that closes a cycle; returns the nodes reached from entry. */
function checkCycles(r: Reader, out: Map<string, EdgeNodes[]>): Set<string> {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const reached = new Set<string>();
  const visit = (node: string, fromEntry: boolean): void => {
    state.set(node, 'open');
    stack.push(node);
    if (fromEntry) reached.add(node);
    for (const en of out.get(node) ?? []) {
      const to = en.edge.to;
      if (to === EXIT || to === DROP) continue;
      const s = state.get(to);
      if (s === 'open') {
        const cycle = [...stack.slice(stack.indexOf(to)), to].join(' → ');
        r.error(en.edge.loc, en.key, `this edge closes a cycle ${cycle}; a service graph must be acyclic`);
      } else if (s === undefined) visit(to, fromEntry);
      else if (fromEntry && !reached.has(to)) markReached(to);
    }
    stack.pop();
    state.set(node, 'done');
  };
  const markReached = (node: string): void => {
    if (reached.has(node)) return;
    reached.add(node);
    for (const en of out.get(node) ?? []) markReached(en.edge.to);
  };
  if (out.has(ENTRY)) visit(ENTRY, true);
  for (const node of out.keys()) if (!state.has(node)) visit(node, false);
  return reached;
}

function checkPredicatesAfterVerdicts(r: Reader, out: Map<string, EdgeNodes[]>): void {
  const reported = new Set<string>();
  for (const list of out.values()) {
    for (const en of list) {
      if (en.edge.verdict === undefined) continue;
      const seen = new Set<string>();
      const queue = [en.edge.to];
      while (queue.length > 0) {
        const node = queue.shift() as string;
        if (seen.has(node)) continue;
        seen.add(node);
        const edges = out.get(node) ?? [];
        const pred = edges.find((x) => x.edge.when);
        if (pred && !reported.has(node)) {
          reported.add(node);
          r.error(
            pred.edge.loc,
            pred.key,
            `header predicate after the dynamic verdict "${en.edge.verdict}" of "${en.edge.from}" (line ${en.edge.loc.line}): ` +
              `the NIC picks a packet's path at ingress, so format v1 cannot branch on headers after a host verdict; move this branch before "${en.edge.from}"`,
          );
        }
        for (const x of edges) queue.push(x.edge.to);
      }
    }
  }
}

function sliceOverlap(a: TrafficSlice, b: TrafficSlice): boolean {
  if (a.ingressPort !== undefined && b.ingressPort !== undefined && a.ingressPort !== b.ingressPort)
    return false;
  if (a.vlan !== undefined && b.vlan !== undefined && a.vlan !== b.vlan) return false;
  if (a.dstPrefix && b.dstPrefix && !prefixIntersect(a.dstPrefix, b.dstPrefix)) return false;
  if (a.srcPrefix && b.srcPrefix && !prefixIntersect(a.srcPrefix, b.srcPrefix)) return false;
  return true;
}

function describeSlice(s: TrafficSlice): string {
  const parts: string[] = [];
  if (s.ingressPort !== undefined) parts.push(`ingressPort ${s.ingressPort}`);
  if (s.vlan !== undefined) parts.push(`vlan ${s.vlan}`);
  if (s.dstPrefix) parts.push(`dstPrefix ${formatPrefix(s.dstPrefix)}`);
  if (s.srcPrefix) parts.push(`srcPrefix ${formatPrefix(s.srcPrefix)}`);
  return parts.length > 0 ? parts.join(', ') : 'all traffic';
}

/** A parsed tenant with the YAML node and key path of its slice. */
export interface SliceSite {
  tenant: Tenant;
  node: YNode;
  key: string;
}

export function checkSlices(r: Reader, sites: SliceSite[]): void {
  for (let j = 1; j < sites.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = sites[i].tenant;
      const b = sites[j].tenant;
      if (!sliceOverlap(a.slice, b.slice)) continue;
      r.error(
        sites[j].node,
        sites[j].key,
        `the slice of tenant "${b.name}" (${describeSlice(b.slice)}) overlaps the slice of tenant "${a.name}" ` +
          `(${describeSlice(a.slice)}, line ${a.loc.line}); make them differ in ingressPort, vlan or a disjoint prefix`,
      );
      break;
    }
  }
}
