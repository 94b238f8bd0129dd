/**
 * Loads a service graph (format v1, YAML) into a ServiceGraph: parse, check the structure, then
 * check the graph semantics (see graph-check.ts). Every problem becomes a Diagnostic with
 * `file:line:col` and its key path; all of them are thrown together as one GraphError.
 */
import { readFileSync } from 'node:fs';
import { isMap, LineCounter, parseDocument } from 'yaml';
import type { Edge, NfInstance, ServiceGraph, Tenant, TrafficSlice } from './graph';
import { DROP, ENTRY, EXIT } from './graph';
import type { NfType } from './nf-config';
import { GraphError, NfpError } from './errors';
import { requireFile } from './files';
import { CATALOGUE, NF_TYPES } from './catalogue';
import { MATCH_KEYS, defaultBurst, parseMatchFields, parsePrefixNode, parseRate, parseSize } from './fields';
import { parseNfConfig } from './nf-parse';
import { Reader, TOP_LEVEL, closest, didYouMean, sub, type MapEntry, type YNode } from './reader';
import { checkSlices, checkTenantGraph, type EdgeNodes, type SliceSite } from './graph-check';

const TOP_KEYS = ['version', 'tenants'];
const TENANT_KEYS = [
  'name',
  'id',
  'slice',
  'weight',
  'rateLimit',
  'egressPort',
  'trafficShare',
  'isolation',
  'packetAccess',
  'nfs',
  'graph',
];
const ISOLATION = ['sfi', 'mpk', 'none', 'process'] as const;
const PACKET_ACCESS = ['shared', 'windows'] as const;
const RESERVED = [ENTRY, EXIT, DROP];
const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

const val = (e: Map<string, MapEntry>, k: string): YNode | undefined =>
  e.has(k) ? (e.get(k)?.value ?? null) : undefined;

/** Reads and parses a graph file; a missing file is a MissingFileError, a bad one a GraphError. */
export function loadGraph(file: string): ServiceGraph {
  requireFile(file, GRAPH_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NfpError(`cannot read ${file}: ${(err as Error).message}`, 'give the path of a service graph');
  }
  return parseGraph(text, file);
}

/** What `requireFile` says when a service graph is missing. */
export const GRAPH_FILE = { what: 'a service graph', example: 'examples/enterprise-edge.yaml' };

const NOT_A_GRAPH =
  'a service graph is YAML that starts with "version: 1" and "tenants:" (see docs/graph-format.md)';

export function parseGraph(text: string, file: string): ServiceGraph {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new Reader(file, lines);
  // A file that is not a service graph at all (a README, a pcap) gets one line, not a YAML error
  // per line: without a top-level "tenants:" key its syntax errors say nothing useful.
  if (doc.errors.length > 0 && !/^tenants\s*:/m.test(text)) {
    const first = doc.errors[0];
    r.error(
      r.locAt(first.pos[0]),
      '(file)',
      `not a service graph: not YAML (${first.message.split('\n')[0]}); ${NOT_A_GRAPH}`,
    );
    throw new GraphError(r.diagnostics);
  }
  for (const e of doc.errors)
    r.error(r.locAt(e.pos[0]), '(yaml)', `YAML syntax: ${e.message.split('\n')[0]}`);
  if (r.diagnostics.length > 0) throw new GraphError(r.diagnostics);

  const root = doc.contents as YNode;
  if (root === null || root === undefined) {
    r.error(
      r.locAt(0),
      '(file)',
      'the file is empty; a service graph starts with "version: 1" and "tenants:"',
    );
    throw new GraphError(r.diagnostics);
  }
  // Likewise a list, a scalar, or a mapping without "tenants" (nor a typo of it): package.json.
  const keys = isMap(root) ? root.items.map((p) => String(r.scalar(p.key as YNode))) : [];
  if (!isMap(root) || !keys.some((k) => closest(k, ['tenants']))) {
    const what = isMap(root)
      ? `its top-level keys are ${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', …' : ''}`
      : 'YAML, but not a mapping';
    r.error(r.locAt(0), '(file)', `not a service graph: ${what}; ${NOT_A_GRAPH}`);
    throw new GraphError(r.diagnostics);
  }
  const top = r.map(root, TOP_LEVEL, TOP_KEYS, ['version', 'tenants']);
  const tenants: Tenant[] = [];
  const sites: SliceSite[] = [];
  if (top) {
    if (top.has('version') && r.scalar(val(top, 'version')) !== 1) {
      r.error(
        val(top, 'version'),
        'version',
        `unsupported format version ${JSON.stringify(r.scalar(val(top, 'version')))}; this nfp reads version 1`,
      );
    }
    const items = top.has('tenants') ? r.seq(val(top, 'tenants'), 'tenants') : undefined;
    if (items && items.length === 0) r.error(val(top, 'tenants'), 'tenants', 'must list at least one tenant');
    items?.forEach((node, i) => {
      const t = parseTenant(r, node, sub('tenants', i), i);
      if (t) {
        tenants.push(t.tenant);
        sites.push({ tenant: t.tenant, node: t.sliceNode, key: sub(sub('tenants', i), 'slice') });
      }
    });
  }
  checkTenantIdentity(r, sites);
  checkSlices(r, sites);
  // Traffic shares are relative weights; normalise so they sum to 1.
  const total = tenants.reduce((s, t) => s + t.trafficShare, 0);
  for (const t of tenants) t.trafficShare = total > 0 ? t.trafficShare / total : 1 / tenants.length;
  if (r.diagnostics.length > 0) throw new GraphError(sortDiagnostics(r));
  return { version: 1, file, tenants };
}

