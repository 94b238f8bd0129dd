/**
 * nfp's protos against the official ones, field for field: the fixture lists every message's
 * fields (name, number, type, label, oneof, deprecated), every enum's values and the service's
 * methods as generated once from p4lang/p4runtime's own protos (see proto-fields.ts), so this
 * compares with the specification's files, not with nfp itself. The advertised version is the
 * specification revision those protos belong to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P4RUNTIME_API_VERSION, PROTO_DIR } from '../../p4runtime';
import { describeProtos, loadProtoDir, type ProtoFacts } from './proto-fields';
import { startRig, type Rig } from './helpers';

const official = JSON.parse(
  readFileSync(join(__dirname, 'fixtures', 'p4runtime-proto-fields.json'), 'utf8'),
) as ProtoFacts;
const ours = describeProtos(loadProtoDir(PROTO_DIR));

describe('protos equal p4lang/p4runtime field for field', () => {
  it('the fixture is the official list (it names its source and holds the whole API)', () => {
    expect(official.source).toMatch(/^p4lang\/p4runtime /);
    expect(Object.keys(official.messages).length).toBeGreaterThan(100);
    expect(official.messages['p4.v1.TableEntry'].find((f) => f.id === 13)?.name).toBe('is_const');
  });

  it('every message has the same fields: names, numbers, types, labels, oneofs', () => {
    const names = new Set([...Object.keys(official.messages), ...Object.keys(ours.messages)]);
    const differences: string[] = [];
    for (const name of [...names].sort()) {
      const want = JSON.stringify(official.messages[name] ?? null);
      const got = JSON.stringify(ours.messages[name] ?? null);
      if (want !== got) differences.push(`${name}\n  official: ${want}\n  nfp:      ${got}`);
    }
    expect(differences).toEqual([]);
  });

  it('every enum has the same values', () => {
    expect(ours.enums).toEqual(official.enums);
  });

  it('the P4Runtime service has the same methods and streaming', () => {
    expect(ours.services).toEqual(official.services);
  });
});

describe('the advertised version', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig.stop());

  it('is the specification revision the protos implement, and Capabilities answers it', async () => {
    expect(P4RUNTIME_API_VERSION).toBe(official.specRevision);
    const caps = await rig.client().capabilities();
    expect(caps.p4runtimeApiVersion).toBe(official.specRevision);
  });
});
