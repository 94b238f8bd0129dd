/**
 * Loads a cluster description (format v1, YAML; docs/scale-out.md): the nodes with their NIC
 * profile, host cores and weight budget, the offered load, pins, and how the fabric is cabled.
 * Every problem becomes a Diagnostic with `file:line:col` and its key path; all of them are thrown
 * together as one GraphError, as for service graphs.
 */
import { GraphError } from './errors';
import { profiles } from './profiles';
import {
  Reader,
  TOP_LEVEL,
  didYouMean,
  parseYaml,
  readUserFile,
  sub,
  type MapEntry,
  type YNode,
} from './reader';
import type { NicProfile } from './plan';
import type { SourceLocation } from './graph';
import {
  CLUSTER_VERSION,
  type ClusterDescription,
  type ClusterNode,
  type PackingStrategy,
  type TenantPin,
} from './cluster';

const TOP_KEYS = ['version', 'offeredLoad', 'strategy', 'fabric', 'nodes', 'pins'];
const NODE_KEYS = ['name', 'nic', 'hostCores', 'coreHz', 'weightBudget', 'fabricPorts'];
const STRATEGIES = ['spread', 'pack'] as const;
/** Kubernetes node names are DNS-1123 subdomains. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Ports a fabric (a v1model switch: 9-bit ports, 511 the drop port) can use. */
export const MAX_FABRIC_PORT = 510;
export const DEFAULT_CORE_HZ = 2e9;

const val = (e: Map<string, MapEntry>, k: string): YNode | undefined =>
  e.has(k) ? (e.get(k)?.value ?? null) : undefined;

export function loadCluster(file: string): ClusterDescription {
  const text = readUserFile(file, 'give the path of a cluster description, e.g. examples/clusters/edge.yaml');
  return parseCluster(text, file);
}

export function parseCluster(text: string, file: string): ClusterDescription {
  const { r, root } = parseYaml(
    text,
    file,
    'the file is empty; a cluster description starts with "version: 1", "offeredLoad:" and "nodes:"',
  );
  const top = r.map(root, TOP_LEVEL, TOP_KEYS, ['version', 'offeredLoad', 'nodes']);
  if (!top) throw failed(r);
  if (top.has('version') && r.scalar(val(top, 'version')) !== CLUSTER_VERSION) {
    r.error(
      val(top, 'version'),
      'version',
      `unsupported format version ${JSON.stringify(r.scalar(val(top, 'version')))}; this nfp reads version 1`,
    );
  }
  const offeredLoadPps = top.has('offeredLoad')
    ? parsePacketRate(r, val(top, 'offeredLoad'), 'offeredLoad')
    : undefined;
  const strategy: PackingStrategy | undefined = top.has('strategy')
    ? r.oneOf(val(top, 'strategy'), 'strategy', STRATEGIES)
    : 'spread';

  const nodes: ClusterNode[] = [];
  const nodeItems = top.has('nodes') ? r.seq(val(top, 'nodes'), 'nodes') : undefined;
  if (nodeItems && nodeItems.length === 0) r.error(val(top, 'nodes'), 'nodes', 'must list at least one node');
  const seen = new Map<string, ClusterNode>();
  const explicit = new Map<ClusterNode, Map<number, YNode>>();
  nodeItems?.forEach((item, i) => {
    const parsed = parseNode(r, item, sub('nodes', i));
    if (!parsed) return;
    const n = parsed.node;
    const other = seen.get(n.name);
    if (other) {
      r.error(
        n.loc,
        sub(sub('nodes', i), 'name'),
        `node "${n.name}" is already declared at line ${other.loc.line}`,
      );
      return;
    }
    seen.set(n.name, n);
    explicit.set(n, parsed.explicit);
    nodes.push(n);
  });

  const pins = top.has('pins') ? parsePins(r, val(top, 'pins'), seen) : [];
  const uplinksGiven = top.has('fabric') ? parseFabric(r, val(top, 'fabric')) : new Map();
  if (r.diagnostics.length > 0 || offeredLoadPps === undefined || !strategy) throw failed(r);

  const uplinks = cableFabric(r, nodes, explicit, uplinksGiven, val(top, 'fabric') ?? val(top, 'nodes'));
  if (r.diagnostics.length > 0) throw failed(r);
  return { version: CLUSTER_VERSION, file, offeredLoadPps, strategy, nodes, pins, uplinks };
}

/** Every problem, in line order. */
function failed(r: Reader): GraphError {
  return new GraphError([...r.diagnostics].sort((a, b) => a.loc.line - b.loc.line || a.loc.col - b.loc.col));
}

