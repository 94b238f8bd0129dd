/**
 * The `mpk` isolation backend on a CPU with protection keys, checked end to end with the real
 * runtime (nfp_host.node) and the real test NFs (test/isolation/nfs): every check prints PASS or
 * FAIL, the last line is one line of JSON, and the exit status is 0 all passed, 1 a check failed,
 * 3 the backend is unavailable here (no PKU: the refusal itself is checked and printed).
 *
 *   npx tsx scripts/device/mpk-check.ts [--quick]
 *   npx tsx scripts/device/mpk-check.ts --runtime    (the chain on the host runtime's workers)
 *
 * The scenarios are those of test/isolation/containment.test.ts for `sfi`, run under `mpk`:
 * another tenant's memory, writes out of the domain, read-only headers, traps, runaways; a
 * co-resident tenant's packets come out exactly as the reference says, none lost; quarantine and
 * reload; the FW -> NAT -> LB chain gives byte-identical output under `mpk` and `none`; and the
 * cost, mpk against none in cycles per packet (as bench/isolation.ts's sfiOverNone).
 * `--runtime` runs the chain on the host runtime's DPDK workers instead of the calling thread
 * (load(plan, { isolation: 'mpk' })), packet for packet against `none`: a separate process, since
 * a protection-key fault outside a domain call there ends the process.
 */
import { closeSync, openSync, readFileSync, readSync, realpathSync } from 'node:fs';
import { CHAIN, CONFIGS, frames } from '../../bench/isolation';
import {
  collect,
  encapNsh,
  hostOnlyPlan,
  inject,
  load,
  settle,
  start,
  stop,
} from '../../host-runtime/lib/index';
import type { HostNfSpec } from '../../host-runtime/lib/plan-builder';
import type { NfConfig, NfType } from '../../partitioner/nf-config';
import type { Plan } from '../../partitioner/plan';
import {
  IsolatedTenant,
  builtinArtifact,
  isolationSupport,
  planArtifacts,
  type NfSpec,
  type TenantOptions,
} from '../../host-runtime/lib/isolation';
import { macswapped, testNf, udpFlows } from '../../test/isolation/helpers';

interface Outcome {
  name: string;
  ok: boolean;
  detail: string;
}

const results: Outcome[] = [];
const open: IsolatedTenant[] = [];

function check(name: string, fn: () => string | void): void {
  try {
    const detail = fn() ?? '';
    results.push({ name, ok: true, detail });
    console.log(`PASS ${name}${detail ? `: ${detail}` : ''}`);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    results.push({ name, ok: false, detail });
    console.log(`FAIL ${name}: ${detail}`);
  }
}

function expect(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

function tenant(opts: TenantOptions): IsolatedTenant {
  const t = new IsolatedTenant(opts);
  open.push(t);
  return t;
}

function close(t: IsolatedTenant): void {
  t.close();
  open.splice(open.indexOf(t), 1);
}

const hex = (ps: Buffer[]): string[] => ps.map((p) => p.toString('hex'));
const same = (a: Buffer[], b: Buffer[]): boolean => JSON.stringify(hex(a)) === JSON.stringify(hex(b));

/** Victim and attacker batches interleaved: the victim's output must be the reference, lossless. */
function coResident(victim: IsolatedTenant, attacker: IsolatedTenant, rounds = 3): void {
  const before = victim.stats();
  for (let r = 0; r < rounds; r++) {
    const vin = udpFlows(16, r * 16);
    const vout = victim.run(vin);
    expect(
      vout.verdicts.every((v) => v === 0),
      `victim verdicts ${JSON.stringify(vout.verdicts)}`,
    );
    expect(same(vout.packets, vin.map(macswapped)), 'victim output differs from the macswap reference');
    attacker.run(udpFlows(8, 100 + r * 8));
  }
  const after = victim.stats();
  expect(!after.quarantined, `victim quarantined: ${after.fault}`);
  expect(after.tx - before.tx === rounds * 16, `victim sent ${after.tx - before.tx} of ${rounds * 16}`);
  expect(
    after.dropQuarantined + after.dropNf === before.dropQuarantined + before.dropNf,
    'victim lost packets',
  );
}

const ARENA_BYTES = 32 << 20; // kArenaBytes of host-runtime/src/isolation/mpk.cc

/** Start addresses of the arena-sized mappings tagged with a protection key other than 0. */
function keyedMappings(): Map<number, number> {
  const out = new Map<number, number>();
  let start = 0;
  let bytes = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (m) {
      start = parseInt(m[1], 16);
      bytes = parseInt(m[2], 16) - start;
    }
    const k = /^ProtectionKey:\s+(\d+)/.exec(line);
    if (k && Number(k[1]) !== 0 && bytes === ARENA_BYTES) out.set(start, Number(k[1]));
  }
  return out;
}

