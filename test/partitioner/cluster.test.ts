// Cluster planning: tenants assigned whole to nodes within every node's resources, pins honoured,
// clear errors for tenants that fit nowhere, per-node plans, and steering rules that a P4
// top-of-rack switch (the softnic running the emitted steering program) actually follows.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { NfpError, loadGraph, parseGraph, partition, validatePlan } from '../../partitioner';
import type { ServiceGraph } from '../../partitioner/graph';
import { loadCluster, parseCluster } from '../../partitioner/cluster-load';
import { planCluster, type ClusterPlanning } from '../../partitioner/cluster-plan';
import { validateClusterPlan } from '../../partitioner/cluster-output';
import { RESOURCES, capacityOf } from '../../partitioner/packing';
import { syntheticClusterYaml, syntheticGraph } from '../../partitioner/synthetic';
import { packetFate } from '../../partitioner/reference';
import { emitNicArtifacts } from '../../p4';
import { buildPacket } from '../../deploy/packet';
import { DEFAULT_GENERATOR, generateTraffic } from '../../deploy/traffic';
import { SoftnicDevice } from '../../targets/softnic/device';
import { installArtifacts } from '../../targets/softnic/install';
import clusterSchema from '../../schemas/cluster.schema.json';
import { expectCorpusDiagnostics } from './corpus';
import { headersOf } from '../deploy/differential';

const EXAMPLE_GRAPH = 'examples/multi-tenant.yaml';
const EXAMPLE_CLUSTER = 'examples/clusters/edge.yaml';

/** A graph of `n` small tenants: a NAT (host) after a firewall (NIC), each on its own VLAN. */
function natTenants(n: number, extra = ''): string {
  const lines = ['version: 1', 'tenants:'];
  for (let i = 0; i < n; i++) {
    lines.push(
      `  - name: t${i}`,
      `    slice: { ingressPort: 0, vlan: ${i + 1} }`,
      '    egressPort: 1',
      '    nfs:',
      '      fw: { type: firewall, config: { default: allow, rules: [{ action: deny, proto: udp, dstPort: 53 }] } }',
      `      nat: { type: nat, config: { publicIp: 198.51.100.${i + 1} } }`,
      '    graph:',
      '      - { from: entry, to: fw }',
      '      - { from: fw, to: nat }',
      '      - { from: nat, to: exit }',
    );
  }
  return `${lines.join('\n')}\n${extra}`;
}

function cluster(text: string): ReturnType<typeof parseCluster> {
  return parseCluster(text, 'cluster.yaml');
}

async function planError(graph: ServiceGraph, clusterText: string): Promise<NfpError> {
  try {
    await planCluster(graph, cluster(clusterText));
  } catch (err) {
    expect(err).toBeInstanceOf(NfpError);
    return err as NfpError;
  }
  throw new Error('planning succeeded; an error was expected');
}