/** A node, and the YAML nodes of the fabric ports it gives explicitly (for error locations). */
function parseNode(
  r: Reader,
  item: YNode,
  key: string,
): { node: ClusterNode; explicit: Map<number, YNode> } | undefined {
  const e = r.map(item, key, NODE_KEYS, ['name', 'nic', 'hostCores']);
  if (!e) return undefined;
  const before = r.diagnostics.length;
  const name = e.has('name') ? r.str(val(e, 'name'), sub(key, 'name')) : undefined;
  if (name !== undefined && (!NODE_NAME.test(name) || name.length > 253)) {
    r.error(
      val(e, 'name'),
      sub(key, 'name'),
      `"${name}" is not a Kubernetes node name: use lower-case letters, digits, "-" and "."`,
    );
  }
  let profile: NicProfile | undefined;
  if (e.has('nic')) {
    const nic = r.str(val(e, 'nic'), sub(key, 'nic'));
    if (nic !== undefined) {
      profile = profiles[nic];
      if (!profile) {
        const names = Object.keys(profiles);
        r.error(
          val(e, 'nic'),
          sub(key, 'nic'),
          `unknown NIC profile "${nic}"${didYouMean(nic, names)} (known: ${names.join(', ')})`,
        );
      }
    }
  }
  const hostCores = e.has('hostCores')
    ? r.int(val(e, 'hostCores'), sub(key, 'hostCores'), 1, 4096)
    : undefined;
  const coreHz = e.has('coreHz') ? parseFrequency(r, val(e, 'coreHz'), sub(key, 'coreHz')) : DEFAULT_CORE_HZ;
  const weightBudget = e.has('weightBudget')
    ? r.num(val(e, 'weightBudget'), sub(key, 'weightBudget'), 0)
    : undefined;
  const explicit = new Map<number, YNode>();
  const fabricPorts: Record<number, number> = {};
  if (e.has('fabricPorts')) {
    const k = sub(key, 'fabricPorts');
    for (const entry of r.freeMap(val(e, 'fabricPorts'), k) ?? []) {
      const wire = Number(entry.key);
      if (!Number.isInteger(wire) || wire < 0 || wire > 511) {
        r.error(entry.keyNode, sub(k, entry.key), 'keys are NIC wire port numbers (0 to 511)');
        continue;
      }
      if (profile && !profile.wirePorts.includes(wire)) {
        r.error(
          entry.keyNode,
          sub(k, entry.key),
          `${wire} is not a wire port of NIC profile ${profile.name} (${profile.wirePorts.join(', ')})`,
        );
        continue;
      }
      const port = r.int(entry.value, sub(k, entry.key), 0, MAX_FABRIC_PORT);
      if (port === undefined) continue;
      fabricPorts[wire] = port;
      explicit.set(wire, entry.value);
    }
  }
  if (r.diagnostics.length > before || !name || !profile || hostCores === undefined || !coreHz)
    return undefined;
  const node: ClusterNode = { name, profile, hostCores, coreHz, fabricPorts, loc: r.loc(item) };
  if (weightBudget !== undefined) node.weightBudget = weightBudget;
  return { node, explicit };
}

function parsePins(r: Reader, node: YNode, nodes: Map<string, ClusterNode>): TenantPin[] {
  const out: TenantPin[] = [];
  for (const entry of r.freeMap(node, 'pins') ?? []) {
    const k = sub('pins', entry.key);
    const target = r.str(entry.value, k);
    if (target === undefined) continue;
    if (!nodes.has(target)) {
      const names = [...nodes.keys()];
      r.error(entry.value, k, `no node named "${target}"${didYouMean(target, names)}`);
      continue;
    }
    out.push({ tenant: entry.key, node: target, loc: r.loc(entry.keyNode) });
  }
  return out;
}

type GivenUplinks = Map<number, { port: number; at: YNode }>;

function parseFabric(r: Reader, node: YNode): GivenUplinks {
  const uplinks: GivenUplinks = new Map();
  const e = r.map(node, 'fabric', ['uplinks']);
  if (!e || !e.has('uplinks')) return uplinks;
  for (const entry of r.freeMap(val(e, 'uplinks'), 'fabric.uplinks') ?? []) {
    const k = sub('fabric.uplinks', entry.key);
    const wire = Number(entry.key);
    if (!Number.isInteger(wire) || wire < 0 || wire > 511) {
      r.error(entry.keyNode, k, 'keys are NIC wire port numbers (0 to 511)');
      continue;
    }
    const port = r.int(entry.value, k, 0, MAX_FABRIC_PORT);
    if (port !== undefined) uplinks.set(wire, { port, at: entry.value });
  }
  return uplinks;
}

