/**
 * Access control on packet regions: an NF sees only the regions its manifest declares (the rest
 * of its window is zero), only writable regions come back, and a forbidden write is a fault. The
 * same NF built natively and run under `process` gets the same view.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { IsolatedTenant, isolationSupport } from '../../host-runtime/lib/isolation';
import { isolationBuilt, testNf, udpFlows, warnIfSkipped } from './helpers';

warnIfSkipped('isolation access-control tests');

const open: IsolatedTenant[] = [];
afterAll(() => {
  for (const t of open) t.close();
});

describe.skipIf(!isolationBuilt)('packet regions', () => {
  for (const backend of ['sfi', 'process'] as const) {
    it(`${backend}: an L2-only NF reads zeros beyond L2 and changes only L2`, async () => {
      const art = await testNf('peek', backend === 'sfi' ? 'sfi' : 'native');
      const t = new IsolatedTenant({ id: 1, backend, packetAccess: 'windows', nfs: [{ artifact: art }] });
      open.push(t);
      const input = udpFlows(4);
      const r = t.run(input);
      expect(r.verdicts).toEqual([0, 0, 0, 0]);
      r.packets.forEach((p, i) => {
        // Nothing of L3, L4 or the payload reached the NF...
        expect(p.subarray(0, 6)).toEqual(Buffer.alloc(6));
        // ...and everything past L2 leaves exactly as it came.
        expect(p.subarray(6)).toEqual(input[i].subarray(6));
      });
      expect(t.stats().quarantined).toBe(false);
    });
  }

  it('sfi windows: a write outside the declared writable regions is a fault, and the packet is untouched', async () => {
    const t = new IsolatedTenant({
      id: 2,
      backend: 'sfi',
      packetAccess: 'windows',
      nfs: [{ artifact: await testNf('evil', 'sfi'), config: { attack: 'write-ro' } }],
    });
    open.push(t);
    const r = t.run(udpFlows(2));
    expect(r.quarantinedNow).toBe(true);
    expect(r.verdicts).toEqual([1, 1]);
    expect(r.packets[0][22]).toBe(64); // the TTL it tried to change
  });

  it('sfi shared: the same write to a packet in the tenant’s own memory is caught against the saved bytes', async () => {
    const t = new IsolatedTenant({
      id: 2,
      backend: 'sfi',
      packetAccess: 'shared',
      nfs: [{ artifact: await testNf('evil', 'sfi'), config: { attack: 'write-ro' } }],
    });
    open.push(t);
    const r = t.run(udpFlows(2));
    expect(r.quarantinedNow).toBe(true);
    expect(r.verdicts).toEqual([1, 1]);
    expect(t.stats().fault).toMatch(/does not declare writable/);
  });

  it('sfi shared: an L2-only NF sees its tenant’s whole packet in place but may change only L2', async () => {
    const t = new IsolatedTenant({
      id: 3,
      backend: 'sfi',
      packetAccess: 'shared',
      nfs: [{ artifact: await testNf('peek', 'sfi') }],
    });
    open.push(t);
    const input = udpFlows(4);
    const r = t.run(input);
    expect(r.verdicts).toEqual([0, 0, 0, 0]);
    r.packets.forEach((p, i) => {
      // It read L3 (shared access: the tenant's own packet, every byte)...
      expect(p[0]).not.toBe(0);
      expect(p.subarray(1, 5)).toEqual(input[i].subarray(14, 18));
      expect(p.subarray(6)).toEqual(input[i].subarray(6));
    });
    expect(t.stats().quarantined).toBe(false);
  });

  // The saved-bytes check of packets in place (windows.h): the uniform prefix saves and compares
  // only the 16-byte chunks of each head block that hold read-only bytes, so every chunk, packet
  // positions at both ends and a batch that is not uniform are tried. `evil` may write only the
  // payload (byte 42 on of these frames).
  const pku = isolationBuilt && isolationSupport().pku;
  if (isolationBuilt && !pku) console.warn(`mpk saved-bytes tests skipped: ${isolationSupport().pkuReason}`);
  const inPlace: ('sfi' | 'mpk')[] = pku ? ['sfi', 'mpk'] : ['sfi'];
  for (const backend of inPlace) {
    // Closed by each test: a machine has only 15 protection keys to hand out.
    const withTenant = async (
      packet: number,
      offset: number,
      body: (t: IsolatedTenant) => void,
    ): Promise<void> => {
      const t = new IsolatedTenant({
        id: 4,
        backend,
        packetAccess: 'shared',
        nfs: [
          {
            artifact: await testNf('evil', backend === 'sfi' ? 'sfi' : 'native'),
            config: { attack: 'flip', packet, offset },
          },
        ],
      });
      try {
        body(t);
      } finally {
        t.close();
      }
    };
    for (const offset of [3, 13, 20, 33, 41]) {
      for (const packet of [0, 17, 31]) {
        it(`${backend} shared: flipping read-only byte ${offset} of packet ${packet} of 32 is a fault`, async () => {
          await withTenant(packet, offset, (t) => {
            const r = t.run(udpFlows(32));
            expect(r.quarantinedNow).toBe(true);
            expect(t.stats().fault).toMatch(new RegExp(`does not declare writable \\(packet ${packet}\\)`));
          });
        });
      }
    }
    for (const offset of [42, 50, 63]) {
      it(`${backend} shared: flipping payload byte ${offset} of packet 31 is allowed and kept`, async () => {
        await withTenant(31, offset, (t) => {
          const input = udpFlows(32);
          const r = t.run(input);
          expect(r.quarantinedNow).toBe(false);
          expect(r.verdicts.every((v) => v === 0)).toBe(true);
          r.packets.forEach((p, i) => {
            const want = Buffer.from(input[i]);
            if (i === 31) want[offset] ^= 0xff;
            expect(p).toEqual(want);
          });
        });
      });
    }
    it(`${backend} shared: a batch of mixed lengths is checked packet by packet`, async () => {
      // Packet 2 is longer than the rest: the uniform prefix ends there, the rest get rows of their own.
      const input = udpFlows(6);
      input[2] = Buffer.concat([input[2], Buffer.alloc(40, 0x62)]);
      await withTenant(4, 60, (t) => {
        const r = t.run(input);
        expect(r.quarantinedNow).toBe(false);
        expect(r.packets[4][60]).toBe(input[4][60] ^ 0xff);
      });
      await withTenant(4, 20, (t) => {
        expect(t.run(input).quarantinedNow).toBe(true);
        expect(t.stats().fault).toMatch(/does not declare writable \(packet 4\)/);
      });
    });
  }
});
