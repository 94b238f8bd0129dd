/**
 * Fault containment: a malicious NF tries to read another tenant's state, forge a service handle,
 * write outside its heap, smash its stack, write a read-only header, loop forever or divide by
 * zero. Each attempt fails or faults, only its tenant is quarantined, and a co-resident tenant's
 * packets come out exactly as the reference says, none lost. A quarantined tenant reloads without
 * a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsolatedTenant, isolationSupport } from '../../host-runtime/lib/isolation';
import { ipv4Packet, isolationBuilt, macswapped, testNf, udpFlows, warnIfSkipped } from './helpers';

warnIfSkipped('isolation containment tests');

const SECRET = 0x5ec7e75ec7e7n;
const open: IsolatedTenant[] = [];
function tenant(...args: ConstructorParameters<typeof IsolatedTenant>): IsolatedTenant {
  const t = new IsolatedTenant(...args);
  open.push(t);
  return t;
}
afterAll(() => {
  for (const t of open) t.close();
});

/** Runs victim and attacker batches interleaved; the victim must be untouched and lossless. */
function coResident(victim: IsolatedTenant, attacker: IsolatedTenant, rounds = 3): void {
  const before = victim.stats();
  for (let r = 0; r < rounds; r++) {
    const vin = udpFlows(16, r * 16);
    const vout = victim.run(vin);
    expect(vout.verdicts).toEqual(vin.map(() => 0));
    expect(vout.packets).toEqual(vin.map(macswapped));
    attacker.run(udpFlows(8, 100 + r * 8));
  }
  const after = victim.stats();
  expect(after.quarantined).toBe(false);
  expect(after.tx - before.tx).toBe(rounds * 16);
  expect(after.dropQuarantined + after.dropNf).toBe(before.dropQuarantined + before.dropNf);
}

describe.skipIf(!isolationBuilt)('sfi containment', () => {
  let evil = '';
  let victim: IsolatedTenant;
  beforeAll(async () => {
    evil = await testNf('evil', 'sfi');
    victim = tenant({
      id: 1,
      backend: 'sfi',
      nfs: [{ artifact: await testNf('secret', 'sfi'), config: { secret: 105_406_700_000_231 } }],
    });
  });

  const attacker = (attack: string, extra: Record<string, unknown> = {}): IsolatedTenant =>
    tenant({
      id: 2,
      backend: 'sfi',
      budgetCycles: 50e6,
      nfs: [{ artifact: evil, config: { attack, ...extra } }],
    });

  it('a well-behaved NF in the same module passes and is not quarantined', () => {
    const a = attacker('none');
    coResident(victim, a);
    expect(a.stats().quarantined).toBe(false);
  });

  const faulting: Array<[string, RegExp, Record<string, unknown>?]> = [
    ['write-oob', /out-of-bounds/],
    ['forge-ctx', /pointer or handle it does not own/, { handle: 7 }],
    ['smash-stack', /out-of-bounds|watchdog/, { bytes: 40 << 20 }],
    ['recurse', /call stack exhausted|out-of-bounds/],
    ['write-ro', /does not declare writable/],
    ['loop', /watchdog/],
    ['divzero', /trap/],
  ];
  for (const [attack, why, extra] of faulting) {
    it(`${attack}: faults, is quarantined, and costs the co-resident tenant nothing`, () => {
      const a = attacker(attack, extra);
      coResident(victim, a);
      const s = a.stats();
      expect(s.quarantined).toBe(true);
      expect(s.fault).toMatch(why);
      expect(s.faults).toBe(1);
      expect(s.events.some((e) => e.includes('quarantined'))).toBe(true);
      // Everything after the fault is dropped as `quarantined`, nothing is processed.
      const r = a.run(udpFlows(4));
      expect(r.verdicts).toEqual([1, 1, 1, 1]);
      expect(a.stats().dropQuarantined).toBeGreaterThanOrEqual(8 + 4);
    });
  }

  it('read-other: a native address of another tenant reaches nothing but the attacker’s own memory', () => {
    // The worst case: the attacker knows where the victim's secret lies in the host process. In
    // the sandbox that number is only an offset into its own linear memory (or out of it).
    for (const addr of [0x7f00_dead_bee0, 0x100_0000, 0x1000]) {
      const a = attacker('read-other', { addr });
      const r = a.run(udpFlows(4));
      const s = a.stats();
      if (!s.quarantined) {
        for (const p of r.packets) expect(p.readBigUInt64LE(42)).not.toBe(SECRET);
      } else {
        expect(s.fault).toMatch(/out-of-bounds/);
      }
      coResident(victim, a, 1);
    }
  });

  it('a small stack overrun corrupts only the attacker’s own frames: control flow survives', () => {
    const a = attacker('smash-stack', { bytes: 4096 });
    const r = a.run(udpFlows(4));
    // wasm keeps return addresses out of linear memory, so the NF returns normally.
    expect(a.stats().fault === '' || /out-of-bounds/.test(a.stats().fault)).toBe(true);
    expect(r.packets).toHaveLength(4);
    coResident(victim, a, 1);
  });

  it('V8’s own WebAssembly traps still work beside the sandboxes’ guard-page handler', () => {
    // A guard-page fault of an sfi NF and an out-of-bounds load in a JS WebAssembly module (as
    // HiGHS runs in this process) each go to their own handler.
    const a = attacker('write-oob');
    a.run(udpFlows(2));
    expect(a.stats().fault).toMatch(/out-of-bounds/);
    // (module (memory 1) (func (export "f") (result i32) (i32.load (i32.const 0x20000))))
    const bytes = Buffer.from(
      '0061736d01000000' +
        '010501600001' +
        '7f' +
        '03020100' +
        '0503010001' +
        '07050101660000' +
        '0a0b010900418080082802000b',
      'hex',
    );
    // Node's WebAssembly global (the project's lib settings do not declare it).
    const wasm = (
      globalThis as unknown as {
        WebAssembly: {
          Module: new (b: Uint8Array) => object;
          Instance: new (m: object) => { exports: Record<string, unknown> };
          RuntimeError: new () => Error;
        };
      }
    ).WebAssembly;
    const f = new wasm.Instance(new wasm.Module(bytes)).exports.f as () => number;
    expect(() => f()).toThrow(wasm.RuntimeError);
    coResident(victim, a, 1);
  });

  it('a quarantined tenant is reloaded without a restart and runs again', () => {
    const a = attacker('divzero');
    a.run(udpFlows(2));
    expect(a.stats().quarantined).toBe(true);
    a.reload([{ artifact: evil, config: { attack: 'none' } }]);
    const s = a.stats();
    expect(s.quarantined).toBe(false);
    expect(s.reloads).toBe(1);
    expect(a.run(udpFlows(3)).verdicts).toEqual([0, 0, 0]);
  });
});

