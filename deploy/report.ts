/**
 * The deploy report: per tenant, path and NF, what came in, what left, what was dropped and why,
 * and what it cost; the NIC's own counters as the target reads them; where each NIC NF ran (the
 * NIC itself or software, on targets that split it); and the end-to-end account
 * `input = forwarded + dropped`.
 *
 * It adds up. A packet is counted on the root path the NIC classified it into; when an NF on the
 * host moved it to a branch path (an IDS alert), it is counted as branched there and its fate on
 * the branch, so every path has `input = forwarded + dropped + branched`. The NFs under a path
 * show what they did on that path (host NFs: the runtime's per-path figures; a NIC monitor: its
 * counter cell of that path), so an NF's total is the sum over the paths through it.
 */
import type { NicArtifacts } from '../p4';
import { nfIdent } from '../p4/names';
import type { Plan, PlanPath } from '../partitioner/plan';
import type { HostStats } from '../host-runtime/lib';
import type { NicCounters, NicPlacementReport, TargetDescription, TrafficRun } from '../targets';

export interface NfReport {
  name: string;
  type: string;
  placement: 'nic' | 'host';
  /**
   * Packets the NF handled (on this path, under a path; in all, under a tenant): host NFs, from
   * the runtime; a NIC monitor, from its counter. Absent where nothing counts them.
   */
  packets?: number;
  /** Host NFs: cycles measured around each batch call (on this path, or in all), and per packet. */
  cycles?: number;
  cyclesPerPacket?: number;
  /** Under a branch path: the NF ran before the branch, so its packets count on `onPath`. */
  onPath?: number;
}

export interface PathReport {
  id: number;
  name: string;
  needsHost: boolean;
  /** A path only a dynamic verdict on the host enters: the root path and the verdict. */
  branchOf?: { path: number; verdict: string };
  /** Classified into it by the NIC (a root path), or moved into it by the host (a branch). */
  input: number;
  forwarded: number;
  dropped: number;
  /** Bytes of the frames that came in, and of the frames that went out. */
  inputBytes: number;
  forwardedBytes: number;
  dropsByReason: Record<string, number>;
  /** Packets that left this path for a branch path, by the branch's id. */
  branched: Record<string, number>;
  /** Host cycles per packet spent on this path (absent when no host NF ran on it). */
  hostCyclesPerPacket?: number;
  nfs: NfReport[];
}

export interface OfferedLoad {
  packets: number;
  bytes: number;
  /** Packets and megabits (frame bytes) per second; absent when the run was too short to time. */
  pps?: number;
  mbps?: number;
}

export interface TenantReport {
  id: number;
  name: string;
  /** What the traffic offered the tenant (its share of the input), so meter drops can be read. */
  offered: OfferedLoad;
  input: number;
  forwarded: number;
  dropped: number;
  inputBytes: number;
  forwardedBytes: number;
  hostCycles: number;
  quarantined: boolean;
  /** Why the tenant was quarantined (its NF's fault, as the isolation backend reports it). */
  fault?: string;
  /** Per NF of the tenant, in all: the sum of its figures over the paths through it. */
  nfs: NfReport[];
  paths: PathReport[];
}

export interface DeployReport {
  target: string;
  address: string;
  deviceId: number;
  isolation: string;
  /** Wall time of the traffic, in seconds (a single pass may take milliseconds). */
  seconds: number;
  /** Input packets per second, in millions; absent when the run was too short to time. */
  mpps?: number;
  totals: { input: number; forwarded: number; dropped: number };
  dropsByReason: Record<string, number>;
  tenants: TenantReport[];
  /**
   * Packets no tenant's slice took as the traffic expected them (frames the NIC refuses before
   * classifying them: malformed, oversize, ...; or no tenant's slice): counted here, not in a tenant.
   */
  unclassified?: { input: number; forwarded: number; dropped: number };
  /** NIC counters by name, as the target reads them: index → packets. */
  nicCounters: NicCounters;
  /** NIC drops by reason, from the pipeline's drop counter. */
  nicDropsByReason: Record<string, number>;
  /** Where each NIC NF ran, on targets that split the NIC half (dpdk: the NIC or software). */
  nicPlacement?: NicPlacementReport;
}

/** Runs shorter than this are reported without rates: the clock cannot time them. */
const MIN_TIMED_SECONDS = 0.01;

