/**
 * The fixed part of every NIC pipeline: header layouts, the user metadata, the parser, the
 * deparser order, the IPv4 checksum update and the numbered drop reasons.
 */
import { MAX_FRAME_BYTES } from '../partitioner/frame';
import type {
  ChecksumUpdate,
  DropReason,
  Expr,
  FieldRef,
  HeaderInstance,
  HeaderType,
  ParserState,
} from './ir';

export { MAX_FRAME_BYTES };

export const ETHERTYPE_IPV4 = 0x0800n;
export const ETHERTYPE_IPV6 = 0x86ddn;
export const ETHERTYPE_VLAN = 0x8100n;
/** RFC 8300 NSH over Ethernet. */
export const ETHERTYPE_NSH = 0x894fn;
/** Stacked-tag TPIDs (802.1ad S-tag, and the older 0x9100): nfp's NIC takes one 802.1Q tag only. */
export const ETHERTYPE_QINQ = [0x88a8n, 0x9100n];
/** NSH next protocol "Experiment 1" (RFC 8300 registry): the inner EtherType is in the context TLV. */
export const NSH_NEXT_PROTO = 0xfen;
/** NSH MD type 2: variable-length context made of TLVs. */
export const NSH_MD_TYPE = 2n;
/** NSH length in 4-byte words: base (1) + service path (1) + one TLV header (1) + its 4-byte value (1). */
export const NSH_LENGTH_WORDS = 4n;
/** RFC 8300 recommends an initial TTL of 63. */
export const NSH_TTL = 63n;
/** nfp's metadata class (IANA "Experimental" range) and its one TLV type: tenant id + inner EtherType. */
export const NSH_MD_CLASS = 0xfff6n;
export const NSH_TLV_TENANT = 0x01n;
export const NSH_TLV_LEN = 4n;

export const PROTO_ICMP = 1n;
export const PROTO_TCP = 6n;
export const PROTO_UDP = 17n;
export const PROTO_ICMPV6 = 58n;

/** v1model/BMv2 meter colours. */
export const COLOR_RED = 2n;

export function f(instance: string, field: string): FieldRef {
  return { instance, field };
}

/**
 * The controller headers (P4Runtime packet I/O). A PacketOut arrives on the CPU port behind a
 * `packet_out` header: it leaves by `egress_port` as it is, or, when `submit_to_ingress` is not
 * 0, runs through the ingress pipeline as a wire packet from the CPU port. A packet the pipeline
 * sends to the CPU port gets a `packet_in` header with the port it arrived on. Each header is a
 * whole number of bytes, as BMv2 needs.
 */
export const PACKET_OUT_HEADER: HeaderType = {
  name: 'packet_out_header_t',
  controllerHeader: 'packet_out',
  fields: [
    { name: 'egress_port', width: 9 },
    { name: 'submit_to_ingress', width: 7 },
  ],
};

export const PACKET_IN_HEADER: HeaderType = {
  name: 'packet_in_header_t',
  controllerHeader: 'packet_in',
  fields: [
    { name: 'ingress_port', width: 9 },
    { name: '_pad', width: 7 },
  ],
};

const headerBytes = (h: HeaderType): number => h.fields.reduce((n, x) => n + x.width, 0) / 8;
/** The controller header in front of a PacketOut's frame; offsets into the frame skip it. */
const PACKET_OUT_BYTES = headerBytes(PACKET_OUT_HEADER);
const ETHERNET_BYTES = 14;

