/**
 * The differential check shared by the end-to-end tests: each packet's fate from a deployment
 * against the service graph's reference semantics (partitioner/reference.ts): output port or
 * drop and its reason, and the deterministic rewrites. Stateful NFs are checked by their
 * invariants instead: one consistent NAT/LB mapping per flow, valid checksums. Rate limiters
 * depend on time, which the reference does not model: a meter drop is right exactly when the
 * packet's route has a rate limiter.
 */
import type { IsolationBackend } from '../../host-runtime/lib';
import { loadGraph } from '../../partitioner';
import type { ServiceGraph } from '../../partitioner/graph';
import type { Plan, PlanPath } from '../../partitioner/plan';
import { readFrame } from '../../partitioner/frame';
import { frameFate, type PacketHeaders } from '../../partitioner/reference';
import type { PacketFate, TargetSpec, TrafficPacket } from '../../targets';
import { parsePacket } from '../../deploy/packet';
import { linkCarries } from '../../targets/wire-datapath';
import {
  deploy,
  generateTraffic,
  prepareDeploy,
  type DeployReport,
  type GeneratedPacket,
} from '../../deploy';

export interface DifferentialResult {
  failures: string[];
  seen: { forwarded: number; dropped: number; meterRed: number; natOrLb: number };
}

/**
 * The reference's view of a wire frame entering on `port`, read as the NIC reads it (for frames
 * the NIC can read: generated traffic; a hostile frame goes through `frameFate` instead).
 */
export function headersOf(port: number, data: Buffer): PacketHeaders {
  const r = readFrame(port, data);
  if (r.kind === 'drop') throw new Error(`headersOf: the NIC drops this frame (${r.reason}: ${r.why})`);
  return r.headers;
}

/** Reference drop reasons are `kind:nf`; the NIC counts `kind`, the host `tenant.nf:kind`. */
function reasonKind(reason: string): string {
  const [kind] = reason.split(':');
  return kind;
}

/**
 * Compares every packet's fate with the reference's for its frame (partitioner/reference.ts
 * `frameFate`, which reads the bytes as the NIC does: malformed and other hostile frames
 * included). Checksums are checked where the input's were right: the NIC recomputes the IPv4
 * header sum of option-less headers, NAT and LB update sums incrementally, nothing repairs one.
 */
