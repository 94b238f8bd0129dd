/**
 * `npm run bench -- deploy [--quick]`: end-to-end throughput of `nfp deploy` on the example
 * graphs: softnic (P4Runtime-deployed pipeline) → host runtime → softnic, with generated traffic
 * on every tenant and path. Reports Mpps over the whole system and, side by side in the same run,
 * with every tenant under `none` and under its plan's isolation (sfi), so the sandbox's share of
 * the end-to-end cost shows. When simple_switch_grpc is on PATH (and we are root), the same
 * deployment also runs on a real BMv2 that nfp launches on veth ports, the host runtime on
 * net_af_packet: `endToEndMppsBmv2`. As root, the dpdk target's software path (veth ports in a
 * namespace, net_af_packet, the NIC half inline in the host runtime): `endToEndMppsDpdk`.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { deploy, generateTraffic, prepareDeploy } from '../deploy';

interface Row {
  graph: string;
  isolation: string;
  packets: number;
  seconds: number;
  mpps: number;
  accounted: boolean;
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const seconds = quick ? 2 : 8;
  const graphs = ['enterprise-edge.yaml', 'multi-tenant.yaml', 'branch-heavy.yaml'];
  const rows: Row[] = [];
  for (const graph of graphs) {
    const { plan, nic } = await prepareDeploy({
      input: join(__dirname, '..', 'examples', graph),
      target: { kind: 'softnic' },
      durationSeconds: seconds,
    });
    const { packets } = generateTraffic(plan, {
      packetsPerPath: 512,
      flowsPerPath: 64,
      sizes: [64],
      suspiciousShare: 0.1,
      seed: 3,
    });
    for (const isolation of ['none', undefined] as const) {
      const { report } = await deploy(plan, nic, {
        target: { kind: 'softnic' },
        durationSeconds: seconds,
        traffic: packets,
        isolation,
      });
      const row: Row = {
        graph,
        isolation: report.isolation,
        packets: report.totals.input,
        seconds: report.seconds,
        mpps: report.mpps ?? 0,
        accounted: report.totals.input === report.totals.forwarded + report.totals.dropped,
      };
      rows.push(row);
      console.log(
        `${graph.padEnd(22)} isolation ${row.isolation.padEnd(40)} ${row.packets} packets in ${row.seconds}s: ${row.mpps} Mpps${row.accounted ? '' : ' (ACCOUNTING MISMATCH)'}`,
      );
    }
  }
  // The launched real BMv2, when there is one: multi-tenant, everything through veths.
  let endToEndMppsBmv2: number | null = null;
  const bmv2 =
    spawnSync('sh', ['-c', 'command -v simple_switch_grpc']).status === 0 && process.getuid?.() === 0;
  if (bmv2) {
    const { plan, nic } = await prepareDeploy({
      input: join(__dirname, '..', 'examples', 'multi-tenant.yaml'),
      target: { kind: 'bmv2' },
      durationSeconds: seconds,
    });
    const { packets } = generateTraffic(plan, {
      packetsPerPath: 256,
      flowsPerPath: 32,
      sizes: [64],
      suspiciousShare: 0.1,
      seed: 3,
    });
    const { report } = await deploy(plan, nic, {
      target: { kind: 'bmv2' },
      durationSeconds: seconds,
      traffic: packets,
    });
    endToEndMppsBmv2 = report.mpps ?? null;
    console.log(
      `${'multi-tenant.yaml'.padEnd(22)} on real BMv2 (launched, veth + net_af_packet): ${report.totals.input} packets in ${report.seconds}s: ${report.mpps} Mpps${report.totals.input === report.totals.forwarded + report.totals.dropped ? '' : ' (ACCOUNTING MISMATCH)'}`,
    );
  } else
    console.log(
      'simple_switch_grpc is not on PATH (or not root): no run on real BMv2 (endToEndMppsBmv2 null)',
    );
  // The dpdk target's software path: veth pairs in a namespace, net_af_packet on them, the NIC
  // half inline in the host runtime's worker; traffic from raw sockets on the far ends.
  let endToEndMppsDpdk: number | null = null;
  if (process.getuid?.() === 0) {
    const { plan, nic } = await prepareDeploy({
      input: join(__dirname, '..', 'examples', 'multi-tenant.yaml'),
      target: { kind: 'dpdk' },
      durationSeconds: seconds,
    });
    const { packets } = generateTraffic(plan, {
      packetsPerPath: 256,
      flowsPerPath: 32,
      sizes: [64],
      suspiciousShare: 0.1,
      seed: 3,
    });
    const { report } = await deploy(plan, nic, {
      target: { kind: 'dpdk' },
      durationSeconds: seconds,
      traffic: packets,
    });
    endToEndMppsDpdk = report.mpps ?? null;
    const cycles = report.tenants.flatMap((t) => t.paths).filter((p) => p.hostCyclesPerPacket !== undefined);
    console.log(
      `${'multi-tenant.yaml'.padEnd(22)} on dpdk (net_af_packet over veth, NIC half in software inline): ${report.totals.input} packets in ${report.seconds}s: ${report.mpps} Mpps${report.totals.input === report.totals.forwarded + report.totals.dropped ? '' : ' (ACCOUNTING MISMATCH)'}; host cycles/pkt by path: ${cycles.map((p) => `P${p.id} ${p.hostCyclesPerPacket}`).join(', ') || 'none'}`,
    );
  } else console.log('not root: no run on the dpdk target (endToEndMppsDpdk null)');
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const noneRows = rows.filter((r) => r.isolation === 'none');
  const planRows = rows.filter((r) => r.isolation !== 'none');
  const endToEndMpps = mean(planRows.map((r) => r.mpps));
  console.log(`cpu: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}; 64 B frames`);
  console.log(
    JSON.stringify({
      endToEndMpps: Number(endToEndMpps.toFixed(4)),
      endToEndMppsNone: Number(mean(noneRows.map((r) => r.mpps)).toFixed(4)),
      perGraph: Object.fromEntries(planRows.map((r) => [r.graph, r.mpps])),
      endToEndMppsBmv2,
      endToEndMppsDpdk,
    }),
  );
}
