/**
 * A simulated cluster on one machine: three network namespaces are three nodes, each running
 * `nfp agent` (its own softnic and host runtime) on the plan `nfp partition --cluster` made for it;
 * a fourth namespace is the fabric, a stand-alone softnic running the emitted top-of-rack steering
 * program, cabled to every node's wire ports and to four uplinks. The test sends every tenant's
 * traffic into the uplinks and checks each packet's fate against the reference semantics
 * (partitioner/reference.ts): forwarded out of the right uplink with the right headers, or not
 * seen when the reference drops it; the drop reasons are checked against each agent's own
 * per-tenant account (/status). Then one node's agent is killed: only its tenants' packets are
 * lost, and after a restart they come back.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGraph, partition } from '../../partitioner';
import type { ServiceGraph } from '../../partitioner/graph';
import { clusterToDir } from '../../partitioner/cluster-output';
import { loadCluster } from '../../partitioner/cluster-load';
import type { ClusterPlan } from '../../partitioner/cluster';
import type { ClusterDescription } from '../../partitioner/cluster';
import { packetFate } from '../../partitioner/reference';
import { emitNicArtifacts } from '../../p4';
import { validatePlan } from '../../partitioner';
import { buildPacket, parsePacket } from '../../deploy/packet';
import { DEFAULT_GENERATOR, generateTraffic, type GeneratedPacket } from '../../deploy/traffic';
import { openTarget, type PacketFate, type Target } from '../../targets';
import { loadSoftnic, type NativeRawSocket } from '../../targets/softnic/native';
import type { AgentStatus } from '../../agent/agent';
import { compareWithReference, headersOf } from '../deploy/differential';
import { Lab, exited, sh } from './netns';

const root = process.getuid?.() === 0;
const built = existsSync('dist/cli/commands/agent.js');
const why = !root ? 'network namespaces need root' : !built ? 'dist/ is not built (npm run build:ts)' : '';
if (why) console.warn(`sim-cluster.test: skipping: ${why}`);

const GRAPH = 'examples/multi-tenant.yaml';
const CLUSTER = `version: 1
offeredLoad: 1Mpps
nodes:
  - { name: node-1, nic: hw-small, hostCores: 1, weightBudget: 2 }
  - { name: node-2, nic: hw-small, hostCores: 1, weightBudget: 2 }
  - { name: node-3, nic: hw-small, hostCores: 1, weightBudget: 2 }
`;
const TAG = `c${process.pid.toString(36)}`;
const MAGIC = 0x6e667063; // "nfpc": marks the test's frames and carries their number

interface Node {
  name: string;
  ns: string;
  ip: string;
  tenants: string[];
  args: string[];
  agent?: ChildProcess;
  log: string[];
}

const lab = new Lab(TAG);
const tmp = mkdtempSync(join(tmpdir(), 'nfp-cluster-'));
let graph: ServiceGraph;
let cluster: ClusterPlan;
let desc: ClusterDescription;
let nodes: Node[] = [];
let tor: Target | undefined;
let torNic: ReturnType<typeof emitNicArtifacts> | undefined;
let torProcess: ChildProcess | undefined;
const torLog: string[] = [];
const uplinks = new Map<number, NativeRawSocket>();
let traffic: GeneratedPacket[] = [];
let nextId = 1;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function agentStatus(n: Node): Promise<AgentStatus> {
  const res = await fetch(`http://${n.ip}:9464/status`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as AgentStatus;
}

function startAgent(n: Node): void {
  n.agent = lab.nfp(n.ns, n.args, n.log);
}

async function ready(n: Node): Promise<void> {
  await until(`${n.name} ready`, async () => {
    const res = await fetch(`http://${n.ip}:9464/readyz`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200 ? true : undefined;
  });
}

/** The generated packet with a payload that starts with the test's mark and number `id`. */
function tagged(p: GeneratedPacket, id: number): GeneratedPacket {
  const h = parsePacket(p.data);
  const mark = Buffer.alloc(8);
  mark.writeUInt32BE(MAGIC, 0);
  mark.writeUInt32BE(id, 4);
  const data = buildPacket({
    vlan: h.vlan,
    srcIp: h.srcIp!,
    dstIp: h.dstIp!,
    proto: h.proto!,
    srcPort: h.srcPort,
    dstPort: h.dstPort,
    dscp: h.dscp,
    payload: Buffer.concat([mark, h.payload ?? Buffer.alloc(0)]),
    minLength: p.data.length,
  });
  return { ...p, data };
}

function idOf(frame: Buffer): number | undefined {
  const p = parsePacket(frame);
  if (!p.payload || p.payload.length < 8 || p.payload.readUInt32BE(0) !== MAGIC) return undefined;
  return p.payload.readUInt32BE(4);
}

