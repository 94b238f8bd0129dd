/**
 * Path enumeration: every full route through a tenant's first-match tree becomes a service path.
 * Root routes (default verdicts) are classified on the NIC by the conjunction of the header
 * predicates along them, in DFS order; routes through a non-default verdict become branch paths,
 * entered only on the host.
 */
import type { Edge, Tenant } from './graph';
import { DROP, ENTRY, EXIT } from './graph';
import type { HeaderMatch } from './nf-config';
import { InternalError } from './errors';
import { intersectMatch } from './match';

export type RouteTerminal = { kind: 'exit' } | { kind: 'drop'; reason: string };

export interface Route {
  /** NF names in traversal order. */
  nodes: string[];
  terminal: RouteTerminal;
  /** Conjunction of the positive header predicates along the route (root routes). */
  match: HeaderMatch;
  /** Fraction of the tenant's traffic that follows this route to its end. */
  share: number;
  /** Fraction of the tenant's traffic arriving at each hop (before renormalisation). */
  hopShares: number[];
  /** For branch routes: the route and hop where the verdict was taken. */
  branchOf?: { route: Route; hop: number; verdict: string };
  /** Verdict branches taken off this route's hops. */
  branches: Array<{ hop: number; verdict: string; route: Route }>;
}

interface WalkState {
  nodes: string[];
  hopShares: number[];
  match: HeaderMatch;
  share: number;
}

function outEdges(t: Tenant): Map<string, Edge[]> {
  const out = new Map<string, Edge[]>();
  for (const e of t.edges) {
    const list = out.get(e.from) ?? [];
    list.push(e);
    out.set(e.from, list);
  }
  return out;
}

function sliceMatchOf(t: Tenant): HeaderMatch {
  const m: HeaderMatch = {};
  if (t.slice.vlan !== undefined) m.vlan = t.slice.vlan;
  if (t.slice.dstPrefix) m.dstPrefix = t.slice.dstPrefix;
  if (t.slice.srcPrefix) m.srcPrefix = t.slice.srcPrefix;
  return m;
}

function totalShare(edges: Edge[]): number {
  return edges.reduce((sum, e) => sum + e.share, 0) || 1;
}

/**
 * Enumerates a tenant's routes: root routes in DFS order, each followed by its branch routes.
 * Routes that no packet of the slice can take (empty conjunction) are left out.
 */
export function enumerateRoutes(t: Tenant): Route[] {
  const out = outEdges(t);
  const sliceMatch = sliceMatchOf(t);
  const done = (s: WalkState, share: number, match: HeaderMatch, terminal: RouteTerminal): Route => ({
    nodes: s.nodes,
    terminal,
    match,
    share,
    hopShares: s.hopShares,
    branches: [],
  });

  // Follows one edge: to a terminal, or on into the next node.
  const follow = (e: Edge, s: WalkState, share: number, match: HeaderMatch, inBranch: boolean): Route[] => {
    if (e.to === EXIT) return [done(s, share, match, { kind: 'exit' })];
    if (e.to === DROP) return [done(s, share, match, { kind: 'drop', reason: `graph-drop:${e.from}` })];
    const next: WalkState = { nodes: [...s.nodes, e.to], hopShares: [...s.hopShares, share], match, share };
    return walk(e.to, next, inBranch);
  };

  // First-match over the node's out-edges; verdict edges are left to expandBranches.
  const walk = (node: string, s: WalkState, inBranch: boolean): Route[] => {
    const edges = out.get(node) ?? [];
    const total = totalShare(edges);
    const routes: Route[] = [];
    for (const e of edges) {
      if (e.verdict !== undefined) continue;
      const share = (s.share * e.share) / total;
      if (!e.when) {
        routes.push(...follow(e, s, share, s.match, inBranch));
        return routes;
      }
      if (inBranch) throw new InternalError('paths.walk', `header predicate on "${node}" after a verdict`);
      const m = intersectMatch(s.match, e.when);
      if (!m || !intersectMatch(m, sliceMatch)) continue;
      routes.push(...follow(e, s, share, m, inBranch));
    }
    // No edge matched (or the NF passed and has no default edge): dropped, and that is a path too.
    // Implicit fall-through carries no expected traffic share.
    routes.push(done(s, 0, s.match, { kind: 'drop', reason: `no-edge:${node}` }));
    return routes;
  };

  const expandBranches = (route: Route, fromHop: number): Route[] => {
    const result: Route[] = [route];
    for (let h = fromHop; h < route.nodes.length; h++) {
      const edges = out.get(route.nodes[h]) ?? [];
      const total = totalShare(edges);
      for (const e of edges) {
        if (e.verdict === undefined) continue;
        const share = (route.hopShares[h] * e.share) / total;
        const prefix: WalkState = {
          nodes: route.nodes.slice(0, h + 1),
          hopShares: route.hopShares.slice(0, h + 1),
          match: route.match,
          share,
        };
        const cont = follow(e, prefix, share, route.match, true);
        if (cont.length !== 1)
          throw new InternalError('paths.expandBranches', 'a branch continuation forked');
        const branch = cont[0];
        branch.branchOf = { route, hop: h, verdict: e.verdict };
        route.branches.push({ hop: h, verdict: e.verdict, route: branch });
        result.push(...expandBranches(branch, h + 1));
      }
    }
    return result;
  };

  const roots = walk(ENTRY, { nodes: [], hopShares: [], match: {}, share: 1 }, false);
  const all: Route[] = [];
  for (const r of roots) all.push(...expandBranches(r, 0));
  // Shares lost to pruned routes are renormalised over what remains.
  const sum = all.reduce((s, r) => s + r.share, 0);
  for (const r of all) r.share = sum > 0 ? r.share / sum : 1 / all.length;
  return all;
}
