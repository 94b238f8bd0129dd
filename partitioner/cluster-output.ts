/**
 * What `nfp partition GRAPH --cluster CLUSTER` does, as a library call: load both files, plan the
 * cluster, validate every plan, and write the cluster plan, each node's plan and NIC artifacts,
 * and the top-of-rack steering program:
 *
 *   DIR/cluster.json               the cluster plan (schemas/cluster-plan.schema.json)
 *   DIR/nodes/<node>/plan.json     the plan of each node that serves tenants (schemas/plan.schema.json)
 *   DIR/nodes/<node>/nic/…         its NIC artifacts, when the P4 back end is present
 *   DIR/tor/plan.json, DIR/tor/nic/…   the steering switch's plan and P4 program
 */
import Ajv, { type ValidateFunction } from 'ajv';
import { join } from 'node:path';
import type { Plan } from './plan';
import type { ClusterPlan } from './cluster';
import { NfpError } from './errors';
import { loadGraph } from './load';
import { loadCluster } from './cluster-load';
import { planCluster } from './cluster-plan';
import { renderClusterSummary } from './cluster-summary';
import { validatePlan } from './validate-plan';
import { defaultOutDir, findNicEmitter, outputFolder } from './output';
import type { SolverChoice } from './partition';
import clusterPlanSchema from '../schemas/cluster-plan.schema.json';

export interface ClusterRun {
  cluster: ClusterPlan;
  outDir: string;
  files: string[];
  summary: string;
}

export interface ClusterRunOptions {
  out?: string;
  solver?: SolverChoice;
  nic?: boolean;
  onNode?: (done: number, total: number, node: string) => void;
}

let validator: ValidateFunction | undefined;

/** Checks a cluster.json (or any value) against schemas/cluster-plan.schema.json. */
export function validateClusterPlan(value: unknown): ClusterPlan {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(clusterPlanSchema);
  if (!validator(value)) {
    const problems = (validator.errors ?? [])
      .slice(0, 20)
      .map((e) => `  ${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
    throw new NfpError(
      `invalid cluster plan:\n${problems.join('\n')}`,
      'regenerate it with `nfp partition --cluster`',
    );
  }
  return value as ClusterPlan;
}

const roundTrip = <T>(x: T): unknown => JSON.parse(JSON.stringify(x));

export async function clusterToDir(
  graphFile: string,
  clusterFile: string,
  opts: ClusterRunOptions = {},
): Promise<ClusterRun> {
  const graph = loadGraph(graphFile);
  const description = loadCluster(clusterFile);
  const planned = await planCluster(graph, description, { solver: opts.solver, onNode: opts.onNode });
  const cluster = validateClusterPlan(roundTrip(planned.cluster));
  const plans = new Map<string, Plan>();
  for (const [node, plan] of planned.plans) plans.set(node, validatePlan(roundTrip(plan)));
  const tor = validatePlan(roundTrip(planned.tor));

  const outDir = opts.out ?? defaultOutDir(graphFile);
  const { files, write } = outputFolder(outDir);
  const json = (x: unknown): string => `${JSON.stringify(x, null, 2)}\n`;
  write('cluster.json', json(cluster));
  const emit = opts.nic === false ? undefined : await findNicEmitter();
  for (const n of cluster.nodes) {
    const plan = plans.get(n.name);
    if (!plan || !n.plan) continue;
    write(n.plan, json(plan));
    if (emit) for (const f of emit(plan).files) write(join('nodes', n.name, 'nic', f.path), f.contents);
  }
  write('tor/plan.json', json(tor));
  if (emit) for (const f of emit(tor).files) write(join('tor', 'nic', f.path), f.contents);
  return { cluster, outDir, files, summary: renderClusterSummary(cluster) };
}
