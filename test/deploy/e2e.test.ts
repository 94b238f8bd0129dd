/**
 * Differential end-to-end test of `nfp deploy` on the embedded softnic: for every example graph,
 * a few thousand generated packets go through the real deployment (P4Runtime onto the softnic,
 * the native host runtime) and each packet's fate is compared with the service graph's reference
 * semantics (see differential.ts). Besides the examples, graphs/ holds graphs made to catch
 * one mistake each.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonBuilt } from '../../host-runtime/lib';
import { deployDifferential } from './differential';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const FIXTURES = join(__dirname, 'graphs');
const graphs = [
  ...readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(EXAMPLES, f)),
  ...readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(FIXTURES, f)),
];

describe('nfp deploy, packet by packet against the reference semantics', () => {
  afterAll(async () => {
    const host = await import('../../host-runtime/lib');
    host.stop();
  });

  it('has example graphs and a built host runtime', () => {
    expect(graphs.length).toBeGreaterThanOrEqual(4);
    // The addon is part of nfp, not an optional tool: `npm test` builds it first.
    expect(addonBuilt()).toBe(true);
  });

  it.each(graphs.map((g) => [basename(g), g]))('%s', async (file, graphFile) => {
    const { traffic, report, failures, reportFailures, seen } = await deployDifferential(file, graphFile, {
      target: { kind: 'softnic' },
      packets: 2400,
    });
    expect(traffic.length).toBeGreaterThan(1000);
    expect(report.totals.input).toBe(traffic.length);
    expect(report.totals.forwarded + report.totals.dropped).toBe(report.totals.input);
    console.log(`${file}: ${traffic.length} packets`, JSON.stringify(seen));
    expect(failures.slice(0, 12)).toEqual([]);
    expect(reportFailures.slice(0, 12)).toEqual([]);
    expect(seen.forwarded).toBeGreaterThan(0);
  });
});