/** What every cluster plan must satisfy, whatever the input. */
function checkInvariants(graph: ServiceGraph, planned: ClusterPlanning, text: string): void {
  const desc = cluster(text);
  const c = validateClusterPlan(JSON.parse(JSON.stringify(planned.cluster)));
  // Every tenant on exactly one node, the node's plan holding exactly its tenants.
  const seen = new Map<number, string>();
  for (const n of c.nodes) {
    for (const id of n.tenants) {
      expect(seen.has(id), `tenant ${id} on two nodes`).toBe(false);
      seen.set(id, n.name);
    }
    const plan = planned.plans.get(n.name);
    if (n.tenants.length === 0) {
      expect(plan).toBeUndefined();
      continue;
    }
    validatePlan(JSON.parse(JSON.stringify(plan)));
    expect(plan!.tenants.map((t) => t.id)).toEqual(n.tenants);
    expect(plan!.profile.name).toBe(n.nic);
    for (const [k, line] of Object.entries(plan!.resources))
      expect(line.used, `${n.name} ${k}`).toBeLessThanOrEqual(line.available);
    expect(n.load.hostCycles.used).toBeLessThanOrEqual(n.load.hostCycles.available * (1 + 1e-9));
    // The node's expected host cycles follow from its plan and its tenants' packet rates.
    expect(n.load.hostCycles.used).toBeCloseTo(n.packetsPerSecond * plan!.objective.value, 0);
  }
  expect([...seen.keys()].sort((a, b) => a - b)).toEqual(
    graph.tenants.map((t) => t.id).sort((a, b) => a - b),
  );
  // The assignment's own estimates stay within every node's capacity, resource by resource.
  desc.nodes.forEach((node) => {
    const cap = capacityOf(node);
    const mine = c.assignment.filter((a) => a.node === node.name);
    const weight = mine.reduce((s, a) => s + (graph.tenants.find((t) => t.id === a.tenant)?.weight ?? 0), 0);
    expect(weight).toBeLessThanOrEqual(cap.weight);
    const cycles = mine.reduce((s, a) => s + a.hostCyclesPerSecond, 0);
    expect(cycles).toBeLessThanOrEqual(cap.hostCycles * (1 + 1e-9));
  });
  expect(RESOURCES).toContain('hostCycles');
  // Steering: each tenant's slice leads to its node, and only there.
  for (const t of graph.tenants) {
    const rules = c.steering.rules.filter((r) => r.tenant?.id === t.id);
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) {
      const node = c.nodes.find((n) => n.name === r.node)!;
      expect(r.node).toBe(seen.get(t.id));
      expect(r.outPort).toBe(node.fabricPorts[String(r.wirePort)]);
      expect(r.inPort).toBe(c.steering.uplinks[String(r.wirePort)]);
    }
  }
}

describe('cluster planning', () => {
  it('assigns the example tenants whole, honours the pin and plans each node', async () => {
    const graph = loadGraph(EXAMPLE_GRAPH);
    const text = readFileSync(EXAMPLE_CLUSTER, 'utf8');
    const planned = await planCluster(graph, loadCluster(EXAMPLE_CLUSTER));
    checkInvariants(graph, planned, text);
    const acme = planned.cluster.assignment.find((a) => a.name === 'acme')!;
    expect(acme.node).toBe('edge-1');
    expect(acme.reason).toMatch(/^pinned by examples\/clusters\/edge\.yaml:\d+$/);
    // Spread: with three nodes and three tenants, no node is left idle.
    expect(planned.cluster.nodes.every((n) => n.tenants.length === 1)).toBe(true);
    // Each node's slices are its tenants' slices.
    for (const n of planned.cluster.nodes) {
      for (const s of n.slices) {
        const t = graph.tenants.find((x) => x.id === s.tenant)!;
        expect(s.ingressPort).toBe(t.slice.ingressPort);
        expect(s.vlan).toBe(t.slice.vlan);
      }
    }
  });

  it('keeps every node within its resources on random clusters (several seeds)', async () => {
    for (const seed of [1, 2, 3]) {
      const graph = syntheticGraph({ tenants: 60, nfsPerTenant: 5, seed });
      const text = syntheticClusterYaml({ nodes: 6, seed, offeredLoadPps: 30e6 });
      const planned = await planCluster(graph, cluster(text), { solver: 'heuristic' });
      checkInvariants(graph, planned, text);
    }
  });

  it('spreads over every node, or packs into as few as fit', async () => {
    const graph = parseGraph(natTenants(12), 'nat.yaml');
    const nodes = [1, 2, 3, 4]
      .map((i) => `  - { name: n${i}, nic: softnic, hostCores: 4, coreHz: 1GHz, weightBudget: 6 }`)
      .join('\n');
    const text = (strategy: string): string =>
      `version: 1\nofferedLoad: 12Mpps\nstrategy: ${strategy}\nnodes:\n${nodes}\n`;
    const spread = await planCluster(graph, cluster(text('spread')));
    const pack = await planCluster(graph, cluster(text('pack')));
    checkInvariants(graph, spread, text('spread'));
    checkInvariants(graph, pack, text('pack'));
    // 12 equal tenants (0.33 GHz each), weight budget 6 per node: spread puts 3 on each, pack
    // fills two nodes up to their budgets.
    expect(spread.cluster.nodes.map((n) => n.tenants.length)).toEqual([3, 3, 3, 3]);
    expect(pack.cluster.nodes.map((n) => n.tenants.length)).toEqual([6, 6, 0, 0]);
    expect(pack.plans.has('n3')).toBe(false);
  });

  it('falls back to the host variant when the offloaded one fits nowhere', async () => {
    // hw-small has one meter: the second rate-limited tenant cannot offload its limiter.
    const g = parseGraph(
      [
        'version: 1',
        'tenants:',
        ...[1, 2].flatMap((i) => [
          `  - name: r${i}`,
          `    slice: { ingressPort: 0, vlan: ${i} }`,
          '    egressPort: 1',
          '    nfs: { lim: { type: ratelimiter, config: { rate: 100Mbps } } }',
          '    graph: [{ from: entry, to: lim }, { from: lim, to: exit }]',
        ]),
      ].join('\n'),
      'lim.yaml',
    );
    const text = 'version: 1\nofferedLoad: 1Mpps\nnodes:\n  - { name: small, nic: hw-small, hostCores: 4 }\n';
    const planned = await planCluster(g, cluster(text));
    checkInvariants(g, planned, text);
    expect(planned.cluster.assignment.map((a) => a.variant).sort()).toEqual(['host', 'offload']);
  });
});

