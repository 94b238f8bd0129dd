/**
 * What `nfp partition` does, as a library call: load, partition, validate, and write plan.json,
 * graph.dot, graph.svg (when Graphviz `dot` is installed) and, once the P4 back end exists, the
 * NIC artifacts under nic/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { nfSourceFiles } from '../host-runtime/lib/nf-sources';
import type { CustomConfig } from './nf-config';
import type { Plan } from './plan';
import { NfpError } from './errors';
import { loadGraph } from './load';
import { partition, type SolverChoice } from './partition';
import { validatePlan } from './validate-plan';
import { renderDot } from './dot';
import { renderSummary } from './summary';

export interface PartitionRun {
  plan: Plan;
  outDir: string;
  /** Files written, relative to the working directory. */
  files: string[];
  summary: string;
  /** Notes for the user, e.g. that graph.svg was skipped. */
  notes: string[];
}

export interface PartitionRunOptions {
  target?: string;
  out?: string;
  solver?: SolverChoice;
  /** Write the NIC artifacts when the P4 back end is present (default true). */
  nic?: boolean;
}

export type NicEmitter = (plan: Plan) => { files: Array<{ path: string; contents: string | Uint8Array }> };

/** The P4 back end (p4/index.ts) is optional; use it when it is present. */
export async function findNicEmitter(): Promise<NicEmitter | undefined> {
  const base = join(__dirname, '..', 'p4', 'index');
  if (!existsSync(`${base}.js`) && !existsSync(`${base}.ts`)) return undefined;
  let mod: { emitNicArtifacts?: NicEmitter };
  try {
    mod = (await import(base)) as typeof mod;
  } catch {
    // Under oclif's development mode (TypeScript sources; NODE_ENV=test, as in the CLI tests)
    // import() reaches Node's ESM loader, which reads no TypeScript; its require hook does.
    mod = require(base) as typeof mod;
  }
  return typeof mod.emitNicArtifacts === 'function' ? mod.emitNicArtifacts : undefined;
}

function hasDot(): boolean {
  const r = spawnSync('dot', ['-V'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * The folder keeps its custom NFs' sources (in nf/, laid out as under their closest common
 * folder), so it deploys from anywhere: the plan it writes names nf/ as its sourceDir and each
 * custom NF's source relative to it.
 */
function withNfSources(plan: Plan, write: (rel: string, contents: string | Uint8Array) => void): Plan {
  if (!plan.sourceDir) return plan;
  const base = plan.sourceDir;
  const sourceOf = (nf: Plan['nfs'][number]): string =>
    resolve(base, (nf.config as CustomConfig).manifest.source);
  const files = new Set<string>();
  for (const nf of plan.nfs)
    if (nf.type === 'custom') for (const f of nfSourceFiles(sourceOf(nf))) files.add(f);
  if (files.size === 0 || [...files].some((f) => !existsSync(f))) return plan; // deploy names what is missing
  let root = dirname([...files][0]);
  while ([...files].some((f) => relative(root, f).startsWith('..'))) root = dirname(root);
  for (const f of files) write(join('nf', relative(root, f)), readFileSync(f));
  const nfs = plan.nfs.map((nf) => {
    if (nf.type !== 'custom') return nf;
    const c = nf.config as CustomConfig;
    return { ...nf, config: { ...c, manifest: { ...c.manifest, source: relative(root, sourceOf(nf)) } } };
  });
  return { ...plan, sourceDir: 'nf', nfs };
}

export function defaultOutDir(graphFile: string): string {
  return join('out', basename(graphFile, extname(graphFile)));
}

/** Creates `outDir` and returns a writer of files under it that records what it wrote. */
export function outputFolder(outDir: string): {
  files: string[];
  write: (rel: string, contents: string | Uint8Array) => void;
} {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (err) {
    throw new NfpError(
      `cannot create output folder ${outDir}: ${(err as Error).message}`,
      'choose another --out folder',
    );
  }
  const files: string[] = [];
  const write = (rel: string, contents: string | Uint8Array): void => {
    const path = join(outDir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
    files.push(path);
  };
  return { files, write };
}

export async function partitionToDir(
  graphFile: string,
  opts: PartitionRunOptions = {},
): Promise<PartitionRun> {
  const graph = loadGraph(graphFile);
  const plan = validatePlan(
    JSON.parse(JSON.stringify(await partition(graph, { profile: opts.target, solver: opts.solver }))),
  );
  const outDir = opts.out ?? defaultOutDir(graphFile);
  const { files, write } = outputFolder(outDir);
  const notes: string[] = [];
  write('plan.json', `${JSON.stringify(withNfSources(plan, write), null, 2)}\n`);
  const dot = renderDot(plan, graph);
  write('graph.dot', dot);
  if (hasDot()) {
    const svg = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (svg.status === 0) write('graph.svg', svg.stdout);
    else notes.push(`graph.svg not written: dot failed: ${svg.stderr.trim().split('\n')[0]}`);
  } else notes.push('graph.svg not written: Graphviz `dot` is not installed (apt-get install graphviz)');
  const emit = opts.nic === false ? undefined : await findNicEmitter();
  if (emit) for (const f of emit(plan).files) write(join('nic', f.path), f.contents);
  return { plan, outDir, files, summary: renderSummary(plan), notes };
}
