/**
 * P4Runtime over loopback: write N table entries in batches and read them back, client and
 * server (MemoryDevice) in this process. Also writes a sample one update per request, to show
 * what batching buys. `--quick` uses 20,000 entries. The last line is
 * {"writesPerSec":…,"readsPerSec":…}.
 */
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  insert,
  MemoryDevice,
  P4RuntimeClient,
  P4RuntimeServer,
  p4infoFromJson,
  type P4Update,
} from '../targets/p4runtime';

const BATCH = 1000;

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const n = quick ? 20_000 : 100_000;
  const single = quick ? 500 : 2000;
  const p4info = p4infoFromJson(
    JSON.parse(
      readFileSync(join(__dirname, '..', 'test', 'p4runtime', 'fixtures', 'tenant.p4info.json'), 'utf8'),
    ),
  );
  const device = new MemoryDevice();
  const server = new P4RuntimeServer({ device });
  await server.start();
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
          match: { 'hdr.ipv4.dstAddr': { value: (10 << 24) + i * 256, prefixLen: 24 } },
          action: 'forward',
          params: { port: i % 512 },
        }),
      );
    const updates = Array.from({ length: n + single }, (_, i) => route(i));

    // Batched writes. CPU time is measured too: on a shared machine it shows the cost per entry
    // independent of what else is running.
    let t0 = process.hrtime.bigint();
    let c0 = process.cpuUsage();
    for (let i = 0; i < n; i += BATCH) await client.write(updates.slice(i, i + BATCH));
    const writeS = Number(process.hrtime.bigint() - t0) / 1e9;
    const writeCpu = cpuSeconds(process.cpuUsage(c0));

    // Read everything back.
    t0 = process.hrtime.bigint();
    c0 = process.cpuUsage();
    let read = 0;
    for await (const _e of client.readTable('ipv4_lpm')) read++;
    const readS = Number(process.hrtime.bigint() - t0) / 1e9;
    const readCpu = cpuSeconds(process.cpuUsage(c0));
    if (read !== n) throw new Error(`read ${read} entries, wrote ${n}`);

    // One update per request, for the batching ratio.
    t0 = process.hrtime.bigint();
    for (let i = n; i < n + single; i++) await client.write([updates[i]]);
    const singleS = Number(process.hrtime.bigint() - t0) / 1e9;

    const writesPerSec = Math.round(n / writeS);
    const readsPerSec = Math.round(read / readS);
    const singlePerSec = Math.round(single / singleS);
    console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cpus), node ${process.version}`);
    console.log(`entries: ${n}, batch ${BATCH}; client and server in one process over loopback gRPC`);
    console.log(`load average: ${loadavg()[0].toFixed(1)} (a shared machine slows the wall-clock figures)`);
    console.log(
      `write (batched):       ${writesPerSec} entries/s wall, ${Math.round(n / writeCpu)} per CPU-second (${((writeCpu * 1e6) / n).toFixed(1)} µs CPU/entry)`,
    );
    console.log(
      `read (streamed):       ${readsPerSec} entries/s wall, ${Math.round(n / readCpu)} per CPU-second (${((readCpu * 1e6) / n).toFixed(1)} µs CPU/entry)`,
    );
    console.log(
      `write (1 per request): ${singlePerSec} entries/s; batching is ${(writesPerSec / singlePerSec).toFixed(1)}x faster`,
    );
    console.log(
      JSON.stringify({
        writesPerSec,
        readsPerSec,
        writesPerCpuSec: Math.round(n / writeCpu),
        readsPerCpuSec: Math.round(n / readCpu),
        singleWritesPerSec: singlePerSec,
        entries: n,
        batch: BATCH,
      }),
    );
  } finally {
    client.close();
    await server.stop(100);
  }
}
