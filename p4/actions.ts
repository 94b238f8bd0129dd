/**
 * The actions of the NIC pipeline. Shared actions take their values as parameters (from table
 * entries or const default actions); per-NF actions exist only where a primitive names a
 * specific counter or meter.
 */
import {
  ETHERTYPE_NSH,
  ETHERTYPE_VLAN,
  f,
  NSH_LENGTH_WORDS,
  NSH_MD_CLASS,
  NSH_MD_TYPE,
  NSH_NEXT_PROTO,
  NSH_TLV_LEN,
  NSH_TLV_TENANT,
  NSH_TTL,
} from './headers';
import type { Action, Op, Operand } from './ir';

const c = (value: bigint): Operand => ({ kind: 'const', value });
const p = (name: string): Operand => ({ kind: 'param', name });
const fld = (instance: string, field: string): Operand => ({ kind: 'field', ref: f(instance, field) });
const set = (instance: string, field: string, src: Operand): Op => ({
  op: 'assign',
  dst: f(instance, field),
  src,
});

const markDropOps = (reason: Operand): Op[] => [
  set('meta', 'drop', c(1n)),
  set('meta', 'drop_reason', reason),
];

/** Sends the packet out of `port`, remembering the port for the controller check at the end. */
const forward = (port: Operand): Op[] => [{ op: 'forward', port }, set('meta', 'out_port', port)];

/** A path ending in a drop: remembered, and taken once the path's NIC NFs ran. */
const exitDropOps = (reason: Operand): Op[] => [
  set('meta', 'exit_drop', c(1n)),
  set('meta', 'exit_reason', reason),
];

/** Pushes NSH after the outer Ethernet header; SPI = the path, SI = host hops, tenant in the TLV. */
const pushNsh: Op[] = [
  { op: 'setValid', header: 'nsh' },
  set('nsh', 'ver', c(0n)),
  set('nsh', 'oam', c(0n)),
  set('nsh', 'u1', c(0n)),
  set('nsh', 'ttl', c(NSH_TTL)),
  set('nsh', 'len', c(NSH_LENGTH_WORDS)),
  set('nsh', 'u2', c(0n)),
  set('nsh', 'mdType', c(NSH_MD_TYPE)),
  set('nsh', 'nextProto', c(NSH_NEXT_PROTO)),
  set('nsh', 'spi', fld('meta', 'path')),
  set('nsh', 'si', p('si')),
  set('nsh', 'mdClass', c(NSH_MD_CLASS)),
  set('nsh', 'tlvType', c(NSH_TLV_TENANT)),
  set('nsh', 'u3', c(0n)),
  set('nsh', 'tlvLen', c(NSH_TLV_LEN)),
  set('nsh', 'tenant', fld('meta', 'tenant')),
  set('nsh', 'etherType', fld('ethernet', 'etherType')),
  set('ethernet', 'etherType', c(ETHERTYPE_NSH)),
];

/** Pops NSH, restoring the EtherType it displaced. */
const popNsh: Op[] = [
  set('ethernet', 'etherType', fld('nsh', 'etherType')),
  { op: 'setInvalid', header: 'nsh' },
];

const enterReturnPath: Op[] = [set('meta', 'path', p('path')), set('meta', 'tenant', fld('nsh', 'tenant'))];

