/**
 * An evaluator of rte_flow semantics (DPDK's rte_flow guide): what a NIC that installed a rule
 * set does to one frame arriving on a port. Rules are looked at group by group, starting in group
 * 0; within a group by priority (smaller first; among equal priorities, a NIC that cannot order
 * rules may take any, so the rule set must not depend on it: the first created wins here); the
 * first rule whose pattern matches applies its actions in order: COUNT, METER (red drops), header
 * rewrites, MARK, and a fate: QUEUE, DROP or JUMP (the next group matches the frame as rewritten).
 * A frame no rule of group 0 matches goes to the port's default queue 0 unmarked; a miss in
 * another group is a drop.
 *
 * The pattern semantics are the guide's: an item stack matches the frame's layers in order; ETH
 * without `type` and `has_vlan` matches tagged and untagged frames; a VLAN item matches a tagged
 * frame (its VID under the mask); L4 items need the L4 header (a first fragment).
 */
import {
  MARK_WIRE,
  type FlowAction,
  type FlowItem,
  type FlowRule,
  type FlowRuleSet,
  type Masked,
} from './ir';

export type FlowVerdict =
  | { kind: 'drop'; rule: FlowRule }
  | { kind: 'queue'; queue: number; mark?: number; frame: Buffer; rule: FlowRule }
  /** No rule matched in group 0: the port's default queue, unmarked. */
  | { kind: 'default'; frame: Buffer }
  /** A group with no matching rule after a JUMP. */
  | { kind: 'miss'; group: number };

interface Parsed {
  ethType: number;
  tagged: boolean;
  vid: number;
  l3?: {
    v: 4 | 6;
    off: number;
    src: bigint;
    dst: bigint;
    proto: number;
    dscp: number;
    firstFragment: boolean;
    /** IPv4: the first header byte, and flags with the fragment offset. */
    versionIhl: number;
    fragmentOffset: number;
  };
  l4?: { src: number; dst: number };
}

function parse(f: Buffer): Parsed {
  const p: Parsed = { ethType: f.length >= 14 ? f.readUInt16BE(12) : 0, tagged: false, vid: 0 };
  let off = 14;
  let type = p.ethType;
  if ((type === 0x8100 || type === 0x88a8) && f.length >= 18) {
    p.tagged = true;
    p.vid = f.readUInt16BE(14) & 0xfff;
    type = f.readUInt16BE(16);
    off = 18;
  }
  if (type === 0x0800 && f.length >= off + 20 && f[off] >> 4 === 4) {
    const ihl = (f[off] & 0x0f) * 4;
    const frag = f.readUInt16BE(off + 6) & 0x1fff;
    p.l3 = {
      v: 4,
      off,
      src: BigInt(f.readUInt32BE(off + 12)),
      dst: BigInt(f.readUInt32BE(off + 16)),
      proto: f[off + 9],
      dscp: f[off + 1] >> 2,
      firstFragment: frag === 0,
      versionIhl: f[off],
      fragmentOffset: f.readUInt16BE(off + 6),
    };
    const l4 = off + ihl;
    if (frag === 0 && (p.l3.proto === 6 || p.l3.proto === 17) && f.length >= l4 + 4)
      p.l4 = { src: f.readUInt16BE(l4), dst: f.readUInt16BE(l4 + 2) };
  } else if (type === 0x86dd && f.length >= off + 40) {
    const big = (o: number): bigint => BigInt(`0x${f.subarray(o, o + 16).toString('hex')}`);
    p.l3 = {
      v: 6,
      off,
      src: big(off + 8),
      dst: big(off + 24),
      proto: f[off + 6],
      dscp: (f.readUInt16BE(off) >> 6) & 0x3f,
      firstFragment: true,
      versionIhl: 0,
      fragmentOffset: 0,
    };
    const l4 = off + 40;
    if ((p.l3.proto === 6 || p.l3.proto === 17) && f.length >= l4 + 4)
      p.l4 = { src: f.readUInt16BE(l4), dst: f.readUInt16BE(l4 + 2) };
  }
  return p;
}

