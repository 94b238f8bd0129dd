/**
 * Parses and checks the YAML `config:` of each built-in NF type into the typed shapes of
 * nf-config.ts, filling documented defaults. Every problem is reported, nothing is thrown.
 */
import type {
  CustomManifest,
  FirewallRule,
  NfConfig,
  NfType,
  PacketRegion,
  PortRange,
  Route,
} from './nf-config';
import { parseIp } from './ip';
import { matchCovers } from './match';
import {
  MATCH_KEYS,
  defaultBurst,
  parseMatchFields,
  parsePortRange,
  parsePrefixNode,
  parseRate,
  parseSize,
} from './fields';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { Reader, TOP_LEVEL, sub, type MapEntry, type YNode } from './reader';

type Entries = Map<string, MapEntry>;
type Parser = (r: Reader, e: Entries, key: string, at: YNode) => NfConfig | undefined;

interface ConfigSpec {
  keys: readonly string[];
  required: readonly string[];
  parse: Parser;
}

const val = (e: Entries, k: string): YNode | undefined => (e.has(k) ? (e.get(k)?.value ?? null) : undefined);

function ipString(r: Reader, node: YNode, key: string): string | undefined {
  const s = r.str(node, key);
  if (s === undefined) return undefined;
  if (!parseIp(s)) {
    r.error(node, key, `"${s}" is not an IPv4 or IPv6 address`);
    return undefined;
  }
  return s;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const REGIONS: readonly PacketRegion[] = ['l2', 'l3', 'l4', 'payload'];

function regions(r: Reader, node: YNode, key: string): PacketRegion[] | undefined {
  const items = r.seq(node, key);
  if (!items) return undefined;
  const out: PacketRegion[] = [];
  items.forEach((n, i) => {
    const v = r.oneOf(n, sub(key, i), REGIONS);
    if (v) out.push(v);
  });
  return out;
}

function strings(r: Reader, node: YNode, key: string, nonEmpty: boolean): string[] | undefined {
  const items = r.seq(node, key);
  if (!items) return undefined;
  if (nonEmpty && items.length === 0) {
    r.error(node, key, 'must list at least one entry');
    return undefined;
  }
  const out: string[] = [];
  items.forEach((n, i) => {
    const s = r.str(n, sub(key, i));
    if (s !== undefined) out.push(s);
  });
  return out;
}

function firewallRules(r: Reader, node: YNode, key: string): FirewallRule[] | undefined {
  const items = r.seq(node, key);
  if (!items) return undefined;
  const out: FirewallRule[] = [];
  const indexes: number[] = [];
  items.forEach((n, i) => {
    const k = sub(key, i);
    const e = r.map(n, k, ['action', ...MATCH_KEYS], ['action']);
    if (!e) return;
    const action = e.has('action')
      ? r.oneOf(val(e, 'action'), sub(k, 'action'), ['allow', 'deny'] as const)
      : undefined;
    const match = parseMatchFields(r, e, k);
    if (!action) return;
    // First match wins: a rule that an earlier rule covers can never apply.
    const winner = out.findIndex((prev) => matchCovers(prev.match, match));
    if (winner >= 0) {
      const line = r.loc(items[indexes[winner]]).line;
      r.error(
        n,
        k,
        `this rule never applies: ${sub(key, indexes[winner])} (line ${line}, ${out[winner].action}) matches every packet it would, and the first match wins`,
      );
    }
    out.push({ action, match });
    indexes.push(i);
  });
  return out;
}

function manifest(r: Reader, node: YNode, key: string): CustomManifest | undefined {
  const keys = ['name', 'version', 'source', 'reads', 'writes', 'stateful', 'cyclesPerPacket', 'verdicts'];
  const e = r.map(node, key, keys, ['name', 'source', 'reads', 'writes', 'cyclesPerPacket']);
  if (!e) return undefined;
  const name = r.str(val(e, 'name'), sub(key, 'name'));
  const version = e.has('version') ? String(r.scalar(val(e, 'version'))) : '0.0.0';
  const source = r.str(val(e, 'source'), sub(key, 'source'));
  const reads = regions(r, val(e, 'reads'), sub(key, 'reads'));
  const writes = regions(r, val(e, 'writes'), sub(key, 'writes'));
  const stateful = e.has('stateful') ? r.bool(val(e, 'stateful'), sub(key, 'stateful')) : false;
  const cycles = r.int(val(e, 'cyclesPerPacket'), sub(key, 'cyclesPerPacket'), 1, 10_000_000);
  const verdicts = e.has('verdicts') ? strings(r, val(e, 'verdicts'), sub(key, 'verdicts'), false) : [];
  for (const v of verdicts ?? []) {
    if (v === 'pass' || v === 'drop')
      r.error(val(e, 'verdicts'), sub(key, 'verdicts'), `"${v}" is implicit; list only extra verdicts`);
  }
  if (!name || !source || !reads || !writes || stateful === undefined || !cycles || !verdicts)
    return undefined;
  return { name, version, source, reads, writes, stateful, cyclesPerPacket: cycles, verdicts };
}

/**
 * A manifest inline, or the path of a manifest file (YAML or JSON) relative to the graph file.
 * Problems inside a manifest file are reported at their place in that file; its `source` is
 * relative to the manifest and is rewritten relative to the graph file.
 */
function manifestFromNode(r: Reader, node: YNode, key: string): CustomManifest | undefined {
  const v = r.scalar(node);
  if (typeof v !== 'string') return manifest(r, node, key);
  const path = resolve(dirname(r.file), v);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    r.error(node, key, `cannot read the manifest file "${v}" (looked for ${path})`);
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const file = relative(process.cwd(), path) || path;
  const mr = new Reader(file, lines);
  for (const e of doc.errors)
    mr.error(mr.locAt(e.pos[0]), '(yaml)', `YAML syntax: ${e.message.split('\n')[0]}`);
  const m = doc.errors.length === 0 ? manifest(mr, doc.contents as YNode, TOP_LEVEL) : undefined;
  r.diagnostics.push(...mr.diagnostics);
  if (!m) return undefined;
  return { ...m, source: relative(dirname(r.file), resolve(dirname(path), m.source)) };
}

const SPECS: Record<NfType, ConfigSpec> = {
  firewall: {
    keys: ['rules', 'default', 'stateful'],
    required: ['rules'],
    parse: (r, e, key) => {
      const rules = firewallRules(r, val(e, 'rules'), sub(key, 'rules'));
      const def = e.has('default')
        ? r.oneOf(val(e, 'default'), sub(key, 'default'), ['allow', 'deny'] as const)
        : 'deny';
      const stateful = e.has('stateful') ? r.bool(val(e, 'stateful'), sub(key, 'stateful')) : false;
      if (!rules || !def || stateful === undefined) return undefined;
      return { rules, default: def, stateful };
    },
  },
  nat: {
    keys: ['publicIp', 'portRange', 'maxFlows'],
    required: ['publicIp'],
    parse: (r, e, key) => {
      const publicIp = ipString(r, val(e, 'publicIp'), sub(key, 'publicIp'));
      const portRange: PortRange | undefined = e.has('portRange')
        ? parsePortRange(r, val(e, 'portRange'), sub(key, 'portRange'))
        : { lo: 1024, hi: 65535 };
      const maxFlows = e.has('maxFlows')
        ? r.int(val(e, 'maxFlows'), sub(key, 'maxFlows'), 1, 1 << 24)
        : 65536;
      if (!publicIp || !portRange || !maxFlows) return undefined;
      return { publicIp, portRange, maxFlows };
    },
  },
  loadbalancer: {
    keys: ['vip', 'backends', 'tableSize', 'maxFlows'],
    required: ['vip', 'backends'],
    parse: (r, e, key) => {
      const vip = ipString(r, val(e, 'vip'), sub(key, 'vip'));
      const list = strings(r, val(e, 'backends'), sub(key, 'backends'), true);
      list?.forEach((b, i) => {
        if (!parseIp(b))
          r.error(val(e, 'backends'), sub(sub(key, 'backends'), i), `"${b}" is not an IP address`);
      });
      const tableSize = e.has('tableSize')
        ? r.int(val(e, 'tableSize'), sub(key, 'tableSize'), 3, 1 << 24)
        : 65537;
      if (tableSize !== undefined && !isPrime(tableSize)) {
        r.error(
          val(e, 'tableSize'),
          sub(key, 'tableSize'),
          `Maglev table size ${tableSize} must be a prime (e.g. 65537)`,
        );
      }
      const maxFlows = e.has('maxFlows')
        ? r.int(val(e, 'maxFlows'), sub(key, 'maxFlows'), 1, 1 << 24)
        : 65536;
      if (!vip || !list || !tableSize || !isPrime(tableSize) || !maxFlows) return undefined;
      return { vip, backends: list, tableSize, maxFlows };
    },
  },
  ids: {
    keys: ['patterns', 'inspectBytes'],
    required: ['patterns'],
    parse: (r, e, key) => {
      const patterns = strings(r, val(e, 'patterns'), sub(key, 'patterns'), true);
      const inspectBytes = e.has('inspectBytes')
        ? r.int(val(e, 'inspectBytes'), sub(key, 'inspectBytes'), 1, 9000)
        : 256;
      if (!patterns || !inspectBytes) return undefined;
      return { patterns, inspectBytes };
    },
  },
  ratelimiter: {
    keys: ['rate', 'burst', 'perFlow'],
    required: ['rate'],
    parse: (r, e, key) => {
      const rateBps = parseRate(r, val(e, 'rate'), sub(key, 'rate'));
      const burst = e.has('burst') ? parseSize(r, val(e, 'burst'), sub(key, 'burst')) : undefined;
      const perFlow = e.has('perFlow') ? r.bool(val(e, 'perFlow'), sub(key, 'perFlow')) : false;
      if (!rateBps || (e.has('burst') && !burst) || perFlow === undefined) return undefined;
      return { rateBps, burstBytes: burst ?? defaultBurst(rateBps), perFlow };
    },
  },
  monitor: {
    keys: ['perFlow'],
    required: [],
    parse: (r, e, key) => {
      const perFlow = e.has('perFlow') ? r.bool(val(e, 'perFlow'), sub(key, 'perFlow')) : false;
      return perFlow === undefined ? undefined : { perFlow };
    },
  },
  vlan: {
    keys: ['op', 'vid'],
    required: ['op'],
    parse: (r, e, key, at) => {
      const op = r.oneOf(val(e, 'op'), sub(key, 'op'), ['push', 'pop'] as const);
      if (op === 'push' && !e.has('vid'))
        r.error(at, key, 'missing required key "vid" (the VLAN id to push)');
      const vid = e.has('vid')
        ? r.int(val(e, 'vid'), sub(key, 'vid'), 1, 4094)
        : op === 'pop'
          ? 0
          : undefined;
      if (!op || vid === undefined) return undefined;
      return { op, vid };
    },
  },
  encap: {
    keys: ['srcMac', 'dstMac'],
    required: ['srcMac', 'dstMac'],
    parse: (r, e, key) => {
      const macs: string[] = [];
      for (const k of ['srcMac', 'dstMac']) {
        const s = r.str(val(e, k), sub(key, k));
        if (s !== undefined && !MAC.test(s))
          r.error(val(e, k), sub(key, k), `"${s}" is not a MAC address like 02:00:00:00:00:01`);
        else if (s !== undefined) macs.push(s.toLowerCase());
      }
      return macs.length === 2 ? { srcMac: macs[0], dstMac: macs[1] } : undefined;
    },
  },
  marker: {
    keys: ['dscp'],
    required: ['dscp'],
    parse: (r, e, key) => {
      const dscp = r.int(val(e, 'dscp'), sub(key, 'dscp'), 0, 63);
      return dscp === undefined ? undefined : { dscp };
    },
  },
  router: {
    keys: ['routes', 'defaultPort'],
    required: ['routes'],
    parse: (r, e, key) => {
      const k = sub(key, 'routes');
      const items = r.seq(val(e, 'routes'), k);
      if (!items) return undefined;
      const routes: Route[] = [];
      items.forEach((n, i) => {
        const rk = sub(k, i);
        const re = r.map(n, rk, ['prefix', 'port'], ['prefix', 'port']);
        if (!re) return;
        const prefix = re.has('prefix')
          ? parsePrefixNode(r, val(re, 'prefix'), sub(rk, 'prefix'))
          : undefined;
        const port = re.has('port') ? r.int(val(re, 'port'), sub(rk, 'port'), 0, 511) : undefined;
        if (prefix && port !== undefined) routes.push({ prefix, port });
      });
      const defaultPort = e.has('defaultPort')
        ? r.int(val(e, 'defaultPort'), sub(key, 'defaultPort'), 0, 511)
        : undefined;
      if (e.has('defaultPort') && defaultPort === undefined) return undefined;
      return defaultPort === undefined ? { routes } : { routes, defaultPort };
    },
  },
  macswap: { keys: [], required: [], parse: () => ({}) },
  custom: {
    keys: ['manifest', 'params'],
    required: ['manifest'],
    parse: (r, e, key) => {
      const m = manifestFromNode(r, val(e, 'manifest'), sub(key, 'manifest'));
      const pnode = val(e, 'params');
      let params: Record<string, unknown> = {};
      if (pnode !== undefined && pnode !== null) {
        const json: unknown = pnode.toJSON();
        if (typeof json !== 'object' || json === null || Array.isArray(json)) {
          r.error(pnode, sub(key, 'params'), 'must be a mapping of parameters');
          return undefined;
        }
        params = json as Record<string, unknown>;
      }
      return m ? { manifest: m, params } : undefined;
    },
  },
};

/** Parses an NF's `config:`; an absent config is an empty mapping (so defaults and required keys apply). */
export function parseNfConfig(
  r: Reader,
  type: NfType,
  node: YNode,
  key: string,
  at: YNode,
): NfConfig | undefined {
  const spec = SPECS[type];
  if (node === null || node === undefined) {
    if (spec.required.length > 0) {
      r.error(at, key, `a ${type} needs a config with ${spec.required.map((k) => `"${k}"`).join(', ')}`);
      return undefined;
    }
    return spec.parse(r, new Map(), key, at);
  }
  const e = r.map(node, key, spec.keys, spec.required);
  // A missing required key is reported once, by r.map; the value checks would only repeat it.
  if (!e || spec.required.some((k) => !e.has(k))) return undefined;
  const before = r.diagnostics.length;
  const cfg = spec.parse(r, e, key, node);
  return r.diagnostics.length === before ? cfg : undefined;
}
