/**
 * What `nfp partition --target dpdk --nic NIC` adds to a partition: the NIC's rte_flow rule set
 * for the plan (testpmd lines an operator can read or paste, and JSON) and the offload summary,
 * per NIC NF and path, each with its reason.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emitNicArtifacts } from '../../p4';
import type { Plan } from '../../partitioner/plan';
import type { NicPlacementReport } from '../target';
import { emitFlowArtifacts } from './flow';

export interface FlowPartition {
  files: string[];
  placement: NicPlacementReport;
  summary: string;
}

export function writeFlowArtifacts(plan: Plan, outDir: string, nic: string): FlowPartition {
  const flows = emitFlowArtifacts(plan, emitNicArtifacts(plan), nic);
  const files: string[] = [];
  mkdirSync(join(outDir, 'nic'), { recursive: true });
  for (const f of flows.files) {
    const path = join(outDir, 'nic', f.path);
    writeFileSync(path, f.contents);
    files.push(path);
  }
  return { files, placement: flows.placement, summary: renderPlacement(flows.placement) };
}

/** The offload summary: each NIC NF and root path, where it runs and why. */
export function renderPlacement(p: NicPlacementReport): string {
  const lines = [`NIC half on ${p.nic}:`];
  for (const n of p.nfs)
    lines.push(`  ${n.name.padEnd(16)} ${n.where === 'nic' ? 'NIC     ' : 'software'}  ${n.reason}`);
  for (const x of p.paths ?? [])
    lines.push(
      `  P${String(x.id).padEnd(15)} ${x.where === 'nic' ? 'NIC     ' : x.where.padEnd(8)}  ${x.name}: ${x.reason}`,
    );
  for (const note of p.notices) lines.push(`  note: ${note}`);
  return lines.join('\n');
}