export const HEADER_TYPES: HeaderType[] = [
  PACKET_OUT_HEADER,
  PACKET_IN_HEADER,
  {
    name: 'ethernet_t',
    fields: [
      { name: 'dstAddr', width: 48 },
      { name: 'srcAddr', width: 48 },
      { name: 'etherType', width: 16 },
    ],
  },
  {
    // RFC 8300: base header, service path header, one MD type 2 context TLV.
    name: 'nsh_t',
    fields: [
      { name: 'ver', width: 2 },
      { name: 'oam', width: 1 },
      { name: 'u1', width: 1 },
      { name: 'ttl', width: 6 },
      { name: 'len', width: 6 },
      { name: 'u2', width: 4 },
      { name: 'mdType', width: 4 },
      { name: 'nextProto', width: 8 },
      { name: 'spi', width: 24 },
      { name: 'si', width: 8 },
      { name: 'mdClass', width: 16 },
      { name: 'tlvType', width: 8 },
      { name: 'u3', width: 1 },
      { name: 'tlvLen', width: 7 },
      { name: 'tenant', width: 16 },
      { name: 'etherType', width: 16 },
    ],
  },
  {
    name: 'vlan_t',
    fields: [
      { name: 'pcp', width: 3 },
      { name: 'dei', width: 1 },
      { name: 'vid', width: 12 },
      { name: 'etherType', width: 16 },
    ],
  },
  {
    name: 'ipv4_t',
    fields: [
      { name: 'version', width: 4 },
      { name: 'ihl', width: 4 },
      { name: 'dscp', width: 6 },
      { name: 'ecn', width: 2 },
      { name: 'totalLen', width: 16 },
      { name: 'identification', width: 16 },
      { name: 'flags', width: 3 },
      { name: 'fragOffset', width: 13 },
      { name: 'ttl', width: 8 },
      { name: 'protocol', width: 8 },
      { name: 'hdrChecksum', width: 16 },
      { name: 'srcAddr', width: 32 },
      { name: 'dstAddr', width: 32 },
    ],
  },
  {
    name: 'ipv6_t',
    fields: [
      { name: 'version', width: 4 },
      { name: 'dscp', width: 6 },
      { name: 'ecn', width: 2 },
      { name: 'flowLabel', width: 20 },
      { name: 'payloadLen', width: 16 },
      { name: 'nextHdr', width: 8 },
      { name: 'hopLimit', width: 8 },
      { name: 'srcAddr', width: 128 },
      { name: 'dstAddr', width: 128 },
    ],
  },
  {
    name: 'tcp_t',
    fields: [
      { name: 'srcPort', width: 16 },
      { name: 'dstPort', width: 16 },
      { name: 'seqNo', width: 32 },
      { name: 'ackNo', width: 32 },
      { name: 'dataOffset', width: 4 },
      { name: 'res', width: 4 },
      { name: 'flags', width: 8 },
      { name: 'window', width: 16 },
      { name: 'checksum', width: 16 },
      { name: 'urgentPtr', width: 16 },
    ],
  },
  {
    name: 'udp_t',
    fields: [
      { name: 'srcPort', width: 16 },
      { name: 'dstPort', width: 16 },
      { name: 'len', width: 16 },
      { name: 'checksum', width: 16 },
    ],
  },
  {
    name: 'icmp_t',
    fields: [
      // `type` is a P4_16 keyword, so the ICMP fields carry a prefix.
      { name: 'icmpType', width: 8 },
      { name: 'icmpCode', width: 8 },
      { name: 'checksum', width: 16 },
    ],
  },
  {
    // Per-packet state of the pipeline. The classification keys are copied here by the parser,
    // so NFs always match the packet as it arrived, whatever earlier stages rewrote.
    name: 'metadata_t',
    fields: [
      { name: 'tenant', width: 16 },
      { name: 'path', width: 24 },
      { name: 'from_host', width: 1 },
      { name: 'policed', width: 1 },
      { name: 'drop', width: 1 },
      { name: 'drop_reason', width: 8 },
      { name: 'exit_drop', width: 1 },
      { name: 'exit_reason', width: 8 },
      // The port the packet is sent to (PNA cannot read its output port back).
      { name: 'out_port', width: 9 },
      { name: 'color', width: 2 },
      { name: 'ip_ver', width: 4 },
      { name: 'ip_proto', width: 8 },
      { name: 'dscp', width: 6 },
      { name: 'vlan_id', width: 12 },
      { name: 'l4_src', width: 16 },
      { name: 'l4_dst', width: 16 },
      // What the parser found, for the checks of lengths and the IP-aware NFs.
      { name: 'frame_len', width: 32 },
      { name: 'l3_off', width: 16 },
      { name: 'l4_len', width: 16 },
      { name: 'ip_fault', width: 8 },
    ],
  },
  {
    // The v1model intrinsic metadata, as v1model.p4 declares it (only some fields are used).
    name: 'standard_metadata_t',
    fields: [
      { name: 'ingress_port', width: 9 },
      { name: 'egress_spec', width: 9 },
      { name: 'egress_port', width: 9 },
      { name: 'instance_type', width: 32 },
      { name: 'packet_length', width: 32 },
      { name: 'enq_timestamp', width: 32 },
      { name: 'enq_qdepth', width: 19 },
      { name: 'deq_timedelta', width: 32 },
      { name: 'deq_qdepth', width: 19 },
      { name: 'ingress_global_timestamp', width: 48 },
      { name: 'egress_global_timestamp', width: 48 },
      { name: 'mcast_grp', width: 16 },
      { name: 'egress_rid', width: 16 },
      { name: 'checksum_error', width: 1 },
      { name: 'parser_error', width: 32 },
      { name: 'priority', width: 3 },
    ],
  },
];

