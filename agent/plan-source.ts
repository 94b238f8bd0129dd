/**
 * Where a node agent's plan comes from, and how it learns that the plan changed: a file (plan.json,
 * or a folder holding one, as `nfp partition --cluster` writes per node), polled for changes; or a
 * NodePlan object in Kubernetes, watched (kube.ts). Every source hands over plans as text plus a
 * version; the agent validates them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NfpError } from '../partitioner/errors';

/** A plan as the source has it: the JSON value and a version that changes when it changes. */
export interface PlanVersion {
  /** The plan (validated by the agent), or undefined when the source holds none (yet). */
  plan: unknown;
  /** Content hash, or the Kubernetes resourceVersion. */
  version: string;
  /** Where it came from, for messages (a file, or namespace/name of the object). */
  origin: string;
}

export interface PlanSource {
  describe(): string;
  /** Starts watching; `onPlan` is called with the current plan first, then on every change. */
  watch(onPlan: (p: PlanVersion) => void, onError: (err: Error) => void): void;
  close(): void;
}

/** The plan file a path names: the path itself, or plan.json inside a folder. */
export function planFileOf(path: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) return join(path, 'plan.json');
  return path;
}

/**
 * A plan file, polled every `intervalMs` (editors and `nfp partition` replace files, which
 * inotify-based watching misses); a change is a change of content.
 */
export class FilePlanSource implements PlanSource {
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;

  constructor(
    private readonly path: string,
    private readonly intervalMs = 500,
  ) {
    if (!existsSync(planFileOf(path)))
      throw new NfpError(
        `${path}: no plan there`,
        'give a plan.json or the folder holding it (nfp partition writes one per node under nodes/<node>/)',
      );
  }

  describe(): string {
    return planFileOf(this.path);
  }

  watch(onPlan: (p: PlanVersion) => void, onError: (err: Error) => void): void {
    const poll = (): void => {
      const file = planFileOf(this.path);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if (this.last !== 'missing') onError(new NfpError(`cannot read ${file}: ${(err as Error).message}`));
        this.last = 'missing';
        return;
      }
      const version = createHash('sha256').update(text).digest('hex').slice(0, 16);
      if (version === this.last) return;
      this.last = version;
      let plan: unknown;
      try {
        plan = JSON.parse(text);
      } catch (err) {
        onError(new NfpError(`${file}: not valid JSON: ${(err as Error).message}`));
        return;
      }
      onPlan({ plan, version, origin: file });
    };
    poll();
    this.timer = setInterval(poll, this.intervalMs);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
