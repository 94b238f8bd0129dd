/**
 * The reference semantics of a service graph: what happens to one wire packet, computed by
 * evaluating the graph directly. It is deliberately independent of the plan code (it never uses
 * the path enumerator or the classification-rule generator), so that differential tests against
 * the plan, the NIC pipeline and the host runtime are real checks.
 *
 * - Tenant: the tenant whose slice contains the packet, else drop `no-tenant`.
 * - Root path: from `entry`, each node's out-edges are tried in file order; header predicates
 *   are evaluated on the packet as received from the wire; verdict nodes follow their default
 *   edge; no matching edge drops with `no-edge:<node>`; `to: drop` drops with `graph-drop:<from>`.
 * - Fate: the NFs run in order on the current headers, applying deterministic rewrites (vlan
 *   push/pop, marker DSCP, router port) and drops (`acl-deny:<nf>`, `no-route:<nf>`,
 *   `verdict-drop:<nf>`, and `unsupported:<nf>` for a NAT given neither TCP nor UDP: it
 *   translates ports, so it has nothing to map other protocols by); dynamic verdicts come from an oracle (by default, an IDS alerts when a
 *   pattern occurs in its inspected payload bytes).
 * - IP-aware NFs (firewall, ids, loadbalancer, monitor, nat, ratelimiter), wherever they run, take
 *   only unfragmented IPv4 without options: anything else is dropped `<fault>:<nf>` with the fault
 *   `not-ipv4`, `fragment` or `ip-options`. A prefix predicate never holds for a packet of another
 *   IP family or none; a marker leaves a non-IP frame alone; a router drops it (`no-route`).
 * - A wire frame is read by `readFrame` (frame.ts): it may be dropped before any tenant sees it
 *   (`oversize`, `qinq`, `malformed`, `nsh-on-wire`); `frameFate` is the fate of such a frame.
 */
import type { Edge, NfInstance, ServiceGraph, Tenant } from './graph';
import { DROP, ENTRY, EXIT } from './graph';
import type {
  FirewallConfig,
  HeaderMatch,
  IdsConfig,
  MarkerConfig,
  RouterConfig,
  VlanConfig,
} from './nf-config';
import { readFrame } from './frame';
import { parseIp, prefixContains, type IpAddr } from './ip';

/** Why an IP-aware NF refuses a packet: it is not IPv4, a fragment, or has IPv4 options. */
export type IpFault = 'not-ipv4' | 'fragment' | 'ip-options';

/** A wire packet's headers, as the reference (and the differential tests) see it. */
export interface PacketHeaders {
  ingressPort: number;
  /** Outer 802.1Q VLAN id; absent when untagged. */
  vlan?: number;
  proto: number;
  srcIp: string;
  dstIp: string;
  /** TCP/UDP ports; absent (read as 0) for other protocols. */
  srcPort?: number;
  dstPort?: number;
  dscp: number;
  payload?: Uint8Array;
  /** The network layer; absent means IPv4 (addresses are then IPv4 text). */
  l3?: 'ipv4' | 'ipv6' | 'none';
  /** Why IP-aware NFs refuse the packet; absent for IPv4 they take (see `ipFaultOf`). */
  ipFault?: IpFault;
}

/** The packet's IP family, or undefined when it is not IP. */
function familyOf(h: PacketHeaders): 4 | 6 | undefined {
  if (h.l3 === 'none') return undefined;
  return parseIp(h.srcIp)?.family;
}

/** Why IP-aware NFs refuse these headers, or undefined when they take them. */
export function ipFaultOf(h: PacketHeaders): IpFault | undefined {
  if (h.ipFault) return h.ipFault;
  return h.l3 === 'none' || h.l3 === 'ipv6' ? 'not-ipv4' : undefined;
}

/** NF types that read L3/L4 headers and so take only unfragmented IPv4 without options. */
export const IP_AWARE_NFS: ReadonlySet<string> = new Set([
  'firewall',
  'ids',
  'loadbalancer',
  'monitor',
  'nat',
  'ratelimiter',
]);

/** Does the prefix hold for this address of the packet (never for another family, or no IP)? */
function prefixHolds(p: HeaderMatch['srcPrefix'], h: PacketHeaders, ip: string): boolean {
  if (!p) return true;
  if (familyOf(h) === undefined) return false;
  return prefixContains(p, addr(ip));
}

/** Decides a dynamic NF's verdict: 'pass', 'drop', or one of the NF's extra verdicts. */
export type VerdictOracle = (nf: NfInstance, tenant: Tenant, pkt: PacketHeaders) => string;

export type Outcome = { kind: 'exit'; port: number } | { kind: 'drop'; reason: string };

export interface RootPath {
  tenant: Tenant;
  /** NF names of the root route the graph selects (default verdicts). */
  nodes: string[];
  terminal: { kind: 'exit' } | { kind: 'drop'; reason: string };
}