/** Packet headers in wire order, then the metadata instances. */
export const INSTANCES: HeaderInstance[] = [
  { name: 'packet_out', type: 'packet_out_header_t', metadata: false },
  { name: 'packet_in', type: 'packet_in_header_t', metadata: false },
  { name: 'ethernet', type: 'ethernet_t', metadata: false },
  { name: 'nsh', type: 'nsh_t', metadata: false },
  { name: 'vlan', type: 'vlan_t', metadata: false },
  { name: 'ipv4', type: 'ipv4_t', metadata: false },
  { name: 'ipv6', type: 'ipv6_t', metadata: false },
  { name: 'tcp', type: 'tcp_t', metadata: false },
  { name: 'udp', type: 'udp_t', metadata: false },
  { name: 'icmp', type: 'icmp_t', metadata: false },
  { name: 'meta', type: 'metadata_t', metadata: true },
  { name: 'std', type: 'standard_metadata_t', metadata: true },
];

/** The deparser emits packet_in (when valid) in front; packet_out never leaves the NIC. */
export const DEPARSE_ORDER: string[] = INSTANCES.filter((i) => !i.metadata && i.name !== 'packet_out').map(
  (i) => i.name,
);

/** The NIC's drop reasons; code 0 means "not dropped". Deploy reports drops by these names. */
export const DROP_REASONS: DropReason[] = [
  { code: 1, name: 'no-tenant', description: 'wire packet matched no tenant slice' },
  { code: 2, name: 'nsh-on-wire', description: 'wire packet already carried NSH (never trusted)' },
  { code: 3, name: 'acl-deny', description: 'denied by an offloaded firewall ACL' },
  { code: 4, name: 'meter-red', description: 'over a rate limit (meter colour red)' },
  { code: 5, name: 'no-route', description: 'offloaded router found no route and has no default' },
  { code: 6, name: 'graph-drop', description: "the path ends in the service graph's drop node" },
  { code: 7, name: 'no-edge', description: 'no out-edge of an NF matched the packet' },
  { code: 8, name: 'no-path', description: 'packet matched no path rule of its tenant' },
  { code: 9, name: 'bad-spi', description: 'packet from the host carried an unknown SPI or wrong tenant' },
  { code: 10, name: 'no-nsh-from-host', description: 'packet from a host port carried no NSH' },
  {
    code: 11,
    name: 'bad-packet-out',
    description: 'a controller PacketOut named a port the NIC does not have',
  },
  {
    code: 12,
    name: 'malformed',
    description: 'a header cut short or with lying lengths (the parser stopped)',
  },
  { code: 13, name: 'oversize', description: `wire frame longer than ${MAX_FRAME_BYTES} bytes` },
  { code: 14, name: 'qinq', description: 'stacked VLAN tags (QinQ): the NIC takes one 802.1Q tag' },
  { code: 15, name: 'not-ipv4', description: 'an IP-aware NF got a packet that is not IPv4' },
  { code: 16, name: 'fragment', description: 'an IP-aware NF got an IPv4 fragment' },
  { code: 17, name: 'ip-options', description: 'an IP-aware NF got IPv4 with options' },
];

