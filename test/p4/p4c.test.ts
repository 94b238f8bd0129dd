/**
 * Cross-checks with the real compiler, for every example graph, the hand-made fixture plan and a
 * synthetic four-tenant graph no golden holds, where p4c is on PATH (build p4c to run them;
 * otherwise they say they were skipped):
 * - p4test compiles program.p4 (v1model) and program.pna.p4 (PNA) without error or warning;
 * - p4c-bm2-ss compiles program.p4, and its P4Info equals nfp's: names, ids (nfp's `@id`s and
 *   p4c's own hash for NoAction), match fields, parameters, sizes, controller headers;
 * - p4c's BMv2 JSON gives every packet the same fate as nfp's JSON on the softnic (generated
 *   traffic, NSH on the wire, PacketOut frames from the CPU port), and on a real
 *   simple_switch_grpc when it is on PATH.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitNicArtifacts, type NicArtifacts } from '../../p4/index';
import { loadGraph, partition } from '../../partitioner';
import { syntheticGraph } from '../../partitioner/synthetic';
import { DEFAULT_GENERATOR, generateTraffic } from '../../deploy/traffic';
import { p4infoFromJson, type P4Info } from '../../p4runtime';
import { SoftnicDevice } from '../../targets/softnic/device';
import { installArtifacts } from '../../targets/softnic/install';
import { findOnPath } from '../../targets/bmv2/launch';
import { fileText, onPath } from './helpers';
import { twoTenantPlan } from './fixtures/plans';
import { bmv2Wire } from './bmv2-wire';

const P4TEST = onPath('p4test');
const BM2SS = onPath('p4c-bm2-ss');
const BMV2 = !!findOnPath('simple_switch_grpc') && process.getuid?.() === 0;
if (!P4TEST) console.warn('test/p4/p4c: skipping the p4test compiles: p4test is not on PATH');
if (!BM2SS)
  console.warn('test/p4/p4c: skipping the P4Info and packet-fate comparisons: p4c-bm2-ss is not on PATH');
else if (!BMV2)
  console.warn('test/p4/p4c: p4c JSON on a real BMv2 skipped: needs simple_switch_grpc on PATH and root');

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const graphs = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
const FIXTURE = 'fixture (two tenants, every offloadable NF)';
/** A graph none of nfp's examples or goldens hold: four tenants, forks, IDS verdict branches. */
const UNSEEN = 'random four-tenant graph (synthetic, seed 13)';
const cases = [FIXTURE, ...graphs, UNSEEN];

const dir = mkdtempSync(join(tmpdir(), 'nfp-p4c-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Compiled {
  a: NicArtifacts;
  dir: string;
  packets: Array<{ port: number; data: Buffer }>;
}
const compiled = new Map<string, Compiled>();

beforeAll(async () => {
  for (const name of cases) {
    const plan =
      name === FIXTURE
        ? twoTenantPlan()
        : await partition(
            name === UNSEEN
              ? syntheticGraph({ tenants: 4, nfsPerTenant: 5, seed: 13, forks: 2, idsRate: 0.2 })
              : loadGraph(join(EXAMPLES, name)),
            { solver: 'heuristic' },
          );
    const a = emitNicArtifacts(plan);
    const d = mkdtempSync(join(dir, 'case-'));
    for (const f of ['program.p4', 'program.pna.p4']) writeFileSync(join(d, f), fileText(a, f));
    const cpu = a.pipeline.cpuPort;
    const generated =
      name === FIXTURE ? [] : generateTraffic(plan, { ...DEFAULT_GENERATOR, packetsPerPath: 4 }).packets;
    const nsh = Buffer.alloc(64);
    nsh.writeUInt16BE(0x894f, 12);
    const packetOut = (port: number, submit: number, frame: Buffer): { port: number; data: Buffer } => ({
      port: cpu,
      data: Buffer.concat([Buffer.from([port >> 1, ((port & 1) << 7) | submit]), frame]),
    });
    const sample = generated[0]?.data ?? nsh;
    compiled.set(name, {
      a,
      dir: d,
      packets: [
        ...generated.map((p) => ({ port: p.port, data: p.data })),
        { port: a.pipeline.wirePorts[0], data: nsh },
        { port: a.pipeline.hostPorts[0], data: sample },
        packetOut(a.pipeline.wirePorts[1], 0, sample),
        packetOut(500, 0, sample), // a port the NIC lacks: dropped as bad-packet-out
        packetOut(0, 1, nsh),
        packetOut(0, 1, sample),
      ],
    });
  }
});

/**
 * Runs a compiler; resolves with its stderr, failing the test with it on a non-zero exit. Not
 * spawnSync: a compile on a loaded machine can take long enough that a blocked worker misses
 * vitest's own RPC deadline.
 */
function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (status) =>
      status === 0
        ? resolve(stderr)
        : reject(new Error(`${bin} ${args.join(' ')} failed (${status}):\n${stderr}`)),
    );
  });
}

