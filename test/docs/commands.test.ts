/**
 * Every command in README.md and docs/*.md runs, as written, here: each line of a ```sh block,
 * and each `$ ` line of a ```console block (whose documented output must then appear in the real
 * output, in order, numbers aside; a documented JSON error must be the one printed). They run in
 * a scratch folder that links to the repository's files, with `nfp` on PATH as set-up puts it, in
 * document order (a later command may use what an earlier one wrote).
 *
 * Not run, each for the reason given in NOT_RUN: set-up itself and `npm test` (this run is part
 * of them), and commands that need a tool this machine lacks (they run where it is present).
 * Every fenced block must say its language, so a command cannot hide in an unlabelled block.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter } from '../../targets/pcap';
import { udpPacket } from '../softnic/packets';

const ROOT = join(__dirname, '..', '..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

interface DocCommand {
  doc: string;
  line: number;
  command: string;
  /** A console block's documented output. */
  output?: string[];
}

/** The fences of a markdown file: language, first line number, body lines. */
function fences(text: string): Array<{ lang: string; line: number; body: string[] }> {
  const out: Array<{ lang: string; line: number; body: string[] }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].startsWith('```')) body.push(lines[j++]);
    out.push({ lang: open[1].trim(), line: i + 1, body });
    i = j;
  }
  return out;
}

function docCommands(doc: string): DocCommand[] {
  const out: DocCommand[] = [];
  for (const f of fences(readFileSync(join(ROOT, doc), 'utf8'))) {
    if (f.lang === 'sh') {
      f.body.forEach((l, k) => {
        const command = l.replace(/\s+#\s.*$/, '').trim();
        if (command && !command.startsWith('#')) out.push({ doc, line: f.line + 1 + k, command });
      });
    } else if (f.lang === 'console') {
      f.body.forEach((l, k) => {
        if (!l.startsWith('$ ')) return;
        const rest = f.body.slice(k + 1);
        const next = rest.findIndex((r) => r.startsWith('$ '));
        out.push({
          doc,
          line: f.line + 1 + k,
          command: l.slice(2).trim(),
          output: next < 0 ? rest : rest.slice(0, next),
        });
      });
    }
  }
  return out;
}

const isRoot = process.getuid?.() === 0;
const onPath = (tool: string): boolean => spawnSync('which', [tool], { stdio: 'ignore' }).status === 0;

/** Parts of commands that are not run here, and why (a function: why not now, or undefined). */
const NOT_RUN: Array<{ match: RegExp; why: (part: string) => string | undefined }> = [
  {
    match: /^bash scripts\/setup\.sh$/,
    why: () =>
      'set-up installs apt packages and builds; .ci/run runs it before these tests, and inside them it would rebuild dist/ under the running suites',
  },
  { match: /^npm test$/, why: () => 'npm test is this test run (.ci/run runs it after set-up)' },
  {
    match: /--target bmv2(?!.*--grpc)/,
    why: () =>
      !onPath('simple_switch_grpc')
        ? 'needs simple_switch_grpc on PATH (a real BMv2), absent here'
        : !isRoot
          ? 'needs root (a network namespace and veth pairs)'
          : undefined,
  },
  {
    match: /--port \d+@[0-9a-fA-F]{4}:/,
    why: () => 'needs a DPDK NIC at that PCI address (as root), absent here',
  },
  {
    match: /^nfp deploy .*--target dpdk/,
    why: () => (!isRoot ? 'needs root (a network namespace, veth pairs and DPDK on them)' : undefined),
  },
  {
    match: /^nfp agent .*--port \d+@iface:/,
    why: (part) => {
      const missing = [...part.matchAll(/@iface:([\w.-]+)/g)]
        .map((m) => m[1])
        .filter((n) => !existsSync(`/sys/class/net/${n}`));
      return missing.length > 0
        ? `needs the node's wire interfaces (${missing.join(', ')} absent here); test/agent and test/cluster run the agent on veth pairs`
        : undefined;
    },
  },
  {
    match: /^kubectl /,
    why: () =>
      !onPath('kubectl')
        ? 'needs kubectl and a Kubernetes cluster, absent here; test/k8s validates the rendered objects'
        : spawnSync('kubectl', ['version', '--request-timeout=3s'], { stdio: 'ignore' }).status !== 0
          ? 'needs a Kubernetes cluster (kubectl reaches none here); test/k8s validates the rendered objects'
          : undefined,
  },
  {
    match: /TOR_ADDRESS/,
    why: () =>
      "TOR_ADDRESS stands for the operator's top-of-rack switch; test/cluster/sim-cluster.test.ts installs the same steering program on a softnic",
  },
];

/** Commands that run until stopped: started, then Ctrl-C once they print `ready`. */
const LONG_RUNNING: Array<{ match: RegExp; ready: RegExp }> = [
  { match: /^nfp softnic /, ready: /stop with Ctrl-C/ },
  { match: /^nfp agent /, ready: /: deployed / },
];

/** A scratch folder in which every repository path resolves, with `nfp` on PATH. */
function scratch(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'nfp-doc-commands-'));
  for (const e of readdirSync(ROOT)) {
    if (e === 'out' || e.startsWith('.')) continue;
    symlinkSync(join(ROOT, e), join(dir, e));
  }
  const bin = join(dir, '.path');
  mkdirSync(bin);
  symlinkSync(join(ROOT, 'bin', 'run.js'), join(bin, 'nfp'));
  // The user's own input that the README's softnic line replays.
  const w = new PcapWriter(join(dir, 'in.pcap'));
  w.write(udpPacket({ src: '10.1.0.1', dst: '10.0.0.1' }));
  w.close();
  return { dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } };
}

interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv, ready?: RegExp): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `exec ${command}`], { cwd, env });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    const check = (): void => {
      if (ready && !stopped && ready.test(stdout + stderr)) stopped = child.kill('SIGINT'); // once, as Ctrl-C
    };
    child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), check()));
    child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), check()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** Numbers (counts, cycles, ports, times) vary from run to run; the lines' shape must not. */
const shape = (l: string): string => l.replace(/\d+(\.\d+)?/g, 'N').trimEnd();

function expectDocumentedOutput(doc: string[], actual: string): void {
  const want = doc.map(shape).filter((l) => l && l !== '…');
  const got = actual.split('\n').map(shape);
  let at = 0;
  for (const w of want) {
    const found = got.indexOf(w, at);
    expect(
      found,
      `documented line not in the output (in order): ${w}\n--- output:\n${actual}`,
    ).toBeGreaterThanOrEqual(at);
    at = found + 1;
  }
}

const env = scratch();
afterAll(() => rmSync(env.dir, { recursive: true, force: true }));

describe('documentation', () => {
  it('labels every fenced block with its language', () => {
    const bare = DOCS.flatMap((d) =>
      fences(readFileSync(join(ROOT, d), 'utf8'))
        .filter((f) => f.lang === '')
        .map((f) => `${d}:${f.line}`),
    );
    expect(bare).toEqual([]);
  });

  it(".ci/run runs the README's test command", () => {
    const readmeTest = docCommands('README.md').find((c) => /\bnpm test\b/.test(c.command));
    expect(readmeTest?.command).toBe('bash scripts/setup.sh && npm test');
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8').split('\n');
    expect(ci).toContain(readmeTest!.command);
  });

  it('has commands to run (README and docs/)', () => {
    const all = DOCS.flatMap(docCommands);
    expect(all.filter((c) => c.doc === 'README.md').length).toBeGreaterThanOrEqual(8);
    expect(new Set(all.map((c) => c.doc)).size).toBeGreaterThanOrEqual(4);
  });
});

for (const doc of DOCS) {
  const cmds = docCommands(doc);
  if (cmds.length === 0) continue;
  describe(`${doc}: its commands run as written`, () => {
    for (const c of cmds) {
      const parts = c.command.split(/\s+&&\s+/);
      const skipped = parts.map((p) => NOT_RUN.find((n) => n.match.test(p))?.why(p)).filter(Boolean);
      const runnable = parts.filter((p) => !NOT_RUN.some((n) => n.match.test(p) && n.why(p)));
      for (const why of skipped) console.warn(`${doc}:${c.line}: \`${c.command}\` skipped in part: ${why}`);
      it.skipIf(runnable.length === 0)(
        `${doc}:${c.line}: ${c.command}`,
        async () => {
          for (const part of runnable) {
            const long = LONG_RUNNING.find((l) => l.match.test(part));
            let r = await run(part, env.dir, env.env, long?.ready);
            // A fixed documented port (9559) may be taken for a moment by another run on this machine.
            for (let i = 0; i < 3 && /cannot serve P4Runtime on/.test(r.stderr); i++) {
              await new Promise((w) => setTimeout(w, 2000));
              r = await run(part, env.dir, env.env, long?.ready);
            }
            expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack trace
            const errorDoc = c.output?.join('\n').trim();
            if (errorDoc?.startsWith('{') && errorDoc.includes('"error"')) {
              // A documented failure: that exact error object, and a non-zero exit.
              expect(r.status).not.toBe(0);
              expect(JSON.parse(r.stdout)).toEqual(JSON.parse(errorDoc));
              continue;
            }
            expect(r.status, `${part} failed:\n${r.stderr}`).toBe(0);
            if (c.output) expectDocumentedOutput(c.output, r.stdout);
          }
        },
        300_000,
      );
    }
  });
}

it('the scratch folder kept the outputs out of the repository', () => {
  expect(existsSync(join(ROOT, 'tagger.so'))).toBe(false);
  expect(existsSync(join(ROOT, 'in.out.pcap'))).toBe(false);
});
