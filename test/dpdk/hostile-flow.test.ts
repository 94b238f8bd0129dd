/**
 * Hostile frames on the rte_flow path: the hostile corpus (test/hostile/corpus.ts: every class,
 * cut at every header boundary) and the byte fuzz, for every example graph, through each profile's
 * rules in the rte_flow evaluator, then the inline stage (its own check: inline.cc
 * wire_frame_trusted), the software pipeline and the real host runtime (nic-model.ts). Every
 * frame's fate must be the reference's (partitioner/reference.ts `frameFate`), drop reason
 * included, with one exception the hardware imposes: rte_flow matches no frame length, so a frame
 * that a NIC drop rule matches (an ACL deny, "no tenant", NSH) and that the reference drops for a
 * check the NIC cannot make (oversize, malformed, an IP fault) is dropped in the NIC under that
 * rule's reason. Those are counted, printed and checked to be drops by a rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emitNicArtifacts } from '../../p4';
import { loadGraph } from '../../partitioner';
import type { Plan } from '../../partitioner/plan';
import { readFrame } from '../../partitioner/frame';
import { frameFate } from '../../partitioner/reference';
import { generateTraffic } from '../../deploy';
import { parsePacket } from '../../deploy/packet';
import { emitFlowArtifacts } from '../../targets/dpdk/flow';
import { loadSoftnic } from '../../targets/softnic/native';
import { compareWithReference } from '../deploy/differential';
import { fuzzFrames, HOSTILE_CLASSES, hostileCorpus, type HostileFrame } from '../hostile/corpus';
import { runOnModel } from './nic-model';

const ROOT = join(__dirname, '..', '..');
const NICS = ['mlx5', 'ice', 'i40e'] as const;
const FUZZ = Number(process.env.NFP_HOSTILE_FUZZ ?? 200);
/** Reference drop reasons a rule cannot see: lengths, and what IP-aware NFs refuse. */
const UNSEEN_BY_RULES = new Set(['oversize', 'malformed', 'qinq', 'nsh-on-wire', 'fragment', 'ip-options']);

const graphs = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ name: basename(f, '.yaml'), file: join(ROOT, 'examples', f) }))
  .sort((a, b) => a.name.localeCompare(b.name));

const summary: string[] = [];
afterAll(async () => {
  const host = await import('../../host-runtime/lib');
  host.stop();
  console.log(
    `rte_flow path, hostile frames (evaluator + inline stage + software pipeline + host runtime):\n${summary.join('\n')}`,
  );
});

/** The valid traffic the hostile frames are cut from (as test/hostile/harness.ts builds it). */
function baseTraffic(plan: Plan): ReturnType<typeof generateTraffic>['packets'] {
  return generateTraffic(plan, {
    packetsPerPath: 3,
    flowsPerPath: 3,
    sizes: [64, 200],
    suspiciousShare: 0.3,
    seed: 5,
  }).packets;
}

