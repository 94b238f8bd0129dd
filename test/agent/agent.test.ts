/**
 * The node agent on real ports: two veth pairs are its NIC's wire ports 0 and 1; frames sent on
 * the far ends go through the softnic and the host runtime (NAT) and come out the other port. The
 * plan comes from a file that the test rewrites (re-deploy), breaks (the running plan stays), and
 * from a Kubernetes NodePlan served by a small HTTP server that speaks the API server's list/watch
 * protocol (there is no API server here; the protocol is what the agent's client implements).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGraph, partition } from '../../partitioner';
import type { Plan } from '../../partitioner/plan';
import { buildPacket, parsePacket } from '../../deploy/packet';
import { loadSoftnic, type NativeRawSocket } from '../../targets/softnic/native';
import { NodeAgent, type AgentStatus } from '../../agent/agent';
import { FilePlanSource } from '../../agent/plan-source';
import { KubePlanSource } from '../../agent/kube';
import { parseWirePorts } from '../../agent/ports';
import { parseExposition, valueOf } from '../metrics/exposition';
import Ajv from 'ajv';
import agentSchema from '../../schemas/cli/agent.schema.json';

const root = process.getuid?.() === 0;
if (!root) console.warn('agent.test: skipping the port tests: veth pairs need root');

const tag = `a${process.pid.toString(36)}`;
const links = [0, 1].map((p) => ({ near: `${tag}n${p}`, far: `${tag}f${p}` }));
const tmp = mkdtempSync(join(tmpdir(), 'nfp-agent-'));

function graphYaml(denyPort: number): string {
  return `version: 1
tenants:
  - name: acme
    slice: { ingressPort: 0, vlan: 10 }
    egressPort: 1
    isolation: none
    nfs:
      fw: { type: firewall, config: { default: allow, rules: [{ action: deny, proto: udp, dstPort: ${denyPort} }] } }
      nat: { type: nat, config: { publicIp: 198.51.100.7 } }
    graph:
      - { from: entry, to: fw }
      - { from: fw, to: nat }
      - { from: nat, to: exit }
`;
}

async function planFor(denyPort: number): Promise<Plan> {
  return JSON.parse(JSON.stringify(await partition(parseGraph(graphYaml(denyPort), 'acme.yaml'))));
}

let far: NativeRawSocket[] = [];

beforeAll(() => {
  if (!root) return;
  for (const l of links) {
    spawnSync('ip', ['link', 'add', l.near, 'type', 'veth', 'peer', 'name', l.far]);
    for (const i of [l.near, l.far]) {
      spawnSync('ip', ['link', 'set', i, 'up']);
      spawnSync('sysctl', ['-qw', `net.ipv6.conf.${i}.disable_ipv6=1`]);
    }
  }
  far = links.map((l) => new (loadSoftnic().RawSocket)(l.far));
});

afterAll(async () => {
  for (const s of far) s.close();
  for (const l of links) spawnSync('ip', ['link', 'del', l.near]);
  rmSync(tmp, { recursive: true, force: true });
  const host = await import('../../host-runtime/lib');
  host.stop();
});

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const statusSchema = new Ajv({ strict: false }).compile(agentSchema);

/** GET /status, checked against schemas/cli/agent.schema.json. */
async function status(agent: NodeAgent): Promise<AgentStatus> {
  const s = (await (await fetch(`http://${agent.address}/status`)).json()) as AgentStatus;
  expect(statusSchema(s), JSON.stringify(statusSchema.errors)).toBe(true);
  return s;
}

/** Sends `n` frames of acme (UDP to `dstPort`) into wire port 0; returns the frames out of port 1. */
async function exchange(n: number, dstPort: number): Promise<Buffer[]> {
  for (const s of far) while (s.recv(256).length > 0) continue; // drain what is left
  for (let i = 0; i < n; i++) {
    far[0].send(
      buildPacket({
        vlan: 10,
        srcIp: `10.0.0.${1 + (i % 50)}`,
        dstIp: '192.0.2.9',
        proto: 17,
        srcPort: 4000 + i,
        dstPort,
        minLength: 60,
      }),
    );
  }
  const out: Buffer[] = [];
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && out.length < n) {
    out.push(...far[1].recv(256));
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 200));
  out.push(...far[1].recv(256));
  return out;
}

