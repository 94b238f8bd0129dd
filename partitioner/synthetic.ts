/**
 * Seeded generator of valid service graphs (as YAML text, loaded through the real loader), for
 * benchmarks and randomised tests: chains of NFs with predicate forks, bypasses, drops and IDS
 * verdict branches, one distinct slice per tenant.
 */
import type { ServiceGraph } from './graph';
import { parseGraph } from './load';
import { prepare } from './partition';
import { COST_KEYS, type PlacementProblem } from './placement';

export interface SyntheticOptions {
  tenants: number;
  nfsPerTenant: number;
  seed: number;
  /** Predicate forks per tenant (each adds paths); default 3. */
  forks?: number;
  /** Probability that an NF is an IDS with an `alert` branch; default 0.1. */
  idsRate?: number;
}

/** mulberry32: small, fast, good enough for test inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OFFLOADABLE = ['firewall', 'monitor', 'ratelimiter', 'vlan', 'marker', 'router', 'encap'] as const;
const HOST_ONLY = ['nat', 'loadbalancer'] as const;

function nfConfig(type: string, rand: () => number, t: number, i: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  switch (type) {
    case 'firewall': {
      const n = 1 + Math.floor(rand() * 4);
      const rules = Array.from({ length: n }, (_, k) => {
        const proto = pick(['tcp', 'udp']);
        const port = rand() < 0.3 ? `'${1000 + k * 100}-${1000 + k * 100 + 63}'` : String(20 + k);
        return `{ action: ${pick(['allow', 'deny'])}, proto: ${proto}, dstPort: ${port} }`;
      });
      return `{ default: allow, rules: [${rules.join(', ')}] }`;
    }
    case 'monitor':
      return `{ perFlow: ${rand() < 0.2} }`;
    case 'ratelimiter':
      return `{ rate: ${10 + Math.floor(rand() * 990)}Mbps, perFlow: ${rand() < 0.2} }`;
    case 'vlan':
      return `{ op: push, vid: ${1 + ((t * 7 + i) % 4000)} }`;
    case 'marker':
      return `{ dscp: ${Math.floor(rand() * 64)} }`;
    case 'router':
      return `{ routes: [{ prefix: 10.${t % 256}.0.0/16, port: 1 }, { prefix: 10.${t % 256}.128.0/17, port: 2 }], defaultPort: 3 }`;
    case 'encap':
      return `{ srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' }`;
    case 'nat':
      return `{ publicIp: 198.51.100.${(t % 250) + 1} }`;
    case 'loadbalancer':
      return `{ vip: 198.51.100.${(t % 250) + 1}, backends: [10.0.0.1, 10.0.0.2] }`;
    case 'ids':
      return `{ patterns: ['attack'], inspectBytes: 64 }`;
    default:
      return '{}';
  }
}

/** The YAML text of a synthetic graph. */
export function syntheticYaml(o: SyntheticOptions): string {
  const rand = rng(o.seed);
  const lines = ['version: 1', 'tenants:'];
  for (let t = 0; t < o.tenants; t++) {
    const n = o.nfsPerTenant;
    lines.push(`  - name: t${t}`);
    lines.push(`    slice: { ingressPort: ${t % 4}, vlan: ${Math.floor(t / 4) + 1} }`);
    lines.push(`    egressPort: ${(t + 1) % 4}`);
    lines.push(`    trafficShare: ${1 + Math.floor(rand() * 4)}`);
    lines.push('    nfs:');
    const types: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = rand();
      const type =
        r < (o.idsRate ?? 0.1)
          ? 'ids'
          : r < 0.3
            ? HOST_ONLY[Math.floor(rand() * HOST_ONLY.length)]
            : OFFLOADABLE[Math.floor(rand() * OFFLOADABLE.length)];
      types.push(type);
      lines.push(`      n${i}: { type: ${type}, config: ${nfConfig(type, rand, t, i)} }`);
    }
    lines.push('    graph:');
    lines.push('      - { from: entry, to: n0 }');
    // Forks go on distinct nodes before any IDS, so no predicate follows a verdict branch.
    const firstIds = types.indexOf('ids');
    const forkable = Array.from({ length: firstIds < 0 ? n : firstIds }, (_, i) => i);
    const forks = new Set<number>();
    for (let k = 0; k < (o.forks ?? 3) && forkable.length > 0; k++) {
      forks.add(forkable.splice(Math.floor(rand() * forkable.length), 1)[0]);
    }
    for (let i = 0; i < n; i++) {
      const next = i + 1 < n ? `n${i + 1}` : 'exit';
      if (types[i] === 'ids') {
        lines.push(
          `      - { from: n${i}, to: ${rand() < 0.5 ? 'drop' : 'exit'}, verdict: alert, share: 0.1 }`,
        );
      }
      if (forks.has(i)) {
        const skip = i + 2 + Math.floor(rand() * 3);
        const to =
          skip < n && (firstIds < 0 || skip <= firstIds) ? `n${skip}` : rand() < 0.7 ? 'exit' : 'drop';
        const proto = rand() < 0.5 ? 'tcp' : 'udp';
        lines.push(
          `      - { from: n${i}, to: ${to}, when: { proto: ${proto}, dstPort: ${1000 + i} }, share: ${1 + Math.floor(rand() * 3)} }`,
        );
      }
      lines.push(`      - { from: n${i}, to: ${next} }`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function syntheticGraph(o: SyntheticOptions): ServiceGraph {
  return parseGraph(syntheticYaml(o), `synthetic-${o.tenants}x${o.nfsPerTenant}-${o.seed}.yaml`);
}

/**
 * A synthetic graph's placement problem with the NIC capacities cut to a random 20–100% of what
 * the free NFs would need, a random stage budget and crossing cost: constraints that bind, for
 * comparing solvers.
 */
export function syntheticPlacement(seed: number, tenants: number, nfsPerTenant: number): PlacementProblem {
  const rand = rng(seed * 7919);
  const graph = syntheticGraph({ tenants, nfsPerTenant, seed, forks: 2 + Math.floor(rand() * 3) });
  const { problem } = prepare(graph, 'softnic');
  // Scarce NIC resources for the free NFs, on top of what the NFs fixed on the NIC need.
  const onNic = (it: PlacementProblem['items'][number]): boolean => it.fixed === 'nic';
  for (const k of COST_KEYS) {
    const fixed = problem.items.reduce((s, it) => s + (onNic(it) ? it.cost[k] : 0), 0);
    const demand = problem.items.reduce((s, it) => s + (it.fixed ? 0 : it.cost[k]), 0);
    problem.capacity[k] = fixed + Math.floor(demand * (0.2 + 0.8 * rand()));
  }
  const fixedStages = Math.max(
    0,
    ...problem.paths.map((p) =>
      p.hops.reduce((s, h) => s + (onNic(problem.items[h]) ? problem.items[h].cost.stages : 0), 0),
    ),
  );
  problem.stageBudget = fixedStages + 1 + Math.floor(rand() * 4);
  problem.crossingCycles = [50, 150, 400, 1500][Math.floor(rand() * 4)];
  return problem;
}

/** The q-quantile (0..1) of a sample, by rank. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export interface SyntheticClusterOptions {
  nodes: number;
  seed: number;
  /** Packets per second offered to all tenants together. */
  offeredLoadPps: number;
  /** Every k-th node gets the tighter `bmv2` profile; the rest `softnic`. Default 5. */
  bmv2Every?: number;
}

/** The YAML text of a synthetic cluster description: nodes of 2–8 cores, weight budgets, no pins. */
export function syntheticClusterYaml(o: SyntheticClusterOptions): string {
  const rand = rng(o.seed * 31 + 7);
  const lines = ['version: 1', `offeredLoad: ${o.offeredLoadPps}`, 'nodes:'];
  for (let i = 0; i < o.nodes; i++) {
    lines.push(`  - name: node-${i + 1}`);
    lines.push(`    nic: ${(i + 1) % (o.bmv2Every ?? 5) === 0 ? 'bmv2' : 'softnic'}`);
    lines.push(`    hostCores: ${2 + Math.floor(rand() * 7)}`);
    lines.push(`    coreHz: ${(2 + Math.floor(rand() * 10) / 10).toFixed(1)}GHz`);
    lines.push(`    weightBudget: ${40 + Math.floor(rand() * 40)}`);
  }
  return `${lines.join('\n')}\n`;
}
