import { describe, expect, it } from 'vitest';
import { loadGraph, parseGraph } from '../../partitioner';
import { packetFate, selectRootPath, type PacketHeaders } from '../../partitioner/reference';

const web: PacketHeaders = {
  ingressPort: 0,
  proto: 6,
  srcIp: '10.9.1.1',
  dstIp: '10.1.0.10',
  srcPort: 40000,
  dstPort: 80,
  dscp: 0,
};

describe('reference semantics', () => {
  const campus = loadGraph('examples/branch-heavy.yaml');

  it('selects the root path by first match on wire headers', () => {
    expect(selectRootPath(campus, web)).toMatchObject({
      nodes: ['fw', 'ids', 'lb', 'mon'],
      terminal: { kind: 'exit' },
    });
    expect(selectRootPath(campus, { ...web, dstIp: '10.2.0.1' })?.nodes).toEqual(['fw', 'enc']);
    expect(selectRootPath(campus, { ...web, dstPort: 23 })?.terminal).toEqual({
      kind: 'drop',
      reason: 'graph-drop:entry',
    });
    expect(selectRootPath(campus, { ...web, dstPort: 8080 })?.nodes).toEqual(['rt']);
    expect(selectRootPath(campus, { ...web, ingressPort: 3 })).toBeUndefined();
  });

  it('applies the IDS verdict from the payload, and the quarantine VLAN push', () => {
    const clean = packetFate(campus, { ...web, payload: Buffer.from('GET / HTTP/1.1') });
    expect(clean).toMatchObject({
      tenant: 'campus',
      traversed: ['fw', 'ids', 'lb', 'mon'],
      outcome: { kind: 'exit', port: 1 },
    });
    const evil = packetFate(campus, { ...web, payload: Buffer.from('GET /etc/passwd HTTP/1.1') });
    expect(evil.traversed).toEqual(['fw', 'ids', 'quarantine']);
    expect(evil.headers.vlan).toBe(999);
    // Beyond the inspected 128 bytes the pattern is not seen.
    const deep = packetFate(campus, {
      ...web,
      payload: Buffer.concat([Buffer.alloc(200), Buffer.from('cmd.exe')]),
    });
    expect(deep.traversed).toEqual(['fw', 'ids', 'lb', 'mon']);
  });

  it('drops on a firewall deny with the rule-based reason', () => {
    const fate = packetFate(campus, { ...web, srcIp: '203.0.113.5' });
    expect(fate).toMatchObject({ traversed: ['fw'], outcome: { kind: 'drop', reason: 'acl-deny:fw' } });
    const netbios = packetFate(campus, { ...web, dstPort: 137 });
    // tcp/137 takes the default route to the router, not the firewall.
    expect(netbios.traversed).toEqual(['rt']);
  });

  it('routes by longest prefix, with the default port', () => {
    const g = campus;
    const to = (dstIp: string): unknown => packetFate(g, { ...web, dstPort: 9999, dstIp }).outcome;
    expect(to('10.1.2.3')).toEqual({ kind: 'exit', port: 1 });
    expect(to('10.2.2.3')).toEqual({ kind: 'exit', port: 2 });
    expect(to('192.0.2.1')).toEqual({ kind: 'exit', port: 3 });
  });

  it('marks DSCP and pops VLANs; unknown tenants are dropped', () => {
    const mt = loadGraph('examples/multi-tenant.yaml');
    const rtp: PacketHeaders = {
      ingressPort: 2,
      proto: 17,
      srcIp: '1.2.3.4',
      dstIp: '203.0.113.200',
      srcPort: 5000,
      dstPort: 20000,
      dscp: 0,
    };
    expect(packetFate(mt, rtp)).toMatchObject({
      traversed: ['mark', 'rt'],
      outcome: { kind: 'exit', port: 1 },
      headers: { dscp: 46 },
    });
    const tagged: PacketHeaders = {
      ...rtp,
      ingressPort: 0,
      vlan: 20,
      dstIp: '8.8.8.8',
      proto: 6,
      dstPort: 22,
    };
    const fate = packetFate(mt, tagged);
    expect(fate.traversed).toEqual(['pop', 'shaper']);
    expect(fate.headers.vlan).toBeUndefined();
    expect(packetFate(mt, { ...tagged, vlan: 30 }).outcome).toEqual({ kind: 'drop', reason: 'no-tenant' });
  });

  it('drops with no-edge when nothing matches, and honours an oracle', () => {
    const g = parseGraph(
      `version: 1
tenants:
  - name: a
    slice: { ingressPort: 0 }
    egressPort: 1
    nfs:
      dpi:
        type: custom
        config: { manifest: { name: dpi, source: dpi.c, reads: [payload], writes: [], cyclesPerPacket: 10, verdicts: [slow] } }
    graph:
      - { from: entry, to: dpi, when: { proto: tcp } }
      - { from: dpi, to: drop, verdict: slow }
      - { from: dpi, to: exit }
`,
      'g.yaml',
    );
    expect(packetFate(g, { ...web, proto: 17 }).outcome).toEqual({ kind: 'drop', reason: 'no-edge:entry' });
    expect(packetFate(g, web, () => 'slow').outcome).toEqual({ kind: 'drop', reason: 'graph-drop:dpi' });
    expect(packetFate(g, web, () => 'drop').outcome).toEqual({ kind: 'drop', reason: 'verdict-drop:dpi' });
    expect(packetFate(g, web).outcome).toEqual({ kind: 'exit', port: 1 });
  });
});