function sortDiagnostics(r: Reader): GraphError['diagnostics'] {
  // The graph file first, then any manifest files; each in line order.
  const rank = (f: string): number => (f === r.file ? 0 : 1);
  return [...r.diagnostics].sort(
    (a, b) =>
      rank(a.loc.file) - rank(b.loc.file) ||
      a.loc.file.localeCompare(b.loc.file) ||
      a.loc.line - b.loc.line ||
      a.loc.col - b.loc.col,
  );
}

function checkTenantIdentity(r: Reader, sites: SliceSite[]): void {
  const byName = new Map<string, Tenant>();
  const byId = new Map<number, Tenant>();
  for (const { tenant: t, key } of sites) {
    const tenantKey = key.replace(/\.slice$/, '');
    const other = byName.get(t.name);
    if (other)
      r.error(
        t.loc,
        `${tenantKey}.name`,
        `tenant name "${t.name}" is already used at line ${other.loc.line}`,
      );
    else byName.set(t.name, t);
    const same = byId.get(t.id);
    if (same) {
      const msg = `tenant id ${t.id} of "${t.name}" is already used by "${same.name}"; give each tenant its own id`;
      r.error(t.loc, `${tenantKey}.id`, msg);
    } else byId.set(t.id, t);
  }
}

function parseTenant(
  r: Reader,
  node: YNode,
  key: string,
  index: number,
): { tenant: Tenant; sliceNode: YNode } | undefined {
  const e = r.map(node, key, TENANT_KEYS, ['name', 'slice', 'egressPort', 'nfs', 'graph']);
  if (!e) return undefined;
  const before = r.diagnostics.length;
  const name = e.has('name') ? r.str(val(e, 'name'), sub(key, 'name')) : undefined;
  if (name !== undefined && !NAME.test(name)) {
    r.error(
      val(e, 'name'),
      sub(key, 'name'),
      `"${name}" must start with a letter and use only letters, digits, "_" and "-"`,
    );
  }
  const id = e.has('id') ? r.int(val(e, 'id'), sub(key, 'id'), 1, 0xffff) : index + 1;
  const slice = e.has('slice') ? parseSlice(r, val(e, 'slice'), sub(key, 'slice')) : undefined;
  const weight = e.has('weight') ? r.num(val(e, 'weight'), sub(key, 'weight'), 0) : 1;
  const rateLimit = e.has('rateLimit')
    ? parseRateLimit(r, val(e, 'rateLimit'), sub(key, 'rateLimit'))
    : undefined;
  const egressPort = e.has('egressPort')
    ? r.int(val(e, 'egressPort'), sub(key, 'egressPort'), 0, 511)
    : undefined;
  const trafficShare = e.has('trafficShare') ? r.num(val(e, 'trafficShare'), sub(key, 'trafficShare'), 0) : 1;
  const isolation = e.has('isolation')
    ? r.oneOf(val(e, 'isolation'), sub(key, 'isolation'), ISOLATION)
    : 'sfi';
  const packetAccess = e.has('packetAccess')
    ? r.oneOf(val(e, 'packetAccess'), sub(key, 'packetAccess'), PACKET_ACCESS)
    : undefined;
  if (e.has('packetAccess') && !packetAccess) return undefined;
  const declared = new Set<string>();
  const nfs = e.has('nfs') ? parseNfs(r, val(e, 'nfs'), sub(key, 'nfs'), declared) : [];
  const edgeNodes: EdgeNodes[] = [];
  const edges = e.has('graph') ? parseEdges(r, val(e, 'graph'), sub(key, 'graph'), edgeNodes) : [];
  if (e.has('graph'))
    checkTenantGraph(r, { nfs, declared, edges, edgeNodes, key, graphNode: val(e, 'graph') });
  if (r.diagnostics.length > before || !name || !slice || id === undefined || weight === undefined)
    return undefined;
  if (egressPort === undefined || trafficShare === undefined || !isolation) return undefined;
  const tenant: Tenant = {
    name,
    id,
    slice,
    weight,
    egressPort,
    trafficShare,
    isolation,
    nfs,
    edges,
    loc: r.loc(node),
  };
  if (rateLimit) tenant.rateLimit = rateLimit;
  if (packetAccess) tenant.packetAccess = packetAccess;
  return { tenant, sliceNode: val(e, 'slice') };
}

