/**
 * Fair CPU sharing: two tenants with the same CPU-heavy NF and weights 1:3, both overloaded, get
 * 25% and 75% of the worker's cycles (±10% of their share) under weighted DRR on measured
 * cycles; equal weights split evenly; overload drops are counted per tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsolatedTenant, schedule } from '../../host-runtime/lib/isolation';
import { isolationBuilt, testNf, udpFlows, warnIfSkipped } from './helpers';

warnIfSkipped('isolation fairness tests');

const open: IsolatedTenant[] = [];
afterAll(() => {
  for (const t of open) t.close();
});

describe.skipIf(!isolationBuilt)('weighted DRR on cycles', () => {
  let heavy = '';
  beforeAll(async () => {
    heavy = await testNf('heavy', 'sfi');
  });

  function run(weights: [number, number]) {
    const ts = weights.map((weight, i) => {
      const t = new IsolatedTenant({
        id: i + 1,
        backend: 'sfi',
        weight,
        nfs: [{ artifact: heavy, config: { iters: 400 } }],
      });
      open.push(t);
      return t;
    });
    const traffic = udpFlows(32);
    const res = schedule(
      ts.map((tenant) => ({ tenant, traffic, offeredPerRound: 64 })),
      { rounds: 20000, burst: 8, queueCap: 128, quantumCycles: 20_000 },
    );
    const total = res[0].cycles + res[1].cycles;
    return { res, shares: res.map((r) => r.cycles / total), stats: ts.map((t) => t.stats()) };
  }

  it('1:3 weights give 25% / 75% of the cycles within ±10%', () => {
    const { res, shares, stats } = run([1, 3]);
    expect(shares[0]).toBeGreaterThan(0.25 * 0.9);
    expect(shares[0]).toBeLessThan(0.25 * 1.1);
    expect(shares[1]).toBeGreaterThan(0.75 * 0.9);
    expect(shares[1]).toBeLessThan(0.75 * 1.1);
    // Same NF, same packets: the work done follows the cycles.
    const ratio = res[1].processed / res[0].processed;
    expect(ratio).toBeGreaterThan(2.4);
    expect(ratio).toBeLessThan(3.6);
    // Both were overloaded, and their losses are counted against each of them.
    for (let i = 0; i < 2; i++) {
      expect(res[i].overloadDrops).toBeGreaterThan(0);
      expect(stats[i].dropOverload).toBe(res[i].overloadDrops);
    }
    expect(res[0].overloadDrops).toBeGreaterThan(res[1].overloadDrops);
  });

  it('equal weights split the cycles evenly', () => {
    const { shares } = run([1, 1]);
    expect(Math.abs(shares[0] - 0.5)).toBeLessThan(0.05);
  });
});