type HostPath = HostStats['paths'][number];

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
  const timed = run.seconds >= MIN_TIMED_SECONDS;
  const nfStats = new Map((hostStats?.nfs ?? []).map((n) => [n.id, n] as const));
  const pathStats = new Map((hostStats?.paths ?? []).map((p) => [p.id, p] as const));
  const tenantStats = new Map((hostStats?.tenants ?? []).map((t) => [t.id, t] as const));
  // A NIC monitor counts per path id, in a counter of each side it runs on.
  const monitorCount = (nfId: number, pathId: number): number => {
    const base = `${nic.pipeline.control}.${nfIdent(plan.nfs[nfId])}`;
    return (
      (nicCounters[`${base}_packets`]?.[pathId] ?? 0) + (nicCounters[`${base}_post_packets`]?.[pathId] ?? 0)
    );
  };

  const tenants: TenantReport[] = plan.tenants.map((t) => {
    const counts = run.perTenant.get(t.id) ?? {
      input: 0,
      forwarded: 0,
      dropped: 0,
      inputBytes: 0,
      forwardedBytes: 0,
    };
    const paths = plan.paths.filter((p) => p.tenant === t.id).map((p) => pathReport(p));
    const ts = tenantStats.get(t.id);
    return {
      id: t.id,
      name: t.name,
      offered: {
        packets: counts.input,
        bytes: counts.inputBytes,
        ...(timed
          ? {
              pps: Math.round(counts.input / run.seconds),
              mbps: round((counts.inputBytes * 8) / run.seconds / 1e6, 2),
            }
          : {}),
      },
      input: counts.input,
      forwarded: counts.forwarded,
      dropped: counts.dropped,
      inputBytes: counts.inputBytes,
      forwardedBytes: counts.forwardedBytes,
      hostCycles: ts?.cycles ?? 0,
      quarantined: ts?.quarantined ?? false,
      ...(ts?.quarantined && ts.fault ? { fault: ts.fault } : {}),
      nfs: tenantNfs(t.id, paths),
      paths,
    };
  });

  function pathReport(p: PlanPath): PathReport {
    const c = run.perPath.get(p.id) ?? {
      input: 0,
      forwarded: 0,
      dropped: 0,
      inputBytes: 0,
      forwardedBytes: 0,
      drops: {},
      branched: {},
    };
    const ps = pathStats.get(p.id);
    const branchHop = p.branchOf?.hop ?? -1;
    return {
      id: p.id,
      name: p.name,
      needsHost: p.needsHost,
      ...(p.branchOf ? { branchOf: { path: p.branchOf.path, verdict: p.branchOf.verdict } } : {}),
      input: c.input,
      forwarded: c.forwarded,
      dropped: c.dropped,
      inputBytes: c.inputBytes,
      forwardedBytes: c.forwardedBytes,
      dropsByReason: c.drops,
      branched: Object.fromEntries(Object.entries(c.branched).map(([k, v]) => [String(k), v])),
      ...(ps && ps.packets > 0 && ps.cycles > 0
        ? { hostCyclesPerPacket: round(ps.cycles / ps.packets) }
        : {}),
      nfs: p.hops.map((h, i) => {
        const nf = plan.nfs[h.nf];
        const base: NfReport = { name: nf.name, type: nf.type, placement: nf.placement };
        // Up to the branching hop, a branch path's NFs ran on its root path.
        if (i <= branchHop && p.branchOf) return { ...base, onPath: p.branchOf.path };
        if (h.spot === 'host') return { ...base, ...hostFigures(ps, nf.id) };
        if (nf.type === 'monitor' && nf.placement === 'nic')
          return { ...base, packets: monitorCount(nf.id, p.id) };
        return base;
      }),
    };
  }

  function hostFigures(
    ps: HostPath | undefined,
    nfId: number,
  ): Pick<NfReport, 'packets' | 'cycles' | 'cyclesPerPacket'> {
    const hop = ps?.hops?.find((x) => x.nf === nfId);
    if (!hop && !nfStats.has(nfId)) return {};
    const packets = hop?.packets ?? 0;
    const cycles = hop?.cycles ?? 0;
    return { packets, cycles, ...(packets > 0 ? { cyclesPerPacket: round(cycles / packets) } : {}) };
  }

  function tenantNfs(tenant: number, paths: PathReport[]): NfReport[] {
    return plan.nfs
      .filter((nf) => nf.tenant === tenant)
      .map((nf) => {
        const base: NfReport = { name: nf.name, type: nf.type, placement: nf.placement };
        const s = nfStats.get(nf.id);
        if (nf.placement === 'host' && s)
          return {
            ...base,
            packets: s.packets,
            cycles: s.cycles,
            ...(s.packets ? { cyclesPerPacket: round(s.cycles / s.packets) } : {}),
          };
        if (nf.type === 'monitor' && nf.placement === 'nic') {
          const packets = paths.flatMap((p) =>
            p.nfs.filter((x) => x.name === nf.name && x.onPath === undefined),
          );
          return { ...base, packets: packets.reduce((a, x) => a + (x.packets ?? 0), 0) };
        }
        return base;
      });
  }

  const known = new Set(plan.tenants.map((t) => t.id));
  const unclassified = { input: 0, forwarded: 0, dropped: 0 };
  for (const [id, c] of run.perTenant) {
    if (known.has(id)) continue;
    unclassified.input += c.input;
    unclassified.forwarded += c.forwarded;
    unclassified.dropped += c.dropped;
  }

  return {
    target: where.target,
    address: where.address,
    deviceId: where.deviceId,
    isolation: where.isolation ?? plan.tenants.map((t) => `${t.name}=${t.isolation}`).join(','),
    seconds: round(run.seconds, 4),
    ...(timed ? { mpps: round(run.input / run.seconds / 1e6, 4) } : {}),
    totals: { input: run.input, forwarded: run.forwarded, dropped: run.dropped },
    dropsByReason: run.dropsByReason,
    tenants,
    ...(unclassified.input ? { unclassified } : {}),
    nicCounters,
    nicDropsByReason,
    ...(where.placement ? { nicPlacement: where.placement } : {}),
  };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Thousands separated, so that large counts read at a glance. */
