import { describe, expect, it } from 'vitest';
import {
  GraphError,
  NfpError,
  PlanError,
  loadGraph,
  parseGraph,
  partition,
  profiles,
  validatePlan,
  type Plan,
} from '../../partitioner';
import { assignQueues } from '../../partitioner/queues';
import type { PlanPath } from '../../partitioner/plan';

const EXAMPLES = ['enterprise-edge', 'multi-tenant', 'branch-heavy'];

async function planOf(example: string, profile = 'softnic'): Promise<Plan> {
  return partition(loadGraph(`examples/${example}.yaml`), { profile });
}

describe('plans', () => {
  for (const example of EXAMPLES) {
    for (const profile of Object.keys(profiles)) {
      it(`${example} on ${profile} partitions into a valid plan`, async () => {
        const plan = await planOf(example, profile);
        const json: unknown = JSON.parse(JSON.stringify(plan));
        expect(validatePlan(json)).toEqual(json);
        // Every NF has a reason; every resource stays within the profile.
        for (const nf of plan.nfs) expect(nf.reason.length).toBeGreaterThan(5);
        for (const [k, line] of Object.entries(plan.resources)) {
          expect(line.used, k).toBeLessThanOrEqual(line.available);
        }
        // Root paths each have exactly one path rule; each tenant ends in a catch-all.
        const roots = plan.paths.filter((p) => !p.branchOf);
        expect(plan.pathRules.map((r) => r.path).sort((a, b) => a - b)).toEqual(roots.map((p) => p.id));
        for (const t of plan.tenants) {
          const rules = plan.pathRules
            .filter((r) => r.tenant === t.id)
            .sort((a, b) => b.priority - a.priority);
          expect(rules[rules.length - 1].match).toEqual({});
        }
        // Spots follow from placement and order: nothing on the NIC before the host after it.
        for (const p of plan.paths) {
          let seenHost = false;
          for (const h of p.hops) {
            expect(h.spot === 'host').toBe(plan.nfs[h.nf].placement === 'host');
            if (h.spot === 'host') seenHost = true;
            else expect(h.spot).toBe(seenHost ? 'nic-post' : 'nic-pre');
          }
          expect(p.needsHost).toBe(p.hostHops > 0);
          if (p.needsHost) expect(p.queue).toBeDefined();
        }
        // Per-tenant path shares sum to 1.
        for (const t of plan.tenants) {
          const sum = plan.paths.filter((p) => p.tenant === t.id).reduce((s, p) => s + p.share, 0);
          expect(sum).toBeCloseTo(1, 9);
        }
      });
    }
  }

  it('enterprise-edge: firewall on the NIC, NAT and LB on the host, bypass never touches the host', async () => {
    const plan = await planOf('enterprise-edge');
    const byName = Object.fromEntries(plan.nfs.map((n) => [n.name, n]));
    expect(byName['edge.fw'].placement).toBe('nic');
    expect(byName['edge.nat']).toMatchObject({
      placement: 'host',
      reason: 'stateful: per-flow port mappings need host',
    });
    expect(byName['edge.lb'].placement).toBe('host');
    expect(plan.paths.map((p) => p.name)).toEqual(['edge: fw → nat → lb → exit', 'edge: fw → exit']);
    expect(plan.paths[1].needsHost).toBe(false);
    expect(plan.paths[0].share).toBeCloseTo(0.75, 9);
    expect(plan.objective.solver).toBe('milp');
    expect(plan.objective.optimal).toBe(true);
  });

  it('branch-heavy: at least 8 paths, an IDS fragmentation point and branch paths', async () => {
    const plan = await planOf('branch-heavy');
    expect(plan.paths.length).toBeGreaterThanOrEqual(8);
    const ids = plan.nfs.find((n) => n.name === 'campus.ids');
    expect(ids?.verdicts).toEqual(['alert']);
    expect(plan.fragmentationPoints.length).toBe(3);
    for (const f of plan.fragmentationPoints) {
      expect(f.nf).toBe(ids?.id);
      const branch = plan.paths.find((p) => p.id === f.branches.alert);
      expect(branch?.branchOf).toMatchObject({ path: f.path, verdict: 'alert' });
      const parent = plan.paths.find((p) => p.id === f.path) as PlanPath;
      // The branch shares the parent's hops up to and including the IDS.
      const hop = branch?.branchOf?.hop ?? -1;
      expect(branch?.hops.slice(0, hop + 1).map((h) => h.nf)).toEqual(
        parent.hops.slice(0, hop + 1).map((h) => h.nf),
      );
      expect(parent.hops[hop].branches).toEqual({ alert: branch?.id });
      expect(branch?.queue).toBe(parent.queue);
    }
    const drop = plan.paths.find((p) => p.terminal.kind === 'drop');
    expect(drop?.terminal).toEqual({ kind: 'drop', reason: 'graph-drop:entry' });
  });

  it('hw-small forces hard choices and says why', async () => {
    const plan = await planOf('branch-heavy', 'hw-small');
    const limiters = plan.nfs.filter((n) => n.type === 'ratelimiter');
    expect(limiters.map((n) => n.placement).sort()).toEqual(['host', 'nic']);
    expect(limiters.find((n) => n.placement === 'host')?.reason).toBe('NIC meters exhausted');
    expect(plan.resources.meters).toEqual({ used: 1, available: 1 });
    // Three root paths share the host hop sequence ids → lb: one queue, no fragmentation.
    expect(plan.queues.length).toBeLessThanOrEqual(2);
    expect(plan.queues[0].fragments).toBe(false);
    expect(plan.queues[0].paths.length).toBe(3);
  });

  it('counts range rules as ternary prefix expansions when the NIC lacks range match', async () => {
    const g = parseGraph(
      `version: 1
tenants:
  - name: a
    slice: { ingressPort: 0 }
    egressPort: 1
    nfs:
      m: { type: monitor }
    graph:
      - { from: entry, to: m, when: { proto: tcp, dstPort: '1-1023' } }
      - { from: entry, to: exit }
      - { from: m, to: exit }
`,
      'g.yaml',
    );
    const soft = await partition(g, { profile: 'softnic' });
    const small = await partition(g, { profile: 'hw-small' });
    // 1 tenant rule + catch-all path rule, plus the range rule: 1 range entry, or 10 prefixes.
    expect(soft.resources.rangeEntries.used).toBe(1);
    expect(soft.resources.ternaryEntries.used).toBe(2);
    expect(small.resources.rangeEntries.used).toBe(0);
    expect(small.resources.ternaryEntries.used).toBe(12);
  });

  it('pins win over the objective', async () => {
    const g = parseGraph(
      `version: 1
tenants:
  - name: a
    slice: { ingressPort: 0 }
    egressPort: 1
    nfs:
      mark: { type: marker, config: { dscp: 10 }, pin: host }
    graph:
      - { from: entry, to: mark }
      - { from: mark, to: exit }
`,
      'g.yaml',
    );
    const plan = await partition(g);
    expect(plan.nfs[0]).toMatchObject({
      placement: 'host',
      reason: 'pinned to the host by the graph (pin: host)',
    });
    expect(plan.objective.value).toBeCloseTo(20 + profiles.softnic.crossingCycles, 9);
  });

  it('rejects ports the profile does not have, with the location', async () => {
    const g = loadGraph('examples/multi-tenant.yaml');
    g.tenants[2].egressPort = 7;
    await expect(partition(g, { profile: 'hw-small' })).rejects.toThrow(GraphError);
    await expect(partition(g, { profile: 'hw-small' })).rejects.toThrow(
      /multi-tenant\.yaml:\d+:\d+: tenants\[2\]\.egressPort: egress port 7 is not a wire port of profile hw-small \(0, 1, 2, 3\)/,
    );
  });

  it('rejects an unknown profile with a suggestion', async () => {
    await expect(
      partition(loadGraph('examples/enterprise-edge.yaml'), { profile: 'hw-smal' }),
    ).rejects.toThrow(/unknown NIC profile "hw-smal"; did you mean "hw-small"\?/);
  });

  it('fails clearly when classification alone exceeds the TCAM', async () => {
    const lines = ['version: 1', 'tenants:'];
    for (let t = 0; t < 40; t++) {
      lines.push(
        `  - { name: t${t}, slice: { vlan: ${t + 1} }, egressPort: 1, nfs: {}, graph: [{ from: entry, to: exit }] }`,
      );
    }
    const g = parseGraph(lines.join('\n'), 'many.yaml');
    await expect(partition(g, { profile: 'hw-small' })).rejects.toThrow(NfpError);
    await expect(partition(g, { profile: 'hw-small' })).rejects.toThrow(
      /classification alone needs 80 ternaryEntries but profile hw-small has 32/,
    );
  });

  it('validatePlan rejects broken plans with specific problems', async () => {
    const plan = JSON.parse(JSON.stringify(await planOf('enterprise-edge'))) as Plan;
    expect(() => validatePlan({ ...plan, version: 2 })).toThrow(PlanError);
    expect(() => validatePlan({ ...plan, version: 2 })).toThrow(/\/version: must be equal to constant/);
    const dangling = { ...plan, pathRules: [{ ...plan.pathRules[0], path: 99 }] };
    expect(() => validatePlan(dangling)).toThrow(/\/pathRules\/0\/path: no path 99/);
    expect(() => validatePlan('nope')).toThrow(/must be object/);
  });
});

