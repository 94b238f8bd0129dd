/**
 * docs/cli.md cannot drift from `--help`: for every command of the built CLI, its section there
 * exists, its synopsis names exactly the flags `--help` shows, and every flag appears written as
 * `--help` writes it (`-t, --target`, `--[no-]nic`); the flag table names no flag `--help` lacks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliBuilt, commands, nfp, ROOT } from './helpers';

const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');

/** The text of `## \`nfp ID\`` up to the next `## `. */
function section(id: string): string | undefined {
  const start = doc.indexOf(`\n## \`nfp ${id}\`\n`);
  if (start < 0) return undefined;
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** A long flag: `--out`, `--[no-]nic`. */
const FLAG = /--(?:\[no-\])?[a-z][\w-]*/;

/** Flags as `--help` writes them, e.g. `-t, --target`, `--[no-]nic`, `--json`. */
function helpFlags(help: string): string[] {
  const out: string[] = [];
  let inFlags = false;
  for (const line of help.split('\n')) {
    if (/^[A-Z ]*FLAGS$/.test(line)) inFlags = true;
    else if (/^[A-Z]/.test(line)) inFlags = false;
    else if (inFlags) {
      const m = new RegExp(`^\\s+((?:-\\w, )?${FLAG.source})`).exec(line);
      if (m) out.push(m[1]);
    }
  }
  return out.sort();
}

const long = (flags: string[]): string[] => [...new Set(flags.map((f) => FLAG.exec(f)![0]))].sort();

describe.skipIf(!cliBuilt)('docs/cli.md matches --help', () => {
  for (const c of commands()) {
    it(`nfp ${c.id}`, async () => {
      const r = await nfp([...c.id.split(' '), '--help']);
      expect(r.status).toBe(0);
      const flags = helpFlags(r.stdout);
      const text = section(c.id);
      expect(text, `docs/cli.md has no section "## \`nfp ${c.id}\`"`).toBeDefined();
      // The synopsis: the section's first code block.
      const synopsis = /```text\n([\s\S]*?)```/.exec(text!)?.[1] ?? '';
      expect(synopsis.startsWith(`nfp ${c.id}`)).toBe(true);
      expect(long(synopsis.match(new RegExp(FLAG.source, 'g')) ?? [])).toEqual(long(flags));
      for (const f of flags) expect(text, `docs/cli.md writes ${f} as --help does`).toContain(f);
      // The table's first column names only flags that exist.
      const tabled = [...text!.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
      for (const t of tabled) expect(flags, `docs/cli.md's table has ${t}`).toContain(t);
    });
  }
});
