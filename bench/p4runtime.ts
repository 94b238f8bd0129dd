/**
 * P4Runtime over loopback, with the server in a child process as a switch would be, so client
 * and server each have their own event loop and core. Measured side by side in one run, with
 * the same client:
 * - nfp's server over a MemoryDevice: batched writes (several requests in flight and one at a
 *   time), one streamed read of everything, one update per request (rate, p50, p99), and the
 *   bare unary round trip (Capabilities) as the transport's floor;
 * - the same server with grpc-js' own listener (Nagle on), one update per request: what TCP
 *   delays cost;
 * - a bare grpc-js server (one method that answers its request's bytes, same listener and channel
 *   options) with a bare grpc-js client: the floor any Node gRPC server sits on, so nfp's own
 *   per-request work is the difference;
 * - nfp's server over the softnic, and a real simple_switch_grpc when it is on PATH, with the
 *   same emitted pipeline (a `steer` table grown to hold the entries).
 * CPU microseconds per entry are given for each end. `--quick` uses fewer entries. The last line
 * is one line of JSON.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { emitNicArtifacts, type NicArtifacts } from '../p4';
import { loadGraph, partition } from '../partitioner';
import {
  insert,
  MemoryDevice,
  P4RuntimeClient,
  P4RuntimeServer,
  p4infoFromJson,
  type Device,
  type P4Info,
  type P4Update,
} from '../p4runtime';
import { listenNoDelay } from '../p4runtime/listen';
import { SoftnicDevice } from '../targets/softnic/device';
import { findOnPath } from '../targets/bmv2/launch';

const BATCH = 1000;
const IN_FLIGHT = 4;
const FIXTURE = join(__dirname, '..', 'test', 'p4runtime', 'fixtures', 'tenant.p4info.json');
const EXAMPLE = join(__dirname, '..', 'examples', 'multi-tenant.yaml');
/** Entries the `steer` table is grown to for the softnic and BMv2 runs. */
const STEER_SIZE = 1 << 17;

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

/** The emitted pipeline of the example, with `steer` large enough for the benchmark. */
async function benchPipeline(): Promise<{ p4info: P4Info; json: string; a: NicArtifacts }> {
  const a = emitNicArtifacts(await partition(loadGraph(EXAMPLE), { solver: 'heuristic' }));
  const p4info: P4Info = {
    ...a.p4info,
    tables: (a.p4info.tables ?? []).map((t) =>
      t.preamble?.name === 'MyIngress.steer' ? { ...t, size: STEER_SIZE } : t,
    ),
  };
  const bmv2 = structuredClone(a.bmv2);
  for (const t of bmv2.pipelines[0].tables) if (t.name === 'MyIngress.steer') t.max_size = STEER_SIZE;
  return { p4info, json: JSON.stringify(bmv2), a };
}

/** One unary method on raw bytes, for the bare grpc-js floor. */
const ECHO: grpc.ServiceDefinition = {
  echo: {
    path: '/nfp.bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

/** Child-process mode for `bare`: a grpc-js server with only ECHO, listening as nfp's does. */
async function serveBare(): Promise<void> {
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  server.addService(ECHO, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, call.request),
  });
  const l = await listenNoDelay(server, '127.0.0.1:0', grpc.ServerCredentials.createInsecure());
  process.send?.({ address: `127.0.0.1:${l.port}` });
  process.on('message', (m: unknown) => {
    if (m === 'cpu') process.send?.({ cpu: cpuSeconds(process.cpuUsage()) });
    if (m === 'stop') void l.close().then(() => process.exit(0));
  });
}