describe('hostile frames on the rte_flow path', () => {
  it("the inline stage's check agrees with the reference reading of every hostile frame", () => {
    const check = (loadSoftnic() as unknown as { wireFramesTrusted: (f: Buffer[]) => boolean[] })
      .wireFramesTrusted;
    const plan = JSON.parse(
      readFileSync(join(__dirname, 'golden', 'multi-tenant', 'plan.json.golden'), 'utf8'),
    ) as Plan;
    const valid = baseTraffic(plan);
    const frames = [...hostileCorpus(valid), ...fuzzFrames(valid, 1000, 23)];
    const got = check(frames.map((f) => f.data));
    const bad: string[] = [];
    let untrusted = 0;
    frames.forEach((f, i) => {
      const r = readFrame(f.port, f.data);
      // IPv4 the pipeline takes as is: no fault, and a right header checksum (it rewrites a wrong one).
      const want =
        r.kind === 'packet' &&
        r.headers.ipFault !== 'fragment' &&
        r.headers.ipFault !== 'ip-options' &&
        (r.headers.l3 !== 'ipv4' || parsePacket(f.data).ipChecksumOk === true);
      if (!want) untrusted++;
      if (got[i] !== want)
        bad.push(
          `${f.class} (${f.what}): inline stage ${got[i]}, reference ${r.kind === 'drop' ? r.reason : JSON.stringify(r.headers.ipFault)}`,
        );
    });
    expect(bad.slice(0, 10)).toEqual([]);
    // Both kinds are there: the check is not always one answer.
    expect(untrusted).toBeGreaterThan(100);
    expect(frames.length - untrusted).toBeGreaterThan(100);
  });

  it('the placement report says where each wire check runs, per profile', () => {
    const plan = JSON.parse(
      readFileSync(join(__dirname, 'golden', 'multi-tenant', 'plan.json.golden'), 'utf8'),
    ) as Plan;
    const nic = emitNicArtifacts(plan);
    const where = (n: string): Record<string, string> =>
      Object.fromEntries(
        (emitFlowArtifacts(plan, nic, n).placement.checks ?? []).map((c) => [c.check, c.where]),
      );
    expect(where('mlx5')).toEqual({
      oversize: 'software',
      malformed: 'software',
      qinq: 'nic',
      'nsh-on-wire': 'nic',
      'fragment, ip-options': 'nic',
      'not-ipv4': 'nic',
    });
    expect(where('ice')).toMatchObject({
      oversize: 'software',
      qinq: 'software',
      'fragment, ip-options': 'software',
    });
    expect(Object.values(where('software'))).toEqual(Array(6).fill('software'));
  });

  for (const g of graphs) {
    for (const n of NICS) {
      it(`${g.name} on ${n}: the corpus and ${FUZZ}+${FUZZ} fuzz frames meet the reference's fate`, async () => {
        const plan = JSON.parse(
          readFileSync(join(__dirname, 'golden', g.name, 'plan.json.golden'), 'utf8'),
        ) as Plan;
        const nic = emitNicArtifacts(plan);
        const { ruleSet } = emitFlowArtifacts(plan, nic, n);
        const valid = baseTraffic(plan);
        const frames: HostileFrame[] = [...hostileCorpus(valid), ...fuzzFrames(valid, FUZZ, 17)];
        const run = await runOnModel(plan, nic, ruleSet, frames);
        expect(run.fates.filter(Boolean)).toHaveLength(frames.length);
        const graph = loadGraph(g.file);
        // Frames a NIC drop rule took whose reference reason no rule can check: dropped either way.
        const byRule: string[] = [];
        const compared: number[] = [];
        frames.forEach((f, i) => {
          const ref = frameFate(graph, f.port, f.data);
          const fate = run.fates[i];
          const refKind = ref.outcome.kind === 'drop' ? ref.outcome.reason.split(':')[0] : '';
          if (
            run.droppedByRule[i] &&
            fate.kind === 'dropped' &&
            UNSEEN_BY_RULES.has(refKind) &&
            fate.reason !== refKind
          )
            byRule.push(`${refKind}→${fate.reason}`);
          else compared.push(i);
        });
        const { failures } = compareWithReference(
          `${g.name}/${n}`,
          graph,
          compared.map((i) => frames[i]),
          compared.map((i) => run.fates[i]),
        );
        const classes = new Set(frames.map((f) => f.class));
        for (const c of HOSTILE_CLASSES) expect(classes.has(c), `class ${c} in the corpus`).toBe(true);
        const tally = new Map<string, number>();
        for (const k of byRule) tally.set(k, (tally.get(k) ?? 0) + 1);
        summary.push(
          `  ${g.name.padEnd(18)} ${n.padEnd(5)} ${frames.length} frames: NIC dropped ${run.nic.dropped}, steered ${run.nic.toHost + run.nic.toWire}, rechecked in software ${run.nic.rechecked}, software ${run.nic.software}; dropped by a rule under its own reason: ${byRule.length ? JSON.stringify(Object.fromEntries(tally)) : 'none'}`,
        );
        expect(failures.slice(0, 12)).toEqual([]);
      }, 120_000);
    }
  }
});