function dropCodeOf(name: string): number {
  const r = DROP_REASONS.find((d) => d.name === name);
  if (!r) throw new Error(`no drop reason ${name}`);
  return r.code;
}

const copy = (metaField: string, instance: string, field: string): { dst: FieldRef; src: Expr } => ({
  dst: f('meta', metaField),
  src: { kind: 'field', ref: f(instance, field) },
});
const num = (value: number | bigint): Expr => ({ kind: 'const', value: BigInt(value) });
const fe = (instance: string, field: string): Expr => ({ kind: 'field', ref: f(instance, field) });
const setTo = (metaField: string, src: Expr): { dst: FieldRef; src: Expr } => ({
  dst: f('meta', metaField),
  src,
});
const le = (a: Expr, b: Expr): Expr => ({ kind: 'le', a, b });
const ge = (a: Expr, b: Expr): Expr => ({ kind: 'ge', a, b });
const add = (a: Expr, b: Expr): Expr => ({ kind: 'add', a, b });
const mul = (a: Expr, b: Expr): Expr => ({ kind: 'mul', a, b });
const all = (...args: Expr[]): Expr => ({ kind: 'and', args });
/** The EtherType (or TPID) in `type` is not a stacked VLAN tag (`inTag`: 0x8100 counts too). */
const notStacked = (type: Expr, inTag: boolean): Expr =>
  all(
    ...[...ETHERTYPE_QINQ, ...(inTag ? [ETHERTYPE_VLAN] : [])].map(
      (t) => ({ kind: 'ne', a: type, b: num(t) }) as Expr,
    ),
  );

/** The program's own parser errors; any parser error drops the packet (see DROP_REASONS). */
export const PARSER_ERRORS = ['VlanStack', 'IPv4BadHeader', 'IPv4BadLength', 'IPv6BadLength', 'L4BadLength'];

const l3Cases = (): Array<{ values: bigint[]; next: string }> => [
  { values: [ETHERTYPE_VLAN], next: 'parse_vlan' },
  { values: [ETHERTYPE_IPV4], next: 'parse_ipv4' },
  { values: [ETHERTYPE_IPV6], next: 'parse_ipv6' },
];

const l4Cases = (udp: string): Array<{ values: bigint[]; next: string }> => [
  { values: [PROTO_TCP], next: 'parse_tcp' },
  { values: [PROTO_UDP], next: udp },
  { values: [PROTO_ICMP], next: 'parse_icmp' },
];

/**
 * The parser reads a frame as partitioner/frame.ts says the NIC reads it. A packet from the CPU
 * port starts with the `packet_out` header, which the frame's offsets and length leave out. NSH
 * sits right after the outer Ethernet header, before any VLAN tag; the EtherType it displaced
 * travels in its context TLV, so the parser continues from there. One 802.1Q tag is taken; a
 * stacked one stops the parser (VlanStack). Every length is checked against the frame and the
 * enclosing header, so a header cut short or a lying length stops it too (PacketTooShort or the
 * program's errors), and the ingress drops what the parser could not read. `meta.ip_fault` says
 * what IP-aware NFs think of the packet: 0 for unfragmented IPv4 without options, else the drop
 * reason's code.
 */
export function parserStates(cpuPort: number): ParserState[] {
  return [
    {
      name: 'start',
      sets: [setTo('frame_len', { kind: 'packetLength' }), setTo('l3_off', num(ETHERNET_BYTES))],
      select: {
        keys: [f('std', 'ingress_port')],
        cases: [{ values: [BigInt(cpuPort)], next: 'parse_packet_out' }],
        default: 'parse_ethernet',
      },
    },
    {
      name: 'parse_packet_out',
      extract: 'packet_out',
      sets: [
        setTo('frame_len', { kind: 'sub', a: { kind: 'packetLength' }, b: num(PACKET_OUT_BYTES) }),
        setTo('l3_off', num(PACKET_OUT_BYTES + ETHERNET_BYTES)),
      ],
      next: 'parse_ethernet',
    },
    ...PARSER,
  ];
}

