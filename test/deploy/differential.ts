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
import { packetFate, type PacketHeaders } from '../../partitioner/reference';
import type { PacketFate, TargetSpec } from '../../targets';
import { parsePacket } from '../../deploy/packet';
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

/** The reference's view of a wire frame entering on `port`. */
export function headersOf(port: number, data: Buffer): PacketHeaders {
  const p = parsePacket(data);
  return {
    ingressPort: port,
    vlan: p.vlan,
    proto: p.proto ?? 0,
    srcIp: p.srcIp ?? '0.0.0.0',
    dstIp: p.dstIp ?? '0.0.0.0',
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    dscp: p.dscp ?? 0,
    payload: p.payload,
  };
}

/** Reference drop reasons are `kind:nf`; the NIC counts `kind`, the host `tenant.nf:kind`. */
function reasonKind(reason: string): string {
  const [kind] = reason.split(':');
  return kind;
}

export function compareWithReference(
  label: string,
  graph: ServiceGraph,
  traffic: GeneratedPacket[],
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
    const wire = headersOf(pkt.port, pkt.data);
    const ref = packetFate(graph, wire);
    const types = nfsOnRoute(ref.tenant, ref.route);
    const where = `${label} #${i} path ${pkt.path} ${wire.srcIp}:${wire.srcPort}→${wire.dstIp}:${wire.dstPort}`;
    if (!fate) {
      failures.push(`${where}: no fate recorded`);
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
    if (fate.port !== ref.outcome.port)
      failures.push(`${where}: port ${fate.port}, reference ${ref.outcome.port}`);
    if (out.nsh) failures.push(`${where}: NSH left on a wire packet`);
    if (out.ipChecksumOk !== true) failures.push(`${where}: bad IPv4 checksum`);
    if (out.l4ChecksumOk === false) failures.push(`${where}: bad L4 checksum`);
    if (out.vlan !== ref.headers.vlan)
      failures.push(`${where}: vlan ${out.vlan}, reference ${ref.headers.vlan}`);
    if ((out.dscp ?? 0) !== ref.headers.dscp)
      failures.push(`${where}: dscp ${out.dscp}, reference ${ref.headers.dscp}`);
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
    } else if (out.srcIp !== wire.srcIp || out.dstIp !== wire.dstIp || out.dstPort !== wire.dstPort) {
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
  return { traffic, report, ...compareWithReference(label, loadGraph(graphFile), traffic, fates ?? []) };
}