describe('tenants that fit nowhere', () => {
  it('names the tenant, every node and the host cycles it lacks', async () => {
    const graph = parseGraph(natTenants(3), 'nat.yaml');
    const err = await planError(
      graph,
      'version: 1\nofferedLoad: 30Mpps\nnodes:\n' +
        '  - { name: a, nic: softnic, hostCores: 1, coreHz: 1GHz }\n' +
        '  - { name: b, nic: softnic, hostCores: 1, coreHz: 1GHz }\n',
    );
    // Each tenant brings 10 Mpps of NAT (180 cycles + a crossing): 3.3 GHz, more than a node has.
    expect(err.message).toMatch(/^nat\.yaml:\d+:\d+: tenant "t\d": fits on no node of the cluster:/);
    expect(err.message).toMatch(
      /\n {2}a \(softnic\): host cycles\/s: needs 3\.30e\+9, 1\.00e\+9 of 1\.00e\+9 left/,
    );
    expect(err.message).toMatch(/\n {2}b \(softnic\): host cycles\/s: needs/);
    expect(err.hint).toMatch(/add a node/);
  });

  it('names the NIC resource or wire port a node lacks', async () => {
    // t0 leaves on wire port 6, which hw-small does not have; t1 fits.
    const graph = parseGraph(natTenants(2).replace('egressPort: 1', 'egressPort: 6'), 'mixed.yaml');
    const err = await planError(
      graph,
      'version: 1\nofferedLoad: 1Mpps\nnodes:\n' +
        '  - { name: small, nic: hw-small, hostCores: 4 }\n' +
        '  - { name: tiny, nic: hw-small, hostCores: 4, weightBudget: 1 }\n',
    );
    expect(err.message).toContain('tenant "t0": fits on no node of the cluster:');
    expect(err.message).toContain(
      'small (hw-small): egress port 6 is not a wire port of profile hw-small (0, 1, 2, 3)',
    );
    expect(err.message).toContain('tiny (hw-small): egress port 6 is not a wire port of profile hw-small');
  });

  it('names the weight budget and TCAM entries that run out', async () => {
    // Two tenants of weight 1 on one node of budget 1.
    const graph = parseGraph(natTenants(2), 'nat.yaml');
    const weightErr = await planError(
      graph,
      'version: 1\nofferedLoad: 1Mpps\nnodes:\n  - { name: a, nic: softnic, hostCores: 8, weightBudget: 1 }\n',
    );
    expect(weightErr.message).toMatch(/a \(softnic\): tenant weight: needs 1, 0 of 1 left/);
    // 20 tenants on one hw-small: each classifies with TCAM entries; 32 run out.
    const many = parseGraph(natTenants(20), 'many.yaml');
    const tcamErr = await planError(
      many,
      'version: 1\nofferedLoad: 1Mpps\nnodes:\n  - { name: s, nic: hw-small, hostCores: 8 }\n',
    );
    expect(tcamErr.message).toMatch(/s \(hw-small\): NIC ternaryEntries: needs \d+, \d+ of 32 left/);
  });
});