const PARSER: ParserState[] = [
  {
    name: 'parse_ethernet',
    extract: 'ethernet',
    checks: [{ cond: notStacked(fe('ethernet', 'etherType'), false), error: 'VlanStack' }],
    sets: [setTo('ip_fault', num(dropCodeOf('not-ipv4')))],
    select: {
      keys: [f('ethernet', 'etherType')],
      cases: [{ values: [ETHERTYPE_NSH], next: 'parse_nsh' }, ...l3Cases()],
      default: 'accept',
    },
  },
  {
    name: 'parse_nsh',
    extract: 'nsh',
    checks: [{ cond: notStacked(fe('nsh', 'etherType'), false), error: 'VlanStack' }],
    sets: [setTo('l3_off', add(fe('meta', 'l3_off'), num(16)))],
    select: { keys: [f('nsh', 'etherType')], cases: l3Cases(), default: 'accept' },
  },
  {
    name: 'parse_vlan',
    extract: 'vlan',
    checks: [{ cond: notStacked(fe('vlan', 'etherType'), true), error: 'VlanStack' }],
    sets: [copy('vlan_id', 'vlan', 'vid'), setTo('l3_off', add(fe('meta', 'l3_off'), num(4)))],
    select: {
      keys: [f('vlan', 'etherType')],
      cases: l3Cases().filter((c) => c.next !== 'parse_vlan'),
      default: 'accept',
    },
  },
  {
    name: 'parse_ipv4',
    extract: 'ipv4',
    checks: [
      {
        cond: all({ kind: 'eq', a: fe('ipv4', 'version'), b: num(4) }, ge(fe('ipv4', 'ihl'), num(5))),
        error: 'IPv4BadHeader',
      },
      {
        cond: all(
          ge(fe('ipv4', 'totalLen'), mul(fe('ipv4', 'ihl'), num(4))),
          le(add(fe('ipv4', 'totalLen'), fe('meta', 'l3_off')), { kind: 'packetLength' }),
        ),
        error: 'IPv4BadLength',
      },
    ],
    sets: [
      { dst: f('meta', 'ip_ver'), src: num(4) },
      copy('ip_proto', 'ipv4', 'protocol'),
      copy('dscp', 'ipv4', 'dscp'),
      setTo('l4_len', { kind: 'sub', a: fe('ipv4', 'totalLen'), b: mul(fe('ipv4', 'ihl'), num(4)) }),
    ],
    // The L4 header is where we look for it only without options; the first fragment has it.
    // Keys: IHL, MF (the low flag bit), fragment offset.
    select: {
      keys: [f('ipv4', 'ihl'), f('ipv4', 'flags'), f('ipv4', 'fragOffset')],
      cases: [
        { values: [5n, 0n, 0n], masks: [0xfn, 1n, 0x1fffn], next: 'parse_ipv4_whole' },
        { values: [5n, 1n, 0n], masks: [0xfn, 1n, 0x1fffn], next: 'parse_ipv4_first_fragment' },
        { values: [5n, 0n, 0n], masks: [0xfn, 0n, 0n], next: 'parse_ipv4_fragment' },
      ],
      default: 'parse_ipv4_options',
    },
  },
  {
    name: 'parse_ipv4_whole',
    sets: [setTo('ip_fault', num(0))],
    select: { keys: [f('ipv4', 'protocol')], cases: l4Cases('parse_udp'), default: 'accept' },
  },
  {
    // A first fragment carries the L4 header (so its ports classify) but not the whole datagram.
    name: 'parse_ipv4_first_fragment',
    sets: [setTo('ip_fault', num(dropCodeOf('fragment')))],
    select: { keys: [f('ipv4', 'protocol')], cases: l4Cases('parse_udp_first_fragment'), default: 'accept' },
  },
  { name: 'parse_ipv4_fragment', sets: [setTo('ip_fault', num(dropCodeOf('fragment')))], next: 'accept' },
  { name: 'parse_ipv4_options', sets: [setTo('ip_fault', num(dropCodeOf('ip-options')))], next: 'accept' },
  {
    name: 'parse_ipv6',
    extract: 'ipv6',
    checks: [
      {
        cond: all(
          { kind: 'eq', a: fe('ipv6', 'version'), b: num(6) },
          le(add(add(fe('ipv6', 'payloadLen'), num(40)), fe('meta', 'l3_off')), { kind: 'packetLength' }),
        ),
        error: 'IPv6BadLength',
      },
    ],
    sets: [
      { dst: f('meta', 'ip_ver'), src: num(6) },
      copy('ip_proto', 'ipv6', 'nextHdr'),
      copy('dscp', 'ipv6', 'dscp'),
      copy('l4_len', 'ipv6', 'payloadLen'),
    ],
    select: {
      keys: [f('ipv6', 'nextHdr')],
      cases: [
        { values: [PROTO_TCP], next: 'parse_tcp' },
        { values: [PROTO_UDP], next: 'parse_udp' },
        { values: [PROTO_ICMPV6], next: 'parse_icmp' },
      ],
      default: 'accept',
    },
  },
  {
    name: 'parse_tcp',
    extract: 'tcp',
    checks: [
      {
        cond: all(
          ge(fe('tcp', 'dataOffset'), num(5)),
          le(mul(fe('tcp', 'dataOffset'), num(4)), fe('meta', 'l4_len')),
        ),
        error: 'L4BadLength',
      },
    ],
    sets: [copy('l4_src', 'tcp', 'srcPort'), copy('l4_dst', 'tcp', 'dstPort')],
    next: 'accept',
  },
  {
    name: 'parse_udp',
    extract: 'udp',
    checks: [
      {
        cond: all(ge(fe('udp', 'len'), num(8)), le(fe('udp', 'len'), fe('meta', 'l4_len'))),
        error: 'L4BadLength',
      },
    ],
    sets: [copy('l4_src', 'udp', 'srcPort'), copy('l4_dst', 'udp', 'dstPort')],
    next: 'accept',
  },
  {
    // The UDP length covers the whole datagram, of which this fragment holds the start.
    name: 'parse_udp_first_fragment',
    extract: 'udp',
    checks: [
      { cond: all(ge(fe('udp', 'len'), num(8)), ge(fe('meta', 'l4_len'), num(8))), error: 'L4BadLength' },
    ],
    sets: [copy('l4_src', 'udp', 'srcPort'), copy('l4_dst', 'udp', 'dstPort')],
    next: 'accept',
  },
  {
    name: 'parse_icmp',
    extract: 'icmp',
    checks: [{ cond: ge(fe('meta', 'l4_len'), num(8)), error: 'L4BadLength' }],
    sets: [],
    next: 'accept',
  },
];

export const IPV4_CHECKSUM: ChecksumUpdate = {
  target: f('ipv4', 'hdrChecksum'),
  inputs: [
    'version',
    'ihl',
    'dscp',
    'ecn',
    'totalLen',
    'identification',
    'flags',
    'fragOffset',
    'ttl',
    'protocol',
    'srcAddr',
    'dstAddr',
  ].map((x) => f('ipv4', x)),
  // The sum covers the 20-byte header only, so a header with options keeps the sum it came with.
  when: {
    kind: 'and',
    args: [
      { kind: 'valid', header: 'ipv4' },
      { kind: 'eq', field: f('ipv4', 'ihl'), value: 5n },
    ],
  },
};

export function dropCode(name: string): number {
  const r = DROP_REASONS.find((d) => d.name === name);
  return r ? r.code : dropCode('graph-drop');
}
