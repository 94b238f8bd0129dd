import { hostname } from 'node:os';
import { Flags } from '@oclif/core';
import { NfpCommand } from '../base';
import { NfpError } from '../../partitioner/errors';
import type { IsolationBackend } from '../../host-runtime/lib';
import { NodeAgent, type AgentStatus } from '../../agent/agent';
import { FilePlanSource, type PlanSource } from '../../agent/plan-source';
import { KubePlanSource } from '../../agent/kube';
import { parseWirePorts } from '../../agent/ports';

export default class Agent extends NfpCommand<AgentStatus> {
  static override summary = "Run a node's agent: keep its plan deployed, serve health and metrics.";

  static override description = `The long-running agent of one node of a cluster (docs/scale-out.md), what the DaemonSet of \`nfp k8s render\` runs on every node. It takes the node's plan, from a file (--plan: a plan.json, or the folder \`nfp partition --cluster\` writes per node under nodes/<node>/) or from the NodePlan object of the node in Kubernetes (--kube), deploys it on the local target (the NIC half on the embedded softnic, its wire ports the interfaces given with --port; the host half on the host runtime), and keeps it deployed:
  - when the plan changes it re-deploys, atomically: the new plan is validated and built while the old one runs, and if it cannot be deployed the old one is deployed again;
  - it serves GET /healthz (the process is alive), /readyz (a plan is deployed and carrying traffic: 200, else 503), /metrics (Prometheus, docs/metrics.md) and /status (JSON: the deployed plan, the last error, the live per-tenant and per-path account) on --listen;
  - SIGTERM or SIGINT stops the traffic, tears the deployment down and exits 0 (with --json, printing the final status).`;

  static override examples = [
    {
      description: 'Serve node edge-1 of a cluster plan, its NIC wire ports 0 and 1 on two interfaces',
      command:
        '<%= config.bin %> <%= command.id %> --plan out/multi-tenant/nodes/edge-1 --port 0@iface:eth1 --port 1@iface:eth2 --listen :9464',
    },
    {
      description: 'In a pod: watch the NodePlan named after this node (NODE_NAME from the downward API)',
      command: '<%= config.bin %> <%= command.id %> --kube --namespace nfp-system --port 0@iface:net1',
    },
  ];

  static override flags = {
    plan: Flags.string({
      description: 'plan.json, or a folder holding one; re-deployed when its content changes',
      exactlyOne: ['plan', 'kube'],
    }),
    kube: Flags.boolean({
      description: 'watch the NodePlan object named after the node in Kubernetes (in-cluster credentials)',
      exactlyOne: ['plan', 'kube'],
    }),
    'kube-api': Flags.string({
      description: 'Kubernetes API URL [default: in-cluster, from KUBERNETES_SERVICE_HOST]',
      dependsOn: ['kube'],
    }),
    namespace: Flags.string({ description: 'namespace of the NodePlan objects', default: 'nfp-system' }),
    node: Flags.string({ description: 'node name [default: $NODE_NAME, else the host name]' }),
    port: Flags.string({
      description: 'a NIC wire port and its interface: N@iface:NAME (repeatable, at least one)',
      multiple: true,
      required: true,
    }),
    listen: Flags.string({
      description: 'address of the health, readiness, metrics and status endpoints (HOST:PORT or :PORT)',
      default: ':9464',
    }),
    isolation: Flags.string({
      description: "run every tenant under this isolation backend [default: each tenant's own]",
      options: ['none', 'sfi', 'mpk', 'process'],
    }),
    workers: Flags.integer({ description: 'host runtime worker lcores', default: 1, min: 1 }),
    'poll-ms': Flags.integer({
      description: 'how often a --plan file is checked for changes',
      default: 500,
      min: 50,
    }),
  };

  async run(): Promise<AgentStatus> {
    const { flags } = await this.parse(Agent);
    const node = flags.node ?? process.env.NODE_NAME ?? hostname();
    const ports = parseWirePorts(flags.port);
    const source: PlanSource = flags.plan
      ? new FilePlanSource(flags.plan, flags['poll-ms'])
      : KubePlanSource.fromEnvironment({ node, namespace: flags.namespace, api: flags['kube-api'] });
    // Straight to stderr, also under --json: these lines are the pod's log.
    const say = (line: string): void => void process.stderr.write(`${line}\n`);
    const agent = new NodeAgent({
      node,
      source,
      target: { kind: 'softnic', ports },
      isolation: flags.isolation as IsolationBackend | undefined,
      workers: flags.workers,
      listen: flags.listen,
      log: say,
    });
    const stopRequested = new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    try {
      await agent.start();
    } catch (err) {
      await agent.stop();
      if (err instanceof NfpError) throw err;
      throw new NfpError(`the agent could not start: ${err instanceof Error ? err.message : String(err)}`);
    }
    const signal = await stopRequested;
    say(`nfp agent ${node}: ${signal}: stopping`);
    const status = await agent.status();
    await agent.stop();
    say(`nfp agent ${node}: stopped`);
    return status;
  }
}