describe.skipIf(!isolationBuilt)('process containment', () => {
  it('crashes, traps and runaways kill only the tenant’s own process', async () => {
    const evil = await testNf('evil', 'native');
    const victim = tenant({
      id: 1,
      backend: 'process',
      nfs: [{ artifact: await testNf('secret', 'native') }],
    });
    // Its own address space: the victim's packet memory is not mapped in the attacker's child.
    const victimPackets = Number(victim.packetMemory()!.address);
    for (const [attack, why, extra] of [
      ['write-oob', /signal 11/, {}],
      ['divzero', /signal 8/, {}],
      ['loop', /watchdog/, {}],
      ['write-ro', /does not declare writable/, {}],
      ['read-other', /signal 11/, { addr: victimPackets }],
      ['recurse', /signal 11/, {}],
      ['forge-ctx', /signal 11/, { handle: 7 }],
    ] as const) {
      const a = tenant({
        id: 2,
        backend: 'process',
        // Only the runaway needs a short budget; on a loaded machine a crashing child may take
        // longer than that to be scheduled and die.
        budgetCycles: attack === 'loop' ? 100e6 : 5e9,
        nfs: [{ artifact: evil, config: { attack, ...extra } }],
      });
      coResident(victim, a, 2);
      expect(a.stats().fault).toMatch(why);
      a.close();
    }
  });
});

const pku = isolationBuilt ? isolationSupport().pku : false;
if (isolationBuilt && !pku) console.warn(`mpk containment tests skipped: ${isolationSupport().pkuReason}`);
if (pku) console.warn('mpk refusal test skipped: this CPU has PKU, so mpk runs instead of refusing');

describe.skipIf(!isolationBuilt)('mpk', () => {
  it.skipIf(pku)('refuses with a clear message where the CPU has no PKU', async () => {
    const art = await testNf('secret', 'native');
    expect(() => tenant({ id: 3, backend: 'mpk', nfs: [{ artifact: art }] })).toThrow(
      /protection keys|PKU|pkey/,
    );
  });

  it.skipIf(!pku)('contains faults of native NFs with protection keys', async () => {
    const evil = await testNf('evil', 'native');
    // A generous budget: on a loaded machine a descheduled victim batch must not look like a runaway.
    const victim = tenant({
      id: 1,
      backend: 'mpk',
      budgetCycles: 5e9,
      nfs: [{ artifact: await testNf('secret', 'native') }],
    });
    // The victim's arena (its packets) carries the victim's key.
    const victimPackets = Number(victim.packetMemory()!.address);
    for (const [attack, why, extra] of [
      ['write-oob', /protection key|outside|unmapped address/, {}],
      ['divzero', /trap/, {}],
      ['loop', /watchdog/, {}],
      ['write-ro', /does not declare writable/, {}],
      ['read-other', /protection key/, { addr: victimPackets }],
      // A stack overflow in native code: caught on the thread's alternate signal stack.
      ['recurse', /stack overflow/, {}],
      ['forge-ctx', /unmapped address|protection key/, { handle: 7 }],
    ] as const) {
      const a = tenant({
        id: 2,
        backend: 'mpk',
        budgetCycles: 100e6,
        nfs: [{ artifact: evil, config: { attack, ...extra } }],
      });
      coResident(victim, a, 2);
      expect(a.stats().fault).toMatch(why);
      a.close(); // protection keys are few (15)
    }
  });
});

