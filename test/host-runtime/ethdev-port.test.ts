/**
 * A port the EAL probed itself (as a NIC allowed with -a would be), used by name: here a net_null
 * device from the EAL arguments, whose endless zero frames carry no NSH and are all refused.
 */
import { describe, expect, it } from 'vitest';
import { addonBuilt, defaultEalArgs, load, start, stats, stop } from '../../host-runtime/lib/index';
import { hostOnlyPlan } from '../../host-runtime/lib/plan-builder';

const built = addonBuilt();
if (!built)
  console.warn('host-runtime ethdev port test skipped: nfp_host.node is not built (npm run build:native)');

describe.skipIf(!built)('ethdev port (probed by the EAL)', () => {
  it('receives from a device named in the EAL arguments and accounts for every packet', async () => {
    start({ workers: 1, eal: [...defaultEalArgs(2), '--vdev', 'net_null_nfp0'] });
    const plan = hostOnlyPlan([{ type: 'macswap', config: {} }], [{ id: 1, nfs: [0], queue: 0 }]);
    start({ workers: 1, mode: 'mixed', port: { kind: 'ethdev', devargs: 'net_null_nfp0' } });
    load(plan, { isolation: 'none' });
    await new Promise((r) => setTimeout(r, 50));
    const s = stats();
    expect(s.received).toBeGreaterThan(0);
    expect(s.drops['no-nsh']).toBeGreaterThan(0);
    expect(s.transmitted).toBe(0);
    stop();
    // Stopped, not closed: the same device serves the next load.
    load(plan, { isolation: 'none' });
    await new Promise((r) => setTimeout(r, 20));
    expect(stats().received).toBeGreaterThan(0);
    stop();
    start({ workers: 1, port: { kind: 'ethdev', devargs: 'no_such_port' } });
    expect(() => load(plan, { isolation: 'none' })).toThrow(/no ethdev named `no_such_port`/);
  });
});
