/** Runs every `ts runnable` block of docs/p4runtime.md, so the documented examples stay true. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'p4runtime.md'), 'utf8');
const blocks = [...doc.matchAll(/```ts runnable\n([\s\S]*?)```/g)].map((m) => m[1]);
const dir = mkdtempSync(join(tmpdir(), 'nfp-p4rt-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/p4runtime.md examples', () => {
  it('has runnable examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and exits 0`, () => {
      const file = join(dir, `example${i + 1}.ts`);
      writeFileSync(file, code.replaceAll("'./p4runtime'", JSON.stringify(join(root, 'p4runtime'))));
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
      if (i === 0) {
        expect(out).toMatch(/primary: true/);
        expect(out).toMatch(/ingress.ipv4_lpm .*prefixLen: 8.* ingress.forward \{ port: 1n \}/);
      }
      if (i === 1) {
        expect(out).toMatch(/update 1: ALREADY_EXISTS/);
        expect(out).toMatch(/Did you mean "ingress.ipv4_lpm"/);
        expect(out).toMatch(/packet-in \{ ingress_port: 5n \}/);
        expect(out).toMatch(/device got 1 packet-out/);
      }
    });
  });
});