/** Shared actions, by name. Widths: port 9 (v1model), tenant 16, path 24 (the SPI). */
export const SHARED_ACTIONS: Record<string, Action> = {
  NoAction: { name: 'NoAction', params: [], ops: [], comment: 'core library: do nothing' },
  mark_drop: {
    name: 'mark_drop',
    params: [{ name: 'reason', width: 8 }],
    ops: markDropOps(p('reason')),
    comment: 'drop at the end of ingress, counted under `reason` (see the drop reason table)',
  },
  drop_ip_fault: {
    name: 'drop_ip_fault',
    params: [],
    ops: markDropOps(fld('meta', 'ip_fault')),
    comment:
      'an IP-aware NF takes only unfragmented IPv4 without options: drop under the fault the parser found',
  },
  drop_and_count: {
    name: 'drop_and_count',
    params: [],
    ops: [{ op: 'drop' }, { op: 'count', counter: 'drop_reasons', index: fld('meta', 'drop_reason') }],
    comment: 'the one place packets are dropped; counts each drop by reason',
  },
  send_packet_out: {
    name: 'send_packet_out',
    params: [{ name: 'port', width: 9 }],
    ops: forward(p('port')),
    comment: 'a controller PacketOut: out of the port its packet_out header names, unchanged',
  },
  push_packet_in: {
    name: 'push_packet_in',
    params: [],
    ops: [
      { op: 'setValid', header: 'packet_in' },
      set('packet_in', 'ingress_port', fld('std', 'ingress_port')),
      set('packet_in', '_pad', c(0n)),
    ],
    comment: 'to the controller: a packet_in header in front says where the packet came in',
  },
  from_host: {
    name: 'from_host',
    params: [],
    ops: [set('meta', 'from_host', c(1n))],
    comment: 'the packet came back from the host; only such packets may carry NSH',
  },
  set_tenant: {
    name: 'set_tenant',
    params: [
      { name: 'tenant', width: 16 },
      { name: 'policed', width: 1 },
    ],
    ops: [set('meta', 'tenant', p('tenant')), set('meta', 'policed', p('policed'))],
    comment: "the packet belongs to `tenant`; `policed` when the tenant's rate limit applies",
  },
  police_tenant: {
    name: 'police_tenant',
    params: [],
    ops: [{ op: 'meter', meter: 'tenant_meter', index: fld('meta', 'tenant'), result: f('meta', 'color') }],
    comment: "meters the tenant's aggregate rate",
  },
  set_path: {
    name: 'set_path',
    params: [{ name: 'path', width: 24 }],
    ops: [set('meta', 'path', p('path'))],
    comment: 'the packet follows service path `path`',
  },
  to_host: {
    name: 'to_host',
    params: [
      { name: 'port', width: 9 },
      { name: 'si', width: 8 },
    ],
    ops: [...pushNsh, ...forward(p('port'))],
    comment: "push NSH (SPI = path, SI = host hops, tenant in the context) and send to the path's host port",
  },
  to_wire: {
    name: 'to_wire',
    params: [{ name: 'port', width: 9 }],
    ops: forward(p('port')),
    comment: 'fully offloaded path: straight to its wire port, never to the host',
  },
  return_to_wire: {
    name: 'return_to_wire',
    params: [
      { name: 'path', width: 24 },
      { name: 'port', width: 9 },
    ],
    ops: [...enterReturnPath, ...popNsh, ...forward(p('port'))],
    comment: 'back from the host on `path`: pop NSH and forward to the wire',
  },
  return_drop: {
    name: 'return_drop',
    params: [
      { name: 'path', width: 24 },
      { name: 'reason', width: 8 },
    ],
    ops: [...enterReturnPath, ...popNsh, ...exitDropOps(p('reason'))],
    comment: 'back from the host on a path that ends in drop (taken after its NIC stages)',
  },
  exit_drop: {
    name: 'exit_drop',
    params: [{ name: 'reason', width: 8 }],
    ops: exitDropOps(p('reason')),
    comment: "the path ends in a drop, taken after its NIC stages: an NF's own drop comes first",
  },
  take_exit_drop: {
    name: 'take_exit_drop',
    params: [],
    ops: markDropOps(fld('meta', 'exit_reason')),
    comment: 'the end of a path that ends in a drop',
  },
  acl_permit: {
    name: 'acl_permit',
    params: [],
    ops: [],
    comment: 'an offloaded firewall lets the packet through',
  },
  vlan_push: {
    name: 'vlan_push',
    params: [{ name: 'vid', width: 12 }],
    ops: [
      { op: 'setValid', header: 'vlan' },
      set('vlan', 'pcp', c(0n)),
      set('vlan', 'dei', c(0n)),
      set('vlan', 'vid', p('vid')),
      set('vlan', 'etherType', fld('ethernet', 'etherType')),
      set('ethernet', 'etherType', c(ETHERTYPE_VLAN)),
      set('meta', 'vlan_id', p('vid')),
    ],
    comment: 'push an 802.1Q tag (later stages match the new VID)',
  },
  vlan_set_vid: {
    name: 'vlan_set_vid',
    params: [{ name: 'vid', width: 12 }],
    ops: [set('vlan', 'vid', p('vid')), set('meta', 'vlan_id', p('vid'))],
    comment: 'rewrite the VID of the existing 802.1Q tag',
  },
  vlan_pop: {
    name: 'vlan_pop',
    params: [],
    ops: [
      set('ethernet', 'etherType', fld('vlan', 'etherType')),
      { op: 'setInvalid', header: 'vlan' },
      set('meta', 'vlan_id', c(0n)),
    ],
    comment: 'pop the 802.1Q tag',
  },
  set_dscp: {
    name: 'set_dscp',
    params: [{ name: 'dscp', width: 6 }],
    ops: [set('ipv4', 'dscp', p('dscp')), set('ipv6', 'dscp', p('dscp')), set('meta', 'dscp', p('dscp'))],
    comment: 'DSCP marking (the IPv4 checksum is recomputed at the end; later stages match the new DSCP)',
  },
  rewrite_macs: {
    name: 'rewrite_macs',
    params: [
      { name: 'src', width: 48 },
      { name: 'dst', width: 48 },
    ],
    ops: [set('ethernet', 'srcAddr', p('src')), set('ethernet', 'dstAddr', p('dst'))],
    comment: 'encap: rewrite the outer Ethernet addresses',
  },
  set_egress: {
    name: 'set_egress',
    params: [{ name: 'port', width: 9 }],
    ops: forward(p('port')),
    comment: 'offloaded router: the route chose this port',
  },
};

export function countAction(name: string, counter: string, comment: string): Action {
  return { name, params: [], ops: [{ op: 'count', counter, index: fld('meta', 'path') }], comment };
}

export function meterAction(name: string, meter: string, comment: string): Action {
  return {
    name,
    params: [],
    ops: [{ op: 'meter', meter, index: c(0n), result: f('meta', 'color') }],
    comment,
  };
}
