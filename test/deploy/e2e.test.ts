/**
 * Differential end-to-end test of `nfp deploy`: for every example graph, a few thousand generated
 * packets go through the real deployment (P4Runtime onto the softnic, the native host runtime)
 * and each packet's fate is compared with the service graph's reference semantics
 * (partitioner/reference.ts): output port or drop and its reason, and the deterministic rewrites.
 * Stateful NFs are checked by their invariants instead: one consistent NAT/LB mapping per flow,
 * valid checksums. Rate limiters depend on time, which the reference does not model: a meter drop
 * is right exactly when the packet's route has a rate limiter.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonBuilt } from '../../host-runtime/lib';
import { loadGraph } from '../../partitioner';
import { packetFate, type PacketHeaders } from '../../partitioner/reference';
import { parsePacket } from '../../targets/deploy/packet';
import { deploy, generateTraffic, prepareDeploy } from '../../targets/deploy';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const graphs = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

function headersOf(port: number, data: Buffer): PacketHeaders {
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

describe('nfp deploy, packet by packet against the reference semantics', () => {
  afterAll(async () => {
    const host = await import('../../host-runtime/lib');
    host.stop();
  });

  it('has example graphs and a built host runtime', () => {
    expect(graphs.length).toBeGreaterThanOrEqual(3);
    // The addon is part of nfp, not an optional tool: `npm test` builds it first.
    expect(addonBuilt()).toBe(true);
  });

  it.each(graphs)('%s', async (file) => {
    const graphFile = join(EXAMPLES, file);
    const graph = loadGraph(graphFile);
    const { plan, nic } = await prepareDeploy({
      input: graphFile,
      target: 'softnic',
      deviceId: 1,
      durationSeconds: 0,
    });
    // About 2,400 packets whatever the number of root paths.
    const roots = plan.paths.filter((p) => !p.branchOf).length;
    const { packets: traffic } = generateTraffic(plan, {
      packetsPerPath: Math.ceil(2400 / roots),
      flowsPerPath: 8,
      sizes: [64, 200, 600],
      suspiciousShare: 0.3,
      seed: 7,
    });
    const { report, fates } = await deploy(plan, nic, {
      target: 'softnic',
      deviceId: 1,
      durationSeconds: 0,
      isolation: 'none',
      recordFates: true,
      traffic,
    });
    expect(traffic.length).toBeGreaterThan(1000);
    expect(fates).toBeDefined();
    expect(report.totals.input).toBe(traffic.length);
    expect(report.totals.forwarded + report.totals.dropped).toBe(report.totals.input);

    const nfsOnRoute = (tenant: string | undefined, route: string[]): string[] => {
      const t = graph.tenants.find((x) => x.name === tenant);
      return route.map((n) => t?.nfs.find((nf) => nf.name === n)?.type ?? '');
    };
    const failures: string[] = [];
    const mappings = new Map<string, string>();
    const seen = { forwarded: 0, dropped: 0, meterRed: 0, natOrLb: 0 };
    traffic.forEach((pkt, i) => {
      const fate = fates![i];
      const wire = headersOf(pkt.port, pkt.data);
      const ref = packetFate(graph, wire);
      const types = nfsOnRoute(ref.tenant, ref.route);
      const where = `${file} #${i} path ${pkt.path} ${wire.srcIp}:${wire.srcPort}→${wire.dstIp}:${wire.dstPort}`;
      if (!fate) {
        failures.push(`${where}: no fate recorded`);
        return;
      }
      if (fate.kind === 'dropped' && reasonKind(fate.reason) === 'meter-red') {
        seen.meterRed++;
        if (!types.includes('ratelimiter'))
          failures.push(`${where}: meter drop on a route without a rate limiter`);
        return;
      }
      if (ref.outcome.kind === 'drop') {
        if (fate.kind !== 'dropped') {
          failures.push(
            `${where}: reference drops (${ref.outcome.reason}), deploy forwarded to ${fate.port}`,
          );
          return;
        }
        seen.dropped++;
        const expected = reasonKind(ref.outcome.reason);
        const got = fate.where === 'nic' ? fate.reason : (fate.reason.split(':').pop() ?? '');
        if (got !== expected)
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
    console.log(`${file}: ${traffic.length} packets`, JSON.stringify(seen), `paths ${plan.paths.length}`);
    expect(failures.slice(0, 12)).toEqual([]);
    expect(seen.forwarded).toBeGreaterThan(0);
  });
});