/** A bare grpc-js client of ECHO, with the channel options nfp's client uses. */
function bareCall(address: string): { call: (b: Buffer) => Promise<Buffer>; close: () => void } {
  const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');
  const c = new Client(address, grpc.credentials.createInsecure(), {
    'grpc.enable_channelz': 0,
    'grpc.enable_retries': 0,
  });
  const echo = c.echo.bind(c) as (b: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void;
  return {
    call: (b) => new Promise((resolve, reject) => echo(b, (e, r) => (e ? reject(e) : resolve(r!)))),
    close: () => c.close(),
  };
}

/** Child-process mode: serve P4Runtime on loopback and report the address to the parent. */
async function serve(kind: string): Promise<void> {
  if (kind === 'bare') return serveBare();
  const device: Device = kind === 'softnic' ? new SoftnicDevice() : new MemoryDevice();
  const server = new P4RuntimeServer({ device, noDelay: kind !== 'nagle' });
  await server.start();
  process.send?.({ address: server.address });
  process.on('message', (m: unknown) => {
    if (m === 'cpu') process.send?.({ cpu: cpuSeconds(process.cpuUsage()) });
    if (m === 'stop') void server.stop(100).then(() => process.exit(0));
  });
}

interface ServerHandle {
  name: string;
  address: string;
  /** CPU seconds the server process has used so far (NaN when unknown). */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

function startServerProcess(kind: 'memory' | 'nagle' | 'softnic' | 'bare'): Promise<ServerHandle> {
  const child = fork(__filename, ['--serve', kind], {
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
        name: kind,
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

/** A simple_switch_grpc with no program, P4Runtime on a loopback TCP port. */
async function startBmv2(binary: string): Promise<ServerHandle> {
  const port = await freePort();
  const proc: ChildProcess = spawn(
    binary,
    ['--no-p4', '--device-id', '1', '--', '--grpc-server-addr', `127.0.0.1:${port}`, '--cpu-port', '255'],
    { stdio: 'ignore' },
  );
  const probe = new P4RuntimeClient({ address: `127.0.0.1:${port}`, reconnect: false, timeoutMs: 1000 });
  for (let i = 0; ; i++) {
    try {
      await probe.capabilities();
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  probe.close();
  const ticks = (): number => {
    // utime + stime of the switch process, from /proc (clock ticks of 10 ms).
    const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  return {
    name: 'simple_switch_grpc',
    address: `127.0.0.1:${port}`,
    cpu: async () => ticks(),
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

interface Timed {
  s: number;
  clientCpu: number;
  serverCpu: number;
}

async function timed(fn: () => Promise<void>, server: ServerHandle): Promise<Timed> {
  const s0 = await server.cpu();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const clientCpu = cpuSeconds(process.cpuUsage(c0));
  return { s, clientCpu, serverCpu: (await server.cpu()) - s0 };
}

/** Round trips of `op`, one after the other: rate and latency percentiles in µs. */
async function roundTrips(
  count: number,
  op: (i: number) => Promise<unknown>,
  server: ServerHandle,
): Promise<Timed & { perSec: number; p50: number; p99: number }> {
  const lat: number[] = [];
  const t = await timed(async () => {
    for (let i = 0; i < count; i++) {
      const s = process.hrtime.bigint();
      await op(i);
      lat.push(Number(process.hrtime.bigint() - s) / 1000);
    }
  }, server);
  lat.sort((a, b) => a - b);
  return {
    ...t,
    perSec: Math.round(count / t.s),
    p50: Math.round(lat[Math.floor(count / 2)]),
    p99: Math.round(lat[Math.floor(count * 0.99)]),
  };
}

const perEntry = (t: Timed, k: number): string =>
  `client ${((t.clientCpu * 1e6) / k).toFixed(1)} µs, server ${((t.serverCpu * 1e6) / k).toFixed(1)} µs CPU/entry`;

/** Batched pipelined writes, a streamed read and single writes against one server. */
async function writeReadSingle(
  server: ServerHandle,
  pipeline: { p4info: P4Info; deviceConfig?: string },
  make: (c: P4RuntimeClient, i: number) => P4Update,
  counts: { n: number; single: number; warm: number },
  table: string,
): Promise<{ write: Timed; read: Timed; readCount: number; single: Awaited<ReturnType<typeof roundTrips>> }> {
  const client = new P4RuntimeClient({ address: server.address, electionId: 1, reconnect: false });
  try {
    await client.connect();
    await client.waitForPrimary();
    await client.setPipeline(pipeline);
    const { n, single, warm } = counts;
    const updates = Array.from({ length: n + single + warm }, (_, i) => make(client, i));
    for (let i = n + single; i < updates.length; i += BATCH) await client.write(updates.slice(i, i + BATCH));
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
    let readCount = 0;
    const read = await timed(async () => {
      for await (const _e of client.readTable(table)) readCount++;
    }, server);
    if (readCount !== n + warm)
      throw new Error(`${server.name}: read ${readCount} entries, wrote ${n + warm}`);
    const singleT = await roundTrips(single, (i) => client.write([updates[n + i]]), server);
    return { write, read, readCount, single: singleT };
  } finally {
    client.close();
  }
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const n = quick ? 20_000 : 100_000;
  const serial = quick ? 10_000 : 20_000;
  const single = quick ? 1000 : 3000;
  const warm = 5000;
  const p4info = p4infoFromJson(JSON.parse(readFileSync(FIXTURE, 'utf8')));
  const route = (c: P4RuntimeClient, i: number): P4Update =>
    insert(
      c.entities.tableEntry({
        table: 'ipv4_lpm',
        match: { 'hdr.ipv4.dstAddr': { value: 0x0a000000 + i * 256, prefixLen: 24 } },
        action: 'forward',
        params: { port: i % 512 },
      }),
    );
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cpus), node ${process.version}`);
  console.log(
    `load average ${loadavg()[0].toFixed(1)}: other work on this machine slows the wall-clock figures`,
  );
  console.log(
    `entries: ${n}, batch ${BATCH}, ${IN_FLIGHT} in flight; servers in child processes, loopback TCP`,
  );

  // nfp's server over the MemoryDevice.
  const memory = await startServerProcess('memory');
  let main: Awaited<ReturnType<typeof writeReadSingle>>;
  let serialT: Timed;
  let unary: Awaited<ReturnType<typeof roundTrips>>;
  try {
    main = await writeReadSingle(memory, { p4info }, route, { n, single, warm }, 'ipv4_lpm');
    const client = new P4RuntimeClient({ address: memory.address, electionId: 2, reconnect: false });
    try {
      await client.connect();
      await client.loadPipeline();
      const more = Array.from({ length: serial }, (_, i) => route(client, n + single + warm + i));
      serialT = await timed(async () => {
        for (let i = 0; i < serial; i += BATCH) await client.write(more.slice(i, i + BATCH));
      }, memory);
      for (let i = 0; i < 200; i++) await client.capabilities();
      unary = await roundTrips(single, () => client.capabilities(), memory);
    } finally {
      client.close();
    }
  } finally {
    await memory.stop();
  }

  // The floor: bare grpc-js on both ends, a request the size of a one-update WriteRequest.
  const bare = await startServerProcess('bare');
  let bareT: Awaited<ReturnType<typeof roundTrips>>;
  try {
    const b = bareCall(bare.address);
    try {
      const payload = Buffer.alloc(64, 1);
      for (let i = 0; i < 200; i++) await b.call(payload);
      bareT = await roundTrips(single, () => b.call(payload), bare);
    } finally {
      b.close();
    }
  } finally {
    await bare.stop();
  }

  // The same server with grpc-js' own listener: Nagle on for the server's replies.
  const nagle = await startServerProcess('nagle');
  let nagleSingle: Awaited<ReturnType<typeof roundTrips>>;
  try {
    const client = new P4RuntimeClient({ address: nagle.address, electionId: 1, reconnect: false });
    try {
      await client.connect();
      await client.waitForPrimary();
      await client.setPipeline({ p4info });
      for (let i = 0; i < 200; i++) await client.write([route(client, 1_000_000 + i)]);
      nagleSingle = await roundTrips(single, (i) => client.write([route(client, i)]), nagle);
    } finally {
      client.close();
    }
  } finally {
    await nagle.stop();
  }

  // The same emitted pipeline on the softnic and on a real BMv2 (fewer entries: BMv2 is slow).
  const pipe = await benchPipeline();
  const steer = (c: P4RuntimeClient, i: number): P4Update =>
    insert(
      c.entities.tableEntry({
        table: 'steer',
        match: { 'meta.path': 1000 + i },
        action: 'to_host',
        params: { port: 64, si: 1 },
      }),
    );
  const cmp = { n: quick ? 5000 : 20_000, single: quick ? 300 : 1000, warm: 1000 };
  const softnic = await startServerProcess('softnic');
  let onSoftnic: Awaited<ReturnType<typeof writeReadSingle>>;
  try {
    onSoftnic = await writeReadSingle(
      softnic,
      { p4info: pipe.p4info, deviceConfig: pipe.json },
      steer,
      cmp,
      'steer',
    );
  } finally {
    await softnic.stop();
  }
  const bmv2Binary = findOnPath('simple_switch_grpc');
  let onBmv2: Awaited<ReturnType<typeof writeReadSingle>> | undefined;
  if (bmv2Binary) {
    const bmv2 = await startBmv2(bmv2Binary);
    try {
      onBmv2 = await writeReadSingle(
        bmv2,
        { p4info: pipe.p4info, deviceConfig: pipe.json },
        steer,
        cmp,
        'steer',
      );
    } finally {
      await bmv2.stop();
    }
  } else console.log('simple_switch_grpc is not on PATH: no BMv2 figures');

  const rate = (k: number, t: { s: number }): number => Math.round(k / t.s);
  const writesPerSec = rate(n, main.write);
  const readsPerSec = rate(main.readCount, main.read);
  const serialPerSec = rate(serial, serialT);
  console.log(`nfp server, MemoryDevice:`);
  console.log(
    `  write, ${IN_FLIGHT} batches in flight: ${writesPerSec} entries/s (${perEntry(main.write, n)})`,
  );
  console.log(`  write, 1 batch at a time:   ${serialPerSec} entries/s (${perEntry(serialT, serial)})`);
  console.log(
    `  read, streamed:             ${readsPerSec} entries/s (${perEntry(main.read, main.readCount)})`,
  );
  console.log(
    `  write, 1 update/request:    ${main.single.perSec}/s, p50 ${main.single.p50} µs, p99 ${main.single.p99} µs (${perEntry(main.single, single)})`,
  );
  console.log(
    `  unary round trip (Capabilities): ${unary.perSec}/s, p50 ${unary.p50} µs, p99 ${unary.p99} µs (${perEntry(unary, single)})`,
  );
  console.log(
    `bare grpc-js, both ends (the floor): ${bareT.perSec}/s, p50 ${bareT.p50} µs, p99 ${bareT.p99} µs (${perEntry(bareT, single)})`,
  );
  console.log(
    `  1 update/request with Nagle on the server (grpc-js' listener): ${nagleSingle.perSec}/s, p50 ${nagleSingle.p50} µs, p99 ${nagleSingle.p99} µs`,
  );
  const line = (name: string, r: Awaited<ReturnType<typeof writeReadSingle>>): void =>
    console.log(
      `${name}: write ${rate(cmp.n, r.write)}/s (${perEntry(r.write, cmp.n)}), read ${rate(r.readCount, r.read)}/s, 1 update/request ${r.single.perSec}/s (p50 ${r.single.p50} µs, p99 ${r.single.p99} µs)`,
    );
  line(`nfp server, softnic (steer, ${cmp.n} entries)`, onSoftnic);
  if (onBmv2) line(`simple_switch_grpc (same pipeline, same client)`, onBmv2);
  console.log(
    `ratios: pipelined/serial batches ${(writesPerSec / serialPerSec).toFixed(2)}x, batched/single ${(serialPerSec / main.single.perSec).toFixed(1)}x, single write/bare grpc-js p50 ${(main.single.p50 / bareT.p50).toFixed(2)}x, Nagle/no-delay single p99 ${(nagleSingle.p99 / main.single.p99).toFixed(1)}x` +
      (onBmv2
        ? `, softnic/BMv2 writes ${(rate(cmp.n, onSoftnic.write) / rate(cmp.n, onBmv2.write)).toFixed(1)}x, reads ${(rate(onSoftnic.readCount, onSoftnic.read) / rate(onBmv2.readCount, onBmv2.read)).toFixed(1)}x, single ${(onSoftnic.single.perSec / onBmv2.single.perSec).toFixed(1)}x`
        : ''),
  );
  const us = (t: Timed, k: number, side: 'clientCpu' | 'serverCpu'): number =>
    Number(((t[side] * 1e6) / k).toFixed(2));
  const summary = (r: Awaited<ReturnType<typeof writeReadSingle>>) => ({
    writesPerSec: rate(cmp.n, r.write),
    readsPerSec: rate(r.readCount, r.read),
    singleWritesPerSec: r.single.perSec,
    singleWriteP50Us: r.single.p50,
    singleWriteP99Us: r.single.p99,
  });
  console.log(
    JSON.stringify({
      writesPerSec,
      readsPerSec,
      singleWritesPerSec: main.single.perSec,
      singleWriteP50Us: main.single.p50,
      singleWriteP99Us: main.single.p99,
      serialBatchWritesPerSec: serialPerSec,
      unaryP50Us: unary.p50,
      unaryP99Us: unary.p99,
      bareGrpcPerSec: bareT.perSec,
      bareGrpcP50Us: bareT.p50,
      bareGrpcCpuUsPerCall: {
        client: us(bareT, single, 'clientCpu'),
        server: us(bareT, single, 'serverCpu'),
      },
      singleWriteCpuUsPerCall: {
        client: us(main.single, single, 'clientCpu'),
        server: us(main.single, single, 'serverCpu'),
      },
      nagleSingleWriteP50Us: nagleSingle.p50,
      nagleSingleWriteP99Us: nagleSingle.p99,
      writeCpuUsPerEntry: { client: us(main.write, n, 'clientCpu'), server: us(main.write, n, 'serverCpu') },
      readCpuUsPerEntry: {
        client: us(main.read, main.readCount, 'clientCpu'),
        server: us(main.read, main.readCount, 'serverCpu'),
      },
      softnic: summary(onSoftnic),
      bmv2: onBmv2 ? summary(onBmv2) : null,
      entries: n,
      batch: BATCH,
      loadAverage: Number(loadavg()[0].toFixed(1)),
    }),
  );
}

if (require.main === module && process.argv.includes('--serve')) {
  serve(process.argv[process.argv.indexOf('--serve') + 1] ?? 'memory').catch((e: unknown) => {
    console.error(`p4runtime bench server failed: ${String(e)}`);
    process.exit(1);
  });
}
