/** P4_16 for the v1model architecture (BMv2 simple_switch): `program.p4`. */
import type { NicPipeline } from '../ir';
import { banner, type Flavor, idAnnotation, P4Writer } from './p4-source';
import { p4infoIds, type P4InfoIds } from './p4info';

/** v1model.p4 declares the typed counter<I>/meter<I> externs from this version on. */
export const V1MODEL_VERSION = 20200408;

const V1MODEL: Flavor = {
  std: (field) => `standard_metadata.${field}`,
  packetLength: () => 'standard_metadata.packet_length',
  stdRead: (field, width) =>
    width === 9 ? `standard_metadata.${field}` : `(bit<${width}>)standard_metadata.${field}`,
  // p4c names objects as program.p4 declares them; @id pins the ids any compiler assigns.
  annotate: (_name, id) => idAnnotation(id),
  keyAnnotation: () => '',
  drop: () => 'mark_to_drop(standard_metadata);',
  forward: (port) => `standard_metadata.egress_spec = ${port};`,
  counterDecl: (name, size) => `counter<bit<32>>(32w${size}, CounterType.packets_and_bytes) ${name};`,
  count: (counter, index) => `${counter}.count(${index});`,
  meterDecl: (name, size, unit) => `meter<bit<32>>(32w${size}, MeterType.${unit}) ${name};`,
  meter: (meter, index, result) => `${meter}.execute_meter(${index}, ${result});`,
};

export function emitV1Model(p: NicPipeline, source: string, ids: P4InfoIds = p4infoIds(p)): string {
  const w = new P4Writer(p, V1MODEL, ids);
  const out: string[] = [
    ...banner(p, 'v1model (BMv2 simple_switch)', source),
    '#include <core.p4>',
    // Typed counters and meters (counter<bit<32>>) are v1model's since this version; its header
    // falls back to the 2018 declarations unless the program asks.
    `#define V1MODEL_VERSION ${V1MODEL_VERSION}`,
    '#include <v1model.p4>',
    '',
    ...w.headerTypes(),
    ...w.errorDecl(),
    'parser MyParser(packet_in packet, out headers_t hdr, inout metadata_t meta,',
    '                inout standard_metadata_t standard_metadata) {',
    ...w.parserStates('packet'),
    '}',
    '',
    'control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {',
    '    apply { }',
    '}',
    '',
    `control ${p.control}(inout headers_t hdr, inout metadata_t meta,`,
    `${' '.repeat(p.control.length + 9)}inout standard_metadata_t standard_metadata) {`,
    ...w.externs(),
    ...w.actions(),
    ...w.tables(),
    '',
    '    apply {',
    ...w.apply(p.ingress, 2),
    '    }',
    '}',
    '',
    'control MyEgress(inout headers_t hdr, inout metadata_t meta,',
    '                 inout standard_metadata_t standard_metadata) {',
    '    apply { }',
    '}',
    '',
    '// The IPv4 header checksum is recomputed after any rewrite (DSCP marking, VLAN, NSH pop).',
    'control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) {',
    '    apply {',
    `        update_checksum(${w.cond(p.checksums[0].when)},`,
    `            { ${w.checksumFields()} },`,
    `            ${w.field(p.checksums[0].target)}, HashAlgorithm.csum16);`,
    '    }',
    '}',
    '',
    'control MyDeparser(packet_out packet, in headers_t hdr) {',
    '    apply {',
    ...p.deparse.map((h) => `        packet.emit(hdr.${h});`),
    '    }',
    '}',
    '',
    `V1Switch(MyParser(), MyVerifyChecksum(), ${p.control}(), MyEgress(), MyComputeChecksum(), MyDeparser()) main;`,
    '',
  ];
  return out.join('\n');
}
