/**
 * State management: the built-in NAT, sandboxed (sfi), keeps every flow's mapping across a
 * snapshot restored into a fresh domain, across a hot reload onto newly built code, and in both
 * directions; the snapshot file decodes to the same entries (`nfp state dump`'s decoder).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IsolatedTenant,
  SnapshotError,
  buildNf,
  builtinArtifact,
  builtinSources,
  parseSnapshot,
} from '../../host-runtime/lib/isolation';
import { ipv4Packet, isolationBuilt, parse, udpFlows, warnIfSkipped } from './helpers';

warnIfSkipped('isolation state tests');

const NAT = { publicIp: '198.51.100.1', portRange: { lo: 20000, hi: 29999 }, maxFlows: 4096 };
const FLOWS = 64;
const open: IsolatedTenant[] = [];
const dir = mkdtempSync(join(tmpdir(), 'nfp-state-'));
afterAll(() => {
  for (const t of open) t.close();
  rmSync(dir, { recursive: true, force: true });
});

function natTenant(artifact: string, id = 1): IsolatedTenant {
  const t = new IsolatedTenant({ id, backend: 'sfi', nfs: [{ artifact, config: NAT }] });
  open.push(t);
  return t;
}

/** Sends the flows (in batches) and returns each flow's public port, checking every packet. */
function mappings(t: IsolatedTenant, flows: Buffer[]): number[] {
  const ports: number[] = [];
  for (let i = 0; i < flows.length; i += 32) {
    const r = t.run(flows.slice(i, i + 32));
    r.packets.forEach((p, k) => {
      expect(r.verdicts[k]).toBe(0);
      const f = parse(p);
      expect(f.src).toBe(NAT.publicIp);
      expect(f.ipChecksumOk && f.l4ChecksumOk).toBe(true);
      ports.push(f.sport);
    });
  }
  return ports;
}

/** Replies from the server to each public port must reach the original inside endpoint. */
function expectReplies(t: IsolatedTenant, flows: Buffer[], ports: number[]): void {
  const replies = ports.map((port) =>
    ipv4Packet({ src: '192.0.2.10', dst: NAT.publicIp, sport: 53, dport: port }, 'r'),
  );
  const r = t.run(replies.slice(0, 32));
  r.packets.forEach((p, k) => {
    expect(r.verdicts[k]).toBe(0);
    const want = parse(flows[k]);
    expect(parse(p).dst).toBe(want.src);
    expect(parse(p).dport).toBe(want.sport);
  });
}

describe.skipIf(!isolationBuilt)('NAT state under sfi', () => {
  let nat = '';
  const flows = udpFlows(FLOWS);
  let ports: number[] = [];
  let first: IsolatedTenant;

  beforeAll(async () => {
    nat = await builtinArtifact('nat', 'sfi');
    first = natTenant(nat);
    ports = mappings(first, flows);
    expect(new Set(ports).size).toBe(FLOWS); // one port per flow
  });

  it('a snapshot holds every mapping, and decodes', () => {
    const snap = parseSnapshot(first.snapshot());
    expect(snap.tenant).toBe(1);
    expect(snap.nfs.map((n) => n.name)).toEqual(['nat']);
    const [fwd, rev] = snap.nfs[0].tables;
    expect([fwd.name, rev.name]).toEqual(['fwd', 'rev']);
    expect(fwd.entries).toHaveLength(FLOWS);
    expect(rev.entries).toHaveLength(FLOWS);
    // rev keys are the public ports (host order), the very ones the packets showed.
    expect(rev.entries.map((e) => e.key.readUInt16LE(0)).sort()).toEqual([...ports].sort());
  });

  it('restore into a fresh domain keeps every mapping, both ways', () => {
    const second = natTenant(nat, 2);
    second.restore(first.snapshot());
    expect(mappings(second, flows)).toEqual(ports);
    expectReplies(second, flows, ports);
    // The port allocator's state came along: a new flow gets a port nobody holds.
    const [fresh] = mappings(second, udpFlows(1, 5000));
    expect(ports).not.toContain(fresh);
  });

  it('hot reload onto newly built code keeps every flow', async () => {
    const src = builtinSources('nat');
    const v2 = await buildNf({
      kind: 'sfi',
      sources: [src.source],
      libs: src.libs,
      includes: src.includes,
      defines: ['NFP_NF_STANDALONE', 'NFP_NAT_BUILD=2'],
      out: join(dir, 'nat-v2.so'),
    });
    first.reload([{ artifact: v2, config: NAT }], { keepState: true });
    expect(first.stats().reloads).toBe(1);
    expect(mappings(first, flows)).toEqual(ports);
    expectReplies(first, flows, ports);
  });

  it('a reload without state starts empty', () => {
    const t = natTenant(nat, 3);
    mappings(t, flows.slice(0, 8));
    t.reload(undefined, { keepState: false });
    expect(parseSnapshot(t.snapshot()).nfs[0].tables[0].entries).toHaveLength(0);
  });

  it('a snapshot of another NF is refused with the mismatch named', async () => {
    const other = new IsolatedTenant({
      id: 4,
      backend: 'sfi',
      nfs: [{ artifact: await builtinArtifact('macswap', 'sfi') }],
    });
    open.push(other);
    expect(() => other.restore(first.snapshot())).toThrow(/snapshot has NF `nat`/);
  });
});

describe('snapshot decoding', () => {
  it('rejects foreign, corrupt and truncated files', () => {
    expect(() => parseSnapshot(Buffer.from('hello world, not a snapshot'))).toThrow(SnapshotError);
    expect(() => parseSnapshot(Buffer.from('hello world, not a snapshot'))).toThrow(/magic/);
    const snap = Buffer.alloc(28);
    snap.write('NFPSNAP1', 0, 'latin1');
    snap.writeUInt32LE(1, 8);
    snap.writeUInt16LE(7, 12);
    snap.writeUInt16LE(1, 14); // claims one NF, holds none
    expect(() => parseSnapshot(snap)).toThrow(/checksum/);
  });
});