function n(x: number): string {
  return x.toLocaleString('en-US');
}

function duration(r: DeployReport): string {
  if (r.mpps === undefined) return `${n(r.totals.input)} packets in ${r.seconds} s (one short pass: no rate)`;
  return `${n(r.totals.input)} packets in ${r.seconds} s (${r.mpps} Mpps)`;
}

/** The human-readable report. */
export function renderReport(r: DeployReport): string {
  const lines: string[] = [];
  const pct = (x: number, d: number): string => (d ? `${((100 * x) / d).toFixed(1)}%` : '-');
  lines.push(
    `deployed on ${r.target} (${r.address}, device ${r.deviceId}), isolation ${r.isolation}: ${duration(r)}`,
  );
  for (const t of r.tenants) {
    const o = t.offered;
    const offered = o.pps !== undefined ? `offered ${n(o.pps)} pps, ${o.mbps} Mbps; ` : '';
    lines.push(
      `tenant ${t.name}: ${offered}${n(t.input)} in, ${n(t.forwarded)} forwarded, ${n(t.dropped)} dropped${t.quarantined ? ` [QUARANTINED${t.fault ? `: ${t.fault}` : ''}]` : ''}`,
    );
    for (const p of t.paths) {
      if (p.input === 0 && !p.needsHost && !p.branchOf) continue;
      const head = `  path ${p.id} ${p.name}${p.branchOf ? ` (${p.branchOf.verdict} on path ${p.branchOf.path})` : ''}`;
      if (p.input === 0) {
        lines.push(`${head}: no packets`);
        continue;
      }
      const parts = [`${n(p.input)} in`, `${n(p.forwarded)} out`, `${n(p.dropped)} dropped`];
      const drops = Object.entries(p.dropsByReason).map(([k, v]) => `${k}=${n(v)}`);
      if (drops.length) parts[2] += ` (${drops.join(' ')})`;
      for (const [to, v] of Object.entries(p.branched)) parts.push(`${n(v)} to path ${to}`);
      if (p.hostCyclesPerPacket !== undefined) parts.push(`${p.hostCyclesPerPacket} host cycles/pkt`);
      lines.push(`${head}: ${parts.join(', ')}`);
      for (const nf of p.nfs) lines.push(`    ${nf.name} (${nf.type}) on ${nf.placement}${nfFigures(nf)}`);
    }
  }
  if (r.unclassified) {
    const u = r.unclassified;
    lines.push(
      `no tenant (refused before classification, or in no slice): ${n(u.input)} in, ${n(u.forwarded)} forwarded, ${n(u.dropped)} dropped`,
    );
  }
  if (r.nicPlacement) {
    const p = r.nicPlacement;
    const inNic = p.nfs.filter((x) => x.where === 'nic');
    lines.push(
      `NIC half on ${p.nic}: ${inNic.length} of ${p.nfs.length} NIC stage(s) offloaded to the NIC, the rest in software`,
    );
    for (const x of p.nfs) lines.push(`  ${x.name}: ${x.where === 'nic' ? 'NIC' : 'software'} (${x.reason})`);
    for (const c of p.checks ?? [])
      lines.push(`  check ${c.check}: ${c.where === 'nic' ? 'NIC' : 'software'} (${c.reason})`);
    for (const note of p.notices) lines.push(`  note: ${note}`);
  }
  lines.push('drops by reason:');
  for (const [k, v] of Object.entries(r.dropsByReason).sort((a, b) => b[1] - a[1])) {
    lines.push(`  ${k}: ${n(v)} (${pct(v, r.totals.input)})`);
  }
  if (Object.keys(r.dropsByReason).length === 0) lines.push('  none');
  lines.push(
    `totals: input ${n(r.totals.input)} = forwarded ${n(r.totals.forwarded)} + dropped ${n(r.totals.dropped)}` +
      (r.totals.input === r.totals.forwarded + r.totals.dropped
        ? ' (every packet accounted for)'
        : ' (MISMATCH)'),
  );
  return lines.join('\n');
}

function nfFigures(nf: NfReport): string {
  if (nf.onPath !== undefined) return `, before the branch (counted on path ${nf.onPath})`;
  if (nf.packets === undefined) return '';
  if (nf.packets === 0) return ': no packets';
  const cost = nf.cyclesPerPacket !== undefined ? `, ${nf.cyclesPerPacket} cycles/pkt` : '';
  return `: ${n(nf.packets)} pkts${cost}`;
}