/**
 * The memory layout of shared packet access: the tenant's packets lie in its own domain memory,
 * so an NF may scribble around them, lie about their length, data pointer or header offsets, or
 * aim at another tenant's packet buffers. Writes of its own memory that touch no packet byte are
 * harmless (what leaves is exactly what came in); everything else is a fault of the attacker
 * only, and the co-resident tenant keeps every packet.
 */
describe.skipIf(!isolationBuilt)('the tenant packet memory', () => {
  const backends = (['sfi', 'mpk', 'process'] as const).filter((b) => b !== 'mpk' || pku);
  for (const backend of backends) {
    describe(backend, () => {
      const kind = backend === 'sfi' ? 'sfi' : 'native';
      let evil = '';
      let victim: IsolatedTenant;
      beforeAll(async () => {
        evil = await testNf('evil', kind);
        victim = tenant({
          id: 1,
          backend,
          budgetCycles: 5e9,
          nfs: [{ artifact: await testNf('secret', kind) }],
        });
      });
      const attacker = (attack: string, extra: Record<string, unknown> = {}): IsolatedTenant =>
        tenant({
          id: 2,
          backend,
          // A crashing child may take a while to be scheduled and die on a loaded machine.
          budgetCycles: backend === 'process' ? 5e9 : 100e6,
          nfs: [{ artifact: evil, config: { attack, ...extra } }],
        });

      it('the victim’s packets lie in its own domain memory', () => {
        const mem = victim.packetMemory();
        expect(mem).toBeDefined();
        expect(mem!.bytes).toBeGreaterThanOrEqual(32 * 2048);
      });

      for (const attack of ['write-around', 'bad-offsets']) {
        it(`${attack}: touches no packet byte the runtime trusts, so every packet leaves as it came`, () => {
          const a = attacker(attack);
          const input = udpFlows(8, 200);
          const r = a.run(input);
          expect(r.verdicts).toEqual(input.map(() => 0));
          expect(r.packets).toEqual(input);
          expect(a.stats().quarantined).toBe(false);
          coResident(victim, a, 2);
          a.close(); // protection keys are few (15)
        });
      }

      for (const [attack, why] of [
        ['write-sibling', /does not declare writable \(packet 1\)/],
        ['bad-len', /moved a packet's data or length/],
        ['bad-data', /moved a packet's data or length/],
      ] as const) {
        it(`${attack}: is a fault of the attacker alone`, () => {
          const a = attacker(attack);
          coResident(victim, a, 2);
          expect(a.stats().quarantined).toBe(true);
          expect(a.stats().fault).toMatch(why);
          a.close();
        });
      }

      it('write-sibling past a change of header layout: a packet outside the batch’s uniform prefix is checked on its own', () => {
        const a = attacker('write-sibling');
        // Packet 0 has a longer payload, so packet 1 is the first of the rest (windows.h, nfp_iso_guard).
        const input = [
          ipv4Packet({ src: '10.0.9.1', dst: '192.0.2.10', sport: 999, dport: 53 }, Buffer.alloc(100, 0x62)),
          ...udpFlows(7, 300),
        ];
        const r = a.run(input);
        expect(r.verdicts).toEqual(input.map(() => 1));
        expect(a.stats().quarantined).toBe(true);
        expect(a.stats().fault).toMatch(/does not declare writable \(packet 1\)/);
        coResident(victim, a, 2);
        a.close();
      });

      it('write-other: another tenant’s packet buffers are out of reach', () => {
        const addr = victim.packetMemory()!.address + 64n;
        const a = attacker('write-other', { addr: Number(addr) });
        coResident(victim, a, 2);
        // A wasm32 NF cannot name a 64-bit address: its pointer is the address's low 32 bits, an
        // offset in its own linear memory (32 MiB, nf-build's default). Where the victim's buffers
        // happen to lie at such an offset (about one run in 64), the write lands in the attacker's
        // own memory instead of faulting: the victim is untouched all the same (coResident).
        if (backend === 'sfi' && BigInt.asUintN(32, addr) + 8n <= 32n << 20n) {
          console.log(
            `write-other under sfi: ${addr.toString(16)} is an offset inside the attacker's own memory`,
          );
          a.close();
          return;
        }
        expect(a.stats().quarantined).toBe(true);
        expect(a.stats().fault).toMatch(
          { sfi: /out-of-bounds/, mpk: /protection key/, process: /signal 11/ }[backend],
        );
        a.close();
      });
    });
  }
});
