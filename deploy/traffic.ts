/**
 * The embedded traffic generator: flows per tenant with a mix of paths and sizes, built from the
 * plan's own classification so that every tenant and every root path gets packets. The packets
 * of a pass are split over tenants by their `trafficShare` and over each tenant's root paths by
 * the shares its graph's edges give them, and interleaved; a root path with dynamic branches gets
 * suspicious payloads in the share its branches have. Each packet carries what the plan expects
 * of it (tenant, path), which the report and the differential tests compare against what
 * actually happened.
 */
import type { Prefix } from '../partitioner/nf-config';
import type { IdsConfig } from '../partitioner/nf-config';
import type { PathRule, Plan, PlanPath, TenantRule } from '../partitioner/plan';
import { NfpError } from '../partitioner/errors';
import { parseIp } from '../partitioner/ip';
import { readFrame } from '../partitioner/frame';
import { matchesPacket, type PacketFields } from '../partitioner/match';
import { rng } from '../partitioner/synthetic';
import type { TrafficPacket } from '../targets';
import { buildPacket, PROTO_ICMP, PROTO_TCP, PROTO_UDP } from './packet';

export interface GeneratedPacket extends TrafficPacket {
  /** True when the payload carries an IDS pattern of the tenant, to exercise dynamic branches. */
  suspicious: boolean;
}

export interface GeneratorSpec {
  /**
   * Packets per pass, split by the shares (tenants' trafficShare, then their root paths'); every
   * reachable root path gets at least one. Default: 64 per root path.
   */
  packets?: number;
  /** Instead of shares: this many packets on every root path (tests that want even coverage). */
  packetsPerPath?: number;
  /** Distinct flows (5-tuples) per root path. */
  flowsPerPath: number;
  /** Frame sizes to cycle through, in bytes. */
  sizes: number[];
  /**
   * Fraction of packets on paths through an IDS that carry a pattern; default: the share the
   * graph gives the path's dynamic branches (its alert edges), or 0.25 where it has none.
   */
  suspiciousShare?: number;
  seed: number;
}

export const DEFAULT_GENERATOR: GeneratorSpec = {
  flowsPerPath: 8,
  sizes: [64, 128, 512],
  seed: 1,
};

/** Packets per root path for one pass: by shares (largest remainder), at least one each. */
function packetsPerRoot(plan: Plan, roots: PlanPath[], spec: GeneratorSpec): Map<number, number> {
  const out = new Map<number, number>();
  if (spec.packetsPerPath !== undefined) {
    for (const p of roots) out.set(p.id, spec.packetsPerPath);
    return out;
  }
  const total = spec.packets ?? 64 * roots.length;
  const tenantShare = new Map(plan.tenants.map((t) => [t.id, t.trafficShare] as const));
  const tenantSum = [...new Set(roots.map((p) => p.tenant))].reduce(
    (a, t) => a + (tenantShare.get(t) ?? 0),
    0,
  );
  // A root path's traffic includes what its branches take from it on the host.
  const entering = (p: PlanPath): number =>
    p.share + plan.paths.filter((b) => b.branchOf?.path === p.id).reduce((a, b) => a + b.share, 0);
  const pathSum = new Map<number, number>();
  for (const p of roots) pathSum.set(p.tenant, (pathSum.get(p.tenant) ?? 0) + entering(p));
  const weight = (p: PlanPath): number => {
    const ts = tenantSum > 0 ? (tenantShare.get(p.tenant) ?? 0) / tenantSum : 1 / roots.length;
    const ps = pathSum.get(p.tenant) ? entering(p) / pathSum.get(p.tenant)! : 0;
    return ts * ps;
  };
  const exact = roots.map((p) => ({ p, x: Math.max(0, total - roots.length) * weight(p) }));
  let left = Math.max(0, total - roots.length) - exact.reduce((a, e) => a + Math.floor(e.x), 0);
  for (const e of [...exact].sort((a, b) => b.x - Math.floor(b.x) - (a.x - Math.floor(a.x)))) {
    out.set(e.p.id, 1 + Math.floor(e.x) + (left-- > 0 ? 1 : 0));
  }
  return out;
}

/** The share of a root path's packets its dynamic branches take (the graph's alert edges). */
function branchShare(plan: Plan, root: PlanPath): number | undefined {
  const branches = plan.paths.filter((b) => b.branchOf?.path === root.id);
  if (!branches.length) return undefined;
  const b = branches.reduce((a, x) => a + x.share, 0);
  return b + root.share > 0 ? b / (b + root.share) : undefined;
}

function randomInPrefix(p: Prefix | undefined, rnd: () => number): string {
  if (p && p.family !== 4)
    throw new Error(`IPv6 prefixes are not supported by the generator (${p.addr}/${p.len})`);
  const base = p ? p.addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) : 0x0a000000;
  const len = p ? p.len : 8;
  const hostBits = 32 - len;
  const host = hostBits === 0 ? 0 : Math.floor(rnd() * 2 ** hostBits);
  const v = (base + host) >>> 0;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