/** Packets the graph drops: acme's denied source and ports (on its node), and no tenant's (at the fabric). */
function dropBait(): GeneratedPacket[] {
  const out: GeneratedPacket[] = [];
  const add = (
    port: number,
    vlan: number | undefined,
    srcIp: string,
    proto: number,
    dstPort: number,
  ): void => {
    const data = buildPacket({
      vlan,
      srcIp,
      dstIp: '198.18.0.9',
      proto,
      srcPort: 5000 + out.length,
      dstPort,
      minLength: 96,
    });
    out.push({ port, data, tenant: 0, path: 0, suspicious: false });
  };
  for (let i = 0; i < 6; i++) {
    add(0, 10, `192.0.2.${10 + i}`, 6, 443); // acme: acl-deny by source
    add(0, 10, `10.1.0.${10 + i}`, 17, 6881 + i); // acme: acl-deny by UDP port range
    add(0, 99, `10.2.0.${10 + i}`, 17, 53); // VLAN 99: no tenant
    add(1, 10, `10.3.0.${10 + i}`, 17, 53); // acme's VLAN on the wrong port: no tenant
  }
  return out;
}

/** Per tenant: input, forwarded, and drops by reason kind, from an agent's live report. */
type Account = Map<string, { input: number; forwarded: number; drops: Map<string, number> }>;

function accountOf(s: AgentStatus | undefined): Account {
  const out: Account = new Map();
  for (const t of s?.report?.tenants ?? []) {
    const drops = new Map<string, number>();
    for (const p of t.paths)
      for (const [key, n] of Object.entries(p.dropsByReason)) {
        const kind = key.split(':').pop() as string; // nic:<kind> or host:<tenant.nf>:<kind>
        drops.set(kind, (drops.get(kind) ?? 0) + n);
      }
    out.set(t.name, { input: t.input, forwarded: t.forwarded, drops });
  }
  return out;
}

interface PhaseResult {
  perNode: Array<{
    node: string;
    tenants: string[];
    sent: number;
    forwarded: number;
    dropped: Record<string, number>;
  }>;
  failures: string[];
}