describe('pins', () => {
  const nodes =
    'nodes:\n  - { name: a, nic: softnic, hostCores: 2 }\n  - { name: b, nic: softnic, hostCores: 2 }\n';

  it('puts a pinned tenant on its node even where spreading would not', async () => {
    const graph = parseGraph(natTenants(4), 'nat.yaml');
    // Without pins, spread puts two tenants on each node; pin three to b.
    const text = `version: 1\nofferedLoad: 1Mpps\n${nodes}pins:\n  t0: b\n  t1: b\n  t2: b\n`;
    const planned = await planCluster(graph, cluster(text));
    checkInvariants(graph, planned, text);
    const nodeOf = new Map(planned.cluster.assignment.map((a) => [a.name, a]));
    for (const t of ['t0', 't1', 't2']) {
      expect(nodeOf.get(t)?.node).toBe('b');
      expect(nodeOf.get(t)?.reason).toMatch(/^pinned by cluster\.yaml:\d+$/);
    }
    expect(nodeOf.get('t3')?.node).toBe('a');
  });

  it('reports a pin to a node where the tenant does not fit, with both places', async () => {
    const graph = parseGraph(natTenants(2), 'nat.yaml');
    const err = await planError(
      graph,
      'version: 1\nofferedLoad: 1Mpps\nnodes:\n  - { name: a, nic: softnic, hostCores: 2, weightBudget: 1 }\n' +
        '  - { name: b, nic: softnic, hostCores: 2 }\npins:\n  t0: a\n  t1: a\n',
    );
    expect(err.message).toMatch(
      /^nat\.yaml:\d+:\d+: tenant "t1": does not fit on node "a", where cluster\.yaml:8 pins it:\n {2}a \(softnic\): tenant weight: needs 1, 0 of 1 left$/,
    );
    expect(err.hint).toMatch(/move the pin/);
  });

  it('reports a pin of a tenant the graph does not have', async () => {
    const graph = parseGraph(natTenants(2), 'nat.yaml');
    const err = await planError(graph, `version: 1\nofferedLoad: 1Mpps\n${nodes}pins:\n  T0: a\n`);
    expect(err.message).toBe(
      'cluster.yaml:7:3: pins.T0: the graph nat.yaml has no tenant "T0"; did you mean "t0"?',
    );
  });
});

