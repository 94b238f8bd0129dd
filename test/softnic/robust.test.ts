/**
 * Robustness: arbitrary bytes through the pipeline, and randomly damaged BMv2 JSON at load.
 * Nothing may crash; every packet is forwarded or dropped; a damaged program is either loaded or
 * refused with a message, never half-loaded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../targets/softnic/native';
import { bits, fixture, ipBits, l2l3Engine, macBits } from './helpers';
import { nsh, udpPacket } from './packets';

describe('softnic robustness', () => {
  const e = l2l3Engine();
  e.tableAdd('MyIngress.route', [{ value: ipBits('0.0.0.0'), prefixLen: 0 }], 0, 'MyIngress.set_nhop', [
    bits(2, 9),
    macBits('02:02:02:02:02:02'),
  ]);
  e.tableAdd('MyIngress.nsh_pop', [{ value: bits(7, 24) }], 0, 'MyIngress.pop_nsh', [bits(1, 9)]);

  it('survives arbitrary frames, including truncated headers of every kind', () => {
    const base = udpPacket({ src: '1.2.3.4', dst: '5.6.7.8' });
    const withNsh = Buffer.concat([
      base.subarray(0, 12),
      Buffer.from([0x89, 0x4f]),
      nsh(7, 1),
      base.subarray(14),
    ]);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 200 }),
          fc.nat(base.length).map((n) => new Uint8Array(base.subarray(0, n))),
          fc.nat(withNsh.length).map((n) => new Uint8Array(withNsh.subarray(0, n))),
        ),
        fc.integer({ min: 0, max: 510 }),
        (bytes, port) => {
          const [o] = e.process(port, [Buffer.from(bytes)]);
          if ('port' in o) {
            expect(o.port).toBeLessThan(511);
            expect(o.data.length).toBeLessThanOrEqual(bytes.length + 24 + 64);
          } else expect(['ingress', 'egress']).toContain(o.drop);
        },
      ),
      { numRuns: 3000, seed: 42 },
    );
  });

  it('loads or cleanly refuses randomly damaged programs', () => {
    const text = fixture('l2l3.json');
    fc.assert(
      fc.property(
        fc.nat(text.length - 1),
        fc.integer({ min: 1, max: 40 }),
        fc.string({ maxLength: 6 }),
        (at, cut, ins) => {
          const damaged = text.slice(0, at) + ins + text.slice(at + cut);
          const eng = createEngine();
          try {
            eng.load(damaged);
          } catch (err) {
            expect((err as Error).message.length).toBeGreaterThan(0);
            expect(() => eng.info()).toThrow(/no pipeline loaded/);
            return;
          }
          // Accepted (the damage hit a name or a value): it must still process packets.
          const [o] = eng.process(1, [udpPacket({ src: '1.1.1.1', dst: '2.2.2.2' })]);
          expect(o).toBeDefined();
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });
});