/**
 * Completes the cabling: uplink p defaults to fabric port p; wire port p of the i-th node (from 0)
 * to fabric port W·(i+1) + p, W being one more than the highest wire port of any node's profile.
 * Every fabric port may carry one link.
 */
function cableFabric(
  r: Reader,
  nodes: ClusterNode[],
  explicit: Map<ClusterNode, Map<number, YNode>>,
  given: GivenUplinks,
  nodesNode: YNode,
): Record<number, number> {
  const wires = [...new Set(nodes.flatMap((n) => n.profile.wirePorts))].sort((a, b) => a - b);
  const width = Math.max(...wires) + 1;
  const owner = new Map<number, string>();
  const claim = (port: number, what: string, at: YNode | SourceLocation, key: string): void => {
    const other = owner.get(port);
    if (other) r.error(at, key, `fabric port ${port} is already cabled to ${other}`);
    else owner.set(port, what);
  };
  const uplinks: Record<number, number> = {};
  for (const [wire, { port, at }] of given) {
    if (!wires.includes(wire)) {
      r.error(at, `fabric.uplinks.${wire}`, `no node's NIC has wire port ${wire} (${wires.join(', ')})`);
      continue;
    }
    uplinks[wire] = port;
    claim(port, `uplink ${wire}`, at, `fabric.uplinks.${wire}`);
  }
  nodes.forEach((n, i) => {
    for (const [wire, at] of explicit.get(n) ?? [])
      claim(n.fabricPorts[wire], `node ${n.name}, wire port ${wire}`, at, `nodes[${i}].fabricPorts.${wire}`);
  });
  // Defaults fill in around what was given explicitly.
  const claimDefault = (port: number, what: string, at: YNode | SourceLocation, key: string): void => {
    const other = owner.get(port);
    if (other)
      r.error(
        at,
        key,
        `the default fabric port of ${what} is ${port}, already cabled to ${other}; give it explicitly`,
      );
    else owner.set(port, what);
  };
  for (const wire of wires) {
    if (uplinks[wire] !== undefined) continue;
    uplinks[wire] = wire;
    claimDefault(wire, `uplink ${wire}`, nodesNode, `fabric.uplinks.${wire}`);
  }
  nodes.forEach((n, i) => {
    for (const wire of n.profile.wirePorts) {
      if (n.fabricPorts[wire] !== undefined) continue;
      const port = width * (i + 1) + wire;
      const key = `nodes[${i}].fabricPorts`;
      if (port > MAX_FABRIC_PORT) {
        r.error(
          n.loc,
          key,
          `the default fabric port of wire port ${wire} would be ${port}, beyond ${MAX_FABRIC_PORT}; give this node "fabricPorts"`,
        );
        return;
      }
      n.fabricPorts[wire] = port;
      claimDefault(port, `node ${n.name}, wire port ${wire}`, n.loc, key);
    }
  });
  return uplinks;
}

const PPS_UNITS: Record<string, number> = { pps: 1, kpps: 1e3, Mpps: 1e6, Gpps: 1e9 };
const HZ_UNITS: Record<string, number> = { Hz: 1, kHz: 1e3, MHz: 1e6, GHz: 1e9 };

function parseUnit(
  r: Reader,
  node: YNode,
  key: string,
  units: Record<string, number>,
  example: string,
): number | undefined {
  const v = r.scalar(node);
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]+)\s*$/i.exec(v);
    const name = m ? Object.keys(units).find((u) => u.toLowerCase() === m[2].toLowerCase()) : undefined;
    const unit = name ? units[name] : undefined;
    if (m && unit && Number(m[1]) > 0) return Number(m[1]) * unit;
  }
  r.error(
    node,
    key,
    `must be ${example} (${Object.keys(units).join(', ')}) or a number, not ${JSON.stringify(v)}`,
  );
  return undefined;
}

/** `"12Mpps"`, `"500kpps"` or packets per second. */
export function parsePacketRate(r: Reader, node: YNode, key: string): number | undefined {
  return parseUnit(r, node, key, PPS_UNITS, 'a packet rate like "12Mpps"');
}

/** `"2.4GHz"`, `"2400MHz"` or cycles per second. */
export function parseFrequency(r: Reader, node: YNode, key: string): number | undefined {
  return parseUnit(r, node, key, HZ_UNITS, 'a frequency like "2.4GHz"');
}
