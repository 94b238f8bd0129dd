/**
 * What `nfp deploy` sends and how its report reads: the generator's shares (tenants'
 * trafficShare, the paths' edge shares, the alert share of a dynamic branch), captures replayed
 * one per wire port (pcap and pcapng, interleaved by capture time), files checked before any
 * work, and the report lines for short runs, branches and empty paths.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTraffic, prepareDeploy, renderReport, runDeploy } from '../../deploy';
import { PcapWriter } from '../../targets/pcap';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const MULTI = join(EXAMPLES, 'multi-tenant.yaml');
const BRANCHY = join(EXAMPLES, 'branch-heavy.yaml');
const dir = mkdtempSync(join(tmpdir(), 'nfp-traffic-'));

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const host = await import('../../host-runtime/lib');
  host.stop();
});

/** A pcapng file of Ethernet frames (one section, one interface, microsecond EPBs). */
function writePcapng(file: string, frames: Array<{ timeUs: number; data: Buffer }>): void {
  const block = (type: number, body: Buffer): Buffer => {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    const head = Buffer.alloc(8);
    head.writeUInt32LE(type, 0);
    head.writeUInt32LE(len, 4);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(len, 0);
    return Buffer.concat([head, body, pad, tail]);
  };
  const shb = Buffer.alloc(16, 0xff);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeUInt16LE(0, 6);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(1, 0);
  idb.writeUInt32LE(65535, 4);
  const epbs = frames.map((f) => {
    const h = Buffer.alloc(20);
    h.writeUInt32LE(0, 0);
    h.writeUInt32LE(Math.floor(f.timeUs / 2 ** 32), 4);
    h.writeUInt32LE(f.timeUs % 2 ** 32, 8);
    h.writeUInt32LE(f.data.length, 12);
    h.writeUInt32LE(f.data.length, 16);
    return block(6, Buffer.concat([h, f.data]));
  });
  writeFileSync(file, Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), ...epbs]));
}

describe('the traffic generator', () => {
  it("splits a pass by the tenants' trafficShare and their paths' shares, interleaved", async () => {
    const { plan } = await prepareDeploy({ input: MULTI, target: { kind: 'softnic' }, durationSeconds: 0 });
    const { packets } = generateTraffic(plan, { packets: 2000, flowsPerPath: 8, sizes: [64], seed: 1 });
    expect(packets.length).toBe(2000);
    const perTenant = new Map<number, number>();
    const perPath = new Map<number, number>();
    for (const p of packets) {
      perTenant.set(p.tenant, (perTenant.get(p.tenant) ?? 0) + 1);
      perPath.set(p.path, (perPath.get(p.path) ?? 0) + 1);
    }
    // acme: trafficShare 2 of 4 → half; globex and initech a quarter each.
    const byName = (name: string): number =>
      perTenant.get(plan.tenants.find((t) => t.name === name)!.id) ?? 0;
    expect(Math.abs(byName('acme') - 1000)).toBeLessThanOrEqual(3);
    expect(Math.abs(byName('globex') - 500)).toBeLessThanOrEqual(3);
    expect(Math.abs(byName('initech') - 500)).toBeLessThanOrEqual(3);
    // Within globex, its paths get their edge shares (4 : 2 : 1 of its traffic).
    const globex = plan.paths.filter((p) => p.tenant === plan.tenants.find((t) => t.name === 'globex')!.id);
    for (const p of globex) expect(Math.abs((perPath.get(p.id) ?? 0) - 500 * p.share)).toBeLessThanOrEqual(2);
    // Interleaved: the first tenth of the pass already has every tenant.
    expect(new Set(packets.slice(0, 200).map((p) => p.tenant)).size).toBe(3);
  });

  it('gives a root path with a dynamic branch suspicious payloads in the share of its alert edge', async () => {
    const { plan } = await prepareDeploy({ input: BRANCHY, target: { kind: 'softnic' }, durationSeconds: 0 });
    const { packets } = generateTraffic(plan, { packets: 20_000, flowsPerPath: 8, sizes: [64], seed: 2 });
    const viaIds = packets.filter((p) => plan.paths.some((b) => b.branchOf?.path === p.path));
    const share = viaIds.filter((p) => p.suspicious).length / viaIds.length;
    expect(share).toBeGreaterThan(0.03); // the graph: alert 0.05, pass 0.95
    expect(share).toBeLessThan(0.07);
    // Every root path gets packets, however small its share.
    for (const p of plan.paths.filter((x) => !x.branchOf))
      expect(packets.some((x) => x.path === p.id)).toBe(true);
  });
});