function inRange(
  r: { lo: number; hi: number } | undefined,
  rnd: () => number,
  lo = 1024,
  hi = 65535,
): number {
  const a = r ? r.lo : lo;
  const b = r ? r.hi : hi;
  return a + Math.floor(rnd() * (b - a + 1));
}

interface Fields {
  port: number;
  /** False for a frame that is not IP (its addresses match no prefix). */
  ip?: boolean;
  vlan?: number;
  srcIp: string;
  dstIp: string;
  proto: number;
  srcPort: number;
  dstPort: number;
  dscp: number;
}

/** The fields as the NIC parses the frame: no VLAN reads as 0, ports only for TCP and UDP. */
function packetFields(f: Fields): PacketFields | undefined {
  const srcIp = f.ip === false ? undefined : parseIp(f.srcIp);
  const dstIp = f.ip === false ? undefined : parseIp(f.dstIp);
  if (f.ip !== false && (!srcIp || !dstIp)) return undefined;
  const ports = f.proto === PROTO_TCP || f.proto === PROTO_UDP;
  return {
    ingressPort: f.port,
    vlan: f.vlan ?? 0,
    proto: f.proto,
    srcIp,
    dstIp,
    srcPort: ports ? f.srcPort : 0,
    dstPort: ports ? f.dstPort : 0,
    dscp: f.dscp,
  };
}

function matchesTenant(r: TenantRule, p: PacketFields): boolean {
  if (r.ingressPort !== undefined && r.ingressPort !== p.ingressPort) return false;
  return matchesPacket({ vlan: r.vlan, srcPrefix: r.srcPrefix, dstPrefix: r.dstPrefix }, p);
}

/** Classifies by the plan's priority tables: the NIC's view of a wire packet. */
export function classifyByPlan(plan: Plan, f: Fields): { tenant: number; path: number } | undefined {
  const byPriority = <T extends { priority: number }>(rules: T[]): T[] =>
    [...rules].sort((a, b) => b.priority - a.priority);
  const p = packetFields(f);
  if (!p) return undefined;
  const tenantRule = byPriority(plan.tenantRules).find((r) => matchesTenant(r, p));
  if (!tenantRule) return undefined;
  const pathRule = byPriority(plan.pathRules.filter((r) => r.tenant === tenantRule.tenant)).find((r) =>
    matchesPacket(r.match, p),
  );
  return pathRule ? { tenant: tenantRule.tenant, path: pathRule.path } : undefined;
}

/**
 * A classifier of wire frames by the plan (live traffic, replayed captures): each frame read as
 * the NIC reads it (partitioner/frame.ts), the rules sorted once. A frame the NIC drops before
 * classifying it (malformed, oversize, ...) or that matches no tenant gets none.
 */
export function frameClassifier(
  plan: Plan,
): (port: number, frame: Buffer) => { tenant: number; path: number } | undefined {
  const byPriority = <T extends { priority: number }>(rules: T[]): T[] =>
    [...rules].sort((a, b) => b.priority - a.priority);
  const tenantRules = byPriority(plan.tenantRules);
  const pathRules = new Map(
    plan.tenants.map((t) => [t.id, byPriority(plan.pathRules.filter((r) => r.tenant === t.id))]),
  );
  return (port, frame) => {
    const r = readFrame(port, frame);
    if (r.kind !== 'packet') return undefined;
    const h = r.headers;
    const p = packetFields({
      port,
      ip: h.l3 !== 'none',
      vlan: h.vlan,
      srcIp: h.srcIp,
      dstIp: h.dstIp,
      proto: h.proto,
      srcPort: h.srcPort ?? 0,
      dstPort: h.dstPort ?? 0,
      dscp: h.dscp,
    });
    if (!p) return undefined;
    const tr = tenantRules.find((x) => matchesTenant(x, p));
    const pr = tr && pathRules.get(tr.tenant)?.find((x) => matchesPacket(x.match, p));
    return tr && pr ? { tenant: tr.tenant, path: pr.path } : undefined;
  };
}

function candidate(plan: Plan, tr: TenantRule, pr: PathRule, rnd: () => number): Fields {
  const m = pr.match;
  const proto = m.proto ?? [PROTO_TCP, PROTO_UDP, PROTO_ICMP][Math.floor(rnd() * 3)];
  const vlan = tr.vlan ?? m.vlan;
  return {
    port: tr.ingressPort ?? plan.profile.wirePorts[0],
    vlan,
    srcIp: randomInPrefix(m.srcPrefix ?? tr.srcPrefix, rnd),
    dstIp: randomInPrefix(m.dstPrefix ?? tr.dstPrefix, rnd),
    proto,
    srcPort: inRange(m.srcPort, rnd),
    dstPort: inRange(m.dstPort, rnd, 1, 65535),
    dscp: m.dscp ?? 0,
  };
}

/**
 * Replayed frames (a capture) with what the plan expects of each: the tenant and root path its
 * NIC classification gives, read as the NIC reads the frame (partitioner/frame.ts). A frame the
 * NIC drops before classifying it (malformed, oversize, ...) or that no tenant takes expects
 * tenant 0 and path 0, which no plan uses.
 */
