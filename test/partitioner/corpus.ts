// The bad-input corpora (bad graphs, bad cluster descriptions): each file ends with the exact
// diagnostics its loader must report ("# expect: line:col: key: message"), in order, and nothing else.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { GraphError } from '../../partitioner';

export function expectCorpusDiagnostics(file: string, load: (file: string) => unknown): void {
  const expected = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('# expect: '))
    .map((l) => l.slice('# expect: '.length));
  expect(expected.length).toBeGreaterThan(0);
  let err: unknown;
  try {
    load(file);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(GraphError);
  const g = err as GraphError;
  const got = g.diagnostics.map((d) => `${d.loc.line}:${d.loc.col}: ${d.key}: ${d.message}`);
  expect(got).toEqual(expected);
  // The user-facing message is file:line:col for every problem.
  for (const line of g.message.split('\n')) expect(line.startsWith(`${file}:`)).toBe(true);
}
