/**
 * The deploy report: per tenant, path and NF, what came in, what left, what was dropped and why,
 * and what it cost; the NIC's own counters as the target reads them; where each NIC NF ran (the
 * NIC itself or software, on targets that split it); and the end-to-end account
 * `input = forwarded + dropped`.
 */
import type { NicArtifacts } from '../p4';
import type { Plan } from '../partitioner/plan';
import type { HostStats } from '../host-runtime/lib';
import type { NicCounters, NicPlacementReport, TargetDescription, TrafficRun } from '../targets';

export interface NfReport {
  name: string;
  type: string;
  placement: 'nic' | 'host';
  /** Host NFs: packets processed, cycles measured around each batch call, and their ratio. */
  packets?: number;
  cycles?: number;
  cyclesPerPacket?: number;
}

export interface PathReport {
  id: number;
  name: string;
  needsHost: boolean;
  input: number;
  forwarded: number;
  dropped: number;
  /** Bytes of the frames that came in, and of the frames that went out. */
  inputBytes: number;
  forwardedBytes: number;
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
  inputBytes: number;
  forwardedBytes: number;
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
  /** NIC counters by name, as the target reads them: index → packets. */
  nicCounters: NicCounters;
  /** NIC drops by reason, from the pipeline's drop counter. */
  nicDropsByReason: Record<string, number>;
  /** Where each NIC NF ran, on targets that split the NIC half (dpdk: the NIC or software). */
  nicPlacement?: NicPlacementReport;
}

export function buildReport(
  plan: Plan,
  nic: NicArtifacts,
  run: TrafficRun,
  hostStats: HostStats | undefined,
  nicCounters: NicCounters,
  where: TargetDescription & { isolation?: string },
): DeployReport {
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
    const counts = run.perTenant.get(t.id) ?? {
      input: 0,
      forwarded: 0,
      dropped: 0,
      inputBytes: 0,
      forwardedBytes: 0,
    };
    const paths: PathReport[] = plan.paths
      .filter((p) => p.tenant === t.id)
      .map((p) => {
        const c = run.perPath.get(p.id) ?? {
          input: 0,
          forwarded: 0,
          dropped: 0,
          inputBytes: 0,
          forwardedBytes: 0,
          drops: {},
        };
        const ps = pathStats.get(p.id);
        return {
          id: p.id,
          name: p.name,
          needsHost: p.needsHost,
          input: c.input,
          forwarded: c.forwarded,
          dropped: c.dropped,
          inputBytes: c.inputBytes,
          forwardedBytes: c.forwardedBytes,
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
                ? {
                    packets: s.packets,
                    cycles: s.cycles,
                    cyclesPerPacket: s.packets ? round(s.cycles / s.packets) : 0,
                  }
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
    ...(where.placement ? { nicPlacement: where.placement } : {}),
  };
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
  if (r.nicPlacement) {
    const p = r.nicPlacement;
    const inNic = p.nfs.filter((n) => n.where === 'nic');
    lines.push(
      `NIC half on ${p.nic}: ${inNic.length} of ${p.nfs.length} NIC stage(s) offloaded to the NIC, the rest in software`,
    );
    for (const n of p.nfs) lines.push(`  ${n.name}: ${n.where === 'nic' ? 'NIC' : 'software'} (${n.reason})`);
    for (const note of p.notices) lines.push(`  note: ${note}`);
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
