/**
 * The built-in rate limiter on the runtime's meter service (nf.h, nfp_meter_*): the same C source
 * runs natively (`none`, `process`, `mpk`) and sandboxed (`sfi`), and gives the same verdict for
 * every packet at the same timestamps; a burst passes and the excess drops `meter-red`; a restore
 * starts the meters fresh; an sfi or process NF naming a meter it does not own is quarantined.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNf } from '../../host-runtime/lib/index';
import {
  IsolatedTenant,
  builtinArtifact,
  isolationSupport,
  parseSnapshot,
  type IsolationBackendName,
} from '../../host-runtime/lib/isolation';
import { ipv4Packet, isolationBuilt, testNf, warnIfSkipped } from './helpers';

warnIfSkipped('rate limiter isolation tests');

const pku = isolationBuilt && isolationSupport().pku;
if (isolationBuilt && !pku) {
  console.warn(`rate limiter under mpk skipped: ${isolationSupport().pkuReason || 'no protection keys'}`);
}
const BACKENDS: IsolationBackendName[] = ['none', 'sfi', 'process', ...(pku ? (['mpk'] as const) : [])];
/** Index of `meter-red` among the ratelimiter's drop reasons (after the five common ones). */
const METER_RED = 5;
const T0 = 1_000_000_000;

const artifacts: Partial<Record<IsolationBackendName, string>> = {};
const open: IsolatedTenant[] = [];
beforeAll(async () => {
  if (!isolationBuilt) return;
  artifacts.sfi = await builtinArtifact('ratelimiter', 'sfi');
  artifacts.process = artifacts.mpk = await builtinArtifact('ratelimiter', 'native');
}, 120_000);
afterAll(() => {
  for (const t of open) t.close();
});

function limiter(backend: IsolationBackendName, config: unknown, id = 1): IsolatedTenant {
  const nf =
    backend === 'none' ? { builtin: 'ratelimiter', config } : { artifact: artifacts[backend], config };
  const t = new IsolatedTenant({ id, backend, nfs: [nf] });
  open.push(t);
  return t;
}

/** A UDP frame of flow `flow` that is exactly `bytes` long on the wire (without FCS). */
function frame(flow: number, bytes: number): Buffer {
  const p = ipv4Packet(
    { src: `10.1.0.${flow + 1}`, dst: '192.0.2.1', sport: 4000 + flow, dport: 53 },
    'y'.repeat(bytes - 42),
  );
  expect(p.length).toBe(bytes);
  return p;
}

/** A reproducible trace: batches of mixed flows and sizes at increasing timestamps. */
function trace(seed: number): Array<{ packets: Buffer[]; nowNs: number }> {
  let x = seed;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const out: Array<{ packets: Buffer[]; nowNs: number }> = [];
  let now = T0;
  for (let b = 0; b < 16; b++) {
    now += rnd(400) * 1_000_000; // 0..399 ms later
    const n = 1 + rnd(48);
    out.push({ packets: Array.from({ length: n }, () => frame(rnd(6), 64 + rnd(1400))), nowNs: now });
  }
  return out;
}

describe.skipIf(!isolationBuilt)('ratelimiter on the meter service, per backend', () => {
  for (const perFlow of [true, false]) {
    it(`gives the same verdict per packet under ${BACKENDS.join(', ')} (perFlow ${perFlow})`, () => {
      const config = { rateBps: 80_000, burstBytes: 3000, perFlow };
      const seen: Record<string, string[]> = {};
      for (const backend of BACKENDS) {
        const t = limiter(backend, config);
        seen[backend] = trace(7).flatMap(({ packets, nowNs }) => {
          const r = t.run(packets, 1, nowNs);
          expect(r.quarantinedNow).toBe(false);
          return r.verdicts.map((v, i) => `${v}/${r.reasons[i]}`);
        });
      }
      // The trace is one that exercises the meter: some packets pass, some drop red.
      expect(seen.none).toContain('0/0');
      expect(seen.none).toContain(`1/${METER_RED}`);
      for (const backend of BACKENDS) expect(seen[backend], backend).toEqual(seen.none);
    });
  }

  for (const backend of ['none', 'sfi', 'process', 'mpk'] as const) {
    it.skipIf(backend === 'mpk' && !pku)(
      `${backend}: passes a burst of burstBytes per flow, drops the excess meter-red, refills at the rate`,
      () => {
        const t = limiter(backend, { rateBps: 8000, burstBytes: 1000, perFlow: true });
        const a = Array.from({ length: 20 }, () => frame(0, 100));
        const b = Array.from({ length: 5 }, () => frame(1, 100));
        const r = t.run([...a, ...b], 1, T0);
        expect(r.verdicts.slice(0, 10)).toEqual(Array(10).fill(0));
        expect(r.verdicts.slice(10, 20)).toEqual(Array(10).fill(1));
        expect(r.reasons.slice(10, 20)).toEqual(Array(10).fill(METER_RED));
        expect(r.verdicts.slice(20)).toEqual(Array(5).fill(0));
        // Half a second later the bucket holds 500 more bytes: five more pass.
        expect(t.run(a, 1, T0 + 500_000_000).verdicts.filter((v) => v === 0).length).toBe(5);
        expect(t.stats().counters[0].slice(0, 2)).toEqual([20, 25]);
      },
    );
  }

  it('names reason 5 `meter-red` (the single-NF harness, by name)', () => {
    const rl = openNf('ratelimiter', { rateBps: 8000, burstBytes: 1000, perFlow: false });
    try {
      const out = rl.run(
        Array.from({ length: 12 }, (_, i) => frame(i, 100)),
        T0,
      );
      expect(out.map((o) => o.reason ?? o.verdict)).toEqual([
        ...Array(10).fill('pass'),
        'meter-red',
        'meter-red',
      ]);
    } finally {
      rl.close();
    }
  });
});

