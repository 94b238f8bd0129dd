/**
 * Builds a complete Plan whose paths run only on the host, for host-runtime tests and benchmarks
 * that need shapes the example graphs do not have (many paths, long chains, empty chains).
 */
import { resolveProfile } from '../../partitioner/profiles';
import type { NfConfig, NfType } from '../../partitioner/nf-config';
import {
  PLAN_VERSION,
  type PathHop,
  type Plan,
  type PlanPath,
  type ResourceLine,
} from '../../partitioner/plan';

export interface HostNfSpec {
  type: NfType;
  config: NfConfig;
  tenant?: number;
  verdicts?: string[];
}

export interface HostPathSpec {
  id: number;
  tenant?: number;
  /** Indices into `nfs`, run in order on the host. */
  nfs: number[];
  /** Dynamic branches: at hop `hop` (index into `nfs`), verdict `verdict` continues on path `to`. */
  branches?: Array<{ hop: number; verdict: string; to: number }>;
  /** Host queue (pre-sorted mode); absent for paths only a branch enters. */
  queue?: number;
  branchOf?: { path: number; hop: number; verdict: string };
}

const line = (): ResourceLine => ({ used: 0, available: 0 });

export function hostOnlyPlan(nfs: HostNfSpec[], paths: HostPathSpec[]): Plan {
  const tenantIds = [...new Set([...nfs.map((n) => n.tenant ?? 1), ...paths.map((p) => p.tenant ?? 1)])];
  const planPaths: PlanPath[] = paths.map((p) => {
    const hops: PathHop[] = p.nfs.map((nf, i) => {
      const br = (p.branches ?? []).filter((b) => b.hop === i);
      return {
        nf,
        spot: 'host',
        ...(br.length ? { branches: Object.fromEntries(br.map((b) => [b.verdict, b.to])) } : {}),
      };
    });
    return {
      id: p.id,
      tenant: p.tenant ?? 1,
      name: `path ${p.id}`,
      hops,
      terminal: { kind: 'exit', port: 0 },
      share: 1 / paths.length,
      ...(p.branchOf ? { branchOf: p.branchOf } : {}),
      needsHost: true,
      ...(p.queue !== undefined ? { queue: p.queue } : {}),
      hostHops: hops.length,
    };
  });
  const queueIds = [...new Set(paths.flatMap((p) => (p.queue === undefined ? [] : [p.queue])))].sort(
    (a, b) => a - b,
  );
  return {
    version: PLAN_VERSION,
    graphFile: '(host-only plan)',
    profile: resolveProfile(undefined),
    tenants: tenantIds.map((id) => ({
      id,
      name: `t${id}`,
      weight: 1,
      egressPort: 0,
      trafficShare: 1 / tenantIds.length,
      isolation: 'none',
    })),
    nfs: nfs.map((n, id) => ({
      id,
      tenant: n.tenant ?? 1,
      name: `t${n.tenant ?? 1}.${n.type}${id}`,
      type: n.type,
      config: n.config,
      placement: 'host',
      reason: 'host-only plan',
      hostCycles: 0,
      verdicts: n.verdicts ?? (n.type === 'ids' ? ['alert'] : []),
    })),
    paths: planPaths,
    tenantRules: [],
    pathRules: [],
    queues: queueIds.map((id) => ({
      id,
      paths: paths.filter((p) => p.queue === id).map((p) => p.id),
      fragments: false,
    })),
    fragmentationPoints: [],
    resources: {
      stages: line(),
      exactEntries: line(),
      ternaryEntries: line(),
      lpmEntries: line(),
      rangeEntries: line(),
      meters: line(),
      counters: line(),
      hostQueues: line(),
    },
    objective: {
      value: 0,
      hostCycles: 0,
      crossingCycles: 0,
      solver: 'heuristic',
      optimal: false,
      seconds: 0,
    },
  };
}