describe.skipIf(!root)('nfp agent on real ports', () => {
  it('deploys the plan file, serves probes, status and metrics, re-deploys on change, keeps the old plan on a bad one', async () => {
    const dir = join(tmp, 'node');
    mkdirSync(dir);
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(await planFor(53)));
    const lines: string[] = [];
    const agent = new NodeAgent({
      node: 'edge-1',
      source: new FilePlanSource(dir, 100),
      target: { kind: 'softnic', ports: parseWirePorts(links.map((l, p) => `${p}@iface:${l.near}`)) },
      isolation: 'none',
      listen: '127.0.0.1:0',
      log: (l) => lines.push(l),
    });
    await agent.start();
    try {
      expect((await fetch(`http://${agent.address}/healthz`)).status).toBe(200);
      await until('ready', async () => (await fetch(`http://${agent.address}/readyz`)).status === 200);

      // Port 53 is denied on the NIC; other UDP is NATed on the host and leaves on wire port 1.
      const passed = await exchange(20, 9000);
      expect(passed.length).toBe(20);
      for (const f of passed) expect(parsePacket(f).srcIp).toBe('198.51.100.7');
      expect((await exchange(10, 53)).length).toBe(0);
      const s1 = await status(agent);
      const acme = s1.report!.tenants[0];
      expect(acme).toMatchObject({ name: 'acme', input: 30, forwarded: 20, dropped: 10 });
      expect(s1.report!.dropsByReason).toEqual({ 'nic:acl-deny': 10 });
      const samples = parseExposition(await (await fetch(`http://${agent.address}/metrics`)).text());
      expect(valueOf(samples, 'nfp_tenant_packets_total', { tenant: 'acme' })).toBe(30);
      expect(valueOf(samples, 'nfp_drops_total', { tenant: 'acme', where: 'nic', reason: 'acl-deny' })).toBe(
        10,
      );
      expect(valueOf(samples, 'nfp_agent_ready', {})).toBe(1);
      expect(valueOf(samples, 'nfp_agent_deploys_total', { result: 'ok' })).toBe(1);

      // A new plan: now 9000 is denied and 53 passes.
      const v1 = s1.deployed!.version;
      writeFileSync(join(dir, 'plan.json'), JSON.stringify(await planFor(9000)));
      await until('the new plan', async () => {
        const s = await status(agent);
        return s.ready && s.deployed && s.deployed.version !== v1 ? s : undefined;
      });
      expect((await exchange(10, 9000)).length).toBe(0);
      expect((await exchange(10, 53)).length).toBe(10);
      const s2 = await status(agent);
      expect(s2.deploys).toEqual({ ok: 2, failed: 0 });
      expect(s2.report!.tenants[0]).toMatchObject({ input: 20, forwarded: 10, dropped: 10 }); // counts restart

      // A broken plan is refused; the running one stays and keeps carrying traffic.
      writeFileSync(join(dir, 'plan.json'), JSON.stringify({ version: 1, tenants: 'nope' }));
      const s3 = await until('the refusal', async () => {
        const s = await status(agent);
        return s.lastError ? s : undefined;
      });
      expect(s3.lastError!.message).toMatch(/^invalid plan:/);
      expect(s3.ready).toBe(true);
      expect(s3.deployed!.version).toBe(s2.deployed!.version);
      expect((await exchange(5, 53)).length).toBe(5);
    } finally {
      await agent.stop();
    }
    // Stopped: nothing listens, nothing forwards.
    await expect(fetch(`http://${agent.address ?? '127.0.0.1:1'}/healthz`)).rejects.toThrow();
    expect((await exchange(5, 53)).length).toBe(0);
    expect(lines.some((l) => l.includes('not deployed: invalid plan'))).toBe(true);
  });

  it('follows a NodePlan through the list/watch protocol: GET, watch events, resumed and restarted watches', async () => {
    const plans = [await planFor(53), await planFor(9000), await planFor(7)];
    let rv = 100;
    const requests: string[] = [];
    let stream: ServerResponse | undefined;
    const object = (plan: Plan): object => ({
      apiVersion: 'nfp.dev/v1alpha1',
      kind: 'NodePlan',
      metadata: { name: 'edge-1', namespace: 'nfp-system', resourceVersion: String(rv) },
      spec: { node: 'edge-1', plan },
    });
    let current = plans[0];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.headers.authorization !== 'Bearer test-token') return void res.writeHead(401).end();
      if (req.url === '/apis/nfp.dev/v1alpha1/namespaces/nfp-system/nodeplans/edge-1') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(object(current)));
        return;
      }
      if (req.url?.startsWith('/apis/nfp.dev/v1alpha1/namespaces/nfp-system/nodeplans?')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        stream = res;
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const agent = new NodeAgent({
      node: 'edge-1',
      source: new KubePlanSource({
        node: 'edge-1',
        namespace: 'nfp-system',
        api,
        token: 'test-token',
        retryMs: 100,
      }),
      target: { kind: 'softnic', ports: parseWirePorts(links.map((l, p) => `${p}@iface:${l.near}`)) },
      isolation: 'none',
      listen: '127.0.0.1:0',
    });
    await agent.start();
    try {
      await until('ready', async () => (await status(agent)).ready);
      expect((await status(agent)).deployed).toMatchObject({
        version: '100',
        origin: 'NodePlan nfp-system/edge-1',
      });
      expect((await exchange(5, 53)).length).toBe(0);
      await until('the watch', () => stream);
      expect(requests[1]).toContain('watch=true');
      expect(requests[1]).toContain('resourceVersion=100');
      expect(requests[1]).toContain('fieldSelector=metadata.name%3Dedge-1');

      // A MODIFIED event carries the next plan.
      rv = 101;
      current = plans[1];
      stream!.write(`${JSON.stringify({ type: 'MODIFIED', object: object(current) })}\n`);
      await until('plan 101', async () =>
        (await status(agent)).deployed?.version === '101' ? true : undefined,
      );
      expect((await exchange(5, 9000)).length).toBe(0);
      expect((await exchange(5, 53)).length).toBe(5);

      // The stream closes: the watch resumes from the last version seen.
      const before = requests.length;
      stream!.end();
      stream = undefined;
      await until('the resumed watch', () => (requests.length > before && stream ? true : undefined));
      expect(requests[before]).toContain('resourceVersion=101');

      // 410 Gone: start over with a GET, which has the newest plan.
      rv = 107;
      current = plans[2];
      stream!.write(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`,
      );
      stream!.end();
      stream = undefined;
      await until('plan 107', async () =>
        (await status(agent)).deployed?.version === '107' ? true : undefined,
      );
      expect((await exchange(5, 7)).length).toBe(0);
      expect((await exchange(5, 53)).length).toBe(5);
    } finally {
      await agent.stop();
      stream?.end();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