describe.skipIf(!isolationBuilt)('ratelimiter state under sfi: meters are not in the snapshot', () => {
  const config = { rateBps: 8000, burstBytes: 1000, perFlow: true };
  const burst = (t: IsolatedTenant, now: number): number =>
    t
      .run(
        Array.from({ length: 20 }, () => frame(3, 100)),
        1,
        now,
      )
      .verdicts.filter((v) => v === 0).length;

  it('keeps the flow and its counts across a restore, and starts its meter fresh', () => {
    const t = limiter('sfi', config, 7);
    expect(burst(t, T0)).toBe(10);
    expect(burst(t, T0)).toBe(0); // the bucket is empty
    const snap = t.snapshot();
    const [nf] = parseSnapshot(snap).nfs;
    expect(nf.tables[0].name).toBe('flows');
    expect(nf.tables[0].entries).toHaveLength(1);
    const v = nf.tables[0].entries[0].value;
    expect([v.readUInt32LE(0), v.readUInt32LE(4)]).toEqual([10, 30]);
    t.restore(snap); // in place: the flow may land in another slot; every meter starts fresh
    expect(burst(t, T0)).toBe(10);
    const fresh = limiter('sfi', config, 8);
    fresh.restore(snap);
    expect(burst(fresh, T0)).toBe(10);
    fresh.reload(undefined, { keepState: true });
    expect(burst(fresh, T0)).toBe(10);
    const [after] = parseSnapshot(fresh.snapshot()).nfs;
    expect(after.tables[0].entries[0].value.readUInt32LE(0)).toBe(30); // 10 + 10 + 10 passed
  });
});

describe.skipIf(!isolationBuilt)('a meter handle or index the NF does not own', () => {
  for (const backend of ['sfi', 'process'] as const) {
    it(`${backend}: its own meters work, one per index`, async () => {
      const art = await testNf('meter', backend === 'sfi' ? 'sfi' : 'native');
      const t = new IsolatedTenant({ id: 20, backend, nfs: [{ artifact: art, config: { use: 'own' } }] });
      open.push(t);
      // 4 meters of 1000 bytes, 15 frames of 100 bytes each: 10 pass on every meter.
      const r = t.run(
        Array.from({ length: 60 }, (_, i) => frame(i % 8, 100)),
        1,
        T0,
      );
      expect(r.verdicts.filter((v) => v === 0).length).toBe(40);
      expect(t.stats().quarantined).toBe(false);
    });
    for (const use of ['bad-handle', 'bad-index']) {
      it(`${backend}: ${use} quarantines the tenant`, async () => {
        const art = await testNf('meter', backend === 'sfi' ? 'sfi' : 'native');
        const t = new IsolatedTenant({ id: 21, backend, nfs: [{ artifact: art, config: { use } }] });
        open.push(t);
        const r = t.run([frame(0, 100)], 1, T0);
        expect(r.quarantinedNow).toBe(true);
        expect(r.verdicts).toEqual([1]);
        const s = t.stats();
        expect(s.quarantined).toBe(true);
        expect(s.fault).toContain('handle it does not own');
      });
    }
  }
});
