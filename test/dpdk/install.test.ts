/**
 * Installing an rte_flow rule set: validate every rule, then create them, and on any failure
 * destroy what was created, leaving the ports as they were.
 * - Against real PMDs: net_null and net_af_packet implement no flow API, so rte_flow_validate
 *   refuses the first rule; deploy then falls back to software with a notice (offload auto) and
 *   every packet still meets the reference semantics, or fails atomically (offload require).
 * - For the rollback itself: the installer's injectable failure point (a recording table of DPDK
 *   operations that accepts every call except the one chosen) fails the k-th meter, validation or
 *   creation; nothing may stay behind, and the error names the rule.
 * - Rules go with the host plan: unloading it removes them.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as host from '../../host-runtime/lib';
import { emitNicArtifacts } from '../../p4';
import { loadGraph, partition } from '../../partitioner';
import { deploy, DeployError, prepareDeploy } from '../../deploy';
import { emitFlowArtifacts } from '../../targets/dpdk/flow';
import { loadDpdk, nativeRuleSet, type FlowInstallError } from '../../targets/dpdk/native';
import { deployDifferential } from '../deploy/differential';
import { leftovers } from '../deploy/leftovers';

const ROOT = join(__dirname, '..', '..');
const MULTI = join(ROOT, 'examples', 'multi-tenant.yaml');
/** Its mlx5 rule set has meters (the campus rate limits): multi-tenant's metered tenant retags VLANs, so runs in software. */
const METERED = join(ROOT, 'examples', 'branch-heavy.yaml');
const root = process.getuid?.() === 0;

/** The branch-heavy example's mlx5 rule set (rules on all four wire ports, two meters). */
async function mlx5RuleSet(): Promise<ReturnType<typeof emitFlowArtifacts>> {
  const plan = await partition(loadGraph(METERED), { profile: 'dpdk' });
  return emitFlowArtifacts(plan, emitNicArtifacts(plan), 'mlx5');
}

/** A host plan on four net_null ports: real DPDK ports, no flow API. */
async function nullPorts(): Promise<host.LoadedHostPlan> {
  const plan = await partition(loadGraph(METERED), { profile: 'dpdk' });
  host.start({
    workers: 1,
    port: { kind: 'ports', devargs: [0, 1, 2, 3].map((i) => `net_null_t12i${i},no-rx=1`).join(';') },
  });
  return host.load(plan, { isolation: 'none' });
}

