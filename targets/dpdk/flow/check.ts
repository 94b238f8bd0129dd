/**
 * Cross-checks of a rule set before anyone installs or writes it: the testpmd text says exactly
 * what the IR says (parsed back, rule by rule), and the rules stay within the NIC profile (items,
 * actions, priorities, MARK width, rules per port, queues). A failure is an internal error: the
 * lowering broke a promise, not the user.
 */
import { InternalError } from '../../../partitioner/errors';
import { parseIp } from '../../../partitioner/ip';
import type { NicCaps } from '../caps';
import type { FlowAction, FlowItem, FlowRuleSet, Masked } from './ir';
import { actionText, itemText } from './emit/testpmd';

const fail = (what: string): never => {
  throw new InternalError('targets/dpdk/flow', what);
};

/** Parses one `flow create` line of emitTestpmd's dialect back into pattern and actions. */
export function parseFlowCreate(line: string): {
  port: number;
  group: number;
  priority: number;
  pattern: FlowItem[];
  actions: FlowAction[];
} {
  const m =
    /^flow create (\d+)(?: group (\d+))?(?: priority (\d+))? ingress pattern (.*) \/ end actions (.*) \/ end$/.exec(
      line,
    );
  if (!m) return fail(`not a flow create line: ${line}`);
  const pattern = m[4].split(' / ').map(parseItem);
  const actions = m[5].split(' / ').map(parseAction);
  return { port: Number(m[1]), group: Number(m[2] ?? 0), priority: Number(m[3] ?? 0), pattern, actions };
}

function parseValue(text: string, kind: 'num' | 'ip4' | 'ip6'): bigint {
  if (kind === 'num') return BigInt(text);
  const a = parseIp(text);
  if (!a) return fail(`bad address ${text}`);
  return a.value;
}