/** The parts of a P4Info both compilers must agree on, keyed and sorted for comparison. */
function normalise(info: P4Info): unknown {
  const pre = (p: { id?: number; name?: string } | null | undefined) => ({ id: p?.id, name: p?.name });
  const num = (v: unknown): number => Number(v ?? 0);
  const byName = <T extends { preamble?: { name?: string } | null }>(xs: T[] | undefined): T[] =>
    [...(xs ?? [])].sort((x, y) => String(x.preamble?.name).localeCompare(String(y.preamble?.name)));
  return {
    tables: byName(info.tables).map((t) => ({
      ...pre(t.preamble),
      matchFields: (t.matchFields ?? []).map((f) => ({
        id: f.id,
        name: f.name,
        bitwidth: f.bitwidth,
        matchType: f.matchType,
      })),
      actions: (t.actionRefs ?? []).map((r) => [r.id, r.scope ?? 0]).sort(),
      constDefaultActionId: t.constDefaultActionId ?? 0,
      initialDefaultAction: t.initialDefaultAction?.actionId ?? 0,
      initialDefaultArgs: (t.initialDefaultAction?.arguments ?? []).map((x) => [
        x.paramId,
        BigInt(`0x${Buffer.from(x.value ?? []).toString('hex') || '0'}`).toString(),
      ]),
      size: num(t.size),
    })),
    actions: byName(info.actions).map((a) => ({
      ...pre(a.preamble),
      params: (a.params ?? []).map((x) => ({ id: x.id, name: x.name, bitwidth: x.bitwidth })),
    })),
    counters: byName(info.counters).map((c) => ({
      ...pre(c.preamble),
      size: num(c.size),
      unit: c.spec?.unit,
    })),
    meters: byName(info.meters).map((m) => ({ ...pre(m.preamble), size: num(m.size), unit: m.spec?.unit })),
    controllerPacketMetadata: byName(info.controllerPacketMetadata).map((h) => ({
      ...pre(h.preamble),
      metadata: (h.metadata ?? []).map((x) => ({ id: x.id, name: x.name, bitwidth: x.bitwidth })),
    })),
  };
}

type Fate = string;

/** What happens to each packet on a softnic running `json` with the artifacts' entries. */
async function softnicFates(a: NicArtifacts, json: unknown, packets: Compiled['packets']): Promise<Fate[]> {
  const device = new SoftnicDevice({ cpuPort: a.pipeline.cpuPort });
  await installArtifacts(device, { p4info: a.p4info, bmv2: json, entries: a.entries });
  // One fixed packet clock, so meters see the same time on both programs.
  return packets.map((p, i) => {
    const [o] = device.inject(p.port, [p.data], 1_000_000_000 + i * 1000);
    return 'port' in o ? `${o.port}:${o.data.toString('hex')}` : 'drop';
  });
}

