// Property: for random packets of each tenant's slice, the plan's classification tables select
// exactly the root path that evaluating the graph directly (partitioner/reference.ts) selects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadGraph, parseGraph, partition, prefixValue } from '../../partitioner';
import type { Plan, Prefix, ServiceGraph, Tenant } from '../../partitioner';
import { classifyTenant, selectRootPath, type PacketHeaders } from '../../partitioner/reference';
import { syntheticGraph } from '../../partitioner/synthetic';
import { describePath, fieldsOf, tablePath, tableTenant } from './tables';

function ipv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

/** Addresses inside a prefix, biased to its edges. */
function inPrefix(p: Prefix): fc.Arbitrary<string> {
  const base = prefixValue(p);
  const hostBits = 32 - p.len;
  const span = hostBits === 0 ? 0n : (1n << BigInt(hostBits)) - 1n;
  return fc.oneof(
    fc.constant(ipv4(base)),
    fc.constant(ipv4(base + span)),
    fc.bigInt({ min: 0n, max: span }).map((x) => ipv4(base + x)),
  );
}

/** Everything a tenant's predicates mention, so random packets hit the interesting cases. */
function interesting(t: Tenant): { prefixes: Prefix[]; ports: number[]; protos: number[]; dscps: number[] } {
  const prefixes: Prefix[] = [];
  const ports = new Set<number>([0, 1, 65535]);
  const protos = new Set<number>([1, 6, 17, 47]);
  const dscps = new Set<number>([0]);
  for (const e of t.edges) {
    const w = e.when;
    if (!w) continue;
    if (w.srcPrefix?.family === 4) prefixes.push(w.srcPrefix);
    if (w.dstPrefix?.family === 4) prefixes.push(w.dstPrefix);
    for (const r of [w.srcPort, w.dstPort]) {
      if (!r) continue;
      for (const x of [r.lo - 1, r.lo, r.hi, r.hi + 1]) if (x >= 0 && x <= 65535) ports.add(x);
    }
    if (w.proto !== undefined) protos.add(w.proto);
    if (w.dscp !== undefined) dscps.add(w.dscp);
  }
  return { prefixes, ports: [...ports], protos: [...protos], dscps: [...dscps] };
}

function sliceArb(t: Tenant): fc.Arbitrary<PacketHeaders> {
  const i = interesting(t);
  const addr = (slicePrefix?: Prefix): fc.Arbitrary<string> =>
    slicePrefix
      ? inPrefix(slicePrefix)
      : fc.oneof(
          ...(i.prefixes.length > 0 ? [fc.constantFrom(...i.prefixes).chain(inPrefix)] : []),
          fc.bigInt({ min: 0n, max: 0xffffffffn }).map(ipv4),
        );
  const port = fc.oneof(fc.constantFrom(...i.ports), fc.integer({ min: 0, max: 65535 }));
  return fc
    .record({
      ingressPort:
        t.slice.ingressPort !== undefined ? fc.constant(t.slice.ingressPort) : fc.integer({ min: 0, max: 7 }),
      vlan:
        t.slice.vlan !== undefined
          ? fc.constant(t.slice.vlan)
          : fc.option(fc.integer({ min: 1, max: 4094 }), { nil: undefined }),
      proto: fc.oneof(fc.constantFrom(...i.protos), fc.integer({ min: 0, max: 255 })),
      srcIp: addr(t.slice.srcPrefix),
      dstIp: addr(t.slice.dstPrefix),
      srcPort: port,
      dstPort: port,
      dscp: fc.oneof(fc.constantFrom(...i.dscps), fc.integer({ min: 0, max: 63 })),
    })
    .map((h) => {
      const pkt: PacketHeaders = { ...h };
      if (h.vlan === undefined) delete pkt.vlan;
      // Only TCP and UDP carry ports.
      if (h.proto !== 6 && h.proto !== 17) {
        delete pkt.srcPort;
        delete pkt.dstPort;
      }
      return pkt;
    });
}

