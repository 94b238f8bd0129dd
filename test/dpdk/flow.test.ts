/**
 * The rte_flow back end, per NIC profile (mlx5, ice, i40e):
 * - golden files: the rule set of every example graph (and the test graphs), from a saved plan,
 *   as testpmd lines and JSON, byte for byte (regenerate after an intended change with
 *   `UPDATE_GOLDEN=1 npx vitest run test/dpdk/flow`);
 * - differential: the same rules executed by the rte_flow evaluator in front of the software
 *   pipeline and the real host runtime (nic-model.ts), every packet's fate against the reference
 *   semantics of the service graph, so a lowering bug shows up as a wrong fate;
 * - the cross-check catches a rule whose testpmd text says something else.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emitNicArtifacts } from '../../p4';
import { loadGraph, partition } from '../../partitioner';
import type { Plan } from '../../partitioner/plan';
import { syntheticYaml } from '../../partitioner/synthetic';
import { generateTraffic, type GeneratedPacket } from '../../deploy';
import { buildPacket, PROTO_UDP } from '../../deploy/packet';
import { encapNsh } from '../../host-runtime/lib';
import { nicCaps } from '../../targets/dpdk/caps';
import { emitFlowArtifacts, markMeaning } from '../../targets/dpdk/flow';
import { loadSoftnic } from '../../targets/softnic/native';
import { checkRuleSet } from '../../targets/dpdk/flow/check';
import { emitTestpmd } from '../../targets/dpdk/flow/emit/testpmd';
import { compareWithReference, trafficSpec } from '../deploy/differential';
import { runOnModel } from './nic-model';

const ROOT = join(__dirname, '..', '..');
const GOLDEN = join(__dirname, 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const NICS = ['mlx5', 'ice', 'i40e'] as const;

const graphs: Array<{ name: string; file: string; rel: string }> = [
  ...readdirSync(join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ dir: 'examples', f })),
  ...['test/deploy/graphs', 'test/dpdk/graphs'].flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => ({ dir, f })),
  ),
]
  .map(({ dir, f }) => ({ name: basename(f, '.yaml'), file: join(ROOT, dir, f), rel: `${dir}/${f}` }))
  .sort((a, b) => a.name.localeCompare(b.name));

async function freshPlan(g: { file: string; rel: string }): Promise<Plan> {
  const plan = await partition(loadGraph(g.file), { profile: 'dpdk' });
  return { ...plan, graphFile: g.rel, objective: { ...plan.objective, seconds: 0 } };
}

type DecodeMarks = (
  table: { tenantOfSpi: Int32Array; siOfSpi: Int32Array },
  marks: Int32Array,
) => Array<ReturnType<typeof markMeaning>>;

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const dir = mkdtempSync(join(tmpdir(), 'nfp-flow-fuzz-'));
const fuzzed = { graphs: 0, packets: 0, nicDecided: 0 };
const summary: string[] = [];
afterAll(async () => {
  const host = await import('../../host-runtime/lib');
  host.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `rte_flow differential (evaluator + software pipeline + host runtime):\n${summary.join('\n')}\n  random graphs: ${fuzzed.graphs}, ${fuzzed.packets} packet fates over the three profiles (${fuzzed.nicDecided} decided by mlx5 rules)`,
  );
});

describe('rte_flow rule sets', () => {
  it('has graphs to lower', () => {
    expect(graphs.length).toBeGreaterThanOrEqual(5);
  });

  for (const g of graphs) {
    const dir = join(GOLDEN, g.name);
    const planFile = join(dir, 'plan.json.golden');

    it(`${g.name}: a fresh partition lowers for every profile; the plan is saved`, async () => {
      const plan = await freshPlan(g);
      const nic = emitNicArtifacts(plan);
      for (const n of NICS) expect(emitFlowArtifacts(plan, nic, n).files).toHaveLength(2);
      if (UPDATE) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(planFile, `${JSON.stringify(plan, null, 2)}\n`);
      }
    });

    for (const n of NICS) {
      it(`${g.name} on ${n}: rules match test/dpdk/golden/${g.name}/flows.${n}.*`, () => {
        expect(
          existsSync(planFile),
          `missing ${planFile}: run UPDATE_GOLDEN=1 npx vitest run test/dpdk/flow`,
        ).toBe(true);
        const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
        const a = emitFlowArtifacts(plan, emitNicArtifacts(plan), n);
        for (const f of a.files) {
          const file = join(dir, f.path.endsWith('.json') ? `${f.path}.golden` : f.path);
          if (UPDATE) writeFileSync(file, f.contents);
          expect(f.contents, `${file} differs: rerun with UPDATE_GOLDEN=1 if the change is intended`).toBe(
            readFileSync(file, 'utf8'),
          );
        }
      });

      it(`${g.name} on ${n}: the evaluator in front of the pipeline matches the reference, packet by packet`, async () => {
        const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
        const nic = emitNicArtifacts(plan);
        const { ruleSet } = emitFlowArtifacts(plan, nic, n);
        const roots = plan.paths.filter((p) => !p.branchOf).length;
        const { packets } = generateTraffic(plan, trafficSpec(roots, 600));
        // Frames of a VLAN no slice names; and NSH from the wire, which the NIC or software must drop
        // (the reference semantics knows no NSH: those are checked on their own).
        const stray = strayFrames(plan.profile.wirePorts);
        const traffic = [...packets, ...stray.other];
        const run = await runOnModel(plan, nic, ruleSet, [...traffic, ...stray.nsh]);
        const { failures, seen } = compareWithReference(
          `${g.name}/${n}`,
          loadGraph(g.file),
          traffic,
          run.fates.slice(0, traffic.length),
        );
        expect(
          run.fates.slice(traffic.length).map((f) => (f.kind === 'dropped' ? f.reason : 'forwarded')),
        ).toEqual(stray.nsh.map(() => 'nsh-on-wire'));
        summary.push(
          `  ${g.name.padEnd(18)} ${n.padEnd(5)} ${String(ruleSet.rules.length).padStart(4)} rules, ${traffic.length} packets: NIC dropped ${run.nic.dropped}, steered ${run.nic.toHost} to the host and ${run.nic.toWire} to a wire port, ${run.nic.software} to software; ${JSON.stringify(seen)}`,
        );
        expect(failures.slice(0, 10)).toEqual([]);
        // Every packet has a fate.
        expect(run.fates.filter(Boolean)).toHaveLength(traffic.length + stray.nsh.length);
        // mlx5 takes every classification of these graphs: nothing falls to the software pipeline,
        // but for paths whose NIC NFs retag VLANs (the recheck needs the tags) and their metered tenant.
        if (n === 'mlx5') {
          const { placement } = emitFlowArtifacts(plan, nic, n);
          const soft = (placement.paths ?? []).filter((p) => p.where !== 'nic');
          for (const p of soft)
            expect(p.reason, `path ${p.name}`).toMatch(
              /VLAN tag rewritten|its rate limit must be metered once/,
            );
          if (!soft.length) expect(run.nic.software).toBe(0);
        }
      }, 60_000);
    }
  }

  // Seeded random graphs (forks, bypasses, drops, IDS branches, every NF type): no saved rules,
  // only the differential, on every profile.
  for (const seed of SEEDS) {
    it(`random graph of seed ${seed}: every profile's rules in front of the pipeline match the reference`, async () => {
      const yaml = syntheticYaml({
        tenants: 1 + (seed % 3),
        nfsPerTenant: 2 + (seed % 5),
        seed,
        forks: seed % 4,
        idsRate: 0.2,
      });
      const file = join(dir, `g${seed}.yaml`);
      writeFileSync(file, yaml);
      const plan = await partition(loadGraph(file), { profile: 'dpdk' });
      const nic = emitNicArtifacts(plan);
      const roots = plan.paths.filter((p) => !p.branchOf).length;
      const { packets } = generateTraffic(plan, trafficSpec(roots, 300));
      for (const n of NICS) {
        const { ruleSet } = emitFlowArtifacts(plan, nic, n);
        const run = await runOnModel(plan, nic, ruleSet, packets);
        const { failures } = compareWithReference(`seed ${seed}/${n}`, loadGraph(file), packets, run.fates);
        expect(failures.slice(0, 8), `graph of seed ${seed} on ${n}:\n${yaml}`).toEqual([]);
        if (n === 'mlx5') fuzzed.nicDecided += run.nic.dropped + run.nic.toHost + run.nic.toWire;
        fuzzed.packets += packets.length;
      }
      fuzzed.graphs++;
    }, 60_000);
  }

  it("the inline stage reads every MARK of a rule set as the model does (the stage's own decoder)", async () => {
    const decode = (loadSoftnic() as unknown as { decodeMarks: DecodeMarks }).decodeMarks;
    let checked = 0;
    for (const g of graphs) {
      const plan = await freshPlan(g);
      const { ruleSet } = emitFlowArtifacts(plan, emitNicArtifacts(plan), 'mlx5');
      const maxSpi = Math.max(0, ...ruleSet.hostPaths.map((h) => h.spi));
      const tenantOfSpi = new Int32Array(maxSpi + 1).fill(-1);
      const siOfSpi = new Int32Array(maxSpi + 1);
      for (const h of ruleSet.hostPaths) [tenantOfSpi[h.spi], siOfSpi[h.spi]] = [h.tenant, h.si];
      // Every MARK the rules set, plus ones they never set (an unknown SPI, no mark at all).
      const marks = [
        ...new Set(ruleSet.rules.flatMap((r) => r.actions.flatMap((a) => (a.type === 'mark' ? [a.id] : [])))),
        maxSpi + 7,
        -1,
      ];
      const native = decode({ tenantOfSpi, siOfSpi }, Int32Array.from(marks));
      marks.forEach((m, i) =>
        expect(native[i], `mark ${m}`).toEqual(markMeaning(ruleSet, m < 0 ? undefined : m)),
      );
      checked += marks.length;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('the rules of a NIC without a flow API are none, and say so', async () => {
    const plan = await freshPlan(graphs[0]);
    const a = emitFlowArtifacts(plan, emitNicArtifacts(plan), 'software');
    expect(a.ruleSet.rules).toEqual([]);
    expect(a.files[0].contents).toMatch(/no rules: software runs the whole NIC half in software/);
    expect(a.placement.nfs.every((x) => x.where === 'software')).toBe(true);
  });

  it('the cross-check catches testpmd text that says something else than the rules', async () => {
    const plan = await freshPlan(graphs.find((x) => x.name === 'multi-tenant')!);
    const { ruleSet } = emitFlowArtifacts(plan, emitNicArtifacts(plan), 'mlx5');
    const text = emitTestpmd(ruleSet, 'x');
    expect(() => checkRuleSet(ruleSet, text, nicCaps('mlx5'))).not.toThrow();
    expect(() => checkRuleSet(ruleSet, text.replace('vid is 20', 'vid is 21'), nicCaps('mlx5'))).toThrow(
      /reads back differently/,
    );
    const dropped = text
      .split('\n')
      .filter((l, i, all) => l !== all.find((x) => x.startsWith('flow create')));
    expect(() => checkRuleSet(ruleSet, dropped.join('\n'), nicCaps('mlx5'))).toThrow(/flow create lines/);
    // A rule outside the profile: mlx5's rules on i40e.
    expect(() => checkRuleSet(ruleSet, text, nicCaps('i40e'))).toThrow(/lacks|priority|group/);
  });
});

/** Frames of an unknown VLAN (no slice claims them, unless one takes its whole port), and NSH from the wire. */
function strayFrames(wirePorts: number[]): { other: GeneratedPacket[]; nsh: GeneratedPacket[] } {
  const spec = { srcIp: '10.200.0.1', dstIp: '10.200.0.2', proto: PROTO_UDP, srcPort: 4000, dstPort: 4001 };
  const plain = buildPacket(spec);
  const at = (port: number, data: Buffer): GeneratedPacket => ({
    port,
    data,
    tenant: 0,
    path: 0,
    suspicious: false,
  });
  return {
    other: wirePorts.map((port) => at(port, buildPacket({ ...spec, vlan: 4001 }))),
    nsh: wirePorts.map((port) => at(port, encapNsh({ spi: 1, si: 1, tenant: 1 }, plain))),
  };
}
