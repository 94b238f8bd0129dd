/**
 * The end-to-end account of a traffic run, shared by every data path: each input packet ends
 * forwarded on a wire port or dropped with a reason, counted per tenant and path, and (for
 * differential tests) its fate kept.
 */
import type { Plan } from '../partitioner/plan';
import type {
  PacketFate,
  PathCounts,
  ProgressCallback,
  TrafficCounts,
  TrafficPacket,
  TrafficRun,
} from './target';

const zero = (): TrafficCounts => ({ input: 0, forwarded: 0, dropped: 0, inputBytes: 0, forwardedBytes: 0 });

export function emptyRun(): TrafficRun {
  return {
    seconds: 0,
    input: 0,
    forwarded: 0,
    dropped: 0,
    dropsByReason: {},
    perTenant: new Map(),
    perPath: new Map(),
  };
}

export class TrafficAccount {
  readonly run: TrafficRun;
  private readonly started = Date.now();
  private lastProgress = Date.now();
  private lastPerTenant = new Map<number, number>();

  /** Paths only a dynamic branch on the host enters. */
  private readonly branches: Set<number>;

  constructor(
    private readonly plan: Plan,
    recordFates: boolean,
  ) {
    this.run = { ...emptyRun(), ...(recordFates ? { fates: [] } : {}) };
    this.branches = new Set(plan.paths.filter((p) => p.branchOf).map((p) => p.id));
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  private pathCounts(id: number): PathCounts {
    let c = this.run.perPath.get(id);
    if (!c) this.run.perPath.set(id, (c = { ...zero(), drops: {}, branched: {} }));
    return c;
  }

  /**
   * Counts one packet: on its root path (the NIC's classification, `p.path`), and when the host
   * moved it to a branch path (`fate.path`), as branched there, its fate counted on the branch.
   */
  account(p: TrafficPacket, fate: PacketFate, index: number, record: boolean): void {
    const r = this.run;
    const t = r.perTenant.get(p.tenant) ?? zero();
    t.inputBytes += p.data.length;
    const root = this.pathCounts(p.path);
    root.input++;
    root.inputBytes += p.data.length;
    let path = root;
    if (fate.path !== undefined && fate.path !== p.path && this.branches.has(fate.path)) {
      root.branched[fate.path] = (root.branched[fate.path] ?? 0) + 1;
      path = this.pathCounts(fate.path);
      path.input++;
      path.inputBytes += p.data.length;
    }
    r.input++;
    t.input++;
    if (fate.kind === 'forwarded') {
      r.forwarded++;
      t.forwarded++;
      path.forwarded++;
      t.forwardedBytes += fate.data.length;
      path.forwardedBytes += fate.data.length;
    } else {
      const key = `${fate.where}:${fate.reason}`;
      r.dropped++;
      t.dropped++;
      path.dropped++;
      r.dropsByReason[key] = (r.dropsByReason[key] ?? 0) + 1;
      path.drops[key] = (path.drops[key] ?? 0) + 1;
    }
    r.perTenant.set(p.tenant, t);
    if (record && r.fates) r.fates[index] = fate;
  }

  /** Calls `onProgress` with packets per second per tenant, at most about once a second. */
  progress(onProgress: ProgressCallback | undefined): void {
    const now = Date.now();
    if (!onProgress || now - this.lastProgress < 1000) return;
    const perTenantPps: Record<string, number> = {};
    for (const t of this.plan.tenants) {
      const n = this.run.perTenant.get(t.id)?.input ?? 0;
      perTenantPps[t.name] = Math.round(
        ((n - (this.lastPerTenant.get(t.id) ?? 0)) * 1000) / (now - this.lastProgress),
      );
    }
    this.lastPerTenant = new Map([...this.run.perTenant].map(([id, c]) => [id, c.input]));
    this.lastProgress = now;
    onProgress({ elapsedSeconds: (now - this.started) / 1000, input: this.run.input, perTenantPps });
  }

  /** The account so far, with the seconds elapsed (the run goes on). */
  snapshot(): TrafficRun {
    return { ...this.run, seconds: this.elapsedMs / 1000 };
  }

  finish(): TrafficRun {
    this.run.seconds = (Date.now() - this.started) / 1000;
    return this.run;
  }
}