const fits = (m: Masked | undefined, v: bigint): boolean => !m || ((v ^ m.value) & m.mask) === 0n;

function itemMatches(it: FlowItem, p: Parsed): boolean {
  switch (it.type) {
    case 'eth':
      if (it.etherType !== undefined && p.ethType !== it.etherType) return false;
      return it.hasVlan === undefined || it.hasVlan === p.tagged;
    case 'vlan':
      return p.tagged && fits(it.vid, BigInt(p.vid));
    case 'ipv4':
      return (
        p.l3?.v === 4 &&
        fits(it.src, p.l3.src) &&
        fits(it.dst, p.l3.dst) &&
        fits(it.proto, BigInt(p.l3.proto)) &&
        fits(it.dscp, BigInt(p.l3.dscp)) &&
        fits(it.versionIhl, BigInt(p.l3.versionIhl)) &&
        fits(it.fragmentOffset, BigInt(p.l3.fragmentOffset))
      );
    case 'ipv6':
      return (
        p.l3?.v === 6 &&
        fits(it.src, p.l3.src) &&
        fits(it.dst, p.l3.dst) &&
        fits(it.proto, BigInt(p.l3.proto)) &&
        fits(it.dscp, BigInt(p.l3.dscp))
      );
    case 'tcp':
    case 'udp':
      return (
        p.l3?.proto === (it.type === 'tcp' ? 6 : 17) &&
        p.l4 !== undefined &&
        fits(it.srcPort, BigInt(p.l4.src)) &&
        fits(it.dstPort, BigInt(p.l4.dst))
      );
    case 'icmp':
      return p.l3?.proto === (p.l3?.v === 6 ? 58 : 1);
  }
}

export function patternMatches(pattern: FlowItem[], frame: Buffer): boolean {
  const p = parse(frame);
  return pattern.every((it) => itemMatches(it, p));
}

