/**
 * Prometheus metrics of a deployment (prom-client), with stable names and labels: per tenant,
 * path and NF packets, bytes, drops by reason, host cycles, quarantines, and the NIC's counters.
 * docs/metrics.md lists every name.
 *
 * The values are those of the deploy report (deploy/report.ts): on each scrape the source builds
 * the report of the running deployment, and every metric reads it, so a scrape and a report taken
 * at the same moment agree. Counters restart from zero when a deployment is replaced (a node
 * agent's re-deploy); Prometheus treats that as a counter reset.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import type { DeployReport, PathReport, TenantReport } from '../deploy/report';

/** The counts a tenant or path report carries. */
type TrafficCounts = Pick<TenantReport, 'input' | 'forwarded' | 'dropped' | 'inputBytes' | 'forwardedBytes'>;

/** Where the current report comes from; undefined while nothing is deployed. */
export type ReportSource = () => Promise<DeployReport | undefined>;

type Labels = LabelValues<string>;

interface Series {
  labels: Labels;
  value: number;
}

/** One metric whose series are read from the report at scrape time. */
interface Spec {
  name: string;
  help: string;
  kind: 'counter' | 'gauge';
  labelNames: string[];
  series: (r: DeployReport) => Series[];
}

const perTenant =
  (value: (t: TenantReport) => number) =>
  (r: DeployReport): Series[] =>
    r.tenants.map((t) => ({ labels: { tenant: t.name }, value: value(t) }));

const perPath =
  (value: (p: PathReport) => number | undefined) =>
  (r: DeployReport): Series[] =>
    r.tenants.flatMap((t) =>
      t.paths.flatMap((p) => {
        const v = value(p);
        return v === undefined ? [] : [{ labels: { tenant: t.name, path: String(p.id) }, value: v }];
      }),
    );

/** The traffic counters kept per tenant and per path: name suffix, help, value. */
const TRAFFIC: ReadonlyArray<[string, string, (c: TrafficCounts) => number]> = [
  ['packets_total', 'Packets that arrived', (c) => c.input],
  ['forwarded_packets_total', 'Packets that left on a wire port', (c) => c.forwarded],
  ['dropped_packets_total', 'Packets dropped (nfp_drops_total says why)', (c) => c.dropped],
  ['bytes_total', 'Bytes of the frames that arrived', (c) => c.inputBytes],
  ['forwarded_bytes_total', 'Bytes of the frames that left, after rewrites', (c) => c.forwardedBytes],
];

/** Host NFs of each tenant with their totals (the report's per-tenant NF figures). */
function hostNfs(
  r: DeployReport,
): Array<{ tenant: string; nf: string; type: string; packets: number; cycles: number }> {
  return r.tenants.flatMap((t) =>
    t.nfs.flatMap((nf) =>
      nf.placement !== 'host' || nf.packets === undefined
        ? []
        : [
            {
              tenant: t.name,
              nf: nf.name.slice(t.name.length + 1),
              type: nf.type,
              packets: nf.packets,
              cycles: nf.cycles ?? 0,
            },
          ],
    ),
  );
}

/** Drop keys are `nic:<reason>` or `host:<reason>`. */
function splitDrop(key: string): { where: string; reason: string } {
  const i = key.indexOf(':');
  return i < 0 ? { where: 'unknown', reason: key } : { where: key.slice(0, i), reason: key.slice(i + 1) };
}

