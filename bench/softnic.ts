/**
 * `npm run bench -- softnic [--quick]`: classify+steer throughput of the softnic engine on one
 * core, on the P4 back end's own pipeline for an example plan (examples/multi-tenant.yaml) with
 * generated traffic covering every tenant and path. Reports Mpps and cycles per packet for the
 * engine's native loop, and, side by side in the same run, for batches injected from JavaScript
 * through N-API. Against real BMv2 only when simple_switch_grpc is on PATH: nfp launches it on
 * veth ports (as `nfp deploy --target bmv2` does), pushes the same pipeline and entries over
 * P4Runtime, sends the same packets into its wire ports and counts what leaves any port; its rate
 * per core is packets per CPU-second of the switch process (all its threads, its port I/O
 * included), the softnic's is packets per CPU-second of its engine loop. Side by side in the same
 * run, the cost of the parser's frame checks (partitioner/frame.ts: every length checked, what
 * the parser cannot read dropped): the same pipeline with its parser checks taken out.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { emitNicArtifacts, entriesToUpdates } from '../p4';
import { emitBmv2Json } from '../p4/emit/bmv2-json';
import { loadGraph, partition } from '../partitioner';
import { DEFAULT_GENERATOR, generateTraffic } from '../deploy/traffic';
import { SoftnicDevice } from '../targets/softnic/device';
import { installArtifacts } from '../targets/softnic/install';
import { loadSoftnic, processBatch } from '../targets/softnic/native';
import type { NicArtifacts } from '../p4';
import type { Plan } from '../partitioner/plan';
import { BMV2_BINARY, findOnPath, launchBmv2 } from '../targets/bmv2/launch';
import { P4RuntimeClient } from '../p4runtime/client';
import { Atomicity } from '../p4runtime/messages';

function cpuModel(): string {
  try {
    const out = execFileSync('lscpu', { encoding: 'utf8' });
    return /Model name:\s*(.+)/.exec(out)?.[1].trim() ?? cpus()[0]?.model ?? 'unknown';
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
}

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const graphFile = join(__dirname, '..', 'examples', 'multi-tenant.yaml');
  const plan = await partition(loadGraph(graphFile), { solver: 'heuristic' });
  const artifacts = emitNicArtifacts(plan);
  const device = new SoftnicDevice();
  await installArtifacts(device, artifacts);
  const engine = device.engine!;
  const { packets } = generateTraffic(plan, { ...DEFAULT_GENERATOR, packetsPerPath: 64 });
  const byPort = new Map<number, Buffer[]>();
  for (const p of packets) byPort.set(p.port, [...(byPort.get(p.port) ?? []), p.data]);

  // Native loop: the engine runs the packets back to back with no JavaScript in between.
  const target = quick ? 2e5 : 2e6;
  const rounds = Math.max(1, Math.round(target / packets.length));
  for (const [port, frames] of byPort) engine.bench(port, frames, 2); // warm-up
  let n = 0;
  let ns = 0;
  let cpuNs = 0;
  let cycles = 0;
  let forwarded = 0;
  for (const [port, frames] of byPort) {
    const r = engine.bench(port, frames, rounds);
    n += r.packets;
    ns += r.ns;
    cpuNs += r.cpuNs;
    cycles += r.cycles;
    forwarded += r.forwarded;
  }
  // Per core: packets per second of this thread's CPU time, so that other processes sharing the
  // core do not count; cycles are that time at the TSC rate measured over the same run.
  const tscGhz = cycles / ns;
  const nativeMpps = n / cpuNs / 1e-3;
  const cyclesPerPacket = (cpuNs * tscGhz) / n;

  // Same packets the way the data path injects them (SoftnicDevice.inject): one N-API call per
  // batch of up to 256, outputs packed into one Buffer. CPU time of the process over the loop.
  const batches: Array<[number, Buffer[]]> = [];
  for (const [port, frames] of byPort)
    for (let i = 0; i < frames.length; i += 256) batches.push([port, frames.slice(i, i + 256)]);
  const jsRounds = Math.max(1, Math.round(rounds / 10));
  let jn = 0;
  const u0 = process.cpuUsage();
  for (let r = 0; r < jsRounds; r++)
    for (const [port, frames] of batches) {
      processBatch(engine, port, frames);
      jn += frames.length;
    }
  const u1 = process.cpuUsage(u0);
  const jsMpps = jn / ((u1.user + u1.system) * 1000) / 1e-3;

  // The frame checks' cost: the same pipeline without its parser checks, rounds alternated with
  // the checked one so that both see the same load on a shared core.
  const unchecked = new SoftnicDevice();
  const pipeline = {
    ...artifacts.pipeline,
    parser: artifacts.pipeline.parser.map((st) => ({ ...st, checks: [] })),
  };
  await installArtifacts(unchecked, { ...artifacts, bmv2: emitBmv2Json(pipeline) });
  const cpp = { checked: { cpuNs: 0, n: 0 }, unchecked: { cpuNs: 0, n: 0 } };
  for (let k = 0; k < 6; k++) {
    for (const [which, eng] of [
      ['checked', engine],
      ['unchecked', unchecked.engine!],
    ] as const) {
      for (const [port, frames] of byPort) {
        const r = eng.bench(port, frames, Math.max(1, Math.round(rounds / 6)));
        cpp[which].cpuNs += r.cpuNs;
        cpp[which].n += r.packets;
      }
    }
  }
  await unchecked.close();
  const checkedCpp = (cpp.checked.cpuNs * tscGhz) / cpp.checked.n;
  const uncheckedCpp = (cpp.unchecked.cpuNs * tscGhz) / cpp.unchecked.n;

  const bmv2 = findOnPath(BMV2_BINARY) !== undefined && process.getuid?.() === 0;
  const bmv2Run = bmv2 ? await measureBmv2(plan, artifacts, packets, quick ? 6000 : 30000) : undefined;
  console.log(`softnic classify+steer on ${cpuModel()} (one core)`);
  console.log(
    `  pipeline: ${artifacts.pipeline.tables.length} tables, ${plan.tenants.length} tenants, ${plan.paths.length} paths; traffic: ${packets.length} packets on ${byPort.size} wire ports (${((100 * forwarded) / n).toFixed(0)}% forwarded)`,
  );
  console.log(
    `  native loop : ${nativeMpps.toFixed(2)} Mpps per core, ${cyclesPerPacket.toFixed(0)} cycles/packet (TSC ${tscGhz.toFixed(2)} GHz; ${n} packets; wall clock ${(n / ns / 1e-3).toFixed(2)} Mpps on a shared core)`,
  );
  console.log(
    `  via N-API   : ${jsMpps.toFixed(2)} Mpps per core (${jn} packets in batches of ≤256); native/N-API = ${(nativeMpps / jsMpps).toFixed(1)}×`,
  );
  console.log(
    `  frame checks: ${checkedCpp.toFixed(0)} cycles/packet checked, ${uncheckedCpp.toFixed(0)} without the parser's checks (same run, alternated); checked/unchecked = ${(checkedCpp / uncheckedCpp).toFixed(3)}`,
  );
  const softnicOverBmv2 = bmv2Run ? nativeMpps / bmv2Run.mppsPerCore : null;
  if (bmv2Run) {
    console.log(
      `  real BMv2   : ${bmv2Run.mppsPerCore.toFixed(4)} Mpps per core (${bmv2Run.packets} packets, ${bmv2Run.out} out, ${bmv2Run.cpuSeconds.toFixed(2)} CPU s; wall clock ${bmv2Run.wallMpps.toFixed(4)} Mpps over veth); softnic/BMv2 = ${softnicOverBmv2!.toFixed(0)}×`,
    );
  } else {
    console.log(
      findOnPath(BMV2_BINARY) !== undefined
        ? '  simple_switch_grpc is on PATH but launching it needs root: no BMv2 comparison (softnicOverBmv2 null)'
        : '  simple_switch_grpc is not on PATH: no BMv2 comparison (softnicOverBmv2 null)',
    );
  }
  await device.close();
  console.log(
    JSON.stringify({
      softnicMpps: Number(nativeMpps.toFixed(3)),
      softnicOverBmv2: softnicOverBmv2 === null ? null : Number(softnicOverBmv2.toFixed(1)),
      bmv2MppsPerCore: bmv2Run ? Number(bmv2Run.mppsPerCore.toFixed(5)) : null,
      cyclesPerPacket: Number(cyclesPerPacket.toFixed(1)),
      napiMpps: Number(jsMpps.toFixed(3)),
      frameChecksRatio: Number((checkedCpp / uncheckedCpp).toFixed(3)),
    }),
  );
}

/** CPU seconds a process has used, all its threads (utime + stime from /proc). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return ticks / 100; // USER_HZ
}

interface Bmv2Run {
  packets: number;
  out: number;
  cpuSeconds: number;
  mppsPerCore: number;
  wallMpps: number;
}

/** The same pipeline, entries and packets through a real simple_switch_grpc on veth ports. */
async function measureBmv2(
  plan: Plan,
  nic: NicArtifacts,
  packets: Array<{ port: number; data: Buffer }>,
  count: number,
): Promise<Bmv2Run> {
  const sw = await launchBmv2({
    wirePorts: plan.profile.wirePorts,
    hostPorts: plan.profile.hostPorts,
    deviceId: 1,
  });
  const client = new P4RuntimeClient({ address: sw.address, deviceId: 1, electionId: 1, reconnect: false });
  const { RawSocket } = loadSoftnic();
  const wire = new Map([...sw.wireInterfaces].map(([port, name]) => [port, new RawSocket(name)]));
  const host = sw.hostInterfaces.map((name) => new RawSocket(name));
  try {
    await client.connect(5000);
    await client.waitForPrimary(5000);
    await client.setPipeline({ p4info: nic.p4info, deviceConfig: JSON.stringify(nic.bmv2) });
    await client.write(entriesToUpdates(nic.entries), { atomicity: Atomicity.CONTINUE_ON_ERROR });
    const all = [...wire.values(), ...host];
    const drain = (): number => all.reduce((n, s) => n + s.recv(1024).length, 0);
    // A window of packets in flight, so the veths' queues never overflow. Packets the pipeline
    // drops never come out: the window moves on as the others do, and the run ends after 1 s quiet.
    const window = 256;
    let sent = 0;
    let out = 0;
    let lastOut = Date.now();
    const cpu0 = processCpuSeconds(sw.pid);
    const t0 = process.hrtime.bigint();
    let settled = 0; // packets known to be out or, after a quiet spell, dropped
    let lastOutAt = t0;
    for (;;) {
      while (sent < count && sent - settled < window) {
        const p = packets[sent % packets.length];
        wire.get(p.port)?.send(p.data);
        sent++;
      }
      const n = drain();
      out += n;
      settled += n;
      const quietMs = n ? 0 : Date.now() - lastOut;
      if (n) {
        lastOut = Date.now();
        lastOutAt = process.hrtime.bigint();
      } else if (quietMs > 1000 && sent === count) break;
      else if (quietMs > 50) settled = sent; // what is still missing was dropped
      await new Promise((r) => setImmediate(r));
    }
    const seconds = Number(lastOutAt - t0) / 1e9;
    const cpuSeconds = processCpuSeconds(sw.pid) - cpu0;
    return {
      packets: sent,
      out,
      cpuSeconds,
      mppsPerCore: out / cpuSeconds / 1e6,
      wallMpps: out / seconds / 1e6,
    };
  } finally {
    for (const s of [...wire.values(), ...host]) s.close();
    client.close();
    await sw.stop();
  }
}