function ipv4Checksum(f: Buffer, off: number): void {
  const ihl = (f[off] & 0x0f) * 4;
  f.writeUInt16BE(0, off + 10);
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += f.readUInt16BE(off + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f.writeUInt16BE(~sum & 0xffff, off + 10);
}

/** Applies a header rewrite as the NIC does (an IPv4 header's checksum is updated). */
function rewrite(frame: Buffer, a: FlowAction): Buffer {
  const p = parse(frame);
  const f = Buffer.from(frame);
  switch (a.type) {
    case 'set_ipv4_dscp':
      if (p.l3?.v !== 4) return frame;
      f[p.l3.off + 1] = (a.dscp << 2) | (f[p.l3.off + 1] & 3);
      ipv4Checksum(f, p.l3.off);
      return f;
    case 'set_ipv6_dscp': {
      if (p.l3?.v !== 6) return frame;
      const w = f.readUInt32BE(p.l3.off);
      f.writeUInt32BE(((w & ~(0x3f << 22)) | (a.dscp << 22)) >>> 0, p.l3.off);
      return f;
    }
    case 'of_pop_vlan':
      return p.tagged ? Buffer.concat([frame.subarray(0, 12), frame.subarray(16)]) : frame;
    case 'of_push_vlan': {
      const tag = Buffer.alloc(4);
      tag.writeUInt16BE(a.ethertype, 0);
      return Buffer.concat([frame.subarray(0, 12), tag, frame.subarray(12)]);
    }
    case 'of_set_vlan_vid':
      if (
        !p.tagged &&
        !(frame.length >= 16 && (frame.readUInt16BE(12) === 0x8100 || frame.readUInt16BE(12) === 0x88a8))
      )
        return frame;
      f.writeUInt16BE((f.readUInt16BE(14) & 0xf000) | a.vid, 14);
      return f;
    case 'set_mac_src':
    case 'set_mac_dst':
      Buffer.from(a.mac.replace(/[:-]/g, ''), 'hex').copy(f, a.type === 'set_mac_dst' ? 0 : 6);
      return f;
    default:
      return frame;
  }
}

/** A token bucket per meter (srTCM with no excess burst): tokens in bytes, refilled by the clock. */
interface Bucket {
  tokens: number;
  at: number;
}

/** A NIC with `rules` installed on every port they name: counters and meters persist across frames. */
export class FlowEvaluator {
  /** Packets each flow counter counted. */
  readonly counts = new Map<number, number>();
  /** Red packets per meter. */
  readonly red = new Map<number, number>();
  private readonly buckets = new Map<number, Bucket>();
  private readonly byPortGroup = new Map<string, FlowRule[]>();

  constructor(private readonly rs: FlowRuleSet) {
    for (const r of rs.rules) {
      const key = `${r.port}/${r.group}`;
      const list = this.byPortGroup.get(key) ?? [];
      list.push(r);
      this.byPortGroup.set(key, list);
    }
    for (const list of this.byPortGroup.values()) list.sort((a, b) => a.priority - b.priority);
  }

  /** What the NIC does to `frame` arriving on wire port `port` at `nowNs`. */
  run(port: number, frame: Buffer, nowNs = 0): FlowVerdict {
    let group = 0;
    let f = frame;
    let mark: number | undefined;
    for (let hops = 0; hops < 64; hops++) {
      const rule = (this.byPortGroup.get(`${port}/${group}`) ?? []).find((r) => patternMatches(r.pattern, f));
      if (!rule) return group === 0 ? { kind: 'default', frame: f } : { kind: 'miss', group };
      let next: number | undefined;
      for (const a of rule.actions) {
        switch (a.type) {
          case 'count':
            this.counts.set(a.id, (this.counts.get(a.id) ?? 0) + 1);
            break;
          case 'meter':
            if (!this.green(a.id, f.length, nowNs)) {
              this.red.set(a.id, (this.red.get(a.id) ?? 0) + 1);
              return { kind: 'drop', rule };
            }
            break;
          case 'mark':
            mark = a.id;
            break;
          case 'drop':
            return { kind: 'drop', rule };
          case 'queue':
            return { kind: 'queue', queue: a.index, ...(mark !== undefined ? { mark } : {}), frame: f, rule };
          case 'jump':
            next = a.group;
            break;
          default:
            f = rewrite(f, a);
        }
      }
      if (next === undefined) return { kind: 'miss', group };
      group = next;
    }
    return { kind: 'miss', group };
  }

  /** NIC pipeline counter cells as the flow counters and meters add to them. */
  cells(): Map<string, number> {
    const out = new Map<string, number>();
    const add = (counter: string, index: number, n: number): void => {
      const k = `${counter}[${index}]`;
      out.set(k, (out.get(k) ?? 0) + n);
    };
    for (const [id, n] of this.counts) for (const c of this.rs.counters[id].cells) add(c.counter, c.index, n);
    for (const [id, n] of this.red) add(this.rs.dropCounter, this.rs.meters[id].redReason, n);
    return out;
  }

  private green(id: number, bytes: number, nowNs: number): boolean {
    const m = this.rs.meters[id];
    const b = this.buckets.get(id) ?? { tokens: m.cbs, at: nowNs };
    b.tokens = Math.min(m.cbs, b.tokens + ((nowNs - b.at) / 1e9) * m.cir);
    b.at = nowNs;
    this.buckets.set(id, b);
    if (b.tokens < bytes) return false;
    b.tokens -= bytes;
    return true;
  }
}

/** What a queued frame's MARK tells the software stage (as targets/softnic/engine/inline.cc decodes it). */
export function markMeaning(
  rs: FlowRuleSet,
  mark: number | undefined,
):
  | { kind: 'software' }
  | { kind: 'wire'; port: number }
  | { kind: 'host'; spi: number; tenant: number; si: number } {
  if (mark === undefined || mark === 0xffffff) return { kind: 'software' };
  if (mark & MARK_WIRE) return { kind: 'wire', port: mark & 0x1ff };
  const h = rs.hostPaths.find((x) => x.spi === mark);
  return h ? { kind: 'host', spi: h.spi, tenant: h.tenant, si: h.si } : { kind: 'software' };
}
