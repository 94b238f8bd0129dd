import { Args, Flags } from '@oclif/core';
import { NfpCommand } from '../base';
import type { Plan } from '../../partitioner/plan';
import { profiles } from '../../partitioner/profiles';
import { partitionToDir } from '../../partitioner/output';
import { NIC_FAMILIES } from '../../targets/dpdk/caps';
import { writeFlowArtifacts } from '../../targets/dpdk/partition';
import type { ClusterPlan } from '../../partitioner/cluster';
import { clusterToDir } from '../../partitioner/cluster-output';

export default class Partition extends NfpCommand<Plan | ClusterPlan> {
  static override summary = 'Split service graphs between the NIC and the host, and write the plan.';

  static override description = `Reads a service graph (YAML, format v1; see docs/graph-format.md), enumerates every tenant's service paths, turns header predicates into NIC classification rules, and places each NF on the NIC or the host so that the expected host cycles per packet, plus PCIe crossings, are lowest within the NIC profile's resources.

Writes into --out (default ./out/<graph name>):
  plan.json   the plan (schemas/plan.schema.json)
  graph.dot   a picture of the plan: per tenant, its paths and NFs in the NIC and host halves
  graph.svg   the same picture, when Graphviz is installed
  nic/        P4 and BMv2 artifacts, when the P4 back end is built

Prints a summary: per tenant, per path, where each NF runs and why, and the NIC resources used out of those available. Errors in the graph are all reported at once as file:line:col with the offending key, and the exit status is 1.

With --cluster CLUSTER.yaml (docs/scale-out.md), plans a cluster instead: assigns whole tenants to the nodes the cluster file declares (bin packing on host cycles, tenant weight and each node's NIC resources, honouring pins), partitions each node's tenants for its NIC profile, and writes:
  cluster.json             which node serves which slices, node loads, and the steering rules (schemas/cluster-plan.schema.json)
  nodes/<node>/plan.json   each node's plan, and its nic/ artifacts
  tor/                     the steering switch's plan and P4 program
A tenant that fits nowhere is an error naming, per node, the resource that does not fit.

Targets: ${Object.values(profiles)
    .map((p) => `${p.name} (${p.description})`)
    .join('; ')}.`;

  static override examples = [
    {
      description: 'Partition the enterprise-edge example for the embedded softnic',
      command: '<%= config.bin %> <%= command.id %> examples/enterprise-edge.yaml',
    },
    {
      description: 'See the hard choices a small hardware NIC forces, writing into out/edge',
      command:
        '<%= config.bin %> <%= command.id %> examples/branch-heavy.yaml --target hw-small --out out/edge',
    },
    {
      description: 'Spread the tenants over the nodes of a cluster and plan each node',
      command:
        '<%= config.bin %> <%= command.id %> examples/multi-tenant.yaml --cluster examples/clusters/edge.yaml',
    },
    {
      description: 'Use the greedy heuristic (large inputs) and print the plan as JSON',
      command: '<%= config.bin %> <%= command.id %> examples/multi-tenant.yaml --solver heuristic --json',
    },
    {
      description:
        'Partition for a DPDK NIC and write its rte_flow rules as testpmd commands (nic/flows.mlx5.testpmd)',
      command: '<%= config.bin %> <%= command.id %> examples/multi-tenant.yaml --target dpdk --nic mlx5',
    },
  ];

  static override args = {
    graph: Args.string({ description: 'service graph file (YAML, format v1)', required: true }),
  };

  static override flags = {
    target: Flags.string({
      char: 't',
      description: 'NIC profile whose resources limit the placement [default: softnic]',
      options: Object.keys(profiles),
      exclusive: ['cluster'],
    }),
    cluster: Flags.string({
      char: 'c',
      description: 'cluster description (YAML): plan every node of a cluster instead of one NIC',
    }),
    out: Flags.string({ char: 'o', description: 'output folder [default: ./out/<graph name>]' }),
    solver: Flags.option({
      description: 'exact MILP (HiGHS), greedy heuristic, or auto (MILP for small inputs)',
      options: ['auto', 'milp', 'heuristic'] as const,
      default: 'auto',
    })(),
    nic: Flags.option({
      description:
        "with --target dpdk: also write this NIC family's rte_flow rules (nic/flows.NIC.testpmd, testpmd commands to read or paste, and .json) and print what it offloads, NF by NF",
      options: NIC_FAMILIES,
      exclusive: ['cluster', 'no-nic'],
    })(),
    'no-nic': Flags.boolean({
      description:
        'do not write the NIC artifacts under nic/ (they are written when the P4 back end is present)',
      default: false,
    }),
  };

  async run(): Promise<Plan | ClusterPlan> {
    const { args, flags } = await this.parse(Partition);
    const solver = flags.solver as 'auto' | 'milp' | 'heuristic';
    // A usage error (exit status 2), checked before any work so that nothing is written.
    if (flags.nic && flags.target !== 'dpdk')
      this.error(`--nic ${flags.nic} needs --target dpdk`, { exit: 2 });
    if (flags.cluster) {
      const progress = process.stderr.isTTY && !this.jsonEnabled();
      const cluster = await clusterToDir(args.graph, flags.cluster, {
        out: flags.out,
        solver,
        nic: !flags['no-nic'],
        onNode: progress
          ? (done, total, node) =>
              process.stderr.write(`\rpartitioned ${done}/${total} nodes (${node})\x1b[K`)
          : undefined,
      });
      if (progress) process.stderr.write('\r\x1b[K');
      this.log(cluster.summary);
      this.log('');
      this.log(
        `wrote ${cluster.files.length} files under ${cluster.outDir}: cluster.json, nodes/<node>/, tor/`,
      );
      return cluster.cluster;
    }
    const run = await partitionToDir(args.graph, {
      target: flags.target ?? 'softnic',
      out: flags.out,
      solver,
      nic: !flags['no-nic'],
    });
    this.log(run.summary);
    this.log('');
    if (flags.nic) {
      const flows = writeFlowArtifacts(run.plan, run.outDir, flags.nic);
      this.log(flows.summary);
      this.log('');
      run.files.push(...flows.files);
    }
    this.log(`wrote ${run.files.join(', ')}`);
    for (const note of run.notes) this.log(note);
    return run.plan;
  }
}