export const METRICS: readonly Spec[] = [
  {
    name: 'nfp_deployment_info',
    help: 'The running deployment: its target, address and isolation (always 1).',
    kind: 'gauge',
    labelNames: ['target', 'address', 'isolation'],
    series: (r) => [{ labels: { target: r.target, address: r.address, isolation: r.isolation }, value: 1 }],
  },
  ...TRAFFIC.map(([suffix, help, value]): Spec => ({
    name: `nfp_tenant_${suffix}`,
    help: `${help} (per tenant).`,
    kind: 'counter',
    labelNames: ['tenant'],
    series: perTenant(value),
  })),
  {
    name: 'nfp_tenant_host_cycles_total',
    help: "CPU cycles the host runtime spent in a tenant's NFs.",
    kind: 'counter',
    labelNames: ['tenant'],
    series: perTenant((t) => t.hostCycles),
  },
  {
    name: 'nfp_tenant_quarantined',
    help: "1 when a tenant's host NFs are quarantined after a fault in its isolation domain.",
    kind: 'gauge',
    labelNames: ['tenant'],
    series: perTenant((t) => (t.quarantined ? 1 : 0)),
  },
  ...TRAFFIC.map(([suffix, help, value]): Spec => ({
    name: `nfp_path_${suffix}`,
    help: `${help} (per service path; path = the plan's path id, the NSH SPI).`,
    kind: 'counter',
    labelNames: ['tenant', 'path'],
    series: perPath(value),
  })),
  {
    name: 'nfp_path_host_cycles_per_packet',
    help: "Host cycles per packet on a path's host NFs, measured.",
    kind: 'gauge',
    labelNames: ['tenant', 'path'],
    series: perPath((p) => p.hostCyclesPerPacket),
  },
  {
    name: 'nfp_drops_total',
    help: 'Dropped packets by tenant, path, where (nic or host) and reason (docs/graph-format.md#drop-reasons).',
    kind: 'counter',
    labelNames: ['tenant', 'path', 'where', 'reason'],
    series: (r) =>
      r.tenants.flatMap((t) =>
        t.paths.flatMap((p) =>
          Object.entries(p.dropsByReason).map(([key, value]) => ({
            labels: { tenant: t.name, path: String(p.id), ...splitDrop(key) },
            value,
          })),
        ),
      ),
  },
  {
    name: 'nfp_nf_packets_total',
    help: 'Packets a host NF processed.',
    kind: 'counter',
    labelNames: ['tenant', 'nf', 'type'],
    series: (r) =>
      hostNfs(r).map((n) => ({ labels: { tenant: n.tenant, nf: n.nf, type: n.type }, value: n.packets })),
  },
  {
    name: 'nfp_nf_host_cycles_total',
    help: 'CPU cycles a host NF took, measured around each batch call.',
    kind: 'counter',
    labelNames: ['tenant', 'nf', 'type'],
    series: (r) =>
      hostNfs(r).map((n) => ({ labels: { tenant: n.tenant, nf: n.nf, type: n.type }, value: n.cycles })),
  },
  {
    name: 'nfp_nf_placement',
    help: 'Where each NF of the plan runs: 1 for its placement (nic or host).',
    kind: 'gauge',
    labelNames: ['tenant', 'nf', 'type', 'placement'],
    series: (r) => {
      const seen = new Map<string, Series>();
      for (const t of r.tenants)
        for (const p of t.paths)
          for (const nf of p.nfs)
            seen.set(nf.name, {
              labels: {
                tenant: t.name,
                nf: nf.name.slice(t.name.length + 1),
                type: nf.type,
                placement: nf.placement,
              },
              value: 1,
            });
      return [...seen.values()];
    },
  },
  {
    name: 'nfp_nic_counter_packets_total',
    help: "The NIC pipeline's counters, read over P4Runtime (counter and index as in P4Info).",
    kind: 'counter',
    labelNames: ['counter', 'index'],
    series: (r) =>
      Object.entries(r.nicCounters).flatMap(([counter, cells]) =>
        Object.entries(cells).map(([index, value]) => ({ labels: { counter, index }, value })),
      ),
  },
  {
    name: 'nfp_nic_drops_total',
    help: "Packets the NIC dropped, by reason, from the pipeline's drop counter.",
    kind: 'counter',
    labelNames: ['reason'],
    series: (r) =>
      Object.entries(r.nicDropsByReason).map(([reason, value]) => ({ labels: { reason }, value })),
  },
];

/** A registry holding nfp's metrics, read from `source` on every scrape. */
export class DeployMetrics {
  readonly registry = new Registry();
  private current: DeployReport | undefined;

  constructor(
    private readonly source: ReportSource,
    opts: { processMetrics?: boolean } = {},
  ) {
    for (const spec of METRICS) {
      const read = (): Series[] => (this.current ? spec.series(this.current) : []);
      if (spec.kind === 'counter') {
        new Counter({
          name: spec.name,
          help: spec.help,
          labelNames: spec.labelNames,
          registers: [this.registry],
          collect() {
            // Absolute values from the report: start from zero each scrape.
            this.reset();
            for (const s of read()) this.inc(s.labels, s.value);
          },
        });
      } else {
        new Gauge({
          name: spec.name,
          help: spec.help,
          labelNames: spec.labelNames,
          registers: [this.registry],
          collect() {
            this.reset();
            for (const s of read()) this.set(s.labels, s.value);
          },
        });
      }
    }
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text for one scrape. */
  async scrape(): Promise<string> {
    try {
      this.current = await this.source();
    } catch {
      // The deployment ended or is being replaced: no series of it, but the scrape succeeds.
      this.current = undefined;
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