export interface Fate {
  /** Tenant name, absent for `no-tenant`. */
  tenant?: string;
  /** The NFs the packet went through, in order (an NF that dropped it included). */
  traversed: string[];
  /** The graph route taken, with the oracle's verdicts. */
  route: string[];
  /** The verdict each NF of `route` gave (`pass`, `drop`, or a dynamic one such as `alert`). */
  verdicts: string[];
  outcome: Outcome;
  /** The headers after the deterministic rewrites. */
  headers: PacketHeaders;
}

function addr(text: string): IpAddr {
  const a = parseIp(text);
  if (!a) throw new Error(`reference: bad address ${text}`);
  return a;
}

/** Does a header predicate hold for these headers? Ports read as 0 when absent, vlan as 0. */
export function predicateHolds(m: HeaderMatch, h: PacketHeaders): boolean {
  if (m.proto !== undefined && h.proto !== m.proto) return false;
  if (m.dscp !== undefined && h.dscp !== m.dscp) return false;
  if (m.vlan !== undefined && (h.vlan ?? 0) !== m.vlan) return false;
  if (!prefixHolds(m.srcPrefix, h, h.srcIp)) return false;
  if (!prefixHolds(m.dstPrefix, h, h.dstIp)) return false;
  const sport = h.srcPort ?? 0;
  const dport = h.dstPort ?? 0;
  if (m.srcPort && (sport < m.srcPort.lo || sport > m.srcPort.hi)) return false;
  if (m.dstPort && (dport < m.dstPort.lo || dport > m.dstPort.hi)) return false;
  return true;
}

export function classifyTenant(g: ServiceGraph, h: PacketHeaders): Tenant | undefined {
  return g.tenants.find((t) => {
    const s = t.slice;
    if (s.ingressPort !== undefined && s.ingressPort !== h.ingressPort) return false;
    if (s.vlan !== undefined && (h.vlan ?? 0) !== s.vlan) return false;
    if (!prefixHolds(s.dstPrefix, h, h.dstIp)) return false;
    if (!prefixHolds(s.srcPrefix, h, h.srcIp)) return false;
    return true;
  });
}

function edgesFrom(t: Tenant, node: string): Edge[] {
  return t.edges.filter((e) => e.from === node);
}

/** The next edge at a node: a verdict's edge if there is one, else first-match on the wire headers. */
function nextEdge(t: Tenant, node: string, wire: PacketHeaders, verdict: string): Edge | undefined {
  const edges = edgesFrom(t, node);
  if (verdict !== 'pass') {
    const e = edges.find((x) => x.verdict === verdict);
    if (e) return e;
  }
  return edges.find((x) => x.verdict === undefined && (!x.when || predicateHolds(x.when, wire)));
}

/** The root path the graph selects for a wire packet (undefined tenant: `no-tenant`). */
export function selectRootPath(g: ServiceGraph, wire: PacketHeaders): RootPath | undefined {
  const t = classifyTenant(g, wire);
  if (!t) return undefined;
  const nodes: string[] = [];
  let node = ENTRY;
  for (;;) {
    const e = nextEdge(t, node, wire, 'pass');
    if (!e) return { tenant: t, nodes, terminal: { kind: 'drop', reason: `no-edge:${node}` } };
    if (e.to === EXIT) return { tenant: t, nodes, terminal: { kind: 'exit' } };
    if (e.to === DROP)
      return { tenant: t, nodes, terminal: { kind: 'drop', reason: `graph-drop:${e.from}` } };
    nodes.push(e.to);
    node = e.to;
  }
}

function payloadHas(payload: Uint8Array | undefined, pattern: string, limit: number): boolean {
  if (!payload || pattern.length === 0) return false;
  const p = Buffer.from(pattern, 'utf8');
  return Buffer.from(payload.subarray(0, limit)).includes(p);
}

/** The default oracle: an IDS alerts when one of its patterns occurs in its inspected bytes. */
export const defaultOracle: VerdictOracle = (nf, _t, pkt) => {
  if (nf.type === 'ids') {
    const c = nf.config as IdsConfig;
    return c.patterns.some((p) => payloadHas(pkt.payload, p, c.inspectBytes)) ? 'alert' : 'pass';
  }
  return 'pass';
};

function firewallAllows(c: FirewallConfig, h: PacketHeaders): boolean {
  const rule = c.rules.find((r) => predicateHolds(r.match, h));
  return (rule ? rule.action : c.default) === 'allow';
}

function route(c: RouterConfig, h: PacketHeaders): number | undefined {
  const dst = addr(h.dstIp);
  let best: { len: number; port: number } | undefined;
  for (const r of c.routes) {
    if (prefixContains(r.prefix, dst) && (!best || r.prefix.len > best.len))
      best = { len: r.prefix.len, port: r.port };
  }
  return best?.port ?? c.defaultPort;
}