/** The arena (start address) a new mpk tenant got: the keyed mapping that `create` added. */
function arenaOf(create: () => IsolatedTenant): { t: IsolatedTenant; arena: number | string } {
  const before = keyedMappings();
  const t = create();
  const added = [...keyedMappings().keys()].filter((a) => !before.has(a));
  if (added.length !== 1)
    return {
      t,
      arena: `expected one new 32 MiB protection-key mapping in /proc/self/smaps, found ${added.length}`,
    };
  return { t, arena: added[0] };
}

/** Where the node binary's first page is mapped (its ELF header), from /proc/self/maps. */
function imageBase(): number {
  const exe = realpathSync(process.execPath);
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[5] === exe && f[2] === '00000000') return parseInt(f[0].split('-')[0], 16);
  }
  throw new Error(`no mapping of ${exe} at offset 0`);
}

const SECRET = 105_406_700_000_231;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** FW -> NAT -> LB as a host-only plan, one root path on queue 0. */
function chainPlan(): Plan {
  const nfs: HostNfSpec[] = CHAIN.map((t) => ({ type: t as NfType, config: CONFIGS[t] as NfConfig }));
  return hostOnlyPlan(nfs, [{ id: 1, nfs: [0, 1, 2], queue: 0 }]);
}

/** Every packet's fate through the runtime's workers: `tx|drop:reason:bytes`, in input order. */
async function runtimeFates(
  plan: Plan,
  isolation: 'none' | 'mpk',
  workers: number,
  artifacts: Record<number, string>,
): Promise<string[]> {
  start({ workers, captureDrops: true });
  const loaded = load(plan, { isolation, artifacts });
  const q = loaded.queueOfPath.get(1) ?? 0;
  const pkts: Buffer[] = [];
  for (let b = 0; b < 8; b++)
    for (const [i, f] of frames(32).entries()) {
      f.writeUInt16BE(1000 + ((b * 32 + i) % 200), 34);
      pkts.push(encapNsh({ spi: 1, si: 3, tenant: 1 }, f));
    }
  const r = inject(q, pkts);
  expect(r.accepted === pkts.length, `the queue took ${r.accepted} of ${pkts.length}`);
  await settle();
  const out: string[] = new Array<string>(pkts.length).fill('lost');
  for (const c of collect())
    out[c.seq - r.firstSeq] = `${c.fate}:${c.reason ?? ''}:${c.data.toString('hex')}`;
  stop();
  return out;
}

async function runtimeMain(support: ReturnType<typeof isolationSupport>): Promise<number> {
  const plan = chainPlan();
  const artifacts = await planArtifacts(plan, 'mpk');
  if (!support.pku) {
    console.log(`REFUSED: the mpk backend is unavailable on this machine: ${support.pkuReason}`);
    let msg = '';
    try {
      start({ workers: 1 });
      load(plan, { isolation: 'mpk', artifacts });
    } catch (err) {
      msg = err instanceof Error ? err.message : String(err);
    }
    check('the runtime refuses an mpk plan with a clear message where the CPU has no PKU', () => {
      expect(/protection keys|PKU|pkey/.test(msg), `unclear or no refusal: ${JSON.stringify(msg)}`);
      return msg;
    });
    stop();
    return finish(support.pkuReason);
  }
  for (const workers of [1, 2]) {
    const none = await runtimeFates(plan, 'none', workers, {});
    console.log(
      `(running ${workers} worker(s) under mpk: a crash here is a protection-key fault on a worker)`,
    );
    const mpk = await runtimeFates(plan, 'mpk', workers, artifacts);
    check(
      `runtime, ${workers} worker(s): FW -> NAT -> LB under mpk gives the fates of none, packet for packet`,
      () => {
        const tx = none.filter((f) => f.startsWith('tx:')).length;
        expect(tx === none.length, `none sent only ${tx} of ${none.length}`);
        const diff = mpk.findIndex((f, i) => f !== none[i]);
        expect(
          diff < 0,
          `packet ${diff}: mpk ${mpk[diff]?.slice(0, 60)} against none ${none[diff]?.slice(0, 60)}`,
        );
        return `${tx} packets`;
      },
    );
  }
  return finish('');
}

