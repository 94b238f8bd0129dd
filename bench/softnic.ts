/**
 * `npm run bench -- softnic [--quick]`: classify+steer throughput of the softnic engine on one
 * core, on the P4 back end's own pipeline for an example plan (examples/multi-tenant.yaml) with
 * generated traffic covering every tenant and path. Reports Mpps and cycles per packet for the
 * engine's native loop, and, side by side in the same run, for batches injected from JavaScript
 * through N-API. Against real BMv2 only when simple_switch_grpc is on PATH.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { emitNicArtifacts } from '../p4';
import { loadGraph, partition } from '../partitioner';
import { DEFAULT_GENERATOR, generateTraffic } from '../targets/deploy/traffic';
import { SoftnicDevice } from '../targets/softnic/device';
import { installArtifacts } from '../targets/softnic/install';
import { processBatch } from '../targets/softnic/native';

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

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

  const bmv2 = onPath('simple_switch_grpc');
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
    bmv2
      ? '  simple_switch_grpc is on PATH, but this benchmark does not drive it yet: softnicOverBmv2 is null'
      : '  simple_switch_grpc is not on PATH: no BMv2 comparison (softnicOverBmv2 null)',
  );
  await device.close();
  console.log(
    JSON.stringify({
      softnicMpps: Number(nativeMpps.toFixed(3)),
      softnicOverBmv2: null,
      cyclesPerPacket: Number(cyclesPerPacket.toFixed(1)),
      napiMpps: Number(jsMpps.toFixed(3)),
    }),
  );
}
