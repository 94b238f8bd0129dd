/**
 * The deploy report: per tenant, path and NF, what came in, what left, what was dropped and why,
 * and what it cost; the NIC's own counters read back over P4Runtime; and the end-to-end account
 * `input = forwarded + dropped`.
 */
import type { NicArtifacts } from '../p4';
import type { Plan } from '../partitioner/plan';
import type { HostStats } from '../host-runtime/lib';
import type { P4RuntimeClient } from '../p4runtime/client';
import type { TrafficRun } from './datapath';

export interface NfReport {
  name: string;
  type: string;
  placement: 'nic' | 'host';
  /** Host NFs: packets processed and cycles per packet measured around each batch call. */
  packets?: number;
  cyclesPerPacket?: number;
}

export interface PathReport {
  id: number;
  name: string;
  needsHost: boolean;
  input: number;
  forwarded: number;
  dropped: number;
  dropsByReason: Record<string, number>;
  hostCyclesPerPacket?: number;
  nfs: NfReport[];
}

export interface TenantReport {
  id: number;
  name: string;
  input: number;
  forwarded: number;
  dropped: number;
  hostCycles: number;
  quarantined: boolean;
  paths: PathReport[];
}

export interface DeployReport {
  target: string;
  address: string;
  deviceId: number;
  isolation: string;
  seconds: number;
  mpps: number;
  totals: { input: number; forwarded: number; dropped: number };
  dropsByReason: Record<string, number>;
  tenants: TenantReport[];
  /** NIC counters by name, read over P4Runtime: index → packets. */
  nicCounters: Record<string, Record<number, number>>;
  /** NIC drops by reason, from the pipeline's drop counter. */
  nicDropsByReason: Record<string, number>;
}

export async function buildReport(
  plan: Plan,
  nic: NicArtifacts,
  run: TrafficRun,
  hostStats: HostStats | undefined,
  client: P4RuntimeClient,
  where: { target: string; address: string; deviceId: number; isolation?: string },
): Promise<DeployReport> {
  const nicCounters = await readNicCounters(client, nic);
  const dropCounter = nicCounters[nic.entries.dropCounter.name] ?? {};
  const nicDropsByReason: Record<string, number> = {};
  for (const r of nic.entries.dropReasons) {
    const n = dropCounter[r.code] ?? 0;
    if (n > 0) nicDropsByReason[r.name] = n;
  }
  const nfStats = new Map((hostStats?.nfs ?? []).map((n) => [n.id, n] as const));
  const pathStats = new Map((hostStats?.paths ?? []).map((p) => [p.id, p] as const));
  const tenantStats = new Map((hostStats?.tenants ?? []).map((t) => [t.id, t] as const));
  const tenants: TenantReport[] = plan.tenants.map((t) => {
    const counts = run.perTenant.get(t.id) ?? { input: 0, forwarded: 0, dropped: 0 };
    const paths: PathReport[] = plan.paths
      .filter((p) => p.tenant === t.id)
      .map((p) => {
        const c = run.perPath.get(p.id) ?? { input: 0, forwarded: 0, dropped: 0, drops: {} };
        const ps = pathStats.get(p.id);
        return {
          id: p.id,
          name: p.name,
          needsHost: p.needsHost,
          input: c.input,
          forwarded: c.forwarded,
          dropped: c.dropped,
          dropsByReason: c.drops,
          ...(ps && ps.packets > 0 ? { hostCyclesPerPacket: round(ps.cycles / ps.packets) } : {}),
          nfs: p.hops.map((h) => {
            const nf = plan.nfs[h.nf];
            const s = nfStats.get(nf.id);
            return {
              name: nf.name,
              type: nf.type,
              placement: nf.placement,
              ...(s
                ? { packets: s.packets, cyclesPerPacket: s.packets ? round(s.cycles / s.packets) : 0 }
                : {}),
            };
          }),
        };
      });
    const ts = tenantStats.get(t.id);
    return {
      id: t.id,
      name: t.name,
      ...counts,
      hostCycles: ts?.cycles ?? 0,
      quarantined: ts?.quarantined ?? false,
      paths,
    };
  });
  return {
    target: where.target,
    address: where.address,
    deviceId: where.deviceId,
    isolation: where.isolation ?? plan.tenants.map((t) => `${t.name}=${t.isolation}`).join(','),
    seconds: round(run.seconds),
    mpps: run.seconds > 0 ? round(run.input / run.seconds / 1e6, 4) : 0,
    totals: { input: run.input, forwarded: run.forwarded, dropped: run.dropped },
    dropsByReason: run.dropsByReason,
    tenants,
    nicCounters,
    nicDropsByReason,
  };
}

async function readNicCounters(
  client: P4RuntimeClient,
  nic: NicArtifacts,
): Promise<Record<string, Record<number, number>>> {
  const byId = new Map(
    (nic.p4info.counters ?? []).map((c) => [Number(c.preamble?.id), c.preamble?.name ?? '']),
  );
  const out: Record<string, Record<number, number>> = {};
  for await (const e of client.read({ counterEntry: {} })) {
    const c = e.counterEntry;
    if (!c) continue;
    const name = byId.get(Number(c.counterId)) ?? String(c.counterId);
    const packets = Number(c.data?.packetCount ?? 0);
    if (packets === 0) continue;
    (out[name] ??= {})[Number(c.index?.index ?? 0)] = packets;
  }
  return out;
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The human-readable report. */
export function renderReport(r: DeployReport): string {
  const lines: string[] = [];
  const pct = (n: number, d: number): string => (d ? `${((100 * n) / d).toFixed(1)}%` : '-');
  lines.push(
    `deployed on ${r.target} (${r.address}, device ${r.deviceId}), isolation ${r.isolation}: ${r.totals.input} packets in ${r.seconds}s (${r.mpps} Mpps)`,
  );
  for (const t of r.tenants) {
    lines.push(
      `tenant ${t.name}: ${t.input} in, ${t.forwarded} forwarded, ${t.dropped} dropped${t.quarantined ? ' [QUARANTINED]' : ''}`,
    );
    for (const p of t.paths) {
      if (p.input === 0 && !p.needsHost) continue;
      const parts = [`${p.input} in`, `${p.forwarded} out`, `${p.dropped} dropped`];
      const drops = Object.entries(p.dropsByReason).map(([k, v]) => `${k}=${v}`);
      if (drops.length) parts[2] += ` (${drops.join(' ')})`;
      if (p.hostCyclesPerPacket !== undefined) parts.push(`${p.hostCyclesPerPacket} host cycles/pkt`);
      lines.push(`  path ${p.id} ${p.name}: ${parts.join(', ')}`);
      for (const nf of p.nfs) {
        const cost =
          nf.placement === 'host' && nf.cyclesPerPacket !== undefined
            ? ` ${nf.cyclesPerPacket} cycles/pkt`
            : '';
        lines.push(`    ${nf.name} (${nf.type}) on ${nf.placement}${cost}`);
      }
    }
  }
  lines.push('drops by reason:');
  for (const [k, v] of Object.entries(r.dropsByReason).sort((a, b) => b[1] - a[1])) {
    lines.push(`  ${k}: ${v} (${pct(v, r.totals.input)})`);
  }
  if (Object.keys(r.dropsByReason).length === 0) lines.push('  none');
  lines.push(
    `totals: input ${r.totals.input} = forwarded ${r.totals.forwarded} + dropped ${r.totals.dropped}` +
      (r.totals.input === r.totals.forwarded + r.totals.dropped
        ? ' (every packet accounted for)'
        : ' (MISMATCH)'),
  );
  return lines.join('\n');
}
