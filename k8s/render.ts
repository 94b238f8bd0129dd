/**
 * The Kubernetes objects an operator applies to run nfp on a cluster (docs/scale-out.md), built
 * from typed models (kubernetes-models), so a wrong field is a type error here and a validation
 * error in `validate()`:
 *   - the namespace;
 *   - the NodePlan CustomResourceDefinition (nfp.dev/v1alpha1): one object per node, holding the
 *     node's plan, which the node's agent watches;
 *   - RBAC: the agents' ServiceAccount, a Role that may read NodePlans and nothing else, its binding;
 *   - the agent DaemonSet: SR-IOV device-plugin resources for the NIC ports, hugepages, Guaranteed
 *     QoS with whole CPUs (exclusive cores under the kubelet's static CPU manager policy), only the
 *     capabilities the data path needs (IPC_LOCK for pinned DPDK memory, NET_RAW for its AF_PACKET
 *     ports), health and readiness probes;
 *   - a Service and a ServiceMonitor (prometheus-operator) for the agents' metrics;
 *   - with a cluster plan, one NodePlan per node that serves tenants.
 */
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { NODEPLAN_GROUP, NODEPLAN_KIND, NODEPLAN_PLURAL, NODEPLAN_VERSION } from '../agent/kube';
import type { Plan } from '../partitioner/plan';
import { NfpError } from '../partitioner/errors';

export interface RenderOptions {
  namespace: string;
  /** The container image holding nfp (built from the repository: scripts, dist/, the addon). */
  image: string;
  /** SR-IOV device-plugin resource of the NIC ports (one VF per wire port). */
  sriovResource: string;
  /** Wire ports of the node NICs, each a VF netdev the SR-IOV CNI names net1, net2, ... */
  wirePorts: number[];
  /** Whole CPUs per agent: requests = limits, so the pod is Guaranteed and gets exclusive cores. */
  cpus: number;
  memory: string;
  /** Hugepages of 1 GiB pages for DPDK, e.g. "2Gi" (absent: none; the EAL then runs --no-huge). */
  hugepages1Gi?: string;
  /** Multus network (NetworkAttachmentDefinition) that attaches the VFs, one per wire port. */
  network: string;
  metricsPort: number;
  /** Label nodes must carry to run an agent. */
  nodeSelector: Record<string, string>;
  /** Each serving node's plan, for NodePlan objects (from `nfp partition --cluster`). */
  plans?: Map<string, Plan>;
}

export const DEFAULTS: Omit<RenderOptions, 'plans'> = {
  namespace: 'nfp-system',
  image: 'nfp:0.1.0',
  sriovResource: 'intel.com/sriov_netdevice',
  wirePorts: [0, 1],
  cpus: 2,
  memory: '2Gi',
  hugepages1Gi: '2Gi',
  network: 'nfp-sriov',
  metricsPort: 9464,
  nodeSelector: { 'nfp.dev/node': 'true' },
};

/** The capabilities the agent's data path needs; every other one is dropped. */
export const AGENT_CAPABILITIES = ['IPC_LOCK', 'NET_RAW'];

const APP = { 'app.kubernetes.io/name': 'nfp-agent', 'app.kubernetes.io/part-of': 'nfp' };

export type Rendered =
  | Namespace
  | CustomResourceDefinition
  | ServiceAccount
  | Role
  | RoleBinding
  | DaemonSet
  | Service
  | ServiceMonitor
  | NodePlanObject;

/** A NodePlan custom resource (no generated model exists for it; the CRD's schema validates it). */
export interface NodePlanObject {
  apiVersion: `${typeof NODEPLAN_GROUP}/${typeof NODEPLAN_VERSION}`;
  kind: typeof NODEPLAN_KIND;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { node: string; plan: Plan };
}

/** One file of the rendered set: its name and the objects in it. */
export interface RenderedFile {
  file: string;
  objects: Rendered[];
}