function parseItem(text: string): FlowItem {
  const words = text.split(' ');
  const type = words[0] as FlowItem['type'];
  const fields = new Map<string, Masked>();
  let eth: { etherType?: number; hasVlan?: boolean } = {};
  const kindOf = (f: string): 'num' | 'ip4' | 'ip6' =>
    (f === 'src' || f === 'dst') && (type === 'ipv4' || type === 'ipv6')
      ? type === 'ipv4'
        ? 'ip4'
        : 'ip6'
      : 'num';
  for (let i = 1; i < words.length; i += 3) {
    const [f, op, v] = [words[i], words[i + 1], words[i + 2]];
    if (type === 'eth') {
      if (f === 'type') eth = { ...eth, etherType: Number(v) };
      else if (f === 'has_vlan') eth = { ...eth, hasVlan: v === '1' };
      continue;
    }
    const value = parseValue(v, kindOf(f));
    const cur = fields.get(f) ?? { value: 0n, mask: 0n };
    if (op === 'is') fields.set(f, { value, mask: -1n });
    else if (op === 'spec') fields.set(f, { ...cur, value });
    else if (op === 'mask') fields.set(f, { ...cur, mask: value });
  }
  const full = (f: string, width: number): Masked | undefined => {
    const x = fields.get(f);
    if (!x) return undefined;
    return { value: x.value, mask: x.mask === -1n ? (1n << BigInt(width)) - 1n : x.mask };
  };
  const dscp = (f: string): Masked | undefined => {
    const x = full(f, 8);
    return x ? { value: x.value >> 2n, mask: x.mask >> 2n } : undefined;
  };
  switch (type) {
    case 'eth':
      return { type, ...eth };
    case 'vlan':
      return { type, vid: full('vid', 12) ?? { value: 0n, mask: 0n } };
    case 'ipv4':
    case 'ipv6': {
      const w = type === 'ipv4' ? 32 : 128;
      return strip({
        type,
        src: full('src', w),
        dst: full('dst', w),
        proto: full('proto', 8),
        dscp: dscp(type === 'ipv4' ? 'tos' : 'tc'),
        ...(type === 'ipv4'
          ? { versionIhl: full('version_ihl', 8), fragmentOffset: full('fragment_offset', 16) }
          : {}),
      });
    }
    case 'tcp':
    case 'udp':
      return strip({ type, srcPort: full('src', 16), dstPort: full('dst', 16) });
    case 'icmp':
      return { type };
  }
  return fail(`unknown item ${text}`);
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function parseAction(text: string): FlowAction {
  const w = text.split(' ');
  switch (w[0]) {
    case 'jump':
      return { type: 'jump', group: Number(w[2]) };
    case 'queue':
      return { type: 'queue', index: Number(w[2]) };
    case 'mark':
      return { type: 'mark', id: Number(w[2]) };
    case 'drop':
      return { type: 'drop' };
    case 'count':
      return { type: 'count', id: Number(w[2]) };
    case 'meter':
      return { type: 'meter', id: Number(w[2]) };
    case 'set_ipv4_dscp':
    case 'set_ipv6_dscp':
      return { type: w[0], dscp: Number(w[2]) };
    case 'of_pop_vlan':
      return { type: 'of_pop_vlan' };
    case 'of_push_vlan':
      return { type: 'of_push_vlan', ethertype: Number(w[2]) };
    case 'of_set_vlan_vid':
      return { type: 'of_set_vlan_vid', vid: Number(w[2]) };
    case 'set_mac_src':
    case 'set_mac_dst':
      return { type: w[0], mac: w[2] };
  }
  return fail(`unknown action ${text}`);
}

/** Throws InternalError naming the first disagreement between the IR, the text and the profile. */
export function checkRuleSet(rs: FlowRuleSet, testpmd: string, caps: NicCaps): void {
  const lines = testpmd.split('\n').filter((l) => l.startsWith('flow create '));
  if (lines.length !== rs.rules.length)
    fail(`testpmd has ${lines.length} flow create lines for ${rs.rules.length} rules`);
  const perPort = new Map<number, number>();
  rs.rules.forEach((r, i) => {
    const back = parseFlowCreate(lines[i]);
    const same =
      back.port === rs.ports.indexOf(r.port) &&
      back.group === r.group &&
      back.priority === r.priority &&
      back.pattern.map(itemText).join(' / ') === r.pattern.map(itemText).join(' / ') &&
      back.actions.map(actionText).join(' / ') === r.actions.map(actionText).join(' / ') &&
      JSON.stringify(back.pattern, big) ===
        JSON.stringify(
          r.pattern.map((it) => ({ ...it })),
          big,
        );
    if (!same) fail(`rule ${i} (${r.origin.what}) reads back differently from testpmd: ${lines[i]}`);
    for (const it of r.pattern)
      if (!caps.items.includes(it.type)) fail(`rule ${i} uses item ${it.type}, which ${caps.name} lacks`);
    for (const a of r.actions) {
      if (!caps.actions.includes(a.type)) fail(`rule ${i} uses action ${a.type}, which ${caps.name} lacks`);
      if (a.type === 'mark' && a.id >= 2 ** caps.markBits)
        fail(`rule ${i}: MARK ${a.id} over ${caps.markBits} bits`);
      if (a.type === 'queue' && a.index >= caps.maxQueues)
        fail(`rule ${i}: queue ${a.index} over ${caps.maxQueues}`);
      if (a.type === 'count' && !rs.counters[a.id]) fail(`rule ${i}: counter ${a.id} is not declared`);
      if (a.type === 'meter' && !rs.meters[a.id]) fail(`rule ${i}: meter ${a.id} is not declared`);
    }
    if (r.priority >= caps.priorities)
      fail(`rule ${i}: priority ${r.priority} over ${caps.name}'s ${caps.priorities}`);
    if (r.group && !caps.actions.includes('jump'))
      fail(`rule ${i} is in group ${r.group} on a NIC without groups`);
    perPort.set(r.port, (perPort.get(r.port) ?? 0) + 1);
  });
  for (const [port, n] of perPort)
    if (n > caps.maxRules) fail(`port ${port} holds ${n} rules, over ${caps.maxRules}`);
}

const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString(16) : v);
