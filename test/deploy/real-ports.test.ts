/**
 * `nfp deploy --target bmv2` without --grpc, the launched-switch mode, on real ports: the switch
 * runs in a network namespace of its own, its ports veth pairs, the host runtime on the host
 * ports' veths through net_af_packet (one vdev per host queue), traffic sent and read back on the
 * wire ports' veths. The switch here is nfp's stand-alone softnic (`nfp softnic --grpc unix:…
 * --port N@iface:…`), so all of the plumbing runs without BMv2; test/deploy/bmv2.test.ts runs the
 * same with the real simple_switch_grpc when it is on PATH.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonBuilt } from '../../host-runtime/lib';
import { Bmv2LaunchError, launchBmv2, sweepStaleNamespaces } from '../../targets/bmv2/launch';
import { deploy, DeployError, generateTraffic, prepareDeploy } from '../../deploy';
import { deployDifferential, trafficSpec } from './differential';
import { leftovers } from './leftovers';
import { realPortsUnavailable, softnicSwitch } from './softnic-switch';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const unavailable = realPortsUnavailable() ?? (addonBuilt() ? undefined : 'needs the build (npm run build)');
const skip = unavailable !== undefined;
if (skip) console.warn(`test/deploy/real-ports: skipped: ${unavailable}`);

/** examples/multi-tenant.yaml, partitioned and emitted for the bmv2 profile. */
function multiTenantOnBmv2Profile(): ReturnType<typeof prepareDeploy> {
  return prepareDeploy({
    input: join(EXAMPLES, 'multi-tenant.yaml'),
    target: { kind: 'bmv2' },
    durationSeconds: 0,
  });
}

describe.skipIf(skip)('deploy on a launched switch with real ports (veth, namespaces, net_af_packet)', () => {
  afterAll(async () => {
    const host = await import('../../host-runtime/lib');
    host.stop();
  });

  it.each(['enterprise-edge.yaml', 'branch-heavy.yaml'])(
    '%s: every packet as the reference says',
    async (file) => {
      const { traffic, report, failures, reportFailures, seen } = await deployDifferential(
        file,
        join(EXAMPLES, file),
        {
          target: { kind: 'bmv2', switchCommand: softnicSwitch },
          packets: 300,
        },
      );
      expect(report.totals.input).toBe(traffic.length);
      expect(report.totals.forwarded + report.totals.dropped).toBe(traffic.length);
      expect(report.dropsByReason['nic:lost'] ?? 0).toBe(0);
      console.log(`real ports, ${file}: ${traffic.length} packets`, JSON.stringify(seen));
      expect(failures.slice(0, 12)).toEqual([]);
      expect(reportFailures.slice(0, 12)).toEqual([]);
      expect(seen.forwarded).toBeGreaterThan(0);
      // Host paths crossed the veths: the host runtime saw them.
      expect(report.tenants.some((t) => t.paths.some((p) => p.needsHost && p.forwarded > 0))).toBe(true);
      expect(leftovers()).toEqual([]);
    },
    60_000,
  );

  it('with many packets in flight, accounts for every packet', async () => {
    const { plan, nic } = await multiTenantOnBmv2Profile();
    const roots = plan.paths.filter((p) => !p.branchOf).length;
    const { packets: traffic } = generateTraffic(plan, trafficSpec(roots, 600));
    const egress: number[] = [];
    const { report } = await deploy(plan, nic, {
      target: { kind: 'bmv2', switchCommand: softnicSwitch },
      durationSeconds: 0,
      traffic,
      onEgress: (port) => egress.push(port),
    });
    expect(report.totals.input).toBe(traffic.length);
    expect(report.totals.forwarded + report.totals.dropped).toBe(report.totals.input);
    expect(report.totals.forwarded).toBe(egress.length);
    expect(report.dropsByReason['nic:lost'] ?? 0).toBe(0);
    expect(report.totals.forwarded).toBeGreaterThan(traffic.length / 2);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('a switch that dies at start is reported and leaves nothing behind', async () => {
    const { plan, nic } = await multiTenantOnBmv2Profile();
    const failure = await deploy(plan, nic, {
      target: { kind: 'bmv2', switchCommand: () => ['sh', '-c', 'echo "no such interface" >&2; exit 3'] },
      durationSeconds: 0,
      traffic: [],
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeployError);
    expect((failure as DeployError).step).toBe('start-target');
    expect((failure as DeployError).message).toMatch(
      /exited \(3\) before serving P4Runtime: no such interface/,
    );
    expect(leftovers()).toEqual([]);
  });

  it('without simple_switch_grpc on PATH, says how to provide one', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const failure = await launchBmv2({ wirePorts: [0], hostPorts: [8], deviceId: 1 }).catch(
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(Bmv2LaunchError);
      expect((failure as Bmv2LaunchError).message).toMatch(/needs simple_switch_grpc, which is not on PATH/);
      expect((failure as Bmv2LaunchError).hint).toMatch(/--grpc HOST:PORT/);
    } finally {
      process.env.PATH = path;
    }
  });

  it('sweeps the namespace of an nfp process that was killed', () => {
    const dead = spawnSync('true').pid!;
    const ns = `nfp-${dead}-0`;
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    expect(sweepStaleNamespaces()).toContain(ns);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(ns);
  });
});