describe('the comparisons themselves (always run)', () => {
  it('the P4Info comparison sees a changed id and ignores what p4c adds beyond nfp', () => {
    const c = compiled.get(cases[0])!;
    const info = c.a.p4info;
    const annotated: P4Info = {
      ...info,
      actions: (info.actions ?? []).map((x) => ({
        ...x,
        preamble: { ...x.preamble, annotations: ['@noWarn("unused")'] },
      })),
    };
    expect(normalise(annotated)).toEqual(normalise(info));
    const moved: P4Info = {
      ...info,
      tables: (info.tables ?? []).map((t, i) =>
        i ? t : { ...t, preamble: { ...t.preamble, id: 33554432 } },
      ),
    };
    expect(normalise(moved)).not.toEqual(normalise(info));
  });

  it('the fate comparison runs every packet and sees a changed program', async () => {
    const c = compiled.get(cases[1])!;
    const ours = await softnicFates(c.a, c.a.bmv2, c.packets);
    expect(ours).toHaveLength(c.packets.length);
    expect(ours.filter((f) => f !== 'drop').length).toBeGreaterThan(0);
    expect(ours[ours.length - 4]).toMatch(new RegExp(`^${c.a.pipeline.wirePorts[1]}:`)); // PacketOut → wire
    expect(ours[ours.length - 3]).toBe('drop'); // PacketOut → a port the NIC lacks
    const broken = structuredClone(c.a.bmv2);
    broken.deparsers = [{ name: 'deparser', id: 0, order: ['ethernet'] }];
    expect(await softnicFates(c.a, broken, c.packets)).not.toEqual(ours);
  });
});

describe('p4c cross-checks', () => {
  describe.each(cases)('%s', (name) => {
    it.skipIf(!P4TEST)(
      'p4test compiles program.p4 (v1model) and program.pna.p4 (PNA) without warnings',
      async () => {
        const c = compiled.get(name)!;
        for (const f of ['program.p4', 'program.pna.p4']) {
          const stderr = await run(P4TEST!, [join(c.dir, f)]);
          expect(stderr, `${f}: ${stderr}`).not.toMatch(/warning|error/i);
        }
      },
    );

    it.skipIf(!BM2SS)(
      "p4c-bm2-ss compiles program.p4 and p4c's P4Info equals nfp's (names and ids)",
      async () => {
        const c = compiled.get(name)!;
        const info = join(c.dir, 'p4c.p4info.json');
        const stderr = await run(BM2SS!, [
          '--arch',
          'v1model',
          '-o',
          join(c.dir, 'p4c.json'),
          '--p4runtime-files',
          info,
          join(c.dir, 'program.p4'),
        ]);
        expect(stderr, stderr).not.toMatch(/warning|error/i);
        const theirs = p4infoFromJson(JSON.parse(readFileSync(info, 'utf8')));
        expect(normalise(theirs)).toEqual(normalise(c.a.p4info));
      },
    );

    it.skipIf(!BM2SS)(
      "p4c's BMv2 JSON gives every packet the same fate as nfp's on the softnic",
      async () => {
        const c = compiled.get(name)!;
        const theirs = JSON.parse(readFileSync(join(c.dir, 'p4c.json'), 'utf8')) as unknown;
        const ours = await softnicFates(c.a, c.a.bmv2, c.packets);
        expect(ours.filter((f) => f !== 'drop').length).toBeGreaterThan(0);
        expect(await softnicFates(c.a, theirs, c.packets)).toEqual(ours);
      },
    );

    it.skipIf(!BM2SS || !BMV2)(
      "p4c's BMv2 JSON on a real simple_switch_grpc gives the same fates",
      async () => {
        const c = compiled.get(name)!;
        const json = readFileSync(join(c.dir, 'p4c.json'), 'utf8');
        const ours = await softnicFates(c.a, c.a.bmv2, c.packets);
        const wire = await bmv2Wire(c.a, json);
        try {
          const got: Fate[] = [];
          for (const p of c.packets) {
            if (p.port === c.a.pipeline.cpuPort) {
              got.push('(packet-out)');
              continue;
            }
            wire.send(p.port, p.data);
            const out = await wire.collect(300);
            got.push(
              out.length === 1
                ? `${out[0].port}:${out[0].data.toString('hex')}`
                : out.length
                  ? `many(${out.map((f) => `${f.port}:${f.data.subarray(0, 16).toString('hex')}`).join(' ')})`
                  : 'drop',
            );
          }
          const want = ours.map((f, i) => (c.packets[i].port === c.a.pipeline.cpuPort ? '(packet-out)' : f));
          expect(got).toEqual(want);
        } finally {
          await wire.close();
        }
      },
      300_000,
    );
  });
});
