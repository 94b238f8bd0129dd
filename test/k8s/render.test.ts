/**
 * `nfp k8s render`: every rendered object validates against the Kubernetes API schemas (through
 * the typed models), NodePlans validate against the rendered CRD's own schema and hold valid
 * plans, and the DaemonSet has what the data path needs and no more: Guaranteed QoS with whole
 * CPUs, hugepages, the SR-IOV resource, IPC_LOCK and NET_RAW only, probes on the agent's endpoints,
 * and agent arguments the agent command accepts.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { loadGraph, validatePlan } from '../../partitioner';
import { loadCluster } from '../../partitioner/cluster-load';
import { planCluster } from '../../partitioner/cluster-plan';
import { clusterToDir } from '../../partitioner/cluster-output';
import {
  AGENT_CAPABILITIES,
  DEFAULTS,
  nodePlanCrd,
  renderManifests,
  validateManifests,
} from '../../k8s/render';
import { readClusterPlans, renderToDir } from '../../k8s/output';
import { NODEPLAN_GROUP, NODEPLAN_KIND, NODEPLAN_PLURAL, NODEPLAN_VERSION } from '../../agent/kube';
import { parseWirePorts } from '../../agent/ports';
import Agent from '../../cli/commands/agent';
import { nfp } from '../partitioner/cli-run';
import k8sRenderSchema from '../../schemas/cli/k8s-render.schema.json';

const tmp = mkdtempSync(join(tmpdir(), 'nfp-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function docs(dir: string): Obj[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON() as Obj));
}

describe('nfp k8s render', () => {
  it('renders objects that validate, from typed models; a wrong field fails validation', async () => {
    const graph = loadGraph('examples/multi-tenant.yaml');
    const planned = await planCluster(graph, loadCluster('examples/clusters/edge.yaml'));
    const files = renderManifests({ ...DEFAULTS, plans: planned.plans });
    expect(() => validateManifests(files)).not.toThrow();
    expect(files.map((f) => f.file)).toEqual([
      '00-namespace.yaml',
      '01-nodeplan-crd.yaml',
      '02-rbac.yaml',
      '03-agent-daemonset.yaml',
      '04-metrics.yaml',
      '10-nodeplans.yaml',
    ]);
    // The models' validation is real: a broken DaemonSet is refused.
    const bad = new DaemonSet({ metadata: { name: 'x' }, spec: { selector: 3 } as never });
    expect(() => bad.validate()).toThrow(/template|selector/);
    expect(() => validateManifests([{ file: 'bad.yaml', objects: [bad] }])).toThrow(
      /^bad\.yaml: DaemonSet is invalid/,
    );
  });

  it('writes YAML that an operator applies: the agent DaemonSet is Guaranteed, pinned, and minimally privileged', async () => {
    const cp = join(tmp, 'cluster');
    await clusterToDir('examples/multi-tenant.yaml', 'examples/clusters/edge.yaml', { out: cp, nic: false });
    const out = join(tmp, 'manifests');
    renderToDir(out, { ...DEFAULTS, wirePorts: [0, 1, 2, 3], cpus: 3, plans: readClusterPlans(cp) });
    const objs = docs(out);
    const kinds = objs.map((o) => o.kind);
    expect(kinds).toEqual([
      'Namespace',
      'CustomResourceDefinition',
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'DaemonSet',
      'Service',
      'ServiceMonitor',
      'NodePlan',
      'NodePlan',
      'NodePlan',
    ]);
    // Read back from YAML, every typed object still validates.
    const ds = new DaemonSet(objs.find((o) => o.kind === 'DaemonSet') as never);
    expect(() => ds.validate()).not.toThrow();

    const pod = ds.spec!.template.spec!;
    const c = pod.containers[0];
    // Guaranteed QoS: requests equal limits for every resource, CPU in whole cores.
    expect(c.resources!.requests).toEqual(c.resources!.limits);
    expect(c.resources!.requests!.cpu).toBe('3');
    expect(c.resources!.requests!['hugepages-1Gi']).toBe('2Gi');
    expect(c.resources!.requests![DEFAULTS.sriovResource]).toBe('4');
    expect(c.resources!.requests!.memory).toBe('2Gi');
    expect(pod.volumes!.find((v) => v.name === 'hugepages')!.emptyDir!.medium).toBe('HugePages-1Gi');
    // Only the capabilities the data path needs.
    expect(c.securityContext!.capabilities).toEqual({ drop: ['ALL'], add: AGENT_CAPABILITIES });
    expect(AGENT_CAPABILITIES).toEqual(['IPC_LOCK', 'NET_RAW']);
    expect(c.securityContext!.allowPrivilegeEscalation).toBe(false);
    expect(pod.hostNetwork).toBeUndefined();
    // One VF per wire port, attached by Multus, named net1..net4 in the pod.
    expect(ds.spec!.template.metadata!.annotations!['k8s.v1.cni.cncf.io/networks'].split(',')).toHaveLength(
      4,
    );
    // The agent's arguments are ones the agent command takes; its probes hit its endpoints.
    const args = c.args!;
    expect(args[0]).toBe('agent');
    for (const a of args.filter((x) => x.startsWith('--')))
      expect(Object.keys(Agent.flags)).toContain(a.slice(2));
    const ports = args.flatMap((a, i) => (args[i - 1] === '--port' ? [a] : []));
    expect(parseWirePorts(ports)).toEqual({ 0: 'net1', 1: 'net2', 2: 'net3', 3: 'net4' });
    expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(c.env).toContainEqual({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });

    // RBAC: the agents may read NodePlans in their namespace, and nothing else.
    const role = objs.find((o) => o.kind === 'Role')!;
    expect(role.rules).toEqual([
      { apiGroups: [NODEPLAN_GROUP], resources: [NODEPLAN_PLURAL], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = objs.find((o) => o.kind === 'RoleBinding')!;
    expect(binding.subjects[0]).toEqual({
      kind: 'ServiceAccount',
      name: pod.serviceAccountName,
      namespace: 'nfp-system',
    });

    // The ServiceMonitor finds the Service, which finds the agents' metrics port.
    const svc = objs.find((o) => o.kind === 'Service')!;
    const sm = objs.find((o) => o.kind === 'ServiceMonitor')!;
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: svc.spec.ports[0].name, path: '/metrics' });
    expect(ds.spec!.template.metadata!.labels).toMatchObject(svc.spec.selector);
    expect(svc.spec.ports[0].targetPort).toBe(c.ports![0].name);

    // NodePlans: valid against the CRD's own schema, one per serving node, each a valid plan.
    const crd = objs.find((o) => o.kind === 'CustomResourceDefinition')!;
    expect(crd.metadata.name).toBe(`${NODEPLAN_PLURAL}.${NODEPLAN_GROUP}`);
    const version = crd.spec.versions.find((v: Obj) => v.name === NODEPLAN_VERSION);
    const schemaOk = new Ajv({ strict: false }).compile(version.schema.openAPIV3Schema);
    const nodePlans = objs.filter((o) => o.kind === NODEPLAN_KIND);
    expect(nodePlans.map((n) => n.metadata.name).sort()).toEqual(['edge-1', 'edge-2', 'edge-3']);
    for (const np of nodePlans) {
      expect(schemaOk(np), JSON.stringify(schemaOk.errors)).toBe(true);
      expect(np.apiVersion).toBe(`${NODEPLAN_GROUP}/${NODEPLAN_VERSION}`);
      expect(np.spec.node).toBe(np.metadata.name);
      expect(validatePlan(np.spec.plan).tenants.length).toBeGreaterThan(0);
    }
    expect(schemaOk({ spec: { node: 'x' } })).toBe(false);
    expect(
      schemaOk({ spec: { node: 'x', plan: { version: 2, profile: {}, tenants: [], nfs: [], paths: [] } } }),
    ).toBe(false);
    expect(nodePlanCrd().spec.names.kind).toBe(NODEPLAN_KIND);
  });

  it('the CLI writes the files, and refuses bad quantities and a missing cluster plan', async () => {
    const out = join(tmp, 'cli');
    const r = await nfp('k8s', 'render', '--out', out, '--ports', '2', '--json');
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as {
      files: Array<{ path: string; kinds: string[] }>;
      nodePlans: string[];
    };
    expect(result.files.map((f) => f.kinds.join(','))).toEqual([
      'Namespace',
      'CustomResourceDefinition',
      'ServiceAccount,Role,RoleBinding',
      'DaemonSet',
      'Service,ServiceMonitor',
    ]);
    expect(result.nodePlans).toEqual([]);
    const validate = new Ajv({ strict: false }).compile(k8sRenderSchema);
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
    expect(docs(out)).toHaveLength(8);
    const bad = await nfp('k8s', 'render', '--out', out, '--memory', 'lots');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: --memory lots: not a Kubernetes quantity/);
    const missing = await nfp('k8s', 'render', '--out', out, '--cluster-plan', join(tmp, 'nowhere'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/has no cluster\.json/);
  });
});
