/**
 * Running the built CLI (bin/run.js → dist/) as a user does, and finding its commands, for the
 * tests that pin the CLI's contract down for every command, including ones added later.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const NFP = join(ROOT, 'bin', 'run.js');
const COMMANDS = join(ROOT, 'dist', 'cli', 'commands');

export const cliBuilt = existsSync(join(COMMANDS, 'deploy.js'));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `nfp ...args` to completion without blocking the test worker. */
export function nfp(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [NFP, ...args],
      {
        cwd: opts.cwd ?? ROOT,
        env: opts.env ?? process.env,
        encoding: 'utf8',
        timeout: 180_000,
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) => {
        const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

export interface CommandInfo {
  /** As users type it: `nf build`. */
  id: string;
  /** Its schema's name: `nf-build` (schemas/cli/<file>.schema.json). */
  file: string;
  json: boolean;
}

/** Every command of the built CLI: the files under dist/cli/commands. */
export function commands(): CommandInfo[] {
  if (!cliBuilt) return [];
  const out: CommandInfo[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) {
        const words = relative(COMMANDS, p).slice(0, -3).split('/');
        const cls = (require(p) as { default: { enableJsonFlag?: boolean } }).default;
        out.push({ id: words.join(' '), file: words.join('-'), json: cls.enableJsonFlag === true });
      }
    }
  };
  walk(COMMANDS);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** PATH without any folder that holds `tool`. */
export function pathWithout(tool: string): string {
  return (process.env.PATH ?? '')
    .split(':')
    .filter((d) => d && !existsSync(join(d, tool)))
    .join(':');
}
