import { Flags } from '@oclif/core';
import { NfpCommand } from '../../base';
import { NfpError } from '../../../partitioner/errors';
import { DEFAULTS } from '../../../k8s/render';
import { readClusterPlans, renderToDir, type K8sRun } from '../../../k8s/output';

export default class K8sRender extends NfpCommand<K8sRun> {
  static override summary = 'Write the Kubernetes manifests that run nfp on a cluster.';

  static override description = `Renders, validates (against the Kubernetes API schemas, through typed models) and writes what an operator applies to run nfp on Kubernetes (docs/scale-out.md):
  00-namespace.yaml        the namespace
  01-nodeplan-crd.yaml     the NodePlan CustomResourceDefinition (nfp.dev/v1alpha1): a node's plan
  02-rbac.yaml             the agents' ServiceAccount, a Role that may get/list/watch NodePlans only, its RoleBinding
  03-agent-daemonset.yaml  the nfp agent on every node labelled ${Object.entries(DEFAULTS.nodeSelector)
    .map(([k, v]) => `${k}=${v}`)
    .join(
      ',',
    )}: SR-IOV VFs from the device plugin (one per wire port, attached by Multus), hugepages, Guaranteed QoS with whole CPUs (exclusive cores under the static CPU manager), capabilities IPC_LOCK and NET_RAW only, health and readiness probes
  04-metrics.yaml          a headless Service and a ServiceMonitor (prometheus-operator) for the agents' metrics
  10-nodeplans.yaml        with --cluster-plan DIR: one NodePlan per node that serves tenants, from \`nfp partition --cluster\``;

  static override examples = [
    {
      description: 'Manifests and the NodePlans of a cluster plan, into k8s/',
      command:
        '<%= config.bin %> <%= command.id %> --cluster-plan out/multi-tenant --out out/k8s --image registry.example/nfp:0.1.0',
    },
    {
      description: 'Four wire ports per node from an E810 pool, 4 exclusive cores, no hugepages',
      command:
        '<%= config.bin %> <%= command.id %> --ports 4 --sriov-resource intel.com/e810_vf --cpus 4 --hugepages none',
    },
  ];

  static override flags = {
    out: Flags.string({ char: 'o', description: 'output folder', default: 'out/k8s' }),
    'cluster-plan': Flags.string({
      description: 'folder written by `nfp partition --cluster`: also write its NodePlans',
    }),
    namespace: Flags.string({
      description: 'namespace of the agents and NodePlans',
      default: DEFAULTS.namespace,
    }),
    image: Flags.string({ description: 'container image with nfp', default: DEFAULTS.image }),
    'sriov-resource': Flags.string({
      description: 'SR-IOV device-plugin resource name of the VFs',
      default: DEFAULTS.sriovResource,
    }),
    network: Flags.string({
      description: 'Multus NetworkAttachmentDefinition that attaches each VF',
      default: DEFAULTS.network,
    }),
    ports: Flags.integer({
      description: 'NIC wire ports per node (wire ports 0..N-1, one VF each)',
      default: DEFAULTS.wirePorts.length,
      min: 1,
      max: 64,
    }),
    cpus: Flags.integer({
      description: 'whole CPUs per agent (exclusive cores)',
      default: DEFAULTS.cpus,
      min: 1,
    }),
    memory: Flags.string({ description: 'memory per agent', default: DEFAULTS.memory }),
    hugepages: Flags.string({
      description: '1 GiB hugepages per agent, or "none" (DPDK then runs without hugepages)',
      default: DEFAULTS.hugepages1Gi,
    }),
    'metrics-port': Flags.integer({
      description: 'port of the agents’ metrics and probes',
      default: DEFAULTS.metricsPort,
      min: 1,
      max: 65535,
    }),
  };

  async run(): Promise<K8sRun> {
    const { flags } = await this.parse(K8sRender);
    const quantity = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
    if (!quantity.test(flags.memory))
      throw new NfpError(`--memory ${flags.memory}: not a Kubernetes quantity`, 'e.g. 2Gi');
    if (flags.hugepages !== 'none' && !/^\d+Gi$/.test(flags.hugepages))
      throw new NfpError(`--hugepages ${flags.hugepages}: give whole GiB of 1 GiB pages, e.g. 2Gi, or none`);
    const run = renderToDir(flags.out, {
      ...DEFAULTS,
      namespace: flags.namespace,
      image: flags.image,
      sriovResource: flags['sriov-resource'],
      network: flags.network,
      wirePorts: Array.from({ length: flags.ports }, (_, i) => i),
      cpus: flags.cpus,
      memory: flags.memory,
      hugepages1Gi: flags.hugepages === 'none' ? undefined : flags.hugepages,
      metricsPort: flags['metrics-port'],
      plans: flags['cluster-plan'] ? readClusterPlans(flags['cluster-plan']) : undefined,
    });
    for (const f of run.files) this.log(`wrote ${f.path}: ${f.kinds.join(', ')}`);
    this.log(`apply with: kubectl apply -f ${run.outDir}`);
    return run;
  }
}