export function trafficFromFrames(
  plan: Plan,
  frames: Array<{ port: number; data: Buffer }>,
): GeneratedPacket[] {
  const classify = frameClassifier(plan);
  return frames.map(({ port, data }) => {
    const c = classify(port, data);
    return { port, data, tenant: c?.tenant ?? 0, path: c?.path ?? 0, suspicious: false };
  });
}

export interface GeneratedTraffic {
  packets: GeneratedPacket[];
  /** Root paths for which no packet could be built (for example fully shadowed by others). */
  unreachablePaths: number[];
}

/** Builds traffic covering every tenant and root path of the plan. */
export function generateTraffic(plan: Plan, spec: GeneratorSpec = DEFAULT_GENERATOR): GeneratedTraffic {
  const rnd = rng(spec.seed);
  const unreachablePaths: number[] = [];
  const patterns = new Map<number, string[]>();
  for (const nf of plan.nfs) {
    if (nf.type === 'ids') {
      const list = patterns.get(nf.tenant) ?? [];
      list.push(...(nf.config as IdsConfig).patterns);
      patterns.set(nf.tenant, list);
    }
  }
  const roots = plan.paths.filter((p) => !p.branchOf);
  const counts = packetsPerRoot(plan, roots, spec);
  const perPath: GeneratedPacket[][] = [];
  for (const path of roots) {
    const rules = plan.pathRules.filter((r) => r.path === path.id);
    const tenantRules = plan.tenantRules.filter((r) => r.tenant === path.tenant);
    const flows: Fields[] = [];
    for (let attempt = 0; attempt < 400 && flows.length < spec.flowsPerPath; attempt++) {
      const pr = rules[attempt % Math.max(rules.length, 1)];
      const tr = tenantRules[attempt % Math.max(tenantRules.length, 1)];
      if (!pr || !tr) break;
      const f = candidate(plan, tr, pr, rnd);
      const c = classifyByPlan(plan, f);
      if (c && c.tenant === path.tenant && c.path === path.id) flows.push(f);
    }
    if (flows.length === 0) {
      unreachablePaths.push(path.id);
      continue;
    }
    const pats = patterns.get(path.tenant) ?? [];
    const suspiciousShare = spec.suspiciousShare ?? branchShare(plan, path) ?? 0.25;
    const list: GeneratedPacket[] = [];
    for (let i = 0; i < (counts.get(path.id) ?? 0); i++) {
      const f = flows[i % flows.length];
      const size = spec.sizes[i % spec.sizes.length];
      const suspicious = pats.length > 0 && rnd() < suspiciousShare;
      const text = suspicious ? `GET /${pats[i % pats.length]} HTTP/1.1` : `GET /index-${i} HTTP/1.1`;
      const data = buildPacket({ ...f, payload: Buffer.from(text), minLength: size });
      list.push({ port: f.port, data, tenant: path.tenant, path: path.id, suspicious });
    }
    perPath.push(list);
  }
  // Interleaved, each path's packets spread evenly over the pass (stable by path order).
  const placed = perPath.flatMap((list, k) => list.map((p, i) => ({ p, at: (i + 0.5) / list.length, k })));
  placed.sort((a, b) => a.at - b.at || a.k - b.k);
  return { packets: placed.map((x) => x.p), unreachablePaths };
}

/** Parses `--generate` specs such as `packets=200,flows=16,sizes=64/512,suspicious=0.1,seed=7`. */
export function parseGeneratorSpec(text: string): GeneratorSpec {
  const spec: GeneratorSpec = { ...DEFAULT_GENERATOR };
  for (const part of text.split(',').filter(Boolean)) {
    const [key, value] = part.split('=');
    const num = Number(value);
    switch (key) {
      case 'packets':
        spec.packets = positiveInt(key, num);
        break;
      case 'flows':
        spec.flowsPerPath = positiveInt(key, num);
        break;
      case 'sizes':
        spec.sizes = (value ?? '').split('/').map((s) => {
          const n = Number(s);
          if (!Number.isInteger(n) || n < 60 || n > 9000)
            throw new GeneratorSpecError(`sizes: "${s}" is not a frame size in 60..9000`);
          return n;
        });
        break;
      case 'suspicious':
        if (!(num >= 0 && num <= 1))
          throw new GeneratorSpecError(`suspicious: "${value}" is not a fraction in 0..1`);
        spec.suspiciousShare = num;
        break;
      case 'seed':
        spec.seed = positiveInt(key, num);
        break;
      default:
        throw new GeneratorSpecError(
          `unknown generator key "${key}" (known: packets, flows, sizes, suspicious, seed)`,
        );
    }
  }
  return spec;
}

export class GeneratorSpecError extends NfpError {}

function positiveInt(key: string, n: number): number {
  if (!Number.isInteger(n) || n <= 0) throw new GeneratorSpecError(`${key}: expected a positive integer`);
  return n;
}
