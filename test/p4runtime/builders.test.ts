import { describe, expect, it } from 'vitest';
import {
  bigIntToBytes,
  EntityBuilder,
  encodeValue,
  insert,
  checkUpdates,
  P4Schema,
  P4SchemaError,
  UpdateType,
  valueToBigInt,
  type Update,
} from '../../p4runtime';
import { fixtureP4Info } from './helpers';

const schema = new P4Schema(fixtureP4Info);
const b = new EntityBuilder(schema);
const hex = (u: Uint8Array | undefined): string => Buffer.from(u ?? []).toString('hex');

describe('values', () => {
  it('encodes numbers, bigints, hex, IPv4, IPv6 and MAC to canonical bytestrings', () => {
    expect(hex(encodeValue(0, 8, 'x'))).toBe('00');
    expect(hex(encodeValue(511, 9, 'x'))).toBe('01ff');
    expect(hex(encodeValue(2n ** 100n, 128, 'x'))).toBe('10' + '00'.repeat(12));
    expect(hex(encodeValue('0x00ff', 16, 'x'))).toBe('ff');
    expect(hex(encodeValue('10.0.0.1', 32, 'x'))).toBe('0a000001');
    expect(hex(encodeValue('00:11:22:33:44:55', 48, 'x'))).toBe('1122334455');
    expect(hex(encodeValue('2001:db8::1', 128, 'x'))).toBe('20010db8000000000000000000000001');
    expect(valueToBigInt('::ffff:1.2.3.4', 'x')).toBe(0xffff01020304n);
    expect(hex(bigIntToBytes(256n))).toBe('0100');
  });

  it('refuses values wider than the field, negatives and unreadable strings', () => {
    expect(() => encodeValue(512, 9, 'param "port"')).toThrow(/param "port".*does not fit in 9 bits/);
    expect(() => encodeValue(-1, 8, 'x')).toThrow(/non-negative/);
    expect(() => encodeValue(1.5, 8, 'x')).toThrow(/non-negative safe integer/);
    expect(() => encodeValue('ten', 8, 'x')).toThrow(/cannot read "ten"/);
    expect(() => encodeValue('10.0.0.1', 16, 'x')).toThrow(/does not fit in 16 bits/);
  });
});