describe('rte_flow installation', () => {
  afterEach(() => host.stop());
  afterAll(() => host.stop());

  it('a PMD without a flow API refuses at rte_flow_validate, and nothing is created', async () => {
    const { ruleSet } = await mlx5RuleSet();
    const loaded = await nullPorts();
    const dpdk = loadDpdk();
    expect(dpdk.portInfo(loaded.handle).map((p) => p.driver)).toEqual(Array(4).fill('net_null'));
    const err = (() => {
      try {
        dpdk.flowInstall(loaded.handle, { ...nativeRuleSet(ruleSet), meters: [] });
        return undefined;
      } catch (e) {
        return e as FlowInstallError;
      }
    })();
    expect(err?.phase).toBe('validate');
    expect(err?.index).toBe(0);
    expect(err?.message).toMatch(/not supported|not implemented/i);
  });

  it('a PMD without rte_mtr refuses the first meter, before any rule', async () => {
    const { ruleSet } = await mlx5RuleSet();
    expect(ruleSet.meters.length).toBeGreaterThan(0);
    const loaded = await nullPorts();
    expect(() => loadDpdk().flowInstall(loaded.handle, nativeRuleSet(ruleSet))).toThrow(
      expect.objectContaining({ phase: 'meter', index: 0 }),
    );
  });

  it.each([
    ['create', 17],
    ['create', 0],
    ['validate', 30],
    ['meter', 1],
  ] as const)('a failure at %s #%i destroys everything created before it', async (phase, index) => {
    const { ruleSet } = await mlx5RuleSet();
    const loaded = await nullPorts();
    const dpdk = loadDpdk();
    const native = nativeRuleSet(ruleSet);
    let err: FlowInstallError | undefined;
    try {
      dpdk.flowInstall(loaded.handle, native, { recording: { phase, index } });
    } catch (e) {
      err = e as FlowInstallError;
    }
    expect(err?.phase).toBe(phase);
    expect(err?.index).toBe(index);
    expect(err?.message).toMatch(/injected failure/);
    const live = dpdk.flowLive();
    // Every rule was validated before the first was created; nothing created survives.
    if (phase === 'create') {
      expect(live.validated).toBe(native.rules.length);
      expect(live.created).toBe(index + 1);
    }
    if (phase === 'validate') expect(live.created).toBe(0);
    expect(live.flows).toBe(0);
    expect(live.meters).toBe(0);
  });

  it('a rule set that installs lives until the host plan is unloaded', async () => {
    const { ruleSet } = await mlx5RuleSet();
    const loaded = await nullPorts();
    const dpdk = loadDpdk();
    const id = dpdk.flowInstall(loaded.handle, nativeRuleSet(ruleSet), {
      recording: { phase: '', index: -1 },
    });
    expect(dpdk.flowLive()).toMatchObject({ flows: ruleSet.rules.length, meters: ruleSet.meters.length });
    expect(dpdk.flowRead(id).counters).toHaveLength(ruleSet.counters.length);
    host.stop();
    expect(dpdk.flowLive()).toMatchObject({ flows: 0, meters: 0 });
    expect(() => dpdk.flowRead(id)).toThrow(/no rule set installed/);
  });
});

describe.skipIf(!root)('deploy on a NIC that refuses rte_flow (net_af_packet over veth)', () => {
  afterAll(() => host.stop());

  it('offload auto: a notice, the NIC half in software, and every packet as the reference says', async () => {
    const { traffic, report, failures } = await deployDifferential('mlx5 rules on af_packet', MULTI, {
      target: { kind: 'dpdk', nic: 'mlx5' },
      packets: 200,
    });
    expect(failures.slice(0, 8)).toEqual([]);
    expect(report.totals.input).toBe(traffic.length);
    const placement = report.nicPlacement!;
    expect(placement.nic).toBe('mlx5');
    expect(placement.notices.join('\n')).toMatch(
      /wire port \d \(net_af_packet\) refused (meter|rule) 0 .* at rte_(mtr|flow_validate): .*; no rule was left installed: the NIC half runs in software/,
    );
    expect(placement.nfs.every((n) => n.where === 'software')).toBe(true);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('offload require: the deployment fails at write-entries, names the rule, and leaves nothing', async () => {
    const { plan, nic, traffic } = await prepareDeploy({
      input: MULTI,
      target: { kind: 'dpdk' },
      durationSeconds: 0,
    });
    const failure = await deploy(plan, nic, {
      target: { kind: 'dpdk', nic: 'mlx5', offload: 'require' },
      durationSeconds: 0,
      traffic,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeployError);
    expect((failure as DeployError).step).toBe('write-entries');
    expect((failure as DeployError).message).toMatch(/net_af_packet\) refused (meter|rule) 0/);
    expect(() => host.stats()).toThrow(/no host plan is loaded/);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('offload require on ports with no flow API at all fails before anything starts', async () => {
    const { plan, nic } = await prepareDeploy({ input: MULTI, target: { kind: 'dpdk' }, durationSeconds: 0 });
    const failure = await deploy(plan, nic, {
      target: { kind: 'dpdk', offload: 'require' },
      durationSeconds: 0,
      traffic: [],
    }).catch((e: unknown) => e);
    expect((failure as DeployError).step).toBe('start-target');
    expect((failure as DeployError).message).toMatch(
      /offload is required, but the ports .* have no flow API/,
    );
    expect(leftovers()).toEqual([]);
  }, 60_000);
});
