/**
 * Lowers a Plan (partitioner/plan.ts) to the host runtime's input: the host NFs with one config
 * per worker, every path with its hops (host hops marked, branches by verdict name) and the
 * queue each root path arrives on in the chosen input mode.
 */
import type { NatConfig } from '../../partitioner/nf-config';
import type { Plan, PlanNf } from '../../partitioner/plan';
import type { NativeHostPlan } from './native';

export type InputMode = 'presorted' | 'mixed' | 'raw';
export type IsolationBackend = 'sfi' | 'mpk' | 'none' | 'process';

export interface HostPlanOptions {
  mode: InputMode;
  workers: number;
  /** Run every tenant under this backend instead of the plan's choice (e.g. `none` in tests). */
  isolation?: IsolationBackend;
  /** Artifact (built NF) per plan NF id, for `custom` NFs. */
  artifacts?: Record<number, string>;
}

export interface LoweredHostPlan {
  native: NativeHostPlan;
  /** Host queue that packets of a root path arrive on (absent: the path never enters the host). */
  queueOfPath: Map<number, number>;
}

/**
 * One config per worker. Workers own separate NF instances (shared-nothing), so NAT splits its
 * port pool between them: two workers never hand out the same public port.
 */
export function workerConfigs(nf: PlanNf, workers: number): string[] {
  if (nf.type !== 'nat' || workers === 1) return [JSON.stringify(nf.config)];
  const cfg = nf.config as NatConfig;
  const size = cfg.portRange.hi - cfg.portRange.lo + 1;
  const share = Math.floor(size / workers);
  if (share < 1) return [JSON.stringify(cfg)];
  return Array.from({ length: workers }, (_, w) =>
    JSON.stringify({
      ...cfg,
      portRange: {
        lo: cfg.portRange.lo + w * share,
        hi: w === workers - 1 ? cfg.portRange.hi : cfg.portRange.lo + (w + 1) * share - 1,
      },
      maxFlows: Math.max(1, Math.ceil(cfg.maxFlows / workers)),
    }),
  );
}

/**
 * The plan's CPU weights as the scheduler's integers: relative, so scaled until the smallest
 * positive weight is 1 (2:6 and 1:3 are the same share); a zero or missing weight counts as 1.
 */
export function schedulerWeights(plan: Plan): Array<{ id: number; weight: number }> {
  const positive = plan.tenants.map((t) => t.weight).filter((w) => Number.isFinite(w) && w > 0);
  const unit = positive.length ? Math.min(...positive) : 1;
  return plan.tenants.map((t) => ({
    id: t.id,
    weight:
      Number.isFinite(t.weight) && t.weight > 0
        ? Math.min(1_000_000, Math.max(1, Math.round(t.weight / unit)))
        : 1,
  }));
}

export function lowerHostPlan(plan: Plan, opts: HostPlanOptions): LoweredHostPlan {
  const hostNfIds = new Set<number>();
  for (const p of plan.paths) for (const h of p.hops) if (h.spot === 'host') hostNfIds.add(h.nf);
  const isolationOf = new Map(plan.tenants.map((t) => [t.id, t.isolation] as const));
  const nfs = plan.nfs
    .filter((nf) => hostNfIds.has(nf.id))
    .map((nf) => ({
      id: nf.id,
      tenant: nf.tenant,
      name: nf.name,
      type: nf.type,
      backend: opts.isolation ?? isolationOf.get(nf.tenant) ?? 'none',
      ...(opts.artifacts?.[nf.id] !== undefined ? { artifact: opts.artifacts[nf.id] } : {}),
      configs: workerConfigs(nf, opts.workers),
    }));
  const queueOfPath = new Map<number, number>();
  let queues: number;
  if (opts.mode === 'mixed') {
    queues = 1;
    for (const p of plan.paths) if (p.needsHost && !p.branchOf) queueOfPath.set(p.id, 0);
  } else {
    const index = new Map(plan.queues.map((q, i) => [q.id, i] as const));
    queues = Math.max(1, plan.queues.length);
    for (const p of plan.paths) {
      if (!p.needsHost || p.branchOf || p.queue === undefined) continue;
      const q = index.get(p.queue);
      if (q !== undefined) queueOfPath.set(p.id, q);
    }
  }
  const paths = plan.paths.map((p) => ({
    id: p.id,
    tenant: p.tenant,
    ...(queueOfPath.has(p.id) ? { queue: queueOfPath.get(p.id) } : {}),
    hops: p.hops.map((h) => ({
      nf: h.nf,
      host: h.spot === 'host',
      ...(h.spot === 'host' && h.branches ? { branches: h.branches } : {}),
    })),
  }));
  const access = new Map(plan.tenants.map((t) => [t.id, t.packetAccess ?? 'shared'] as const));
  const tenants = schedulerWeights(plan).map((t) => ({ ...t, packetAccess: access.get(t.id) ?? 'shared' }));
  return { native: { queues, nfs, paths, tenants }, queueOfPath };
}
