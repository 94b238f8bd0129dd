/**
 * A deployment of the dpdk target with the NIC hardware replaced by the rte_flow evaluator: each
 * packet meets the generated rule set first (targets/dpdk/flow/evaluate.ts); what the rules send
 * to the software pipeline (MARK 0xffffff, or no rule at all) runs through the softnic engine
 * with the same BMv2 JSON; so does a steered frame the inline stage does not trust (its own check,
 * inline.cc wire_frame_trusted: oversize, stacked tags, lying lengths, IPv4 fragments and
 * options, which rte_flow cannot see); what they steer to a host path gets its NSH as the inline
 * stage adds it and runs through the real host runtime; what comes back from the host takes the engine's
 * return path. The result is every packet's fate, for compareWithReference: a lowering bug (a
 * wrong priority, mask, group or action) shows up as a wrong fate.
 */
import * as host from '../../host-runtime/lib';
import { encapNsh } from '../../host-runtime/lib';
import type { NicArtifacts } from '../../p4';
import type { Plan } from '../../partitioner/plan';
import type { PacketFate, TrafficPacket } from '../../targets';
import { FlowEvaluator, markMeaning, type FlowRuleSet } from '../../targets/dpdk/flow';
import { SoftnicDevice } from '../../targets/softnic/device';
import { installArtifacts } from '../../targets/softnic/install';
import { loadSoftnic } from '../../targets/softnic/native';

type WireFramesTrusted = (frames: Buffer[]) => boolean[];

export interface ModelRun {
  fates: PacketFate[];
  /** How the packets were decided: dropped or steered by a rule, or left to software. */
  nic: { dropped: number; toHost: number; toWire: number; software: number; rechecked: number };
  /** By packet: a rule dropped it in the NIC (its reason is the rule's counter cell). */
  droppedByRule: boolean[];
  /** NIC counter cells the flow counters added to (`name[index]`). */
  cells: Map<string, number>;
}

export async function runOnModel(
  plan: Plan,
  nic: NicArtifacts,
  rs: FlowRuleSet,
  traffic: TrafficPacket[],
): Promise<ModelRun> {
  const device = new SoftnicDevice();
  await installArtifacts(device, { p4info: nic.p4info, bmv2: nic.bmv2, entries: nic.entries });
  const engine = device.engine!;
  const reasons = nic.entries.dropReasons;
  const dropName = new Map(reasons.map((r) => [r.code, r.name]));
  const hostPorts = new Set(nic.pipeline.hostPorts);
  const counts = (): number[] =>
    reasons.map((r) => engine.counterRead(nic.entries.dropCounter.name, r.code).packets);
  /** One frame through the software pipeline on `port`: its outcome, the drop reason by counter delta. */
  const software = (port: number, frame: Buffer): { port: number; data: Buffer } | { drop: string } => {
    const before = counts();
    const [out] = engine.process(port, [frame]);
    if ('port' in out) return out;
    const after = counts();
    const k = after.findIndex((n, i) => n > before[i]);
    return { drop: k >= 0 ? reasons[k].name : `uncounted-${out.drop}` };
  };

  const evaluator = new FlowEvaluator(rs);
  const fates: PacketFate[] = new Array(traffic.length);
  const run: ModelRun = {
    fates,
    nic: { dropped: 0, toHost: 0, toWire: 0, software: 0, rechecked: 0 },
    droppedByRule: new Array<boolean>(traffic.length).fill(false),
    cells: new Map(),
  };
  // The inline stage's own check, on the frame as the NIC queued it (after its rewrites).
  const check = (loadSoftnic() as unknown as { wireFramesTrusted: WireFramesTrusted }).wireFramesTrusted;
  const toHost: Array<{ index: number; frame: Buffer }> = [];
  traffic.forEach((p, index) => {
    const v = evaluator.run(p.port, p.data, index * 1000);
    if (v.kind === 'drop') {
      run.nic.dropped++;
      run.droppedByRule[index] = true;
      const count = v.rule.actions.find((a) => a.type === 'count');
      const cell =
        count?.type === 'count'
          ? rs.counters[count.id].cells.find((c) => c.counter === rs.dropCounter)
          : undefined;
      const meter = v.rule.actions.some((a) => a.type === 'meter');
      fates[index] = {
        kind: 'dropped',
        where: 'nic',
        reason: cell ? (dropName.get(cell.index) ?? 'unknown') : meter ? 'meter-red' : 'uncounted',
      };
      return;
    }
    if (v.kind === 'miss') {
      fates[index] = { kind: 'dropped', where: 'nic', reason: `group-${v.group}-miss` };
      return;
    }
    let meaning = v.kind === 'default' ? { kind: 'software' as const } : markMeaning(rs, v.mark);
    if (meaning.kind !== 'software' && !check([v.frame])[0]) {
      run.nic.rechecked++;
      meaning = { kind: 'software' };
    }
    if (meaning.kind === 'wire') {
      run.nic.toWire++;
      fates[index] = { kind: 'forwarded', port: meaning.port, data: v.frame };
    } else if (meaning.kind === 'host') {
      run.nic.toHost++;
      toHost.push({
        index,
        frame: encapNsh({ spi: meaning.spi, si: meaning.si, tenant: meaning.tenant }, v.frame),
      });
    } else {
      run.nic.software++;
      const out = software(p.port, v.frame);
      if ('drop' in out) fates[index] = { kind: 'dropped', where: 'nic', reason: out.drop };
      else if (hostPorts.has(out.port)) toHost.push({ index, frame: out.data });
      else fates[index] = { kind: 'forwarded', port: out.port, data: out.data };
    }
  });
  run.cells = evaluator.cells();

  // The host half: the plan's host NFs in the real runtime, then the engine's return path.
  if (toHost.length) {
    host.start({ workers: 1, mode: 'presorted', captureDrops: true, queueSize: 8192 });
    const loaded = host.load(plan, { isolation: 'none' });
    try {
      const bySeq = new Map<number, number>();
      for (let i = 0; i < toHost.length; i += 512) {
        const batch = toHost.slice(i, i + 512);
        const { accepted, firstSeq } = host.inject(
          0,
          batch.map((b) => b.frame),
        );
        batch.forEach((b, k) => {
          if (k < accepted) bySeq.set(firstSeq + k, b.index);
          else fates[b.index] = { kind: 'dropped', where: 'host', reason: 'rx-overflow' };
        });
        const deadline = Date.now() + 10_000;
        while (bySeq.size && Date.now() < deadline) {
          const got = host.collect();
          for (const c of got) {
            const index = bySeq.get(c.seq);
            if (index === undefined) continue;
            bySeq.delete(c.seq);
            if (c.fate === 'drop') {
              fates[index] = { kind: 'dropped', where: 'host', reason: c.reason ?? 'unknown' };
              continue;
            }
            const out = software(nic.pipeline.hostPorts[0], c.data);
            fates[index] =
              'drop' in out
                ? { kind: 'dropped', where: 'nic', reason: out.drop }
                : { kind: 'forwarded', port: out.port, data: out.data };
          }
          if (!got.length) await new Promise((r) => setTimeout(r, 1));
        }
        for (const index of bySeq.values()) fates[index] = { kind: 'dropped', where: 'host', reason: 'lost' };
        bySeq.clear();
      }
    } finally {
      host.stop();
      void loaded;
    }
  }
  await device.close();
  return run;
}
