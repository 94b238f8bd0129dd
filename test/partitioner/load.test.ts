import { describe, expect, it } from 'vitest';
import { GraphError, NfpError, loadGraph, parseGraph } from '../../partitioner';
import type { FirewallConfig, RateLimiterConfig } from '../../partitioner';

const minimal = (body: string): string => `version: 1
tenants:
  - name: a
    slice: { ingressPort: 0 }
    egressPort: 1
${body}`;

function diagnostics(text: string): string[] {
  try {
    parseGraph(text, 'g.yaml');
  } catch (e) {
    if (e instanceof GraphError)
      return e.diagnostics.map((d) => `${d.loc.line}:${d.loc.col} ${d.key}: ${d.message}`);
    throw e;
  }
  return [];
}

describe('loading service graphs', () => {
  it('loads the enterprise-edge example with defaults filled in', () => {
    const g = loadGraph('examples/enterprise-edge.yaml');
    expect(g.version).toBe(1);
    const t = g.tenants[0];
    expect(t).toMatchObject({
      name: 'edge',
      id: 1,
      weight: 1,
      isolation: 'sfi',
      trafficShare: 1,
      egressPort: 1,
    });
    expect(t.rateLimit).toEqual({ bitsPerSecond: 1e9, burstBytes: 1_250_000 });
    const fw = t.nfs.find((n) => n.name === 'fw');
    expect(fw?.type).toBe('firewall');
    const cfg = fw?.config as FirewallConfig;
    expect(cfg.default).toBe('deny');
    expect(cfg.stateful).toBe(false);
    expect(cfg.rules[1].match).toEqual({ proto: 6, dstPort: { lo: 1, hi: 1023 } });
    expect(t.edges[1].when).toEqual({
      proto: 6,
      dstPrefix: { family: 4, addr: '198.51.100.10', len: 32 },
      dstPort: { lo: 80, hi: 80 },
    });
    expect(t.edges[1].share).toBe(3);
    expect(t.edges.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('normalises traffic shares and numbers tenants by position', () => {
    const g = loadGraph('examples/multi-tenant.yaml');
    expect(g.tenants.map((t) => t.id)).toEqual([1, 2, 3]);
    expect(g.tenants.map((t) => t.trafficShare)).toEqual([0.5, 0.25, 0.25]);
    const shaper = g.tenants[1].nfs.find((n) => n.name === 'shaper')?.config as RateLimiterConfig;
    expect(shaper).toEqual({ rateBps: 100e6, burstBytes: 125_000, perFlow: false });
    expect(g.tenants[1].rateLimit).toEqual({ bitsPerSecond: 200e6, burstBytes: 256 * 1024 });
  });

  it('accepts IPv6 prefixes and protocol numbers', () => {
    const g = parseGraph(
      minimal(`    nfs: {}
    graph:
      - { from: entry, to: exit, when: { proto: 47, dstPrefix: '2001:db8::/32' } }
      - { from: entry, to: drop }
`),
      'g.yaml',
    );
    expect(g.tenants[0].edges[0].when).toEqual({
      proto: 47,
      dstPrefix: { family: 6, addr: '2001:db8::', len: 32 },
    });
  });

  it('reports a missing file as a user error with a hint', () => {
    expect(() => loadGraph('examples/does-not-exist.yaml')).toThrow(NfpError);
    expect(() => loadGraph('examples/does-not-exist.yaml')).toThrow(/no such file/);
  });

  it('reports all problems of one file at once, in file order', () => {
    const d = diagnostics(
      minimal(`    weight: 0
    nfs:
      fw: { type: firewall, config: { rules: [{ action: allow, dstPort: 70000 }] } }
    graph:
      - { from: entry, to: fw }
      - { from: fw, to: exit, share: -1 }
`),
    );
    expect(d).toEqual([
      '6:13 tenants[0].weight: must be a number greater than 0, not 0',
      '8:73 tenants[0].nfs.fw.config.rules[0].dstPort: must be a port 0..65535 or a range like "1024-65535", not 70000',
      '11:38 tenants[0].graph[1].share: must be a number greater than 0, not -1',
    ]);
  });

  it('rejects a header predicate that can never match after the default edge', () => {
    const d = diagnostics(
      minimal(`    nfs: {}
    graph:
      - { from: entry, to: exit, when: { dstPrefix: 10.0.0.0/8 } }
      - { from: entry, to: drop, when: { dstPrefix: 10.1.0.0/16, proto: udp } }
`),
    );
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(
      /^9:9 tenants\[0\]\.graph\[1\]: this edge is never taken: "entry → exit" when … at line 8/,
    );
  });

  it('does not call narrower-first predicates shadowed', () => {
    expect(
      diagnostics(
        minimal(`    nfs: {}
    graph:
      - { from: entry, to: drop, when: { dstPrefix: 10.1.0.0/16 } }
      - { from: entry, to: exit, when: { dstPrefix: 10.0.0.0/8 } }
`),
      ),
    ).toEqual([]);
  });

  it('requires a vid to push a VLAN tag', () => {
    const d = diagnostics(
      minimal(`    nfs:
      v: { type: vlan, config: { op: push } }
    graph:
      - { from: entry, to: v }
      - { from: v, to: exit }
`),
    );
    expect(d).toEqual(['7:32 tenants[0].nfs.v.config: missing required key "vid" (the VLAN id to push)']);
  });

  it('reads a custom NF manifest and its extra verdicts', () => {
    const g = parseGraph(
      minimal(`    nfs:
      dpi:
        type: custom
        config:
          manifest: { name: dpi, source: dpi.c, reads: [l3, payload], writes: [], cyclesPerPacket: 400, verdicts: [suspicious] }
          params: { depth: 3 }
    graph:
      - { from: entry, to: dpi }
      - { from: dpi, to: drop, verdict: suspicious }
      - { from: dpi, to: exit }
`),
      'g.yaml',
    );
    expect(g.tenants[0].nfs[0].config).toEqual({
      manifest: {
        name: 'dpi',
        version: '0.0.0',
        source: 'dpi.c',
        reads: ['l3', 'payload'],
        writes: [],
        stateful: false,
        cyclesPerPacket: 400,
        verdicts: ['suspicious'],
      },
      params: { depth: 3 },
    });
  });
});

describe('custom NF manifests in files', () => {
  it('loads a manifest file relative to the graph, with source relative to the graph', () => {
    const g = parseGraph(
      minimal(`    nfs:
      tag: { type: custom, config: { manifest: nf/tagger.manifest.yaml } }
    graph:
      - { from: entry, to: tag }
      - { from: tag, to: drop, verdict: suspicious }
      - { from: tag, to: exit }
`),
      'examples/inline.yaml',
    );
    expect(g.tenants[0].nfs[0].config).toMatchObject({
      manifest: { name: 'tagger', source: 'nf/tagger.c', cyclesPerPacket: 150, verdicts: ['suspicious'] },
      params: {},
    });
  });

  it('reports a missing manifest file and problems inside one at their place', () => {
    const missing = diagnostics(
      minimal(`    nfs:
      tag: { type: custom, config: { manifest: nope.yaml } }
    graph:
      - { from: entry, to: tag }
      - { from: tag, to: exit }
`),
    );
    expect(missing[0]).toMatch(
      /^7:48 tenants\[0\]\.nfs\.tag\.config\.manifest: cannot read the manifest file "nope\.yaml"/,
    );
    let err: unknown;
    try {
      parseGraph(
        minimal(`    nfs:
      tag: { type: custom, config: { manifest: ../test/partitioner/bad/manifests/bad.manifest.yaml } }
    graph:
      - { from: entry, to: tag }
      - { from: tag, to: exit }
`),
        'examples/g.yaml',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).message).toBe(
      'test/partitioner/bad/manifests/bad.manifest.yaml:3:8: reads: must be a list (lines starting with "- "), not "everything"',
    );
  });
});
