import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadGraph, partition, renderDot } from '../../partitioner';
import { formatShare } from '../../partitioner/dot';

const hasDot = spawnSync('dot', ['-V'], { stdio: 'ignore' }).status === 0;
if (!hasDot) console.warn('dot.test: skipping the Graphviz render checks: `dot` is not installed');

async function picture(example: string, profile?: string): Promise<string> {
  const graph = loadGraph(`examples/${example}.yaml`);
  return renderDot(await partition(graph, { profile }), graph);
}

/** Node centres as Graphviz lays them out (`dot -Tplain`: y grows upwards). */
function layout(dot: string): Map<string, { x: number; y: number }> {
  const r = spawnSync('dot', ['-Tplain'], { input: dot, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const out = new Map<string, { x: number; y: number }>();
  for (const line of r.stdout.split('\n')) {
    const m = /^node ("[^"]+"|\S+) (\S+) (\S+)/.exec(line);
    if (m) out.set(m[1].replace(/"/g, ''), { x: Number(m[2]), y: Number(m[3]) });
  }
  return out;
}

describe('graph.dot', () => {
  it('shows the halves in packet order, merged predicates, the verdict branch and the paths', async () => {
    const graph = loadGraph('examples/branch-heavy.yaml');
    const plan = await partition(graph, { profile: 'hw-small' });
    const dot = renderDot(plan, graph);
    expect(dot).toContain('subgraph "cluster_t1_nic"');
    expect(dot).toContain('subgraph "cluster_t1_host"');
    expect(dot).toContain('subgraph "cluster_t1_nic_post"'); // mon and quarantine, after the host
    expect(dot).toContain('"t1.ids" [label=<<b>ids</b>>'); // its name is its type: said once
    expect(dot).toContain(
      '"t1.fw" [label=<<b>fw</b><br/><font point-size="8" color="#555555">firewall</font>>',
    );
    expect(dot).toMatch(
      /"t1\.ids" -> "t1\.quarantine" \[label="on alert", style=dashed, .*constraint=false\]/,
    );
    // The four predicates from the entry to fw are one edge with four lines.
    expect(dot.match(/"t1\.entry" -> "t1\.fw"/g)).toHaveLength(1);
    expect(dot).toContain('"t1.entry" -> "t1.drop" [label="tcp dport 23", weight=4]');
    for (const p of plan.paths) expect(dot).toContain(`<td align="left">P${p.id}</td>`);
    // A small share is "<1%", never "0%".
    expect(plan.paths.some((p) => p.share > 0 && p.share < 0.005)).toBe(true);
    expect(dot).toContain('&lt;1%');
    expect(dot).not.toMatch(/>0%</);
  });

  it('draws drop only where an edge leads to it, and each NF name once', async () => {
    const dot = await picture('multi-tenant');
    expect(dot).not.toContain('drop');
    expect(dot).toContain('"t2.nat" [label=<<b>nat</b>>'); // not "nat / nat"
    expect(dot).toContain('label="otherwise"'); // the default route next to the predicates
  });

  it('formats shares as people read them', () => {
    expect([0, 0.001, 0.004, 0.005, 0.571, 0.996, 1].map(formatShare)).toEqual([
      '0%',
      '<1%',
      '<1%',
      '1%',
      '57%',
      '>99%',
      '100%',
    ]);
  });

  it.skipIf(!hasDot)('is valid Graphviz input, tenants top to bottom in file order', async () => {
    const dot = await picture('multi-tenant');
    const r = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('<svg');
    const at = layout(dot);
    const ys = ['t1.entry', 't2.entry', 't3.entry'].map((n) => at.get(n)!.y);
    expect(ys).toEqual([...ys].sort((a, b) => b - a)); // acme, globex, initech from the top
  });

  it.skipIf(!hasDot)('branch-heavy: every NF the entry feeds sits right after it', async () => {
    const at = layout(await picture('branch-heavy', 'hw-small'));
    const next = ['fw', 'dns-limit', 'mark', 'icmp-limit', 'rt', 'drop'].map((n) => at.get(`t1.${n}`)!.x);
    expect(new Set(next).size).toBe(1);
    // ... and the rest follow in packet order: host NFs, then the NIC's after the host, then out.
    const x = (n: string): number => at.get(`t1.${n}`)!.x;
    expect(x('ids')).toBeGreaterThan(x('fw'));
    expect(x('lb')).toBeGreaterThan(x('ids'));
    expect(x('mon')).toBeGreaterThan(x('lb'));
    expect(x('exit')).toBeGreaterThan(x('mon'));
  });
});
