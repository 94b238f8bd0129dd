/**
 * P4Runtime over loopback: write N table entries in batches and read them back. The server
 * (P4RuntimeServer over a MemoryDevice) runs in a child process, as a switch would, so client
 * and server each have their own event loop. Figures measured side by side in one run:
 * batched writes (several requests in flight), batched writes one request at a time, one update
 * per request, and a streamed read. `--quick` uses 20,000 entries. The last line is
 * {"writesPerSec":…,"readsPerSec":…}.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  insert,
  MemoryDevice,
  P4RuntimeClient,
  P4RuntimeServer,
  p4infoFromJson,
  type P4Update,
} from '../p4runtime';

const BATCH = 1000;
const IN_FLIGHT = 4;
const FIXTURE = join(__dirname, '..', 'test', 'p4runtime', 'fixtures', 'tenant.p4info.json');

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

/** Child-process mode: serve P4Runtime on loopback and report the address to the parent. */
async function serve(): Promise<void> {
  const server = new P4RuntimeServer({ device: new MemoryDevice() });
  await server.start();
  process.send?.({ address: server.address });
  process.on('message', (m: unknown) => {
    if (m === 'cpu') process.send?.({ cpu: cpuSeconds(process.cpuUsage()) });
    if (m === 'stop') void server.stop(100).then(() => process.exit(0));
  });
}

interface ServerHandle {
  address: string;
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

function startServerProcess(): Promise<ServerHandle> {
  const child = fork(__filename, ['--serve'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = <T>(msg: string, key: string): Promise<T> =>
    new Promise((resolve) => {
      const on = (m: Record<string, T>): void => {
        if (key in m) {
          child.off('message', on);
          resolve(m[key]);
        }
      };
      child.on('message', on);
      child.send(msg);
    });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m: { address: string }) =>
      resolve({
        address: m.address,
        cpu: () => ask<number>('cpu', 'cpu'),
        stop: () =>
          new Promise<void>((r) => {
            child.once('exit', () => r());
            child.send('stop');
          }),
      }),
    );
  });
}

async function timed(fn: () => Promise<void>, server: ServerHandle): Promise<{ s: number; cpu: number }> {
  const s0 = await server.cpu();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { s, cpu: cpuSeconds(process.cpuUsage(c0)) + (await server.cpu()) - s0 };
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const n = quick ? 20_000 : 100_000;
  const serial = quick ? 10_000 : 20_000;
  const single = quick ? 500 : 2000;
  const p4info = p4infoFromJson(JSON.parse(readFileSync(FIXTURE, 'utf8')));
  const server = await startServerProcess();
  const client = new P4RuntimeClient({ address: server.address, electionId: 1, reconnect: false });
  try {
    await client.connect();
    await client.waitForPrimary();
    await client.setPipeline({ p4info });
    const b = client.entities;
    const route = (i: number): P4Update =>
      insert(
        b.tableEntry({
          table: 'ipv4_lpm',
          match: { 'hdr.ipv4.dstAddr': { value: 0x0a000000 + i * 256, prefixLen: 24 } },
          action: 'forward',
          params: { port: i % 512 },
        }),
      );
    const warm = 5000;
    const updates = Array.from({ length: n + serial + single + warm }, (_, i) => route(i));

    // Warm both ends up (JIT) with batches that are not timed.
    for (let i = n + serial + single; i < updates.length; i += BATCH)
      await client.write(updates.slice(i, i + BATCH));

    // Batches one request at a time.
    const serialT = await timed(async () => {
      for (let i = n; i < n + serial; i += BATCH) await client.write(updates.slice(i, i + BATCH));
    }, server);
    // Batched writes, IN_FLIGHT requests outstanding (a controller pipelining its batches).
    const write = await timed(async () => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < n) {
          const i = next;
          next += BATCH;
          await client.write(updates.slice(i, Math.min(i + BATCH, n)));
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    }, server);

    // Read all of them back as one streamed Read.
    let read = 0;
    const readT = await timed(async () => {
      for await (const _e of client.readTable('ipv4_lpm')) read++;
    }, server);
    if (read !== n + serial + warm) throw new Error(`read ${read} entries, wrote ${n + serial + warm}`);

    // One update per request.
    const singleT = await timed(async () => {
      for (let i = n + serial; i < n + serial + single; i++) await client.write([updates[i]]);
    }, server);

    const rate = (k: number, t: { s: number }): number => Math.round(k / t.s);
    const writesPerSec = rate(n, write);
    const readsPerSec = rate(read, readT);
    const serialPerSec = rate(serial, serialT);
    const singlePerSec = rate(single, singleT);
    const cpuUs = (k: number, t: { cpu: number }): string => ((t.cpu * 1e6) / k).toFixed(1);
    console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cpus), node ${process.version}`);
    console.log(
      `load average ${loadavg()[0].toFixed(1)}: other work on this machine slows the wall-clock figures`,
    );
    console.log(`entries: ${n}, batch ${BATCH}; server in a child process, loopback gRPC`);
    console.log(
      `write, ${IN_FLIGHT} batches in flight: ${writesPerSec} entries/s (${cpuUs(n, write)} µs CPU/entry, both ends)`,
    );
    console.log(
      `write, 1 batch at a time:   ${serialPerSec} entries/s (${cpuUs(serial, serialT)} µs CPU/entry)`,
    );
    console.log(
      `write, 1 update/request:    ${singlePerSec} entries/s (${cpuUs(single, singleT)} µs CPU/entry)`,
    );
    console.log(`read, streamed:             ${readsPerSec} entries/s (${cpuUs(read, readT)} µs CPU/entry)`);
    console.log(
      `ratios: pipelined/serial batches ${(writesPerSec / serialPerSec).toFixed(2)}x, batched/single ${(serialPerSec / singlePerSec).toFixed(1)}x`,
    );
    console.log(
      JSON.stringify({
        writesPerSec,
        readsPerSec,
        serialBatchWritesPerSec: serialPerSec,
        singleWritesPerSec: singlePerSec,
        writeCpuUsPerEntry: Number(cpuUs(n, write)),
        readCpuUsPerEntry: Number(cpuUs(read, readT)),
        entries: n,
        batch: BATCH,
      }),
    );
  } finally {
    client.close();
    await server.stop();
  }
}

if (require.main === module && process.argv.includes('--serve')) {
  serve().catch((e: unknown) => {
    console.error(`p4runtime bench server failed: ${String(e)}`);
    process.exit(1);
  });
}