/** Sends every tenant's traffic through the fabric; checks fates; `down` nodes must lose theirs. */
async function phase(label: string, down: Set<string>): Promise<PhaseResult> {
  const torDrops = async (): Promise<number> => {
    const code = torNic!.entries.dropReasons.find((r) => r.name === 'no-tenant')!.code;
    return (await tor!.readCounters())[torNic!.entries.dropCounter.name]?.[code] ?? 0;
  };
  const torBefore = await torDrops();
  const before = new Map<string, Account>();
  for (const n of nodes) before.set(n.name, down.has(n.name) ? new Map() : accountOf(await agentStatus(n)));
  for (const s of uplinks.values()) while (s.recv(256).length > 0) continue;

  const sent = traffic.map((p) => tagged(p, nextId++));
  const firstId = sent[0] ? idOf(sent[0].data)! : 0;
  const seen = new Map<number, { port: number; data: Buffer }>();
  const collect = (): void => {
    for (const [port, s] of uplinks)
      for (const f of s.recv(256)) {
        const id = idOf(f);
        if (id !== undefined && id >= firstId) seen.set(id, { port, data: f });
      }
  };
  // Paced, so that the shaper's meter (100 Mbit/s) stays green.
  for (let i = 0; i < sent.length; i += 20) {
    for (const p of sent.slice(i, i + 20)) uplinks.get(p.port)!.send(p.data);
    await new Promise((r) => setTimeout(r, 15));
    collect();
  }
  const settle = Date.now() + 2500;
  while (Date.now() < settle) {
    collect();
    await new Promise((r) => setTimeout(r, 20));
  }

  const tenantNode = new Map(cluster.assignment.map((a) => [a.name, a.node]));
  const fates: PacketFate[] = [];
  const failures: string[] = [];
  const expectedDrops = new Map<string, Map<string, number>>(); // tenant → reason kind → count
  const sentPer = new Map<string, number>();
  const seenPer = new Map<string, number>();
  sent.forEach((p, i) => {
    const id = firstId + i;
    const ref = packetFate(graph, headersOf(p.port, p.data));
    const tenant = ref.tenant ?? '';
    const node = tenantNode.get(tenant) ?? '';
    const out = seen.get(id);
    sentPer.set(tenant, (sentPer.get(tenant) ?? 0) + 1);
    if (out) seenPer.set(tenant, (seenPer.get(tenant) ?? 0) + 1);
    if (down.has(node)) {
      if (out)
        failures.push(`${label} #${id}: tenant ${tenant} of stopped ${node} came out of uplink ${out.port}`);
      fates.push({ kind: 'dropped', where: 'nic', reason: 'node-down' });
      return;
    }
    if (out) {
      fates.push({ kind: 'forwarded', port: out.port, data: out.data });
      return;
    }
    // Not seen: a drop. Which reason the node gave is checked below against its own account.
    const t = graph.tenants.find((x) => x.name === tenant);
    const kind =
      ref.outcome.kind === 'drop'
        ? ref.outcome.reason.split(':')[0]
        : t?.rateLimit || ref.route.some((nf) => t?.nfs.find((x) => x.name === nf)?.type === 'ratelimiter')
          ? 'meter-red'
          : 'lost';
    const m = expectedDrops.get(tenant) ?? new Map<string, number>();
    m.set(kind, (m.get(kind) ?? 0) + 1);
    expectedDrops.set(tenant, m);
    fates.push({ kind: 'dropped', where: 'nic', reason: kind });
  });
  const up = sent.filter(
    (p) => !down.has(tenantNode.get(packetFate(graph, headersOf(p.port, p.data)).tenant ?? '') ?? ''),
  );
  const upFates = fates.filter(
    (_, i) =>
      !down.has(tenantNode.get(packetFate(graph, headersOf(sent[i].port, sent[i].data)).tenant ?? '') ?? ''),
  );
  failures.push(...compareWithReference(label, graph, up, upFates).failures);

  // The fabric drops what belongs to no tenant, and counts it.
  const unowned = expectedDrops.get('')?.get('no-tenant') ?? 0;
  if ((await torDrops()) - torBefore !== unowned)
    failures.push(
      `${label}: the fabric counted ${(await torDrops()) - torBefore} no-tenant drops, ${unowned} were sent`,
    );

  // Each running node's own account of the phase: what it received, forwarded, and why it dropped.
  const perNode: PhaseResult['perNode'] = [];
  for (const n of nodes) {
    const row = {
      node: n.name,
      tenants: n.tenants,
      sent: 0,
      forwarded: 0,
      dropped: {} as Record<string, number>,
    };
    for (const t of n.tenants) row.sent += sentPer.get(t) ?? 0;
    if (down.has(n.name)) {
      perNode.push(row);
      continue;
    }
    const after = accountOf(await agentStatus(n));
    for (const t of n.tenants) {
      const a = after.get(t);
      const b = before.get(n.name)?.get(t);
      const input = (a?.input ?? 0) - (b?.input ?? 0);
      const forwarded = (a?.forwarded ?? 0) - (b?.forwarded ?? 0);
      row.forwarded += forwarded;
      if (input !== (sentPer.get(t) ?? 0))
        failures.push(
          `${label}: ${n.name} counted ${input} packets of ${t}, ${sentPer.get(t) ?? 0} were sent`,
        );
      if (forwarded !== (seenPer.get(t) ?? 0))
        failures.push(
          `${label}: ${n.name} forwarded ${forwarded} packets of ${t}, ${seenPer.get(t) ?? 0} came out`,
        );
      const want = expectedDrops.get(t) ?? new Map<string, number>();
      const kinds = new Set([...want.keys(), ...(a?.drops.keys() ?? [])]);
      for (const k of kinds) {
        const got = (a?.drops.get(k) ?? 0) - (b?.drops.get(k) ?? 0);
        row.dropped[k] = (row.dropped[k] ?? 0) + got;
        if (got !== (want.get(k) ?? 0))
          failures.push(
            `${label}: ${n.name} dropped ${got} packets of ${t} as ${k}, expected ${want.get(k) ?? 0}`,
          );
      }
    }
    perNode.push(row);
  }
  console.log(
    `sim-cluster ${label}: ${sent.length} packets, ${seen.size} out, ${unowned} of no tenant dropped by the fabric\n` +
      perNode
        .map(
          (r) =>
            `  ${r.node} [${r.tenants.join(', ')}]${down.has(r.node) ? ' (agent down)' : ''}: ${r.sent} sent, ${r.forwarded} forwarded, dropped ${JSON.stringify(r.dropped)}`,
        )
        .join('\n'),
  );
  return { perNode, failures };
}