async function main(): Promise<number> {
  const quick = process.argv.includes('--quick');
  const support = isolationSupport();
  console.log(`mpk check: backends ${support.backends.join(', ')}; PKU ${support.pku ? 'yes' : 'no'}`);
  if (process.argv.includes('--runtime')) return runtimeMain(support);
  const secretArt = await testNf('secret', 'native');
  const evilArt = await testNf('evil', 'native');

  if (!support.pku) {
    console.log(`REFUSED: the mpk backend is unavailable on this machine: ${support.pkuReason}`);
    check('mpk refuses with a clear message where the CPU has no PKU', () => {
      try {
        tenant({ id: 3, backend: 'mpk', nfs: [{ artifact: secretArt }] });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        expect(/protection keys|PKU|pkey/.test(msg), `unclear refusal: ${msg}`);
        return msg;
      }
      throw new Error('an mpk tenant was created without PKU');
    });
    return finish(support.pkuReason);
  }

  const { t: victim, arena: victimArena } = arenaOf(() =>
    tenant({ id: 1, backend: 'mpk', nfs: [{ artifact: secretArt, config: { secret: SECRET } }] }),
  );
  const attacker = (attack: string, extra: Record<string, unknown> = {}): IsolatedTenant =>
    tenant({
      id: 2,
      backend: 'mpk',
      budgetCycles: 100e6,
      nfs: [{ artifact: evilArt, config: { attack, ...extra } }],
    });

  check('a well-behaved mpk NF next to the victim passes and is not quarantined', () => {
    const a = attacker('none');
    coResident(victim, a);
    expect(!a.stats().quarantined, `quarantined: ${a.stats().fault}`);
    close(a);
  });

  const faulting: Array<[string, RegExp, Record<string, unknown>]> = [];
  if (typeof victimArena === 'number')
    faulting.push([
      'read-other (the victim’s arena)',
      /protection key/,
      { attack: 'read-other', addr: victimArena + 4096 },
    ]);
  else
    check('read-other (the victim’s arena)', () => {
      throw new Error(`cannot find the victim's arena: ${victimArena}`);
    });
  faulting.push(
    ['write-oob', /protection key|outside|unmapped address/, { attack: 'write-oob' }],
    ['write-ro', /may not write/, { attack: 'write-ro' }],
    ['divzero', /trap/, { attack: 'divzero' }],
    ['loop', /watchdog/, { attack: 'loop' }],
  );
  for (const [name, why, cfg] of faulting) {
    check(`${name}: faults, is quarantined, costs the co-resident tenant nothing`, () => {
      const { attack, ...extra } = cfg;
      const a = attacker(String(attack), extra);
      coResident(victim, a);
      const s = a.stats();
      expect(s.quarantined, 'attacker not quarantined');
      expect(why.test(s.fault), `fault "${s.fault}" does not match ${why}`);
      expect(s.faults === 1, `${s.faults} faults`);
      const r = a.run(udpFlows(4));
      expect(
        r.verdicts.every((v) => v === 1),
        `after quarantine: verdicts ${JSON.stringify(r.verdicts)}`,
      );
      expect(s.dropQuarantined + 4 <= a.stats().dropQuarantined, 'quarantined packets not counted');
      close(a);
      return s.fault;
    });
  }

  check('control: the same read of mapped key-0 memory (the node binary) does not fault', () => {
    // Shows the fault above is the victim's key, not a bad address, and that the attack really
    // exfiltrates what it reads. Key 0 (host memory) stays open to mpk NFs by design.
    const elf = Buffer.alloc(8);
    const fd = openSync(process.execPath, 'r');
    readSync(fd, elf, 0, 8, 0);
    closeSync(fd);
    const a = attacker('read-other', { addr: imageBase() });
    const r = a.run(udpFlows(4));
    const s = a.stats();
    close(a);
    expect(!s.quarantined, `faulted: ${s.fault}`);
    expect(
      r.packets.every((p) => p.subarray(42, 50).equals(elf)),
      'the payload does not carry what was read',
    );
    return 'read and exfiltrated the ELF header: host (key 0) memory is readable from an mpk NF';
  });

  check('a quarantined mpk tenant reloads without a restart and runs again', () => {
    const a = attacker('divzero');
    a.run(udpFlows(2));
    expect(a.stats().quarantined, 'divzero did not quarantine');
    a.reload([{ artifact: evilArt, config: { attack: 'none' } }]);
    const s = a.stats();
    expect(
      !s.quarantined && s.reloads === 1,
      `after reload: quarantined ${s.quarantined}, reloads ${s.reloads}`,
    );
    const r = a.run(udpFlows(3));
    expect(JSON.stringify(r.verdicts) === '[0,0,0]', `verdicts ${JSON.stringify(r.verdicts)}`);
    close(a);
  });

  check('the victim ends untouched: its secret and counters are intact', () => {
    const s = victim.stats();
    expect(!s.quarantined && s.faults === 0, `victim fault: ${s.fault}`);
    const secret = Buffer.alloc(8);
    secret.writeBigUInt64LE(BigInt(SECRET));
    expect(victim.snapshot().includes(secret), 'the secret is no longer in the victim state');
    return `${s.tx} packets sent, none lost`;
  });

  // The FW -> NAT -> LB chain: same C source, built natively for mpk and built into the addon for none.
  const native: Record<string, string> = {};
  for (const t of CHAIN) native[t] = await builtinArtifact(t, 'native');
  const specs = (arts: Record<string, string> | null): NfSpec[] =>
    CHAIN.map((t) => (arts ? { artifact: arts[t], config: CONFIGS[t] } : { builtin: t, config: CONFIGS[t] }));
  const none = tenant({ id: 10, backend: 'none', nfs: specs(null) });
  const mpk = tenant({ id: 11, backend: 'mpk', nfs: specs(native) });

  check('FW -> NAT -> LB under mpk gives byte-identical output to none (stateful, 8 batches)', () => {
    for (let b = 0; b < 8; b++) {
      const batch = frames(32).map((p, i) => {
        const q = Buffer.from(p);
        q.writeUInt16BE(1000 + ((b * 32 + i) % 200), 34); // new and repeated flows
        return q;
      });
      const a = none.run(batch.map((p) => Buffer.from(p)));
      const m = mpk.run(batch.map((p) => Buffer.from(p)));
      expect(JSON.stringify(a.verdicts) === JSON.stringify(m.verdicts), `batch ${b}: verdicts differ`);
      expect(
        a.verdicts.every((v) => v === 0),
        `batch ${b}: the chain dropped packets`,
      );
      expect(same(a.packets, m.packets), `batch ${b}: packets differ`);
    }
    const s = mpk.stats();
    expect(!s.quarantined, `mpk chain quarantined: ${s.fault}`);
    return `${s.tx} packets, counters ${JSON.stringify(s.counters)}`;
  });

  let ratio: number | null = null;
  check('mpk against none, cycles per packet (FW -> NAT -> LB, batches of 32)', () => {
    const rounds = quick ? 5 : 15;
    const iters = quick ? 1000 : 5000;
    const batch = frames(32);
    const ns: number[] = [];
    const ms: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = none.bench(batch, iters);
      const b = mpk.bench(batch, iters);
      expect(a.passed === a.packets && b.passed === b.packets, 'the chain dropped packets while timed');
      ns.push(a.cycles / a.packets);
      ms.push(b.cycles / b.packets);
    }
    ratio = +(median(ms) / median(ns)).toFixed(3);
    return `none ${median(ns).toFixed(1)}, mpk ${median(ms).toFixed(1)} cycles/pkt: mpkOverNone ${ratio}`;
  });

  return finish('', ratio);
}

function finish(refused: string, mpkOverNone: number | null = null): number {
  for (const t of open.splice(0)) t.close();
  const failed = results.filter((r) => !r.ok);
  console.log(
    `mpk check: ${results.length - failed.length} passed, ${failed.length} failed${refused ? ' (mpk unavailable)' : ''}`,
  );
  console.log(
    JSON.stringify({
      mpk: refused ? 'unavailable' : failed.length ? 'fail' : 'pass',
      reason: refused || undefined,
      passed: results.length - failed.length,
      failed: failed.map((f) => f.name),
      mpkOverNone,
    }),
  );
  return failed.length ? 1 : refused ? 3 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(`FAIL mpk check could not run: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
