/**
 * The same client suite against every P4Runtime target available: nfp's own server (always),
 * and a real simple_switch_grpc (BMv2) when it is on PATH. The pipeline is the one nfp emits for
 * an example graph (bmv2.json, P4Info, entries), so this also checks that the emitted artifacts
 * load and program through P4Runtime.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitNicArtifacts, type NicArtifacts, type TableEntryJson } from '../../p4';
import { loadGraph, partition } from '../../partitioner';
import {
  Code,
  insert,
  MemoryDevice,
  modify,
  P4RuntimeClient,
  P4RuntimeServer,
  P4RuntimeWriteError,
  PipelineResponseType,
  remove,
  type Entity,
  type FieldMatch,
} from '../../p4runtime';
import { collect } from './helpers';

const hasBmv2 = spawnSync('sh', ['-c', 'command -v simple_switch_grpc'], { stdio: 'ignore' }).status === 0;
if (!hasBmv2)
  console.warn(
    'p4runtime client suite against simple_switch_grpc skipped: simple_switch_grpc is not on PATH',
  );

interface Target {
  address: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function nfpTarget(): Promise<Target> {
  const server = new P4RuntimeServer({ device: new MemoryDevice() });
  await server.start();
  return { address: server.address, stop: () => server.stop(100) };
}

async function bmv2Target(): Promise<Target> {
  const port = await freePort();
  const proc: ChildProcess = spawn(
    'simple_switch_grpc',
    ['--no-p4', '--device-id', '1', '--', '--grpc-server-addr', `127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  // Wait until it answers Capabilities.
  const probe = new P4RuntimeClient({ address: `127.0.0.1:${port}`, reconnect: false, timeoutMs: 1000 });
  for (let i = 0; ; i++) {
    try {
      await probe.capabilities();
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  probe.close();
  return {
    address: `127.0.0.1:${port}`,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

const hexBytes = (h: string): Buffer => {
  const s = h.replace(/^0x/, '');
  return Buffer.from(s.length % 2 ? `0${s}` : s, 'hex');
};

/** An emitted entry (entries.json form) as a P4Runtime entity. */
function toEntity(e: TableEntryJson): Entity {
  const match: FieldMatch[] = e.match.map((m) => {
    if ('exact' in m) return { fieldId: m.fieldId, exact: { value: hexBytes(m.exact.value) } };
    if ('lpm' in m)
      return { fieldId: m.fieldId, lpm: { value: hexBytes(m.lpm.value), prefixLen: m.lpm.prefixLen } };
    if ('ternary' in m)
      return {
        fieldId: m.fieldId,
        ternary: { value: hexBytes(m.ternary.value), mask: hexBytes(m.ternary.mask) },
      };
    return { fieldId: m.fieldId, range: { low: hexBytes(m.range.low), high: hexBytes(m.range.high) } };
  });
  return {
    tableEntry: {
      tableId: e.tableId,
      match,
      priority: e.priority ?? 0,
      action: {
        action: {
          actionId: e.action.id,
          params: e.action.params.map((p) => ({ paramId: p.id, value: hexBytes(p.value) })),
        },
      },
    },
  };
}

let artifacts: NicArtifacts;
beforeAll(async () => {
  const graph = loadGraph(join(__dirname, '..', '..', 'examples', 'multi-tenant.yaml'));
  artifacts = emitNicArtifacts(await partition(graph, { solver: 'heuristic' }));
});

function clientSuite(name: string, start: () => Promise<Target>, skip = false): void {
  describe.skipIf(skip)(`client suite against ${name}`, () => {
    let target: Target;
    const clients: P4RuntimeClient[] = [];
    const client = (electionId: number): P4RuntimeClient => {
      const c = new P4RuntimeClient({ address: target.address, electionId, reconnect: false });
      clients.push(c);
      return c;
    };
    beforeAll(async () => {
      target = await start();
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      await target?.stop();
    });

    it('Capabilities answers a P4Runtime version', async () => {
      expect((await client(1).capabilities()).p4runtimeApiVersion).toMatch(/^1\./);
    });

    it('loads the emitted pipeline, programs the emitted entries, and reads them back', async () => {
      const c = client(10);
      expect(await c.connect()).toBe(true);
      const json = JSON.stringify(artifacts.bmv2);
      await c.setPipeline({ p4info: artifacts.p4info, deviceConfig: json, cookie: 77 });
      expect(String((await c.getPipeline(PipelineResponseType.COOKIE_ONLY)).cookie?.cookie)).toBe('77');
      const updates = artifacts.entries.tableEntries.map((e) => insert(toEntity(e)));
      expect(updates.length).toBeGreaterThan(0);
      await c.write(updates);
      const read = await collect(c.read({ tableEntry: { tableId: 0 } }));
      expect(read.length).toBe(updates.length);
      if (artifacts.entries.meterEntries.length) {
        const m = artifacts.entries.meterEntries[0];
        await c.write([
          modify({ meterEntry: { meterId: m.meterId, index: { index: m.index }, config: m.config } }),
        ]);
      }
    });

    it('reports per-update errors: duplicate INSERT and DELETE of a missing entry', async () => {
      const c = clients[1];
      const first = toEntity(artifacts.entries.tableEntries[0]);
      const err = await c
        .write([insert(first), remove({ tableEntry: { ...first.tableEntry!, priority: 12345 } })])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(P4RuntimeWriteError);
      const failures = (err as P4RuntimeWriteError).failures;
      expect(failures[0]).toMatchObject({ index: 0, error: { canonicalCode: Code.ALREADY_EXISTS } });
      expect(failures[1].index).toBe(1);
    });

    it('a higher election id takes over; the demoted client may no longer write', async () => {
      const old = clients[1];
      const demoted = new Promise((r) => old.once('demoted', r));
      const c = client(20);
      expect(await c.connect()).toBe(true);
      await demoted;
      const first = toEntity(artifacts.entries.tableEntries[0]);
      await expect(old.write([remove(first)])).rejects.toMatchObject({ code: Code.PERMISSION_DENIED });
      await c.loadPipeline();
      await c.write([remove(first)]);
    });
  });
}

clientSuite('nfp P4RuntimeServer', nfpTarget);
clientSuite('simple_switch_grpc', bmv2Target, !hasBmv2);
