/**
 * What `nfp k8s render` does, as a library call: render, validate, and write one YAML file per
 * group of objects (multi-document where a file holds several), plus the NodePlans of a cluster
 * plan folder when one is given.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { NfpError } from '../partitioner/errors';
import { validatePlan } from '../partitioner';
import type { Plan } from '../partitioner/plan';
import { outputFolder } from '../partitioner/output';
import { validateClusterPlan } from '../partitioner/cluster-output';
import { renderManifests, validateManifests, type RenderOptions } from './render';

export interface K8sRun {
  outDir: string;
  files: Array<{ path: string; kinds: string[] }>;
  nodePlans: string[];
}

/** The node plans of a folder written by `nfp partition --cluster`. */
export function readClusterPlans(dir: string): Map<string, Plan> {
  const file = join(dir, 'cluster.json');
  if (!existsSync(file))
    throw new NfpError(
      `${dir} has no cluster.json`,
      `run \`nfp partition GRAPH --cluster CLUSTER --out ${dir}\` first`,
    );
  let cluster;
  try {
    cluster = validateClusterPlan(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    if (err instanceof NfpError) throw err;
    throw new NfpError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  const plans = new Map<string, Plan>();
  for (const n of cluster.nodes) {
    if (!n.plan) continue;
    plans.set(n.name, validatePlan(JSON.parse(readFileSync(join(dir, n.plan), 'utf8'))));
  }
  return plans;
}

export function renderToDir(outDir: string, o: RenderOptions): K8sRun {
  const rendered = renderManifests(o);
  validateManifests(rendered);
  const { write } = outputFolder(outDir);
  const files: K8sRun['files'] = [];
  for (const f of rendered) {
    const docs = f.objects.map((obj) => stringify(JSON.parse(JSON.stringify(obj)), { lineWidth: 0 }));
    write(
      f.file,
      `# Rendered by nfp k8s render; apply with: kubectl apply -f ${outDir}\n${docs.join('---\n')}`,
    );
    files.push({ path: join(outDir, f.file), kinds: f.objects.map((x) => x.kind) });
  }
  return { outDir, files, nodePlans: [...(o.plans?.keys() ?? [])] };
}