describe('queue assignment', () => {
  const path = (id: number, hostNfs: number[], share: number): PlanPath => ({
    id,
    tenant: 1,
    name: `p${id}`,
    hops: hostNfs.map((nf) => ({ nf, spot: 'host' as const })),
    terminal: { kind: 'exit', port: 1 },
    share,
    needsHost: hostNfs.length > 0,
    hostHops: hostNfs.length,
  });

  it('gives each host path its own queue when there are enough', () => {
    const paths = [path(1, [0], 0.5), path(2, [1], 0.3), path(3, [], 0.2)];
    const q = assignQueues(paths, 4, (p) => p.share);
    expect(q).toEqual([
      { id: 0, paths: [1], fragments: false },
      { id: 1, paths: [2], fragments: false },
    ]);
    expect(paths.map((p) => p.queue)).toEqual([0, 1, undefined]);
  });

  it('merges identical host sequences first, then the lowest shares', () => {
    const paths = [
      path(1, [0, 1], 0.4),
      path(2, [0, 1], 0.1),
      path(3, [2], 0.3),
      path(4, [3], 0.15),
      path(5, [4], 0.05),
    ];
    const q = assignQueues(paths, 3, (p) => p.share);
    expect(q).toEqual([
      { id: 0, paths: [1, 2], fragments: false },
      { id: 1, paths: [3], fragments: false },
      { id: 2, paths: [4, 5], fragments: true },
    ]);
  });
});