function parseSlice(r: Reader, node: YNode, key: string): TrafficSlice | undefined {
  const e = r.map(node, key, ['ingressPort', 'vlan', 'dstPrefix', 'srcPrefix']);
  if (!e) return undefined;
  const s: TrafficSlice = {};
  if (e.has('ingressPort')) s.ingressPort = r.int(val(e, 'ingressPort'), sub(key, 'ingressPort'), 0, 511);
  if (e.has('vlan')) s.vlan = r.int(val(e, 'vlan'), sub(key, 'vlan'), 1, 4094);
  if (e.has('dstPrefix')) s.dstPrefix = parsePrefixNode(r, val(e, 'dstPrefix'), sub(key, 'dstPrefix'));
  if (e.has('srcPrefix')) s.srcPrefix = parsePrefixNode(r, val(e, 'srcPrefix'), sub(key, 'srcPrefix'));
  for (const k of Object.keys(s) as Array<keyof TrafficSlice>) if (s[k] === undefined) return undefined;
  return s;
}

function parseRateLimit(r: Reader, node: YNode, key: string): Tenant['rateLimit'] {
  const v = r.scalar(node);
  if (typeof v === 'string' || typeof v === 'number') {
    const bps = parseRate(r, node, key);
    return bps ? { bitsPerSecond: bps, burstBytes: defaultBurst(bps) } : undefined;
  }
  const e = r.map(node, key, ['rate', 'burst'], ['rate']);
  if (!e) return undefined;
  const bps = e.has('rate') ? parseRate(r, val(e, 'rate'), sub(key, 'rate')) : undefined;
  const burst = e.has('burst') ? parseSize(r, val(e, 'burst'), sub(key, 'burst')) : undefined;
  if (!bps || (e.has('burst') && !burst)) return undefined;
  return { bitsPerSecond: bps, burstBytes: burst ?? defaultBurst(bps) };
}