export function nodePlanCrd(): CustomResourceDefinition {
  return new CustomResourceDefinition({
    metadata: { name: `${NODEPLAN_PLURAL}.${NODEPLAN_GROUP}`, labels: APP },
    spec: {
      group: NODEPLAN_GROUP,
      scope: 'Namespaced',
      names: { plural: NODEPLAN_PLURAL, singular: 'nodeplan', kind: NODEPLAN_KIND, shortNames: ['np'] },
      versions: [
        {
          name: NODEPLAN_VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: [
            { name: 'Node', type: 'string', jsonPath: '.spec.node' },
            { name: 'Tenants', type: 'string', jsonPath: '.spec.plan.tenants[*].name' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: "A node's plan from `nfp partition --cluster`: what its nfp agent deploys.",
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: {
                  type: 'object',
                  required: ['node', 'plan'],
                  properties: {
                    node: { type: 'string', description: 'the Kubernetes node whose agent deploys the plan' },
                    plan: {
                      type: 'object',
                      description: 'plan.json (schemas/plan.schema.json); the agent validates it in full',
                      required: ['version', 'profile', 'tenants', 'nfs', 'paths'],
                      properties: { version: { type: 'integer', minimum: 1, maximum: 1 } },
                      'x-kubernetes-preserve-unknown-fields': true,
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  });
}

function agentDaemonSet(o: RenderOptions): DaemonSet {
  const resources: Record<string, string> = {
    cpu: String(o.cpus),
    memory: o.memory,
    [o.sriovResource]: String(o.wirePorts.length),
  };
  if (o.hugepages1Gi) resources['hugepages-1Gi'] = o.hugepages1Gi;
  const ports = o.wirePorts.flatMap((p, i) => ['--port', `${p}@iface:net${i + 1}`]);
  const probe = (path: string, period: number): object => ({
    httpGet: { path, port: 'metrics' },
    periodSeconds: period,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  return new DaemonSet({
    metadata: { name: 'nfp-agent', namespace: o.namespace, labels: APP },
    spec: {
      selector: { matchLabels: APP },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: {
          labels: APP,
          annotations: {
            // Multus attaches one SR-IOV VF per wire port (net1, net2, ...).
            'k8s.v1.cni.cncf.io/networks': o.wirePorts.map(() => o.network).join(','),
          },
        },
        spec: {
          serviceAccountName: 'nfp-agent',
          nodeSelector: o.nodeSelector,
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'agent',
              image: o.image,
              command: ['nfp'],
              args: [
                'agent',
                '--kube',
                '--namespace',
                o.namespace,
                '--listen',
                `:${o.metricsPort}`,
                '--workers',
                String(Math.max(1, o.cpus - 1)),
                ...ports,
              ],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              ports: [{ name: 'metrics', containerPort: o.metricsPort, protocol: 'TCP' }],
              // Requests equal limits, whole CPUs: Guaranteed QoS, exclusive cores (static CPU manager).
              resources: { requests: resources, limits: resources },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'], add: AGENT_CAPABILITIES },
              },
              livenessProbe: probe('/healthz', 10),
              readinessProbe: probe('/readyz', 5),
              volumeMounts: [
                ...(o.hugepages1Gi ? [{ name: 'hugepages', mountPath: '/dev/hugepages' }] : []),
                { name: 'dpdk-run', mountPath: '/var/run/dpdk' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            ...(o.hugepages1Gi ? [{ name: 'hugepages', emptyDir: { medium: 'HugePages-1Gi' } }] : []),
            { name: 'dpdk-run', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  });
}

/** Every object, grouped into the files `nfp k8s render` writes, in the order to apply them. */
export function renderManifests(o: RenderOptions): RenderedFile[] {
  if (!Number.isInteger(o.cpus) || o.cpus < 1)
    throw new NfpError(`--cpus ${o.cpus}: must be a whole number of CPUs (exclusive cores need whole CPUs)`);
  if (o.wirePorts.length === 0) throw new NfpError('give at least one wire port');
  const files: RenderedFile[] = [
    { file: '00-namespace.yaml', objects: [new Namespace({ metadata: { name: o.namespace, labels: APP } })] },
    { file: '01-nodeplan-crd.yaml', objects: [nodePlanCrd()] },
    {
      file: '02-rbac.yaml',
      objects: [
        new ServiceAccount({ metadata: { name: 'nfp-agent', namespace: o.namespace, labels: APP } }),
        new Role({
          metadata: { name: 'nfp-agent', namespace: o.namespace, labels: APP },
          rules: [
            { apiGroups: [NODEPLAN_GROUP], resources: [NODEPLAN_PLURAL], verbs: ['get', 'list', 'watch'] },
          ],
        }),
        new RoleBinding({
          metadata: { name: 'nfp-agent', namespace: o.namespace, labels: APP },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'nfp-agent' },
          subjects: [{ kind: 'ServiceAccount', name: 'nfp-agent', namespace: o.namespace }],
        }),
      ],
    },
    { file: '03-agent-daemonset.yaml', objects: [agentDaemonSet(o)] },
    {
      file: '04-metrics.yaml',
      objects: [
        new Service({
          metadata: { name: 'nfp-agent-metrics', namespace: o.namespace, labels: APP },
          spec: {
            clusterIP: 'None',
            selector: APP,
            ports: [{ name: 'metrics', port: o.metricsPort, targetPort: 'metrics', protocol: 'TCP' }],
          },
        }),
        new ServiceMonitor({
          metadata: { name: 'nfp-agent', namespace: o.namespace, labels: APP },
          spec: {
            selector: { matchLabels: APP },
            namespaceSelector: { matchNames: [o.namespace] },
            endpoints: [{ port: 'metrics', path: '/metrics', interval: '15s' }],
          },
        }),
      ],
    },
  ];
  if (o.plans && o.plans.size > 0) {
    files.push({
      file: '10-nodeplans.yaml',
      objects: [...o.plans].map(([node, plan]): NodePlanObject => ({
        apiVersion: `${NODEPLAN_GROUP}/${NODEPLAN_VERSION}`,
        kind: NODEPLAN_KIND,
        metadata: { name: node, namespace: o.namespace, labels: APP },
        spec: { node, plan },
      })),
    });
  }
  return files;
}

/** Validates every typed object (kubernetes-models' schemas); NodePlans are checked by tests. */
export function validateManifests(files: RenderedFile[]): void {
  for (const f of files)
    for (const obj of f.objects) {
      if (!('validate' in obj)) continue;
      try {
        obj.validate();
      } catch (err) {
        throw new NfpError(
          `${f.file}: ${obj.kind} is invalid: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
}