describe('profiles', () => {
  it('accept a custom profile object with host-cycle overrides', async () => {
    const custom = { ...profiles.softnic, name: 'lab', crossingCycles: 0, hostCycles: { nat: 1000 } };
    const plan = await partition(loadGraph('examples/enterprise-edge.yaml'), { profile: custom });
    expect(plan.profile.name).toBe('lab');
    const nat = plan.nfs.find((n) => n.type === 'nat');
    expect(nat?.hostCycles).toBe(1000);
    // 75% of traffic crosses NAT (1000) and LB (220); crossings are free here.
    expect(plan.objective.value).toBeCloseTo(0.75 * 1220, 9);
    expect(validatePlan(JSON.parse(JSON.stringify(plan))).profile.hostCycles).toEqual({ nat: 1000 });
  });
});

describe('dynamic branches', () => {
  it('nest: a verdict on a branch path opens a branch of that branch', async () => {
    const g = parseGraph(
      `version: 1
tenants:
  - name: a
    slice: { ingressPort: 0 }
    egressPort: 1
    nfs:
      ids1: { type: ids, config: { patterns: [x] } }
      q: { type: vlan, config: { op: push, vid: 999 } }
      ids2: { type: ids, config: { patterns: [y] } }
    graph:
      - { from: entry, to: ids1 }
      - { from: ids1, to: q, verdict: alert, share: 1 }
      - { from: ids1, to: exit, share: 3 }
      - { from: q, to: ids2 }
      - { from: ids2, to: drop, verdict: alert }
      - { from: ids2, to: exit }
`,
      'g.yaml',
    );
    const plan = await partition(g);
    expect(plan.paths.map((p) => [p.name, p.share, p.branchOf ?? null])).toEqual([
      ['a: ids1 → exit', 0.75, null],
      ['a: ids1 → q → ids2 → exit', 0.125, { path: 1, hop: 0, verdict: 'alert' }],
      ['a: ids1 → q → ids2 → drop (graph-drop:ids2)', 0.125, { path: 2, hop: 2, verdict: 'alert' }],
    ]);
    expect(plan.pathRules.map((r) => r.path)).toEqual([1]);
    expect(plan.fragmentationPoints).toEqual([
      { tenant: 1, nf: 0, path: 1, branches: { alert: 2 } },
      { tenant: 1, nf: 2, path: 2, branches: { alert: 3 } },
    ]);
    // q sits between two host NFs: offloading it would add a crossing, so it stays on the host.
    expect(plan.nfs[1].placement).toBe('host');
    expect(plan.nfs[1].reason).toMatch(/^kept on host: offloading would add PCIe crossings/);
  });

  it('a verdict node without a default edge drops passing packets with no-edge', async () => {
    const g = parseGraph(
      `version: 1
tenants:
  - name: a
    slice: { ingressPort: 0 }
    egressPort: 1
    nfs:
      ids: { type: ids, config: { patterns: [x] } }
    graph:
      - { from: entry, to: ids }
      - { from: ids, to: exit, verdict: alert }
`,
      'g.yaml',
    );
    const plan = await partition(g);
    expect(plan.paths.map((p) => p.terminal)).toEqual([
      { kind: 'drop', reason: 'no-edge:ids' },
      { kind: 'exit', port: 1 },
    ]);
  });
});