function checkAgreement(graph: ServiceGraph, plan: Plan, runs: number): void {
  for (const t of graph.tenants) {
    fc.assert(
      fc.property(sliceArb(t), (pkt) => {
        const f = fieldsOf(pkt);
        const ref = selectRootPath(graph, pkt);
        expect(ref?.tenant.name).toBe(t.name);
        const tenant = tableTenant(plan, f);
        expect(tenant).toBe(t.id);
        const path = tablePath(plan, t.id, f);
        expect(path, 'every packet of a slice maps to a path').toBeDefined();
        const got = describePath(plan, path as NonNullable<typeof path>);
        const want = {
          nodes: ref?.nodes,
          terminal: ref?.terminal.kind === 'exit' ? 'exit' : `drop:${ref?.terminal.reason}`,
        };
        expect(got).toEqual(want);
        expect(path?.branchOf).toBeUndefined();
      }),
      { numRuns: runs, seed: 42 + t.id },
    );
  }
}

describe('classification rules agree with the reference semantics', () => {
  for (const example of ['enterprise-edge', 'multi-tenant', 'branch-heavy']) {
    for (const target of ['softnic', 'hw-small']) {
      it(`${example} on ${target}`, async () => {
        const graph = loadGraph(`examples/${example}.yaml`);
        const plan = await partition(graph, { profile: target });
        checkAgreement(graph, plan, 400);
      });
    }
  }

  it('synthetic graphs with many forks', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const graph = syntheticGraph({ tenants: 3, nfsPerTenant: 8, seed, forks: 4 });
      const plan = await partition(graph, { solver: 'heuristic' });
      checkAgreement(graph, plan, 150);
    }
  });

  it('packets outside every slice belong to no tenant', async () => {
    const graph = loadGraph('examples/multi-tenant.yaml');
    const plan = await partition(graph);
    const pkt: PacketHeaders = {
      ingressPort: 5,
      proto: 6,
      srcIp: '10.0.0.1',
      dstIp: '10.0.0.2',
      srcPort: 1,
      dstPort: 2,
      dscp: 0,
    };
    expect(classifyTenant(graph, pkt)).toBeUndefined();
    expect(tableTenant(plan, fieldsOf(pkt))).toBeUndefined();
    // Port 0 without a VLAN tag matches neither acme (vlan 10) nor globex (vlan 20).
    const untagged = { ...pkt, ingressPort: 0 };
    expect(classifyTenant(graph, untagged)).toBeUndefined();
    expect(tableTenant(plan, fieldsOf(untagged))).toBeUndefined();
  });
});

describe('IPv6 predicates', () => {
  it('classify IPv6 and IPv4 packets like the reference', async () => {
    const graph = parseGraph(
      `version: 1
tenants:
  - name: v6
    slice: { ingressPort: 1 }
    egressPort: 0
    nfs:
      m: { type: monitor }
    graph:
      - { from: entry, to: m, when: { dstPrefix: '2001:db8:1::/48' } }
      - { from: entry, to: drop, when: { dstPrefix: '2001:db8::/32' } }
      - { from: entry, to: exit, when: { dstPrefix: 10.0.0.0/8 } }
      - { from: m, to: exit }
`,
      'v6.yaml',
    );
    const plan = await partition(graph);
    const base: PacketHeaders = {
      ingressPort: 1,
      proto: 17,
      srcIp: '2001:db8:ffff::1',
      dstIp: '',
      srcPort: 1,
      dstPort: 2,
      dscp: 0,
    };
    const cases: Array<[string, string]> = [
      ['2001:db8:1::5', 'm'],
      ['2001:db8:1:ffff:ffff:ffff:ffff:ffff', 'm'],
      ['2001:db8:2::1', 'drop:graph-drop:entry'],
      ['2001:db9::1', 'drop:no-edge:entry'],
      ['10.1.2.3', 'exit'],
      ['11.0.0.1', 'drop:no-edge:entry'],
    ];
    for (const [dstIp, want] of cases) {
      const pkt = { ...base, dstIp, srcIp: dstIp.includes(':') ? base.srcIp : '192.0.2.1' };
      const ref = selectRootPath(graph, pkt);
      const path = tablePath(plan, 1, fieldsOf(pkt));
      const got = path ? describePath(plan, path) : undefined;
      const refText = ref?.nodes.length
        ? ref.nodes.join(',')
        : ref?.terminal.kind === 'exit'
          ? 'exit'
          : `drop:${ref?.terminal.kind === 'drop' ? ref.terminal.reason : ''}`;
      expect(refText, dstIp).toBe(want);
      expect(got, dstIp).toEqual({
        nodes: ref?.nodes,
        terminal:
          ref?.terminal.kind === 'exit'
            ? 'exit'
            : `drop:${ref?.terminal.kind === 'drop' ? ref.terminal.reason : ''}`,
      });
    }
  });
});