export function compareWithReference(
  label: string,
  graph: ServiceGraph,
  traffic: TrafficPacket[],
  fates: Array<PacketFate | undefined>,
): DifferentialResult {
  const nfsOnRoute = (tenant: string | undefined, route: string[]): string[] => {
    const t = graph.tenants.find((x) => x.name === tenant);
    return route.map((n) => t?.nfs.find((nf) => nf.name === n)?.type ?? '');
  };
  const failures: string[] = [];
  const mappings = new Map<string, string>();
  const seen = { forwarded: 0, dropped: 0, meterRed: 0, natOrLb: 0 };
  traffic.forEach((pkt, i) => {
    const fate = fates[i];
    const ref = frameFate(graph, pkt.port, pkt.data);
    const wire = ref.headers;
    const types = nfsOnRoute(ref.tenant, ref.route);
    const what = 'what' in pkt ? ` (${String(pkt.what)})` : '';
    const where = `${label} #${i}${what} path ${pkt.path} ${wire.srcIp}:${wire.srcPort}→${wire.dstIp}:${wire.dstPort}`;
    if (!fate) {
      failures.push(`${where}: no fate recorded`);
      return;
    }
    if (fate.kind === 'dropped' && fate.where === 'wire') {
      // Only a frame no Linux link carries may stay off it, and the NIC would refuse it too.
      seen.dropped++;
      const runt = fate.reason === 'runt' && !linkCarries(pkt.data);
      const refused = ref.outcome.kind === 'drop' && ['malformed', 'qinq'].includes(ref.outcome.reason);
      if (!runt || !refused)
        failures.push(`${where}: not sent (${fate.reason}), reference ${JSON.stringify(ref.outcome)}`);
      return;
    }
    // NIC reasons are the kind itself; host reasons are `tenant.nf:kind`.
    const dropKind =
      fate.kind === 'dropped' ? (fate.where === 'nic' ? fate.reason : fate.reason.split(':').pop()) : '';
    if (dropKind === 'meter-red') {
      seen.meterRed++;
      if (!types.includes('ratelimiter'))
        failures.push(`${where}: meter drop on a route without a rate limiter`);
      return;
    }
    if (ref.outcome.kind === 'drop') {
      if (fate.kind !== 'dropped') {
        failures.push(`${where}: reference drops (${ref.outcome.reason}), deploy forwarded to ${fate.port}`);
        return;
      }
      seen.dropped++;
      const expected = reasonKind(ref.outcome.reason);
      if (dropKind !== expected)
        failures.push(`${where}: reference ${ref.outcome.reason}, deploy ${fate.where}:${fate.reason}`);
      return;
    }
    if (fate.kind !== 'forwarded') {
      failures.push(
        `${where}: reference exits on ${ref.outcome.port}, deploy dropped (${fate.where}:${fate.reason})`,
      );
      return;
    }
    seen.forwarded++;
    const out = parsePacket(fate.data);
    const input = parsePacket(pkt.data);
    const read = readFrame(fate.port, fate.data);
    if (fate.port !== ref.outcome.port)
      failures.push(`${where}: port ${fate.port}, reference ${ref.outcome.port}`);
    if (out.nsh) failures.push(`${where}: NSH left on a wire packet`);
    if (read.kind !== 'packet') {
      failures.push(`${where}: left as a frame the NIC cannot read (${read.reason}: ${read.why})`);
      return;
    }
    const options = wire.ipFault === 'ip-options';
    if (wire.l3 === 'ipv4' && (!options || input.ipChecksumOk) && out.ipChecksumOk !== true)
      failures.push(`${where}: bad IPv4 checksum`);
    if (input.l4ChecksumOk === true && out.l4ChecksumOk === false) failures.push(`${where}: bad L4 checksum`);
    if (read.headers.vlan !== ref.headers.vlan)
      failures.push(`${where}: vlan ${read.headers.vlan}, reference ${ref.headers.vlan}`);
    if (read.headers.dscp !== ref.headers.dscp)
      failures.push(`${where}: dscp ${read.headers.dscp}, reference ${ref.headers.dscp}`);
    const rewrites = types.includes('nat') || types.includes('loadbalancer');
    const tuple = `${out.srcIp}:${out.srcPort}>${out.dstIp}:${out.dstPort}/${out.proto}`;
    if (rewrites) {
      seen.natOrLb++;
      // One consistent mapping per flow.
      const flow = `${wire.srcIp}:${wire.srcPort}>${wire.dstIp}:${wire.dstPort}/${wire.proto}`;
      const prev = mappings.get(flow);
      if (prev !== undefined && prev !== tuple)
        failures.push(`${where}: flow ${flow} mapped to ${prev} then ${tuple}`);
      mappings.set(flow, tuple);
    } else if (
      read.headers.srcIp !== wire.srcIp ||
      read.headers.dstIp !== wire.dstIp ||
      read.headers.dstPort !== wire.dstPort
    ) {
      failures.push(`${where}: addresses rewritten on a route without NAT/LB (${tuple})`);
    }
  });
  return { failures, seen };
}

/** About `total` packets spread over every root path, with suspicious ones among them. */
export function trafficSpec(
  roots: number,
  total = 2400,
): {
  packetsPerPath: number;
  flowsPerPath: number;
  sizes: number[];
  suspiciousShare: number;
  seed: number;
} {
  return {
    packetsPerPath: Math.ceil(total / roots),
    flowsPerPath: 8,
    sizes: [64, 200, 600],
    suspiciousShare: 0.3,
    seed: 7,
  };
}

export interface DifferentialRun extends DifferentialResult {
  traffic: GeneratedPacket[];
  report: DeployReport;
  /** Where the report does not add up (checkReportInvariants). */
  reportFailures: string[];
}

/**
 * Partitions and deploys `graphFile` on a target, sends about `packets` generated packets one at a
 * time with their fates recorded, and compares every fate with the reference semantics.
 */