/** Runs one NF on the headers: a rewrite, a drop reason, a verdict, or a port choice. */
function runNf(
  nf: NfInstance,
  t: Tenant,
  h: PacketHeaders,
  oracle: VerdictOracle,
): { headers: PacketHeaders; drop?: string; verdict: string; port?: number } {
  const fault = IP_AWARE_NFS.has(nf.type) ? ipFaultOf(h) : undefined;
  if (fault) return { headers: h, verdict: 'drop', drop: `${fault}:${nf.name}` };
  switch (nf.type) {
    case 'firewall':
      return firewallAllows(nf.config as FirewallConfig, h)
        ? { headers: h, verdict: 'pass' }
        : { headers: h, verdict: 'drop', drop: `acl-deny:${nf.name}` };
    case 'vlan': {
      const c = nf.config as VlanConfig;
      const next = { ...h };
      if (c.op === 'push') next.vlan = c.vid;
      else delete next.vlan;
      return { headers: next, verdict: 'pass' };
    }
    case 'marker':
      if (familyOf(h) === undefined) return { headers: h, verdict: 'pass' };
      return { headers: { ...h, dscp: (nf.config as MarkerConfig).dscp }, verdict: 'pass' };
    case 'router': {
      if (familyOf(h) === undefined) return { headers: h, verdict: 'drop', drop: `no-route:${nf.name}` };
      const port = route(nf.config as RouterConfig, h);
      return port === undefined
        ? { headers: h, verdict: 'drop', drop: `no-route:${nf.name}` }
        : { headers: h, verdict: 'pass', port };
    }
    case 'ids':
    case 'custom': {
      const v = oracle(nf, t, h);
      return v === 'drop'
        ? { headers: h, verdict: v, drop: `verdict-drop:${nf.name}` }
        : { headers: h, verdict: v };
    }
    case 'nat':
      return h.proto === 6 || h.proto === 17
        ? { headers: h, verdict: 'pass' }
        : { headers: h, verdict: 'drop', drop: `unsupported:${nf.name}` };
    default:
      // nat (its mapping), loadbalancer, ratelimiter, monitor, encap, macswap: no deterministic effect modelled.
      return { headers: h, verdict: 'pass' };
  }
}

/** The full fate of one wire packet. */
export function packetFate(
  g: ServiceGraph,
  wire: PacketHeaders,
  oracle: VerdictOracle = defaultOracle,
): Fate {
  const t = classifyTenant(g, wire);
  if (!t)
    return {
      traversed: [],
      route: [],
      verdicts: [],
      outcome: { kind: 'drop', reason: 'no-tenant' },
      headers: wire,
    };
  const traversed: string[] = [];
  const routeNodes: string[] = [];
  const verdicts: string[] = [];
  let headers = wire;
  let port = t.egressPort;
  let node = ENTRY;
  let verdict = 'pass';
  for (;;) {
    const e = nextEdge(t, node, wire, verdict);
    const done = (outcome: Outcome): Fate => ({
      tenant: t.name,
      traversed,
      route: routeNodes,
      verdicts,
      outcome,
      headers,
    });
    if (!e) return done({ kind: 'drop', reason: `no-edge:${node}` });
    if (e.to === EXIT) return done({ kind: 'exit', port });
    if (e.to === DROP) return done({ kind: 'drop', reason: `graph-drop:${e.from}` });
    const nf = t.nfs.find((n) => n.name === e.to);
    if (!nf) throw new Error(`reference: edge to unknown NF ${e.to}`);
    routeNodes.push(nf.name);
    traversed.push(nf.name);
    const r = runNf(nf, t, headers, oracle);
    verdicts.push(r.verdict);
    headers = r.headers;
    if (r.port !== undefined) port = r.port;
    if (r.drop) return done({ kind: 'drop', reason: r.drop });
    verdict = r.verdict;
    node = nf.name;
  }
}

/** The fate of one wire frame, as bytes: read as the NIC reads it (frame.ts), then `packetFate`. */
export function frameFate(
  g: ServiceGraph,
  ingressPort: number,
  frame: Uint8Array,
  oracle: VerdictOracle = defaultOracle,
): Fate {
  const r = readFrame(ingressPort, frame);
  if (r.kind === 'drop') {
    const headers: PacketHeaders = {
      ingressPort,
      proto: 0,
      srcIp: '0.0.0.0',
      dstIp: '0.0.0.0',
      dscp: 0,
      l3: 'none',
    };
    return { traversed: [], route: [], verdicts: [], outcome: { kind: 'drop', reason: r.reason }, headers };
  }
  return packetFate(g, r.headers, oracle);
}