describe('steering on a P4 top-of-rack switch', () => {
  it('the emitted steering program sends every tenant packet to its node and node egress to its uplink', async () => {
    const graph = loadGraph(EXAMPLE_GRAPH);
    const desc = loadCluster(EXAMPLE_CLUSTER);
    const planned = await planCluster(graph, desc);
    const tor = emitNicArtifacts(planned.tor);
    const device = new SoftnicDevice();
    await installArtifacts(device, tor);
    const whole = await partition(graph, { solver: 'heuristic' });
    const { packets } = generateTraffic(whole, { ...DEFAULT_GENERATOR, packetsPerPath: 8 });
    const nodeOf = new Map(planned.cluster.assignment.map((a) => [a.name, a.node]));
    let steered = 0;
    let unowned = 0;
    for (const pkt of packets) {
      const headers = headersOf(pkt.port, pkt.data);
      const tenant = packetFate(graph, headers).tenant;
      const [out] = device.inject(desc.uplinks[pkt.port], [pkt.data]);
      if (!tenant) {
        expect('drop' in out, `a packet of no tenant left port ${'port' in out ? out.port : ''}`).toBe(true);
        unowned++;
        continue;
      }
      const node = desc.nodes.find((n) => n.name === nodeOf.get(tenant))!;
      expect(out).toMatchObject({ port: node.fabricPorts[pkt.port] });
      expect('data' in out && Buffer.compare(out.data, pkt.data)).toBe(0);
      steered++;
    }
    expect(steered).toBeGreaterThan(20);
    // A frame on an uplink that matches no slice is dropped, not flooded.
    const stray = buildPacket({
      vlan: 999,
      srcIp: '10.9.9.9',
      dstIp: '10.9.9.8',
      proto: 17,
      srcPort: 1,
      dstPort: 2,
    });
    expect('drop' in device.inject(desc.uplinks[0], [stray])[0]).toBe(true);
    expect(unowned + steered).toBe(packets.length);
    // Whatever a node sends out of wire port p leaves on uplink p.
    for (const n of desc.nodes) {
      for (const [wire, port] of Object.entries(n.fabricPorts)) {
        const [out] = device.inject(port, [stray]);
        expect(out, `${n.name} wire port ${wire}`).toMatchObject({ port: desc.uplinks[Number(wire)] });
      }
    }
  });
});

describe('cluster descriptions', () => {
  const dir = join(__dirname, 'bad-cluster');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  it('the bad-cluster corpus covers at least 12 kinds of problem', () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
  });

  for (const f of files) {
    it(`bad-cluster/${f} reports its exact problems`, () => {
      expectCorpusDiagnostics(join(dir, f), loadCluster);
    });
  }

  it('cables the fabric by default: uplink p is port p, node i wire port p is W·(i+1)+p', () => {
    const c = loadCluster(EXAMPLE_CLUSTER);
    expect(c.uplinks).toEqual({ 0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7 });
    expect(c.nodes.map((n) => n.fabricPorts[0])).toEqual([8, 16, 24]);
    expect(Object.keys(c.nodes[2].fabricPorts)).toEqual(['0', '1', '2', '3']); // hw-small has 4 wire ports
    expect(c.offeredLoadPps).toBe(6e6);
    expect(c.nodes[0].coreHz).toBe(2.4e9);
  });

  it('docs/scale-out.md documents every key of the format, and the schema allows exactly them', () => {
    const doc = readFileSync('docs/scale-out.md', 'utf8');
    const keys = (table: string): string[] =>
      doc
        .split(table)[1]
        .split('\n\n')[0]
        .split('\n')
        .filter((l) => l.startsWith('| `'))
        .map((l) => l.split('`')[1]);
    const top = keys('| key | required | meaning |\n');
    const node = keys('A node:\n\n| key | required | meaning |\n');
    expect(top.map((k) => k.split('.')[0]).sort()).toEqual(Object.keys(clusterSchema.properties).sort());
    expect(node).toEqual(Object.keys(clusterSchema.properties.nodes.items.properties));
  });

  const validate = new Ajv({ allErrors: true, strict: false }).compile(clusterSchema);
  it('schemas/cluster.schema.json accepts the example', () => {
    expect(validate(parse(readFileSync(EXAMPLE_CLUSTER, 'utf8')))).toBe(true);
  });
  for (const [f, what] of [
    ['unknown-key.yaml', 'hostcores'],
    ['bad-node-name.yaml', 'pattern'],
    ['bad-offered-load.yaml', 'offeredLoad'],
    ['no-nodes.yaml', 'strategy'],
  ]) {
    it(`schemas/cluster.schema.json rejects bad-cluster/${f}`, () => {
      expect(validate(parse(readFileSync(join(dir, f), 'utf8')))).toBe(false);
      expect(JSON.stringify(validate.errors)).toContain(what);
    });
  }
});