function parseNfs(r: Reader, node: YNode, key: string, declared: Set<string>): NfInstance[] {
  const entries = r.freeMap(node, key) ?? [];
  const out: NfInstance[] = [];
  for (const entry of entries) {
    const k = sub(key, entry.key);
    declared.add(entry.key);
    if (RESERVED.includes(entry.key)) {
      r.error(entry.keyNode, k, `"${entry.key}" is a reserved node name (entry, exit, drop); rename this NF`);
      continue;
    }
    if (!NAME.test(entry.key)) {
      r.error(
        entry.keyNode,
        k,
        `NF name "${entry.key}" must start with a letter and use only letters, digits, "_" and "-"`,
      );
      continue;
    }
    const e = r.map(entry.value, k, ['type', 'config', 'pin'], ['type']);
    if (!e) continue;
    const typeNode = val(e, 'type');
    const typeText = typeNode === undefined ? undefined : r.scalar(typeNode);
    if (typeNode === undefined) continue;
    if (typeof typeText !== 'string' || !(NF_TYPES as string[]).includes(typeText)) {
      const hint = typeof typeText === 'string' ? didYouMean(typeText, NF_TYPES) : '';
      r.error(
        typeNode,
        sub(k, 'type'),
        `unknown NF type ${JSON.stringify(typeText)}${hint} (known: ${NF_TYPES.join(', ')})`,
      );
      continue;
    }
    const type = typeText as NfType;
    const config = parseNfConfig(r, type, val(e, 'config') ?? null, sub(k, 'config'), entry.keyNode);
    const pin = e.has('pin') ? r.oneOf(val(e, 'pin'), sub(k, 'pin'), ['nic', 'host'] as const) : undefined;
    if (!config) continue;
    if (pin === 'nic') {
      const why = CATALOGUE[type].hostOnly(config);
      if (why)
        r.error(val(e, 'pin'), sub(k, 'pin'), `"${entry.key}" (${type}) cannot be pinned to the NIC: ${why}`);
    }
    if (pin === 'host') {
      const why = CATALOGUE[type].nicOnly?.(config);
      if (why)
        r.error(
          val(e, 'pin'),
          sub(k, 'pin'),
          `"${entry.key}" (${type}) cannot be pinned to the host: ${why}`,
        );
    }
    const nf: NfInstance = { name: entry.key, type, config, loc: r.loc(entry.keyNode) };
    if (pin) nf.pin = pin;
    out.push(nf);
  }
  return out;
}

function parseEdges(r: Reader, node: YNode, key: string, nodes: EdgeNodes[]): Edge[] {
  const items = r.seq(node, key) ?? [];
  const out: Edge[] = [];
  items.forEach((item, i) => {
    const k = sub(key, i);
    const e = r.map(item, k, ['from', 'to', 'when', 'verdict', 'share'], ['from', 'to']);
    if (!e) return;
    const from = e.has('from') ? r.str(val(e, 'from'), sub(k, 'from')) : undefined;
    const to = e.has('to') ? r.str(val(e, 'to'), sub(k, 'to')) : undefined;
    let when: Edge['when'];
    if (e.has('when')) {
      const we = r.map(val(e, 'when'), sub(k, 'when'), MATCH_KEYS);
      if (we) {
        if (we.size === 0)
          r.error(val(e, 'when'), sub(k, 'when'), 'is empty; drop "when:" to make a default edge');
        when = parseMatchFields(r, we, sub(k, 'when'));
      }
    }
    const verdict = e.has('verdict') ? r.str(val(e, 'verdict'), sub(k, 'verdict')) : undefined;
    const share = e.has('share') ? r.num(val(e, 'share'), sub(k, 'share'), 0) : 1;
    if (when && verdict !== undefined) {
      r.error(
        item,
        k,
        'an edge has either "when" (a header predicate) or "verdict" (a dynamic branch), not both',
      );
      return;
    }
    if (!from || !to || share === undefined) return;
    const edge: Edge = { from, to, share, index: i, loc: r.loc(item) };
    if (when) edge.when = when;
    if (verdict !== undefined) edge.verdict = verdict;
    out.push(edge);
    nodes.push({
      edge,
      key: k,
      from: val(e, 'from'),
      to: val(e, 'to'),
      when: val(e, 'when'),
      verdict: val(e, 'verdict'),
    });
  });
  return out;
}
