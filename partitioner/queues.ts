/**
 * Host queue assignment: one queue per host-needing root path when the profile has enough;
 * otherwise paths with identical host hop sequences share a queue first (their batches never
 * fragment), and if that is still too many, the lowest-share groups are merged into one last,
 * fragmenting queue. Branch paths are entered on the host and use their root path's queue.
 */
import type { HostQueue, PlanPath } from './plan';
import { NfpError } from './errors';

export function assignQueues(
  paths: PlanPath[],
  hostQueues: number,
  weightOf: (p: PlanPath) => number,
): HostQueue[] {
  const roots = paths.filter((p) => p.needsHost && !p.branchOf);
  if (roots.length === 0) return [];
  if (hostQueues < 1) {
    throw new NfpError(
      'paths need the host but the NIC profile has no host queues',
      'use a --target profile with host queues',
    );
  }
  const seq = (p: PlanPath): string =>
    p.hops
      .filter((h) => h.spot === 'host')
      .map((h) => h.nf)
      .join(',');
  let groups: PlanPath[][];
  if (roots.length <= hostQueues) groups = roots.map((p) => [p]);
  else {
    const bySeq = new Map<string, PlanPath[]>();
    for (const p of roots) bySeq.set(seq(p), [...(bySeq.get(seq(p)) ?? []), p]);
    groups = [...bySeq.values()];
    if (groups.length > hostQueues) {
      const weight = (g: PlanPath[]): number => g.reduce((s, p) => s + weightOf(p), 0);
      groups.sort((a, b) => weight(b) - weight(a) || a[0].id - b[0].id);
      const kept = groups.slice(0, hostQueues - 1);
      const merged = groups.slice(hostQueues - 1).flat();
      groups = [...kept, merged];
    }
  }
  const queues: HostQueue[] = groups.map((g, id) => {
    const ids = g.map((p) => p.id).sort((a, b) => a - b);
    return { id, paths: ids, fragments: new Set(g.map(seq)).size > 1 };
  });
  const queueOf = new Map<number, number>();
  for (const q of queues) for (const id of q.paths) queueOf.set(id, q.id);
  // Branch paths inherit the queue of the root path they split from.
  const byId = new Map(paths.map((p) => [p.id, p]));
  const rootOf = (p: PlanPath): PlanPath => (p.branchOf ? rootOf(byId.get(p.branchOf.path) ?? p) : p);
  for (const p of paths) {
    const q = queueOf.get(rootOf(p).id);
    if (p.needsHost && q !== undefined) p.queue = q;
  }
  return queues;
}
