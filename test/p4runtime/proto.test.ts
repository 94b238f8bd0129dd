/**
 * Wire compatibility of the hand-written protos: field numbers and wire types checked byte for
 * byte against the P4Runtime specification's numbering (what simple_switch_grpc speaks).
 */
import { describe, expect, it } from 'vitest';
import { codecs, p4infoToJson, PROTO_FILES, p4runtimeRoot } from '../../p4runtime';
import { fixtureP4Info } from './helpers';

const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

describe('P4Runtime protos', () => {
  it('load p4.v1, p4.config.v1 and google.rpc together', () => {
    const root = p4runtimeRoot();
    expect(PROTO_FILES).toHaveLength(4);
    expect(
      root
        .lookupService('p4.v1.P4Runtime')
        .methodsArray.map((m) => m.name)
        .sort(),
    ).toEqual([
      'Capabilities',
      'GetForwardingPipelineConfig',
      'Read',
      'SetForwardingPipelineConfig',
      'StreamChannel',
      'Write',
    ]);
    expect(root.lookupType('google.rpc.Status').fields.details.id).toBe(3);
  });

  it('TableEntry fields carry the spec numbers', () => {
    // table_id=1, priority=4, is_default_action=8, idle_timeout_ns=9, metadata=11, const=13
    const b = codecs.TableEntry.encode({
      tableId: 1,
      priority: 2,
      isDefaultAction: true,
      idleTimeoutNs: 3,
      metadata: Uint8Array.of(4),
      isConst: true,
    });
    expect(hex(b)).toBe('0801' + '2002' + '4001' + '4803' + '5a0104' + '6801');
    // match=2 → FieldMatch{field_id=1, lpm=4{value=1, prefix_len=2}}; meter_counter_data=12
    const m = codecs.TableEntry.encode({
      match: [{ fieldId: 1, lpm: { value: Uint8Array.of(10), prefixLen: 8 } }],
      meterCounterData: { red: { packetCount: 1 } },
    });
    expect(hex(m)).toBe('1209' + '0801' + '2205' + '0a010a' + '1008' + '6204' + '1a02' + '1001');
  });

  it('WriteRequest, Update and Entity numbering', () => {
    // device_id=1, election_id=3{high=1,low=2}, updates=4{type=1, entity=2{table_entry=2{}}}, atomicity=5, role=6
    const b = codecs.WriteRequest.encode({
      deviceId: 1,
      electionId: { low: 2 },
      updates: [{ type: 1, entity: { tableEntry: { tableId: 7 } } }],
      atomicity: 1,
      role: 'r',
    });
    expect(hex(b)).toBe('0801' + '1a021002' + '2208' + '0801' + '1204' + '12020807' + '2801' + '320172');
    expect(hex(codecs.Entity.encode({ counterEntry: { counterId: 1 } }))).toBe('3a020801');
    expect(hex(codecs.Entity.encode({ digestEntry: { digestId: 1 } }))).toBe('62020801');
  });

  it('stream messages: arbitration, packet, digest, idle timeout, error', () => {
    expect(
      hex(
        codecs.StreamMessageRequest.encode({
          arbitration: { deviceId: 1, role: { name: 'a' }, electionId: { low: 1 } },
        }),
      ),
    ).toBe('0a0b' + '0801' + '1203' + '1a0161' + '1a021001');
    expect(hex(codecs.StreamMessageRequest.encode({ digestAck: { digestId: 1, listId: 2 } }))).toBe(
      '1a0408011002',
    );
    expect(hex(codecs.StreamMessageResponse.encode({ idleTimeoutNotification: { timestamp: 1 } }))).toBe(
      '22021001',
    );
    expect(hex(codecs.StreamMessageResponse.encode({ error: { canonicalCode: 3, packetOut: {} } }))).toBe(
      '3204' + '0803' + '2a00',
    );
    expect(
      hex(
        codecs.StreamMessageResponse.encode({
          packet: { payload: Uint8Array.of(1), metadata: [{ metadataId: 1, value: Uint8Array.of(2) }] },
        }),
      ),
    ).toBe('120a' + '0a0101' + '1205' + '0801' + '120102');
  });

  it('pipeline config numbering', () => {
    // action=4, config=5{p4info=1, p4_device_config=2, cookie=3{cookie=1}}
    const b = codecs.SetForwardingPipelineConfigRequest.encode({
      action: 3,
      config: { p4info: {}, p4DeviceConfig: Uint8Array.of(9), cookie: { cookie: 5 } },
    });
    expect(hex(b)).toBe('2003' + '2a09' + '0a00' + '120109' + '1a020805');
  });

  it('P4Info round-trips through binary and JSON', () => {
    const bin = codecs.P4Info.encode(fixtureP4Info);
    const back = codecs.P4Info.decode(bin);
    expect(back.tables?.map((t) => t.preamble?.name)).toEqual(
      fixtureP4Info.tables?.map((t) => t.preamble?.name),
    );
    const json = p4infoToJson(back);
    expect((json.tables as { matchFields: { matchType: string }[] }[])[0].matchFields[0].matchType).toBe(
      'LPM',
    );
    // Table.size=8, idle_timeout_behavior=9; MatchField.match_type=5
    expect(hex(codecs.P4Info.encode({ tables: [{ size: 1, idleTimeoutBehavior: 1 }] }))).toBe(
      '12044001' + '4801',
    );
  });
});
