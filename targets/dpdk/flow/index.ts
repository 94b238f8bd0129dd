/**
 * The rte_flow back end of the dpdk target, shaped like p4/: gather the NIC pipeline IR
 * (stages.ts) → decide and lower (offload.ts, lower.ts) → the rule-set IR → one small emitter per
 * artifact (testpmd lines, JSON) → cross-checks (check.ts) before anything is written.
 *
 *   emitFlowArtifacts(plan, nic, 'mlx5') → flows.mlx5.testpmd, flows.mlx5.json (+ rule set, placement)
 */
import type { NicArtifacts } from '../../../p4';
import type { Plan } from '../../../partitioner/plan';
import type { NicPlacementReport } from '../../target';
import { nicCaps, type NicFamily } from '../caps';
import { checkRuleSet } from './check';
import { emitFlowJson } from './emit/json';
import { emitTestpmd } from './emit/testpmd';
import type { FlowRuleSet } from './ir';
import { decideOffload } from './offload';

export { FlowEvaluator, markMeaning, type FlowVerdict } from './evaluate';
export type { FlowRuleSet, FlowRule } from './ir';
export { MARK_SOFTWARE, MARK_WIRE } from './ir';

export interface FlowArtifacts {
  ruleSet: FlowRuleSet;
  placement: NicPlacementReport;
  /** Relative to the NIC output folder (`DIR/nic/`). */
  files: Array<{ path: string; contents: string }>;
}

export function emitFlowArtifacts(
  plan: Plan,
  nic: NicArtifacts,
  family: NicFamily | string,
  ports: number[] = plan.profile.wirePorts,
): FlowArtifacts {
  const caps = nicCaps(family);
  const { ruleSet, placement } = decideOffload(plan, nic.pipeline, caps, ports);
  const testpmd = emitTestpmd(ruleSet, plan.graphFile || 'plan');
  checkRuleSet(ruleSet, testpmd, caps);
  return {
    ruleSet,
    placement,
    files: [
      { path: `flows.${caps.name}.testpmd`, contents: testpmd },
      { path: `flows.${caps.name}.json`, contents: emitFlowJson(ruleSet) },
    ],
  };
}