export async function deployDifferential(
  label: string,
  graphFile: string,
  o: {
    target: TargetSpec;
    packets: number;
    isolation?: IsolationBackend;
  },
): Promise<DifferentialRun> {
  const { plan, nic } = await prepareDeploy({
    input: graphFile,
    target: o.target,
    durationSeconds: 0,
  });
  const roots = plan.paths.filter((p) => !p.branchOf).length;
  const { packets: traffic } = generateTraffic(plan, trafficSpec(roots, o.packets));
  const { report, fates } = await deploy(plan, nic, {
    target: o.target,
    durationSeconds: 0,
    isolation: o.isolation ?? 'none',
    recordFates: true,
    traffic,
  });
  const graph = loadGraph(graphFile);
  return {
    traffic,
    report,
    ...compareWithReference(label, graph, traffic, fates ?? []),
    reportFailures: checkReportInvariants(label, plan, graph, traffic, fates ?? [], report),
  };
}

/**
 * The report adds up (deploy/report.ts), checked against the packets' own fates and the reference:
 * - every path: input = forwarded + dropped + branched, and each of these is what the packets'
 *   fates give when each packet is put on the path the reference's route says it ended on (its
 *   root path, or the branch a host verdict moved it to); the root paths' inputs and the packets
 *   no tenant took make up the input;
 * - per NF: its figure under each path is what the reference says went through it on that path
 *   (host NFs: the runtime's per-path counts; a NIC monitor: its counter cell), counting a packet
 *   on its root path up to the hop where the host branched it and on the branch after; and an
 *   NF's total is the sum over the paths through it;
 * - the NIC's drop counter by reason is what the report attributes to the NIC.
 * A meter drop's place is not in the reference (it depends on time): with one meter on the
 * packet's route it is that meter's; where two meters could have dropped it (a tenant meter, or
 * several rate limiters), that tenant's path and NF figures are not checked.
 */
