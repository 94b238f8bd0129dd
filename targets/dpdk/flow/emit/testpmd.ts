/**
 * The rule set as testpmd commands (DPDK 22.11 testpmd's `flow create` syntax, and the meter
 * commands before them): what `nfp partition --target dpdk --nic NIC` writes, for an operator to
 * read or paste into testpmd on the same ports. Port numbers are the DPDK port ids in the order
 * the rule set lists its wire ports (wire port N of the pipeline is named in a comment).
 */
import { formatIp } from '../../../../partitioner/ip';
import type { FlowAction, FlowItem, FlowRuleSet, Masked } from '../ir';

function ipText(v: bigint, family: 4 | 6): string {
  return formatIp({ family, value: v });
}

function field(name: string, m: Masked | undefined, width: number, text: (v: bigint) => string): string[] {
  if (!m || m.mask === 0n) return [];
  const full = (1n << BigInt(width)) - 1n;
  return m.mask === full
    ? [`${name} is ${text(m.value)}`]
    : [`${name} spec ${text(m.value)} ${name} mask ${text(m.mask)}`];
}

const num = (v: bigint): string => v.toString();
const hex = (v: bigint): string => `0x${v.toString(16)}`;

export function itemText(it: FlowItem): string {
  const parts: string[] = [it.type];
  switch (it.type) {
    case 'eth':
      if (it.etherType !== undefined) parts.push(`type is 0x${it.etherType.toString(16).padStart(4, '0')}`);
      if (it.hasVlan !== undefined) parts.push(`has_vlan is ${it.hasVlan ? 1 : 0}`);
      break;
    case 'vlan':
      parts.push(...field('vid', it.vid, 12, num));
      break;
    case 'ipv4':
    case 'ipv6': {
      const fam = it.type === 'ipv4' ? 4 : 6;
      parts.push(...field('src', it.src, fam === 4 ? 32 : 128, (v) => ipText(v, fam)));
      parts.push(...field('dst', it.dst, fam === 4 ? 32 : 128, (v) => ipText(v, fam)));
      parts.push(...field('proto', it.proto, 8, num));
      // testpmd's IPv4 `tos` and IPv6 `tc` hold the whole byte: DSCP is its upper six bits.
      const byte = it.dscp ? { value: it.dscp.value << 2n, mask: it.dscp.mask << 2n } : undefined;
      parts.push(...field(fam === 4 ? 'tos' : 'tc', byte, 8, hex));
      if (it.type === 'ipv4') {
        parts.push(...field('version_ihl', it.versionIhl, 8, hex));
        parts.push(...field('fragment_offset', it.fragmentOffset, 16, hex));
      }
      break;
    }
    case 'tcp':
    case 'udp':
      parts.push(...field('src', it.srcPort, 16, num));
      parts.push(...field('dst', it.dstPort, 16, num));
      break;
    case 'icmp':
      break;
  }
  return parts.join(' ');
}

export function actionText(a: FlowAction): string {
  switch (a.type) {
    case 'jump':
      return `jump group ${a.group}`;
    case 'queue':
      return `queue index ${a.index}`;
    case 'mark':
      return `mark id ${a.id}`;
    case 'drop':
      return 'drop';
    case 'count':
      return `count identifier ${a.id}`;
    case 'meter':
      return `meter mtr_id ${a.id}`;
    case 'set_ipv4_dscp':
    case 'set_ipv6_dscp':
      return `${a.type} dscp ${a.dscp}`;
    case 'of_pop_vlan':
      return 'of_pop_vlan';
    case 'of_push_vlan':
      return `of_push_vlan ethertype 0x${a.ethertype.toString(16)}`;
    case 'of_set_vlan_vid':
      return `of_set_vlan_vid vlan_vid ${a.vid}`;
    case 'set_mac_src':
    case 'set_mac_dst':
      return `${a.type} mac_addr ${a.mac}`;
  }
}

export function emitTestpmd(rs: FlowRuleSet, source: string): string {
  const lines: string[] = [
    `# rte_flow rules for ${rs.nic}, from ${source} (nfp partition --target dpdk --nic ${rs.nic})`,
    `# DPDK port i is wire port ${rs.ports.map((p, i) => `${i}=${p}`).join(', ')}; MARK: the SPI of a host path,`,
    '# 0x800000|port: leave on that wire port, 0xffffff: run the software pipeline.',
  ];
  if (!rs.rules.length) {
    lines.push(`# no rules: ${rs.nic} runs the whole NIC half in software`);
    return `${lines.join('\n')}\n`;
  }
  if (rs.isolate) {
    lines.push('# flow isolation: only what a rule matches reaches the ports (issue while they are stopped)');
    for (let i = 0; i < rs.ports.length; i++) lines.push(`flow isolate ${i} 1`);
  }
  for (const m of rs.meters) {
    const port = rs.ports.indexOf(portOfMeter(rs, m.id));
    lines.push(`# meter ${m.id}: ${m.cell.meter}[${m.cell.index}], ${m.cir} bytes/s, burst ${m.cbs} bytes`);
    lines.push(`add port meter profile srtcm_rfc2697 ${port} ${m.id} ${m.cir} ${m.cbs} 0 0`);
    lines.push(`add port meter policy ${port} ${m.id} g_actions end y_actions end r_actions drop / end`);
    lines.push(`create port meter ${port} ${m.id} ${m.id} ${m.id} yes 0xffff 0 0`);
  }
  let last = '';
  for (const r of rs.rules) {
    if (r.origin.what !== last) lines.push(`# ${r.origin.what}`);
    last = r.origin.what;
    const attrs = [`flow create ${rs.ports.indexOf(r.port)}`];
    if (r.group) attrs.push(`group ${r.group}`);
    if (r.priority) attrs.push(`priority ${r.priority}`);
    lines.push(
      `${attrs.join(' ')} ingress pattern ${r.pattern.map(itemText).join(' / ')} / end actions ${r.actions.map(actionText).join(' / ')} / end`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The (one) wire port whose rules use meter `id`. */
export function portOfMeter(rs: FlowRuleSet, id: number): number {
  const r = rs.rules.find((x) => x.actions.some((a) => a.type === 'meter' && a.id === id));
  return r ? r.port : rs.ports[0];
}
