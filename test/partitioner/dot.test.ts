import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadGraph, partition, renderDot } from '../../partitioner';

const hasDot = spawnSync('dot', ['-V'], { stdio: 'ignore' }).status === 0;
if (!hasDot) console.warn('dot.test: skipping the Graphviz render check: `dot` is not installed');

describe('graph.dot', () => {
  it('shows the NIC and host halves, the verdict branch and the paths', async () => {
    const graph = loadGraph('examples/branch-heavy.yaml');
    const plan = await partition(graph, { profile: 'hw-small' });
    const dot = renderDot(plan, graph);
    expect(dot).toContain('subgraph "cluster_t1_nic"');
    expect(dot).toContain('subgraph "cluster_t1_host"');
    expect(dot).toContain('"t1.ids" [label="ids\\nids"');
    expect(dot).toMatch(/"t1\.ids" -> "t1\.quarantine" \[label="verdict alert", style=dashed/);
    expect(dot).toContain('label="tcp dport 23"');
    for (const p of plan.paths) expect(dot).toContain(`P${p.id} (`);
  });

  it.skipIf(!hasDot)('is valid Graphviz input', async () => {
    const graph = loadGraph('examples/multi-tenant.yaml');
    const dot = renderDot(await partition(graph), graph);
    const r = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('<svg');
  });
});