export function checkReportInvariants(
  label: string,
  plan: Plan,
  graph: ServiceGraph,
  traffic: TrafficPacket[],
  fates: Array<PacketFate | undefined>,
  report: DeployReport,
): string[] {
  const failures: string[] = [];
  const paths = new Map(plan.paths.map((p) => [p.id, p] as const));
  const nfId = new Map(plan.nfs.map((nf) => [nf.name, nf.id] as const));
  const expected = new Map<string, number>(); // `${path}/${nf}` → packets
  const bump = (key: string): void => void expected.set(key, (expected.get(key) ?? 0) + 1);
  const ambiguous = new Set<string>();
  const names = (p: PlanPath): string[] =>
    p.hops.map((h) => plan.nfs[h.nf].name.split('.').slice(1).join('.'));
  /** The root, or the branch of it whose verdict the route's NF at the branching hop gave. */
  const finalPath = (root: PlanPath, route: string[], verdicts: string[]): PlanPath => {
    for (const b of plan.paths.filter((x) => x.branchOf?.path === root.id)) {
      const { hop, verdict } = b.branchOf!;
      const hops = names(b);
      if (verdicts[hop] === verdict && route.slice(0, hop + 1).every((n, k) => hops[k] === n))
        return finalPath(b, route, verdicts);
    }
    return root;
  };
  traffic.forEach((pkt, i) => {
    const fate = fates[i];
    if (!fate) return;
    const ref = frameFate(graph, pkt.port, pkt.data);
    if (!ref.tenant) return;
    const tenant = graph.tenants.find((t) => t.name === ref.tenant);
    let traversed = ref.traversed;
    const kind =
      fate.kind === 'dropped' ? (fate.where === 'nic' ? fate.reason : fate.reason.split(':').pop()) : '';
    let route = ref.route;
    if (kind === 'meter-red') {
      // Which meter said red is not in the fate: with one candidate it is that one's place.
      const limiters = traversed.filter((n) => tenant?.nfs.find((x) => x.name === n)?.type === 'ratelimiter');
      if (limiters.length + (tenant?.rateLimit ? 1 : 0) > 1) ambiguous.add(ref.tenant);
      traversed = limiters.length ? traversed.slice(0, traversed.indexOf(limiters[0]) + 1) : [];
      route = route.slice(0, traversed.length);
    }
    const root = paths.get(pkt.path);
    if (!root) return;
    const final = finalPath(root, route, ref.verdicts);
    if (fate.path !== undefined && paths.get(fate.path)?.branchOf && fate.path !== final.id)
      failures.push(
        `${label} #${i}: the data path saw it leave on path ${fate.path}, the reference on ${final.id}`,
      );
    bump(`in/${root.id}`);
    if (final !== root) {
      bump(`branched/${root.id}/${final.id}`);
      bump(`in/${final.id}`);
    }
    bump(`${fate.kind}/${final.id}`);
    for (const name of traversed) {
      const id = nfId.get(`${ref.tenant}.${name}`);
      if (id === undefined) continue;
      const at = root.hops.findIndex((h) => h.nf === id);
      const on = final !== root && (at < 0 || at > (final.branchOf?.hop ?? Infinity)) ? final : root;
      bump(`${on.id}/${id}`);
    }
  });

  let classified = 0;
  for (const t of report.tenants) {
    for (const p of t.paths) {
      const branched = Object.values(p.branched).reduce((a, b) => a + b, 0);
      if (p.input !== p.forwarded + p.dropped + branched)
        failures.push(
          `${label}: path ${p.id}: ${p.input} in ≠ ${p.forwarded} out + ${p.dropped} dropped + ${branched} branched`,
        );
      if (!p.branchOf) classified += p.input;
      if (ambiguous.has(t.name)) continue;
      const want = (k: string): number => expected.get(k) ?? 0;
      const got = { in: p.input, forwarded: p.forwarded, dropped: p.dropped };
      for (const [k, v] of Object.entries(got))
        if (v !== want(`${k}/${p.id}`))
          failures.push(
            `${label}: path ${p.id}: ${k} ${v}, the reference's paths say ${want(`${k}/${p.id}`)}`,
          );
      for (const b of plan.paths.filter((x) => x.branchOf?.path === p.id)) {
        const n = want(`branched/${p.id}/${b.id}`);
        if ((p.branched[String(b.id)] ?? 0) !== n)
          failures.push(
            `${label}: path ${p.id}: ${p.branched[String(b.id)] ?? 0} to path ${b.id}, the reference ${n}`,
          );
      }
      for (const nf of p.nfs) {
        if (nf.packets === undefined || nf.onPath !== undefined) continue;
        const n = want(`${p.id}/${nfId.get(nf.name)}`);
        if (nf.packets !== n)
          failures.push(
            `${label}: path ${p.id}: ${nf.name} (${nf.placement}) counted ${nf.packets}, the fates say ${n}`,
          );
      }
    }
    for (const nf of t.nfs) {
      if (nf.packets === undefined) continue;
      const sum = t.paths.flatMap((p) => p.nfs.filter((x) => x.name === nf.name && x.onPath === undefined));
      const total = sum.reduce((a, x) => a + (x.packets ?? 0), 0);
      if (nf.packets !== total)
        failures.push(
          `${label}: ${nf.name} counted ${nf.packets} in all, ${total} over the paths through it`,
        );
    }
  }
  const unclassified = report.unclassified?.input ?? 0;
  if (classified + unclassified !== report.totals.input)
    failures.push(
      `${label}: root paths ${classified} + unclassified ${unclassified} ≠ input ${report.totals.input}`,
    );
  const reasons = new Set([
    ...Object.keys(report.nicDropsByReason),
    ...Object.keys(report.dropsByReason)
      .filter((k) => k.startsWith('nic:'))
      .map((k) => k.slice(4)),
  ]);
  for (const r of reasons) {
    if (r === 'lost') continue; // the data path's, not a counter's
    const counter = report.nicDropsByReason[r] ?? 0;
    const attributed = report.dropsByReason[`nic:${r}`] ?? 0;
    if (counter !== attributed)
      failures.push(`${label}: the NIC counted ${counter} ${r} drops, the report attributes ${attributed}`);
  }
  return failures;
}
