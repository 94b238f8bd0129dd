/** Shared helpers for the NIC emitter tests. */
import { execFileSync } from 'node:child_process';
import type { NicArtifacts } from '../../p4/index';

export function fileText(a: NicArtifacts, path: string): string {
  const f = a.files.find((x) => x.path === path);
  if (!f) throw new Error(`no artifact ${path}`);
  return typeof f.contents === 'string' ? f.contents : Buffer.from(f.contents).toString('latin1');
}

/** The absolute path of a tool on PATH, or undefined. */
export function onPath(tool: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