describe('schema names', () => {
  it('resolves full names and aliases, and suggests a close name on a miss', () => {
    expect(schema.tables.id('ingress.ipv4_lpm')).toBe(33554433);
    expect(schema.tables.id('ipv4_lpm')).toBe(33554433);
    expect(() => schema.tables.get('ingress.ipv4_lmp')).toThrow(
      /no table named "ingress.ipv4_lmp". Did you mean "ingress.ipv4_lpm"\?/,
    );
    expect(() =>
      b.tableEntry({ table: 'ipv4_lpm', match: { 'hdr.ipv4.dstAdr': '10.0.0.0/8' }, action: 'drop' }),
    ).toThrow(/Did you mean "hdr.ipv4.dstAddr"/);
    expect(() =>
      b.tableEntry({ table: 'ipv4_lpm', match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' }, action: 'forwrd' }),
    ).toThrow(/Did you mean "ingress.forward"/);
    expect(() =>
      b.tableEntry({
        table: 'ipv4_lpm',
        match: { 'hdr.ipv4.dstAddr': 1 },
        action: 'forward',
        params: { prt: 1 },
      }),
    ).toThrow(/parameter of action "ingress.forward" named "prt". Did you mean "port"/);
  });
});

describe('table entry builder', () => {
  it('builds a canonical LPM entry and clears host bits', () => {
    const e = b.tableEntry({
      table: 'ipv4_lpm',
      match: { 'hdr.ipv4.dstAddr': '10.1.2.3/8' },
      action: 'forward',
      params: { port: 5 },
    }).tableEntry!;
    expect(e.tableId).toBe(33554433);
    expect(e.match![0].lpm!.prefixLen).toBe(8);
    expect(hex(e.match![0].lpm!.value)).toBe('0a000000');
    expect(e.action!.action!.params![0].paramId).toBe(1);
    expect(hex(e.action!.action!.params![0].value)).toBe('05');
    expect(e.priority).toBeUndefined();
  });

  it('omits /0 prefixes, zero ternary masks and full ranges (don’t care)', () => {
    const e = b.tableEntry({
      table: 'acl',
      match: { 'hdr.ipv4.srcAddr': { value: 5, mask: 0 }, 'hdr.tcp.dstPort': { low: 0, high: 65535 } },
      action: 'drop',
      priority: 10,
    }).tableEntry!;
    expect(e.match).toEqual([]);
    const l = b.tableEntry({ table: 'ipv4_lpm', match: { 'hdr.ipv4.dstAddr': '0.0.0.0/0' }, action: 'drop' });
    expect(l.tableEntry!.match).toEqual([]);
  });

  it('canonicalises ternary value&mask and accepts the value&&&mask form', () => {
    const e = b.tableEntry({
      table: 'acl',
      match: {
        'hdr.ipv4.srcAddr': '10.1.2.3&&&255.255.0.0',
        'hdr.tcp.dstPort': '80..90',
        'hdr.ipv4.protocol': 6,
      },
      action: 'drop',
      priority: 1,
    }).tableEntry!;
    const [src, port, proto] = e.match!;
    expect(hex(src.ternary!.value)).toBe('0a010000');
    expect(hex(src.ternary!.mask)).toBe('ffff0000');
    expect([hex(port.range!.low), hex(port.range!.high)]).toEqual(['50', '5a']);
    expect(hex(proto.optional!.value)).toBe('06');
  });

  it('applies the priority rules', () => {
    expect(() => b.tableEntry({ table: 'acl', match: {}, action: 'drop' })).toThrow(/need a priority/);
    expect(() => b.tableEntry({ table: 'acl', match: {}, action: 'drop', priority: 0 })).toThrow(
      /need a priority/,
    );
    expect(() =>
      b.tableEntry({
        table: 'ipv4_lpm',
        match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
        action: 'drop',
        priority: 3,
      }),
    ).toThrow(/takes no priority/);
  });

  it('checks LPM prefixes, ranges, widths, required exact fields and action scopes', () => {
    expect(() =>
      b.tableEntry({ table: 'ipv4_lpm', match: { 'hdr.ipv4.dstAddr': '10.0.0.0/33' }, action: 'drop' }),
    ).toThrow(/prefix length 33 is outside 0..32/);
    expect(() =>
      b.tableEntry({ table: 'acl', match: { 'hdr.tcp.dstPort': '90..80' }, action: 'drop', priority: 1 }),
    ).toThrow(/range low 90 is above high 80/);
    expect(() => b.tableEntry({ table: 'smac', match: {}, action: 'set_smac', params: { mac: 1 } })).toThrow(
      /exact match field "hdr.ethernet.dstAddr" is required/,
    );
    expect(() =>
      b.tableEntry({ table: 'smac', match: { 'hdr.ethernet.dstAddr': 2n ** 48n }, action: 'NoAction' }),
    ).toThrow(/does not fit in 48 bits/);
    expect(() =>
      b.tableEntry({ table: 'ipv4_lpm', match: { 'hdr.ipv4.dstAddr': 1 }, action: 'NoAction' }),
    ).toThrow(/may only be the default action/);
    expect(() =>
      b.tableEntry({ table: 'smac', isDefault: true, action: 'set_smac', params: { mac: 1 } }),
    ).toThrow(/cannot be the default action/);
    expect(() =>
      b.tableEntry({ table: 'ipv4_lpm', match: { 'hdr.ipv4.dstAddr': 1 }, action: 'forward' }),
    ).toThrow(/parameter "port" is required/);
  });

  it('round-trips through describe()', () => {
    const e = b.tableEntry({
      table: 'ipv6_host',
      match: { 'hdr.ipv6.dstAddr': '2001:db8::1' },
      action: 'forward',
      params: { port: 7 },
    });
    const v = b.describe(e.tableEntry!);
    expect(v).toMatchObject({ table: 'ingress.ipv6_host', action: 'ingress.forward', params: { port: 7n } });
    expect(v.match['hdr.ipv6.dstAddr']).toEqual({
      kind: 'exact',
      value: 0x20010db8000000000000000000000001n,
    });
  });
});

describe('updates', () => {
  it('are frozen, carry their kind, and leave the entity untouched', () => {
    const entity = b.tableEntry({
      table: 'ipv4_lpm',
      match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
      action: 'drop',
    });
    const before = JSON.stringify(entity);
    const u = insert(entity);
    expect(u.type).toBe(UpdateType.INSERT);
    expect(Object.isFrozen(u)).toBe(true);
    expect(() => ((u as { type: number }).type = UpdateType.DELETE)).toThrow(TypeError);
    expect(JSON.stringify(entity)).toBe(before);
  });

  it('an update without a kind is rejected with its position', () => {
    const entity = b.tableEntry({
      table: 'ipv4_lpm',
      match: { 'hdr.ipv4.dstAddr': '10.0.0.0/8' },
      action: 'drop',
    });
    const bad = [insert(entity), { entity } as Update];
    expect(() => checkUpdates(bad)).toThrow(P4SchemaError);
    expect(() => checkUpdates(bad)).toThrow(/update \[1\] has no kind/);
  });
});

describe('packet metadata', () => {
  it('encodes packet_out by name and decodes packet_in by name', () => {
    const p = b.packetOut(Buffer.from('hi'), { egress_port: 3 });
    expect(p.metadata!.map((x) => [x.metadataId, hex(x.value)])).toEqual([[1, '03']]);
    expect(() => b.packetOut(Buffer.from('x'), { egress_prt: 3 })).toThrow(/Did you mean "egress_port"/);
    expect(() => b.packetOut(Buffer.from('x'), {})).toThrow(/"egress_port" is required/);
    const d = b.decodePacketIn({
      payload: Buffer.from('x'),
      metadata: [{ metadataId: 2, value: Uint8Array.of(9) }],
    });
    expect(d.metadata).toEqual({ reason: 9n });
  });
});