describe('--traffic captures, one per wire port', () => {
  it('replays a pcap on one port and a pcapng on another, interleaved by capture time', async () => {
    const { plan } = await prepareDeploy({ input: MULTI, target: { kind: 'softnic' }, durationSeconds: 0 });
    const { packets } = generateTraffic(plan, { packetsPerPath: 2, flowsPerPath: 2, sizes: [64], seed: 3 });
    const acme = packets.find((p) => p.tenant === plan.tenants.find((t) => t.name === 'acme')!.id)!;
    const initech = packets.find((p) => p.tenant === plan.tenants.find((t) => t.name === 'initech')!.id)!;
    // Port 0: acme's frame, and initech's, which its slice takes on port 2 only.
    const a = join(dir, 'port0.pcap');
    const w = new PcapWriter(a);
    const t0 = 1_700_000_000_000_000_000n; // ns since the epoch
    w.write(acme.data, t0 + 1_000n);
    w.write(initech.data, t0 + 3_000n);
    w.close();
    const b = join(dir, 'port2.pcapng');
    writePcapng(b, [
      // Microseconds: between the pcap's two frames, and after them.
      { timeUs: 1_700_000_000_000_000 + 2, data: initech.data },
      { timeUs: 1_700_000_000_000_000 + 4, data: initech.data },
    ]);
    const { report, prepared } = await runDeploy({
      input: MULTI,
      target: { kind: 'softnic' },
      traffic: [
        { port: 0, file: a },
        { port: 2, file: b },
      ],
      durationSeconds: 0,
      recordFates: true,
    });
    expect(prepared.traffic.map((p) => p.port)).toEqual([0, 2, 0, 2]);
    expect(report.totals).toEqual({ input: 4, forwarded: 3, dropped: 1 });
    expect(report.dropsByReason).toEqual({ 'nic:no-tenant': 1 });
    expect(report.unclassified).toEqual({ input: 1, forwarded: 0, dropped: 1 });
    const initechReport = report.tenants.find((t) => t.name === 'initech')!;
    expect(initechReport.forwarded).toBe(2);
  });

  it('reports a missing capture before partitioning, naming the file', async () => {
    const steps: string[] = [];
    const failure = await prepareDeploy({
      input: MULTI,
      target: { kind: 'softnic' },
      traffic: [
        { port: 0, file: join(dir, 'port0.pcap') },
        { port: 1, file: join(dir, 'nope.pcapng') },
      ],
      durationSeconds: 0,
      onStep: (s) => steps.push(s),
    }).catch((e: unknown) => e);
    expect(String(failure)).toMatch(/nope\.pcapng: no such file/);
    expect(steps).toEqual([]);
    const wrongPort = await prepareDeploy({
      input: MULTI,
      target: { kind: 'softnic' },
      traffic: [{ port: 64, file: join(dir, 'port0.pcap') }],
      durationSeconds: 0,
    }).catch((e: unknown) => e);
    expect(String(wrongPort)).toMatch(/port 64 is not a wire port of NIC profile softnic/);
  });

  it('nfp deploy --traffic PORT=FILE twice, as a user types it', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin', 'run.js'),
        'deploy',
        MULTI,
        '--traffic',
        `0=${join(dir, 'port0.pcap')}`,
        '--traffic',
        `2=${join(dir, 'port2.pcapng')}`,
        '--duration',
        '0',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/4 packets in [\d.]+ s \(one short pass: no rate\)/);
    expect(r.stdout).toMatch(/no tenant \(refused before classification, or in no slice\): 1 in/);
    expect(r.stdout).toMatch(/totals: input 4 = forwarded 3 \+ dropped 1 \(every packet accounted for\)/);
    // Where the NIC half went.
    expect(r.stderr).toMatch(
      /emit done: NIC half kept in memory: .*bmv2\.json.*`nfp partition GRAPH --out DIR`/,
    );
    const missing = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'run.js'), 'deploy', MULTI, '--traffic', '1=/nonexistent.pcap', '--duration', '0'],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/\/nonexistent\.pcap: no such file/);
    expect(missing.stderr).not.toMatch(/partition done/);
  });
});

describe('the report', () => {
  it('on branch-heavy: branches counted where they go, NF figures per path', async () => {
    const { report } = await runDeploy({
      input: BRANCHY,
      target: { kind: 'softnic' },
      generate: { packets: 3000, flowsPerPath: 8, sizes: [64, 600], suspiciousShare: 0.2, seed: 4 },
      durationSeconds: 0,
      isolation: 'none',
    });
    expect(report.mpps === undefined).toBe(report.seconds < 0.01);
    const campus = report.tenants[0];
    const root = campus.paths.find((p) => p.name.includes('lb') && Object.keys(p.branched).length)!;
    const branch = campus.paths.find((p) => p.branchOf?.path === root.id)!;
    expect(root.branched[String(branch.id)]).toBe(branch.input);
    expect(root.input).toBe(root.forwarded + root.dropped + branch.input);
    // lb runs only on the packets that stayed on the root path.
    const lb = root.nfs.find((n) => n.type === 'loadbalancer')!;
    expect(lb.packets).toBe(root.forwarded);
    const text = renderReport(report);
    expect(text).toMatch(
      new RegExp(`path ${branch.id} .*\\(alert on path ${root.id}\\): ${branch.input} in`),
    );
    expect(text).toMatch(new RegExp(`, ${branch.input} to path ${branch.id}`));
    expect(text).not.toMatch(/\b0 host cycles\/pkt/);
  });

  it('says "no packets" for a path that got none', async () => {
    const { plan } = await prepareDeploy({ input: MULTI, target: { kind: 'softnic' }, durationSeconds: 0 });
    const { packets } = generateTraffic(plan, { packetsPerPath: 1, flowsPerPath: 1, sizes: [64], seed: 3 });
    const acme = plan.tenants.find((t) => t.name === 'acme')!.id;
    const file = join(dir, 'acme.pcap');
    const w = new PcapWriter(file);
    for (const p of packets.filter((x) => x.tenant === acme)) w.write(p.data);
    w.close();
    const { report } = await runDeploy({
      input: MULTI,
      target: { kind: 'softnic' },
      traffic: file,
      durationSeconds: 0,
    });
    expect(renderReport(report)).toMatch(/path \d+ globex: .*: no packets/);
  });
});
