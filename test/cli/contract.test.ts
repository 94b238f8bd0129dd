/**
 * The CLI's contract, for every command the built CLI has (a new command is held to it too):
 * - its `--json` result is described by schemas/cli/<command>.schema.json, and a run below
 *   produces one that matches;
 * - under `--json` every failure prints one error object matching schemas/cli/error.schema.json
 *   on stdout, the message on stderr, and exits non-zero; never a stack trace.
 * The failures are the ones a user meets first: a bad graph, a missing file (for every input of
 * every command), a file that is not a graph, mpk without PKU, bmv2 without simple_switch_grpc.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { isolationSupport, IsolatedTenant } from '../../host-runtime/lib/isolation';
import { isolationBuilt, testNf } from '../isolation/helpers';
import { cliBuilt, commands, NFP, nfp, pathWithout, ROOT, type Run } from './helpers';

if (!cliBuilt) console.warn('cli contract tests skipped: dist/ is not built (npm run build:ts)');

const SCHEMAS = join(ROOT, 'schemas');
const ajv = new Ajv({ allErrors: true, strict: false });
for (const dir of [SCHEMAS, join(SCHEMAS, 'cli')]) {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.schema.json')))
    ajv.addSchema(JSON.parse(readFileSync(join(dir, f), 'utf8')));
}
function schema(name: string): ValidateFunction {
  const v = ajv.getSchema(`https://nfp.dev/schemas/cli/${name}.schema.json`);
  if (!v) throw new Error(`no schema schemas/cli/${name}.schema.json`);
  return v;
}

/** Asserts `data` matches `v`, showing ajv's complaints when it does not. */
function expectValid(v: ValidateFunction, data: unknown): void {
  const ok = v(data);
  expect(ok ? [] : v.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
}

const tmp = mkdtempSync(join(tmpdir(), 'nfp-cli-contract-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const EDGE = 'examples/enterprise-edge.yaml';

interface CliErrorJson {
  code: string;
  message: string;
  hint?: string;
  location?: { file: string; line?: number; col?: number };
  diagnostics?: unknown[];
  step?: string;
  exitCode: number;
}

/** A --json failure: exit status, the error object on stdout, its message on stderr. */
function expectJsonError(r: Run, code: string, exitCode = 1): CliErrorJson {
  expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack trace
  expect(r.status).toBe(exitCode);
  const json = JSON.parse(r.stdout) as { error: CliErrorJson };
  expectValid(schema('error'), json);
  expect(json.error.code).toBe(code);
  expect(json.error.exitCode).toBe(exitCode);
  expect(r.stderr).toContain(`error: ${json.error.message.split('\n')[0]}`);
  if (json.error.hint) expect(r.stderr).toContain(`hint: ${json.error.hint}`);
  return json.error;
}

/** A long-running command with `--json` until it prints `ready` on stderr, then SIGTERM. */
function runUntil(args: string[], ready: RegExp): Promise<Run> {
  const child = spawn(process.execPath, [NFP, ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  let stopping = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!stopping && ready.test(stderr)) stopping = child.kill('SIGTERM');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}

const softnicRun = (): Promise<Run> =>
  runUntil(['softnic', '--grpc', '127.0.0.1:0', '--json'], /stop with Ctrl-C/);

const isRoot = process.getuid?.() === 0;
if (!isRoot)
  console.warn(
    'cli contract: the agent --json run is skipped: its wire port is a veth pair, which needs root',
  );

/** `nfp agent --json` serving node edge-1 of a cluster plan on a veth pair, stopped once deployed. */
async function agentRun(): Promise<Run> {
  const plan = join(tmp, 'cluster');
  const p = await nfp([
    'partition',
    'examples/multi-tenant.yaml',
    '--cluster',
    'examples/clusters/edge.yaml',
    '--out',
    plan,
    '--no-nic',
    '--json',
  ]);
  expect(p.status).toBe(0);
  const near = `nfpct${process.pid % 100000}`;
  spawnSync('ip', ['link', 'add', near, 'type', 'veth', 'peer', 'name', `${near}p`]);
  for (const i of [near, `${near}p`]) spawnSync('ip', ['link', 'set', i, 'up']);
  try {
    return await runUntil(
      [
        'agent',
        '--plan',
        join(plan, 'nodes', 'edge-1'),
        '--port',
        `0@iface:${near}`,
        '--listen',
        '127.0.0.1:0',
        '--node',
        'edge-1',
        '--json',
      ],
      /: deployed /,
    );
  } finally {
    spawnSync('ip', ['link', 'del', near]);
  }
}

/** A real snapshot: a sandboxed tenant's, written by the runtime. */
async function snapshotFile(): Promise<string> {
  const t = new IsolatedTenant({
    id: 7,
    backend: 'sfi',
    nfs: [{ artifact: await testNf('secret', 'sfi'), config: { secret: 5 } }],
  });
  const f = join(tmp, 'tenant7.nfpsnap');
  writeFileSync(f, t.snapshot());
  t.close();
  return f;
}

/**
 * One successful `--json` run per command. A new command that prints JSON needs an entry here
 * (and its schema); the test below fails until it has one.
 */
const SUCCESS: Record<string, () => Promise<Run>> = {
  partition: () => nfp(['partition', EDGE, '--out', join(tmp, 'edge'), '--no-nic', '--json']),
  deploy: () => nfp(['deploy', EDGE, '--duration', '0', '--json']),
  'nf build': () =>
    nfp(['nf', 'build', 'examples/nf/tagger.c', '--backend', 'native', '-o', join(tmp, 't.so'), '--json']),
  'state dump': async () => nfp(['state', 'dump', await snapshotFile(), '--json']),
  softnic: softnicRun,
  agent: agentRun,
  'k8s render': () => nfp(['k8s', 'render', '--out', join(tmp, 'k8s'), '--ports', '2', '--json']),
};

const all = commands();

describe.skipIf(!cliBuilt)('every command: --json result and schema', () => {
  it('finds the commands', () => {
    expect(all.map((c) => c.id)).toEqual(
      expect.arrayContaining(['deploy', 'partition', 'softnic', 'nf build']),
    );
  });

  for (const c of all.filter((x) => x.json)) {
    it(`${c.id}: has schemas/cli/${c.file}.schema.json and a success case`, () => {
      expect(existsSync(join(SCHEMAS, 'cli', `${c.file}.schema.json`))).toBe(true);
      expect(Object.keys(SUCCESS)).toContain(c.id);
    });

    it.skipIf((c.id === 'state dump' && !isolationBuilt) || (c.id === 'agent' && !isRoot))(
      `${c.id} --json: the result matches its schema`,
      async () => {
        const r = await SUCCESS[c.id]();
        expect(r.stderr).not.toMatch(/^error:/m);
        expect(r.status).toBe(0);
        expectValid(schema(c.file), JSON.parse(r.stdout));
      },
      180_000,
    );

    it(`${c.id} --json: a usage error is a JSON error with exit status 2`, async () => {
      const r = await nfp([...c.id.split(' '), '--json', '--no-such-flag']);
      const e = expectJsonError(r, 'usage-error', 2);
      expect(e.message).toContain('--no-such-flag');
      expect(e.hint).toBe(`see \`nfp ${c.id} --help\``);
    });
  }
});

describe.skipIf(!cliBuilt)('--json errors a user meets first', () => {
  it('partition of a bad graph: every diagnostic, located', async () => {
    const e = expectJsonError(
      await nfp(['partition', 'test/partitioner/bad/several-errors.yaml', '--json']),
      'graph-error',
    );
    expect(e.diagnostics).toHaveLength(4);
    expect(e.location).toEqual({ file: 'test/partitioner/bad/several-errors.yaml', line: 8, col: 57 });
  });

  it('partition of a missing file', async () => {
    const e = expectJsonError(await nfp(['partition', 'missing.yaml', '--json']), 'file-not-found');
    expect(e.message).toBe('cannot read missing.yaml: no such file');
    expect(e.location).toEqual({ file: 'missing.yaml' });
  });

  it('partition of a file that is not a service graph: one line', async () => {
    const r = await nfp(['partition', 'README.md']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: README\.md:\d+:\d+: \(file\): not a service graph/);
    const e = expectJsonError(await nfp(['partition', 'README.md', '--json']), 'graph-error');
    expect(e.diagnostics).toHaveLength(1);
  });

  it('deploy of a missing graph, and of a missing --traffic pcap before any work', async () => {
    expect(expectJsonError(await nfp(['deploy', 'missing.yaml', '--json']), 'file-not-found').message).toBe(
      'cannot read missing.yaml: no such file or folder',
    );
    const r = await nfp(['deploy', EDGE, '--traffic', 'missing.pcap']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'error: cannot read missing.pcap: no such file\nhint: give the path of a pcap or pcapng capture to replay (PORT=FILE: the wire port its frames enter on)\n',
    );
    expectJsonError(await nfp(['deploy', EDGE, '--traffic', 'missing.pcap', '--json']), 'file-not-found');
  });

  const pku = isolationBuilt && isolationSupport().pku;
  it(`deploy --isolation mpk ${pku ? 'runs (this CPU has PKU): a valid report' : 'without PKU: a JSON error naming the reason'}`, async () => {
    const r = await nfp(['deploy', EDGE, '--isolation', 'mpk', '--duration', '0', '--json']);
    if (pku) {
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout) as { isolation: string };
      expectValid(schema('deploy'), report);
      expect(report.isolation).toBe('mpk');
    } else {
      const e = expectJsonError(r, 'deploy-error');
      expect(e.message).toMatch(/protection keys|PKU|pkey/);
    }
  }, 180_000);

  it.skipIf(!isRoot)(
    'deploy --target dpdk --json (root: its own veth ports): a valid report saying what ran where',
    async () => {
      const r = await nfp(['deploy', EDGE, '--target', 'dpdk', '--duration', '0', '--json']);
      expect(r.stderr).not.toMatch(/^error:/m);
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout) as { nicPlacement?: { nic: string; nfs: unknown[] } };
      expectValid(schema('deploy'), report);
      expect(report.nicPlacement?.nic).toBe('software');
      expect(report.nicPlacement?.nfs.length).toBeGreaterThan(0);
    },
    180_000,
  );
  if (!isRoot)
    console.warn('deploy --target dpdk --json skipped: it needs root (a namespace and veth pairs)');

  it.skipIf(!isRoot)(
    'deploy --target dpdk --offload require on ports without a flow API: the step and what to do',
    async () => {
      const r = await nfp([
        'deploy',
        EDGE,
        '--target',
        'dpdk',
        '--offload',
        'require',
        '--duration',
        '0',
        '--json',
      ]);
      const e = expectJsonError(r, 'deploy-error');
      expect(e.step).toBe('start-target');
      expect(e.message).toMatch(/offload is required, but the ports .* have no flow API/);
      expect(e.hint).toMatch(/--offload auto/);
    },
    180_000,
  );

  it('partition --nic without --target dpdk: an error before anything is written', async () => {
    const dir = join(tmp, 'nic-without-dpdk');
    const e = expectJsonError(
      await nfp(['partition', EDGE, '--nic', 'mlx5', '--out', dir, '--json']),
      'usage-error',
      2,
    );
    expect(e.message).toBe('--nic mlx5 needs --target dpdk');
    expect(existsSync(dir)).toBe(false);
    const both = await nfp(['partition', EDGE, '--target', 'dpdk', '--nic', 'mlx5', '--no-nic', '--json']);
    expect(expectJsonError(both, 'usage-error', 2).message).toMatch(/--no-nic/);
  });

  it('deploy --target bmv2 without simple_switch_grpc: the step and how to provide one', async () => {
    const r = await nfp(['deploy', EDGE, '--target', 'bmv2', '--duration', '0', '--json'], {
      env: { ...process.env, PATH: pathWithout('simple_switch_grpc') },
    });
    const e = expectJsonError(r, 'deploy-error');
    expect(e.step).toBe('start-target');
    expect(e.message).toMatch(/needs simple_switch_grpc, which is not on PATH/);
    expect(e.hint).toMatch(/--grpc HOST:PORT/);
  });

  it('softnic, nf build and state dump with a missing input file', async () => {
    for (const [args, what] of [
      [['softnic', '--grpc', '127.0.0.1:0', '--port', '1@pcap:missing.pcap'], 'a pcap file to replay'],
      [['nf', 'build', 'missing.c'], 'an NF C source'],
      [['state', 'dump', 'missing.nfpsnap'], 'a snapshot file'],
    ] as const) {
      const e = expectJsonError(await nfp([...args, '--json']), 'file-not-found');
      expect(e.message).toMatch(/^cannot read missing\.\w+: no such file$/);
      expect(e.hint).toContain(`give the path of ${what}`);
    }
  });
});

describe.skipIf(!cliBuilt)('help and typos', () => {
  it('nfp help deploy prints the same help as nfp deploy --help', async () => {
    const [help, flag] = await Promise.all([nfp(['help', 'deploy']), nfp(['deploy', '--help'])]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('$ nfp deploy INPUT');
    expect(help.stdout).toBe(flag.stdout);
    const nested = await nfp(['help', 'nf', 'build']);
    expect(nested.stdout).toContain('$ nfp nf build SOURCES...');
  });

  it('a mistyped command gets "did you mean", as text and as JSON', async () => {
    const r = await nfp(['deplyo', 'g.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error: "deplyo" is not an nfp command; did you mean "deploy"?');
    expect(r.stderr).toMatch(/hint: the commands are: .*deploy.*partition/);
    const e = expectJsonError(await nfp(['nf', 'biuld', 'x.c', '--json']), 'unknown-command', 2);
    expect(e.message).toContain('did you mean "nf build"?');
    const help = await nfp(['help', 'partiton']);
    expect(help.status).toBe(2);
    expect(help.stderr).toContain('did you mean "partition"?');
  });

  it('nf build without -o writes out/nf/<source>.<backend>.so and says so', async () => {
    const r = await nfp(['nf', 'build', join(ROOT, 'examples/nf/tagger.c'), '--backend', 'native'], {
      cwd: tmp,
    });
    expect(r.status).toBe(0);
    const module = join(tmp, 'out', 'nf', 'tagger.native.so');
    expect(r.stdout.trim()).toBe(`built native module ${module} (1 NF)`);
    expect(existsSync(module)).toBe(true);
  });
});
