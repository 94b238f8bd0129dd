// The graph-format guide must not drift from the code: every NF type and every profile figure
// in it is checked against the catalogue and the profiles.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, NF_TYPES, loadGraph, partition, profiles, renderSummary } from '../../partitioner';

const doc = readFileSync('docs/graph-format.md', 'utf8');

describe('docs/graph-format.md', () => {
  it('describes every NF type of the catalogue', () => {
    for (const t of NF_TYPES) expect(doc).toContain(`| \`${t}\` |`);
    expect(Object.keys(CATALOGUE).length).toBe(NF_TYPES.length);
  });

  it('lists each profile with its real resources', () => {
    for (const p of Object.values(profiles)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${p.name}\``));
      expect(row, p.name).toBeDefined();
      const cells = (row as string).split('|').map((c) => c.trim());
      const nums = cells.slice(2, 11).map((c) => parseInt(c, 10));
      expect(nums).toEqual([
        p.stages,
        p.exactEntries,
        p.ternaryEntries,
        p.lpmEntries,
        p.rangeEntries,
        p.meters,
        p.counters,
        p.hostQueues,
        p.crossingCycles,
      ]);
    }
  });
});

describe('docs/cli.md', () => {
  it('shows the summary that nfp partition really prints for enterprise-edge', async () => {
    const cli = readFileSync('docs/cli.md', 'utf8');
    const plan = await partition(loadGraph('examples/enterprise-edge.yaml'));
    const summary = renderSummary(plan)
      .split('\n')
      .filter((l) => !l.startsWith('objective:')); // its timing varies
    for (const line of summary) expect(cli).toContain(line);
  });
});
