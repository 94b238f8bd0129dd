// docs/metrics.md must not drift from the code: every metric nfp serves is listed with its type
// and labels, and nothing else is.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../metrics/metrics';

const doc = readFileSync('docs/metrics.md', 'utf8');
const rows = new Map(
  doc
    .split('\n')
    .filter((l) => /^\| `nfp_/.test(l))
    .map((l) => {
      const cells = l.split('|').map((c) => c.trim());
      return [cells[1].replace(/`/g, ''), { type: cells[2], labels: cells[3] }] as const;
    }),
);

describe('docs/metrics.md', () => {
  it('lists every metric of a deployment with its type and labels', () => {
    for (const m of METRICS) {
      const row = rows.get(m.name);
      expect(row, m.name).toBeDefined();
      expect(row!.type).toBe(m.kind);
      expect(
        row!.labels
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ).toEqual(m.labelNames);
    }
  });

  it('lists nothing nfp does not serve (besides the agent’s own two)', () => {
    const served = new Set([...METRICS.map((m) => m.name), 'nfp_agent_ready', 'nfp_agent_deploys_total']);
    for (const name of rows.keys()) expect(served.has(name), name).toBe(true);
  });
});
