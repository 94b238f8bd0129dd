/**
 * Prometheus metrics of a real deployment (softnic + host runtime, generated traffic): scraped
 * over HTTP with a real client (fetch), parsed from the exposition text, and checked name by name
 * and value by value against the deploy report; a scrape during the run sees the live account.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadGraph, partition } from '../../partitioner';
import { emitNicArtifacts } from '../../p4';
import { deploy, generateTraffic, DEFAULT_GENERATOR, type DeployReport } from '../../deploy';
import { DeployMetrics, METRICS } from '../../metrics/metrics';
import { serveHttp, parseListenAddress } from '../../metrics/http';
import { NfpError } from '../../partitioner/errors';
import { buildPacket } from '../../deploy/packet';
import { parseExposition, valueOf, type Sample } from './exposition';

afterAll(async () => {
  const host = await import('../../host-runtime/lib');
  host.stop();
});

async function scrape(
  address: string,
): Promise<{ status: number; type: string; samples: Sample[]; text: string }> {
  const res = await fetch(`http://${address}/metrics`);
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    samples: parseExposition(text),
    text,
  };
}

describe('Prometheus metrics of a deployment', () => {
  it("serves every metric with the report's values, live and at the end", async () => {
    const graph = loadGraph('examples/multi-tenant.yaml');
    const plan = await partition(graph, { solver: 'heuristic' });
    const nic = emitNicArtifacts(plan);
    // Generated flows, and acme packets from a denied source, so that drops never depend on timing.
    const denied = Array.from({ length: 20 }, (_, i) => ({
      port: 0,
      data: buildPacket({
        vlan: 10,
        srcIp: `192.0.2.${i + 1}`,
        dstIp: '198.18.0.1',
        proto: 6,
        srcPort: 1000 + i,
        dstPort: 80,
      }),
      tenant: 1,
      path: plan.pathRules.find((r) => r.tenant === 1)!.path,
      suspicious: false,
    }));
    const packets = [
      ...generateTraffic(plan, { ...DEFAULT_GENERATOR, packetsPerPath: 40 }).packets,
      ...denied,
    ];
    let live: { report(): Promise<DeployReport> } | undefined;
    let final: DeployReport | undefined;
    const metrics = new DeployMetrics(async () => final ?? (await live?.report()), { processMetrics: false });
    const endpoint = await serveHttp('127.0.0.1:0', {
      '/metrics': async () => ({ status: 200, type: metrics.contentType, body: await metrics.scrape() }),
    });
    try {
      // Nothing deployed yet: the names are there, with no series.
      const empty = await scrape(endpoint.address);
      expect(empty.status).toBe(200);
      expect(empty.type).toMatch(/^text\/plain; version=0\.0\.4/);
      for (const m of METRICS) expect(empty.text).toContain(`# TYPE ${m.name} ${m.kind}`);
      expect(empty.samples.filter((s) => s.name.startsWith('nfp_'))).toEqual([]);

      let during: Sample[] | undefined;
      let duringReport: DeployReport | undefined;
      const result = await deploy(plan, nic, {
        target: { kind: 'softnic' },
        isolation: 'none',
        traffic: packets,
        durationSeconds: 1.5,
        onLive: (l) => {
          live = l;
          // Scrape once traffic has flowed for a while; the report is built the same way.
          setTimeout(() => {
            void scrape(endpoint.address).then(async (s) => {
              during = s.samples;
              duringReport = await l.report();
            });
          }, 700);
        },
      });
      final = result.report;
      await new Promise((r) => setTimeout(r, 50));

      // During the run: live values, each at most the final one, and the live account balances.
      expect(during).toBeDefined();
      const liveIn = valueOf(during!, 'nfp_tenant_packets_total', { tenant: 'acme' });
      expect(liveIn).toBeGreaterThan(0);
      expect(liveIn).toBeLessThanOrEqual(duringReport!.tenants.find((t) => t.name === 'acme')!.input);
      expect(duringReport!.totals.input).toBe(duringReport!.totals.forwarded + duringReport!.totals.dropped);

      // At the end: exactly the report.
      const r = final;
      const { samples } = await scrape(endpoint.address);
      expect(valueOf(samples, 'nfp_deployment_info', { target: 'softnic', isolation: 'none' })).toBe(1);
      for (const t of r.tenants) {
        const l = { tenant: t.name };
        expect(valueOf(samples, 'nfp_tenant_packets_total', l)).toBe(t.input);
        expect(valueOf(samples, 'nfp_tenant_forwarded_packets_total', l)).toBe(t.forwarded);
        expect(valueOf(samples, 'nfp_tenant_dropped_packets_total', l)).toBe(t.dropped);
        expect(valueOf(samples, 'nfp_tenant_bytes_total', l)).toBe(t.inputBytes);
        expect(valueOf(samples, 'nfp_tenant_forwarded_bytes_total', l)).toBe(t.forwardedBytes);
        expect(valueOf(samples, 'nfp_tenant_host_cycles_total', l)).toBe(t.hostCycles);
        expect(valueOf(samples, 'nfp_tenant_quarantined', l)).toBe(t.quarantined ? 1 : 0);
        expect(t.input).toBeGreaterThan(0);
        expect(t.inputBytes).toBeGreaterThanOrEqual(t.input * 60);
        for (const p of t.paths) {
          const pl = { tenant: t.name, path: String(p.id) };
          expect(valueOf(samples, 'nfp_path_packets_total', pl)).toBe(p.input);
          expect(valueOf(samples, 'nfp_path_forwarded_packets_total', pl)).toBe(p.forwarded);
          expect(valueOf(samples, 'nfp_path_dropped_packets_total', pl)).toBe(p.dropped);
          expect(valueOf(samples, 'nfp_path_bytes_total', pl)).toBe(p.inputBytes);
          for (const [key, n] of Object.entries(p.dropsByReason)) {
            const [where, reason] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
            expect(valueOf(samples, 'nfp_drops_total', { ...pl, where, reason })).toBe(n);
          }
          for (const nf of p.nfs) {
            const short = nf.name.slice(t.name.length + 1);
            expect(
              valueOf(samples, 'nfp_nf_placement', { tenant: t.name, nf: short, placement: nf.placement }),
            ).toBe(1);
          }
        }
        // An NF's counters are its totals over the paths through it (the tenant's NF figures).
        for (const nf of t.nfs) {
          const short = nf.name.slice(t.name.length + 1);
          if (nf.placement === 'host' && nf.packets !== undefined) {
            expect(valueOf(samples, 'nfp_nf_packets_total', { tenant: t.name, nf: short })).toBe(nf.packets);
            expect(valueOf(samples, 'nfp_nf_host_cycles_total', { tenant: t.name, nf: short })).toBe(
              nf.cycles,
            );
          }
        }
      }
      // The drops add up, and the NIC's own counters are exposed as read over P4Runtime.
      const drops = samples.filter((s) => s.name === 'nfp_drops_total').reduce((a, s) => a + s.value, 0);
      expect(drops).toBe(r.totals.dropped);
      expect(r.nicDropsByReason['acl-deny']).toBeGreaterThanOrEqual(denied.length);
      for (const [reason, n] of Object.entries(r.nicDropsByReason))
        expect(valueOf(samples, 'nfp_nic_drops_total', { reason })).toBe(n);
      for (const [counter, cells] of Object.entries(r.nicCounters))
        for (const [index, n] of Object.entries(cells))
          expect(valueOf(samples, 'nfp_nic_counter_packets_total', { counter, index })).toBe(n);
      // Host NFs ran: NAT on globex's web paths.
      expect(valueOf(samples, 'nfp_nf_packets_total', { tenant: 'globex', nf: 'nat' })).toBeGreaterThan(0);
    } finally {
      await endpoint.close();
    }
  });

  it('answers unknown paths with 404 and methods other than GET with 405', async () => {
    const endpoint = await serveHttp('127.0.0.1:0', {
      '/x': () => ({ status: 200, type: 'text/plain', body: 'x' }),
    });
    try {
      expect((await fetch(`http://${endpoint.address}/nope`)).status).toBe(404);
      expect((await fetch(`http://${endpoint.address}/x`, { method: 'POST' })).status).toBe(405);
      expect(await (await fetch(`http://${endpoint.address}/x`)).text()).toBe('x');
    } finally {
      await endpoint.close();
    }
  });

  it('parses listen addresses and refuses bad ones and busy ports with an NfpError', async () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress(':9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListenAddress('9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListenAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListenAddress('localhost')).toThrow(NfpError);
    const a = await serveHttp('127.0.0.1:0', {});
    try {
      await expect(serveHttp(a.address, {})).rejects.toThrow(/the port is in use/);
    } finally {
      await a.close();
    }
  });
});
