/**
 * A typed walker over a YAML document that records diagnostics (with `file:line:col` and the key
 * path) instead of throwing, so that one pass reports every problem in the file.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Scalar } from 'yaml';
import type { SourceLocation } from './graph';
import { GraphError, NfpError, type Diagnostic } from './errors';

/** The key path shown for problems with the document as a whole. */
export const TOP_LEVEL = '(top level)';

export type YNode = Node | null | undefined;

export interface MapEntry {
  key: string;
  keyNode: Scalar;
  value: YNode;
}

/** Edit distance with adjacent transpositions (case-insensitive), for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[x.length][y.length];
}

/** The closest candidate when it is close enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word, c);
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  return c ? `; did you mean "${c}"?` : '';
}

export class Reader {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  locAt(offset: number): SourceLocation {
    const p = this.lines.linePos(offset);
    return { file: this.file, line: p.line, col: p.col };
  }

  loc(node: YNode, fallback?: SourceLocation): SourceLocation {
    if (node?.range) return this.locAt(node.range[0]);
    return fallback ?? { file: this.file, line: 1, col: 1 };
  }

  error(at: YNode | SourceLocation, key: string, message: string): void {
    const loc = at && 'file' in at ? at : this.loc(at as YNode);
    this.diagnostics.push({ loc, key, message });
  }

  /** A mapping's entries, checking keys against `allowed` and `required`. */
  map(
    node: YNode,
    key: string,
    allowed: readonly string[],
    required: readonly string[] = [],
  ): Map<string, MapEntry> | undefined {
    if (!isMap(node)) {
      this.error(node, key, `must be a mapping (key: value lines)${describe(node)}`);
      return undefined;
    }
    const out = new Map<string, MapEntry>();
    for (const pair of node.items) {
      const k = pair.key;
      if (!isScalar(k) || typeof k.value !== 'string') {
        this.error(k as YNode, key, 'keys must be plain names');
        continue;
      }
      const name = k.value;
      if (!allowed.includes(name)) {
        this.error(k, sub(key, name), `unknown key "${name}"${didYouMean(name, allowed)}`);
        continue;
      }
      out.set(name, { key: name, keyNode: k, value: pair.value as YNode });
    }
    for (const r of required) {
      if (!out.has(r)) this.error(node, key, `missing required key "${r}"`);
    }
    return out;
  }

  /** A mapping with free-form keys (e.g. the NF instances by name). */
  freeMap(node: YNode, key: string): MapEntry[] | undefined {
    if (!isMap(node)) {
      this.error(node, key, `must be a mapping (name: value lines)${describe(node)}`);
      return undefined;
    }
    const out: MapEntry[] = [];
    for (const pair of node.items) {
      const k = pair.key;
      if (!isScalar(k) || (typeof k.value !== 'string' && typeof k.value !== 'number')) {
        this.error(k as YNode, key, 'keys must be plain names');
        continue;
      }
      out.push({ key: String(k.value), keyNode: k, value: pair.value as YNode });
    }
    return out;
  }

  seq(node: YNode, key: string): YNode[] | undefined {
    if (!isSeq(node)) {
      this.error(node, key, `must be a list (lines starting with "- ")${describe(node)}`);
      return undefined;
    }
    return node.items as YNode[];
  }

  scalar(node: YNode): unknown {
    return isScalar(node) ? node.value : node === null || node === undefined ? null : node;
  }

  str(node: YNode, key: string): string | undefined {
    const v = this.scalar(node);
    if (typeof v === 'string' && v.length > 0) return v;
    this.error(node, key, `must be a non-empty string${describe(node)}`);
    return undefined;
  }

  int(node: YNode, key: string, min: number, max: number): number | undefined {
    const v = this.scalar(node);
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    this.error(node, key, `must be an integer from ${min} to ${max}${describe(node)}`);
    return undefined;
  }

  num(node: YNode, key: string, minExclusive: number): number | undefined {
    const v = this.scalar(node);
    if (typeof v === 'number' && Number.isFinite(v) && v > minExclusive) return v;
    this.error(node, key, `must be a number greater than ${minExclusive}${describe(node)}`);
    return undefined;
  }

  bool(node: YNode, key: string): boolean | undefined {
    const v = this.scalar(node);
    if (typeof v === 'boolean') return v;
    this.error(node, key, `must be true or false${describe(node)}`);
    return undefined;
  }

  oneOf<T extends string>(node: YNode, key: string, values: readonly T[]): T | undefined {
    const v = this.scalar(node);
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    const hint = typeof v === 'string' ? didYouMean(v, values) : '';
    this.error(node, key, `must be one of ${values.join(', ')}${describe(node)}${hint}`);
    return undefined;
  }
}

/** `a.b` or `a[3]` key paths. */
export function sub(key: string, name: string | number): string {
  if (typeof name === 'number') return `${key}[${name}]`;
  return key && key !== TOP_LEVEL ? `${key}.${name}` : name;
}

function describe(node: YNode): string {
  if (node === null || node === undefined) return ', but it is empty';
  if (isScalar(node)) {
    if (node.value === null) return ', but it is empty';
    return `, not ${JSON.stringify(node.value)}`;
  }
  if (isMap(node)) return ', not a mapping';
  if (isSeq(node)) return ', not a list';
  return '';
}

/** A user's file as text; a missing or unreadable one is an NfpError with `hint`. */
export function readUserFile(file: string, hint: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NfpError(
      code === 'ENOENT'
        ? `cannot read ${file}: no such file`
        : `cannot read ${file}: ${(err as Error).message}`,
      hint,
    );
  }
}

/**
 * Parses YAML text into its root node and a Reader for it. YAML syntax errors, and an empty
 * document (`emptyMessage` says what the file should start with), throw a GraphError.
 */
export function parseYaml(text: string, file: string, emptyMessage: string): { r: Reader; root: Node } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new Reader(file, lines);
  for (const e of doc.errors)
    r.error(r.locAt(e.pos[0]), '(yaml)', `YAML syntax: ${e.message.split('\n')[0]}`);
  if (r.diagnostics.length > 0) throw new GraphError(r.diagnostics);
  const root = doc.contents as YNode;
  if (root === null || root === undefined) {
    r.error(r.locAt(0), '(file)', emptyMessage);
    throw new GraphError(r.diagnostics);
  }
  return { r, root };
}