describe.skipIf(!!why)('a simulated three-node cluster', () => {
  beforeAll(async () => {
    graph = loadGraph(GRAPH);
    writeFileSync(join(tmp, 'cluster.yaml'), CLUSTER);
    const out = join(tmp, 'plan');
    cluster = (await clusterToDir(GRAPH, join(tmp, 'cluster.yaml'), { out })).cluster;
    desc = loadCluster(join(tmp, 'cluster.yaml'));
    const whole = await partition(graph, { solver: 'heuristic' });
    traffic = [
      ...generateTraffic(whole, { ...DEFAULT_GENERATOR, packetsPerPath: 30, sizes: [96, 300], seed: 11 })
        .packets,
      ...dropBait(),
    ];

    // The fabric and its uplinks (the far ends stay here, where the test sends and receives).
    const fab = lab.netns('fab');
    const torPorts: string[] = [];
    for (const [wire, port] of Object.entries(desc.uplinks)) {
      lab.link(undefined, `${TAG}U${wire}`, fab, `u${wire}`);
      torPorts.push(`${port}@iface:u${wire}`);
    }
    // The nodes: each wire port cabled to its fabric port; a management link for the agent's HTTP.
    nodes = desc.nodes.map((d, i) => {
      const ns = lab.netns(`n${i + 1}`);
      for (const [wire, port] of Object.entries(d.fabricPorts)) {
        lab.link(fab, `t${port}`, ns, `w${wire}`);
        torPorts.push(`${port}@iface:t${port}`);
      }
      lab.link(undefined, `${TAG}M${i}`, ns, 'mgmt');
      sh('ip', ['addr', 'add', `10.213.${i}.1/30`, 'dev', `${TAG}M${i}`]);
      sh('ip', ['-n', ns, 'addr', 'add', `10.213.${i}.2/30`, 'dev', 'mgmt']);
      const plan = cluster.nodes[i].plan;
      const args = [
        'agent',
        '--plan',
        join(out, plan ?? 'none'),
        '--node',
        d.name,
        '--listen',
        `10.213.${i}.2:9464`,
        '--isolation',
        'none',
        ...Object.keys(d.fabricPorts).flatMap((w) => ['--port', `${w}@iface:w${w}`]),
      ];
      const tenants = cluster.assignment.filter((a) => a.node === d.name).map((a) => a.name);
      return { name: d.name, ns, ip: `10.213.${i}.2`, tenants, args, log: [] };
    });
    expect(nodes.every((n) => n.tenants.length === 1)).toBe(true);

    // The top-of-rack switch: a stand-alone softnic; the steering program installed over P4Runtime.
    const sock = join(tmp, 'tor.sock');
    torProcess = lab.nfp(
      fab,
      ['softnic', '--grpc', `unix:${sock}`, ...torPorts.flatMap((p) => ['--port', p])],
      torLog,
    );
    await until('the fabric switch', async () => (existsSync(sock) ? true : undefined), 30_000);
    const torPlan = validatePlan(JSON.parse(readFileSync(join(out, 'tor', 'plan.json'), 'utf8')));
    tor = openTarget({ kind: 'softnic', grpc: `unix:${sock}` });
    await tor.start(torPlan);
    torNic = emitNicArtifacts(torPlan);
    await tor.install(torNic);

    for (const n of nodes) startAgent(n);
    await Promise.all(nodes.map(ready));
    const mod = loadSoftnic();
    for (const wire of Object.keys(desc.uplinks))
      uplinks.set(Number(wire), new mod.RawSocket(`${TAG}U${wire}`));
  }, 180_000);

  afterAll(async () => {
    for (const s of uplinks.values()) s.close();
    await tor?.stop();
    await lab.close();
    rmSync(tmp, { recursive: true, force: true });
    const left = sh('ip', ['netns', 'list'])
      .split('\n')
      .filter((l) => l.startsWith(TAG));
    expect(left).toEqual([]);
  }, 60_000);

  it('carries every tenant to its node and back, packet by packet as the reference says; a killed agent loses only its tenants, until it is back', async () => {
    const all = await phase('all up', new Set());
    expect(all.failures).toEqual([]);
    expect(all.perNode.every((r) => r.forwarded > 0)).toBe(true);

    // Kill the agent of the node that runs host NFs (globex's NAT), as a crash would.
    const victim = nodes.find((n) => n.tenants.includes('globex'))!;
    victim.agent!.kill('SIGKILL');
    expect(await exited(victim.agent!)).toBe('SIGKILL');
    const downPhase = await phase('globex node down', new Set([victim.name]));
    expect(downPhase.failures).toEqual([]);
    expect(downPhase.perNode.find((r) => r.node === victim.name)!.sent).toBeGreaterThan(0);

    // Restart it: the same plan is deployed again and its tenants' packets come back.
    startAgent(victim);
    await ready(victim);
    const back = await phase('restarted', new Set());
    expect(back.failures).toEqual([]);
    expect(back.perNode.find((r) => r.node === victim.name)!.forwarded).toBeGreaterThan(0);

    // SIGTERM stops each agent cleanly.
    for (const n of nodes) n.agent!.kill('SIGTERM');
    for (const n of nodes) expect(await exited(n.agent!), n.log.join('\n')).toBe(0);
    torProcess?.kill('SIGTERM');
    expect(await exited(torProcess!), torLog.join('\n')).toBe(0);
  }, 240_000);
});
