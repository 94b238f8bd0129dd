/**
 * P4_16 for the Portable NIC Architecture (`program.pna.p4`), using the main blocks p4c's pna.p4
 * declares: PNA_NIC(main_parser, pre_control, main_control, main_deparser). Table and action
 * names are those of program.p4; only the intrinsics differ (input port, drop, send_to_port).
 */
import { InternalError } from '../../partitioner/errors';
import type { NicPipeline } from '../ir';
import { banner, type Flavor, idAnnotation, P4Writer } from './p4-source';
import { p4infoIds, type P4InfoIds } from './p4info';

const std = (field: string): string => {
  if (field === 'ingress_port') return 'istd.input_port';
  if (field === 'parser_error') return 'istd.parser_error';
  throw new InternalError('p4/emit/pna', `PNA has no intrinsic for ${field}`);
};

const PNA: Flavor = {
  std,
  packetLength: (pkt) => `${pkt}.length()`,
  // PortId_t is a `type` over PortIdUint_t: cast to that, then to the IR width.
  stdRead: (field, width) => `(bit<${width}>)(PortIdUint_t)${std(field)}`,
  // The objects live in MainControlImpl here; @name gives them program.p4's names, @id its ids.
  annotate: (name, id) => `@name(".${name}") ${idAnnotation(id)}`,
  keyAnnotation: (field) => `@name("standard_metadata.${field}")`,
  drop: () => 'drop_packet();',
  forward: (port) => `send_to_port((PortId_t)(bit<32>)${port});`,
  counterDecl: (name, size) =>
    `Counter<bit<64>, bit<32>>(32w${size}, PNA_CounterType_t.PACKETS_AND_BYTES) ${name};`,
  count: (counter, index) => `${counter}.count(${index});`,
  meterDecl: (name, size, unit) =>
    `Meter<bit<32>>(32w${size}, PNA_MeterType_t.${unit.toUpperCase()}) ${name};`,
  meter: (meter, index, result, width) =>
    `${result} = (${meter}.execute(${index}) == PNA_MeterColor_t.RED) ? ${width}w2 : ${width}w0;`,
};

export const PNA_CONTROL = 'MainControlImpl';

export function emitPna(pipeline: NicPipeline, source: string, ids: P4InfoIds = p4infoIds(pipeline)): string {
  const p: NicPipeline = { ...pipeline, control: PNA_CONTROL };
  const w = new P4Writer(p, PNA, ids, pipeline.control);
  const ck = p.checksums[0];
  const out: string[] = [
    ...banner(p, 'PNA (Portable NIC Architecture)', source),
    '#include <core.p4>',
    '#include <pna.p4>',
    '',
    ...w.headerTypes(),
    ...w.errorDecl(),
    'parser MainParserImpl(packet_in pkt, out headers_t hdr, inout metadata_t meta,',
    '                      in pna_main_parser_input_metadata_t istd) {',
    ...w.parserStates('pkt'),
    '}',
    '',
    'control PreControlImpl(in headers_t hdr, inout metadata_t meta,',
    '                       in pna_pre_input_metadata_t istd, inout pna_pre_output_metadata_t ostd) {',
    '    apply { }',
    '}',
    '',
    `control ${PNA_CONTROL}(inout headers_t hdr, inout metadata_t meta,`,
    '                        in pna_main_input_metadata_t istd, inout pna_main_output_metadata_t ostd) {',
    '    InternetChecksum() ipv4_checksum;',
    ...w.externs(),
    ...w.actions(),
    ...w.tables(),
    '',
    '    apply {',
    ...w.apply(p.ingress, 2),
    '        // PNA deparsers cannot write headers: recompute the IPv4 checksum here, after every rewrite.',
    `        if (${w.cond(ck.when)}) {`,
    '            ipv4_checksum.clear();',
    `            ipv4_checksum.add({ ${w.checksumFields()} });`,
    `            ${w.field(ck.target)} = ipv4_checksum.get();`,
    '        }',
    '    }',
    '}',
    '',
    'control MainDeparserImpl(packet_out pkt, in headers_t hdr, in metadata_t meta,',
    '                         in pna_main_output_metadata_t ostd) {',
    '    apply {',
    ...p.deparse.map((h) => `        pkt.emit(hdr.${h});`),
    '    }',
    '}',
    '',
    'PNA_NIC(MainParserImpl(), PreControlImpl(), MainControlImpl(), MainDeparserImpl()) main;',
    '',
  ];
  return out.join('\n');
}
