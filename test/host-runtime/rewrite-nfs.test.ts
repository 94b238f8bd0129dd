/**
 * The header-rewriting built-ins (vlan, marker, encap) in the real runtime: NSH frames injected on
 * in-memory ports, run by the workers, collected and compared byte for byte with frames built
 * here independently (checksums recomputed from scratch). VLAN push and pop change the length at
 * the front (nf.h, front adjustment), so a chain checks that later NFs find the moved headers.
 * The same plan then runs under the sandboxed backends (sfi, process, and mpk where available) and
 * must give the same bytes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addonBuilt,
  backends,
  collect,
  decapNsh,
  encapNsh,
  inject,
  load,
  openNf,
  settle,
  start,
  stop,
  type NfHarness,
} from '../../host-runtime/lib/index';
import { buildNf, isolationSupport, planArtifacts } from '../../host-runtime/lib/isolation';
import { hostOnlyPlan } from '../../host-runtime/lib/plan-builder';
import type { Plan } from '../../partitioner/plan';
import { checksum, ipv4Packet, parse } from './packets';

const built = addonBuilt();
if (!built)
  console.warn('host-runtime rewrite NF tests skipped: nfp_host.node is not built (npm run build:native)');

const VID = 100;
const DSCP = 46;
const SRC_MAC = '02:aa:00:00:00:01';
const DST_MAC = '02:bb:00:00:00:02';

/** NF indices in the plan, and one path (and queue) per chain. */
const NFS = { push: 0, pop: 1, marker: 2, encap: 3, monitor: 4 } as const;
const PATHS = {
  push: [NFS.push],
  pop: [NFS.pop],
  marker: [NFS.marker],
  encap: [NFS.encap],
  // Grows, then reads IP at the moved offset, then rewrites MACs.
  chain: [NFS.push, NFS.marker, NFS.monitor, NFS.encap],
  // Grows, shrinks, grows again (push and pop in one tenant).
  regrow: [NFS.push, NFS.marker, NFS.monitor, NFS.pop, NFS.push, NFS.encap],
} as const;
type PathName = keyof typeof PATHS;
const PATH_IDS: Record<PathName, number> = { push: 1, pop: 2, marker: 3, encap: 4, chain: 5, regrow: 6 };

/**
 * Without `regrow`, pop runs in tenant 2 (its own path and NSH tenant); `regrow` needs push and
 * pop in one tenant.
 */
function plan(regrow: boolean): Plan {
  const names = (Object.keys(PATHS) as PathName[]).filter((n) => regrow || n !== 'regrow');
  return hostOnlyPlan(
    [
      { type: 'vlan', config: { op: 'push', vid: VID } },
      { type: 'vlan', config: { op: 'pop', vid: 0 }, tenant: regrow ? 1 : 2 },
      { type: 'marker', config: { dscp: DSCP } },
      { type: 'encap', config: { srcMac: SRC_MAC, dstMac: DST_MAC } },
      { type: 'monitor', config: { perFlow: false } },
    ],
    names.map((name, q) => ({
      id: PATH_IDS[name],
      nfs: [...PATHS[name]],
      queue: q,
      tenant: name === 'pop' && !regrow ? 2 : 1,
    })),
  );
}

// ---- frames, built independently of the NFs ----

const flow = { src: '10.0.0.1', dst: '10.0.0.2', sport: 1000, dport: 80, proto: 'udp' as const };
const mac = (s: string): Buffer => Buffer.from(s.replace(/:/g, ''), 'hex');

function tag(frame: Buffer, tci: number): Buffer {
  const t = Buffer.alloc(4);
  t.writeUInt16BE(0x8100, 0);
  t.writeUInt16BE(tci, 2);
  return Buffer.concat([frame.subarray(0, 12), t, frame.subarray(12)]);
}
const untag = (frame: Buffer): Buffer => Buffer.concat([frame.subarray(0, 12), frame.subarray(16)]);

/** The IPv4 header at `off` with DSCP `dscp` (ECN kept) and its checksum recomputed from scratch. */
function marked(frame: Buffer, off: number, dscp: number): Buffer {
  const out = Buffer.from(frame);
  out[off + 1] = (dscp << 2) | (out[off + 1] & 3);
  out.writeUInt16BE(0, off + 10);
  out.writeUInt16BE(checksum(out.subarray(off, off + 20)), off + 10);
  return out;
}

function withMacs(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  mac(DST_MAC).copy(out, 0);
  mac(SRC_MAC).copy(out, 6);
  return out;
}

/** An IPv4/UDP frame whose TOS byte is `tos` (DSCP 10, ECN 01 by default), checksum valid. */
function ipv4(tos = (10 << 2) | 1, opts: { vlan?: number } = {}): Buffer {
  const f = ipv4Packet(flow, 'payload bytes', opts);
  const off = opts.vlan === undefined ? 14 : 18;
  f[off + 1] = tos;
  f.writeUInt16BE(0, off + 10);
  f.writeUInt16BE(checksum(f.subarray(off, off + 20)), off + 10);
  return f;
}

/** Ethernet + IPv6 (traffic class `tc`, flow label 0x12345) + 8 bytes of UDP. */
function ipv6(tc: number): Buffer {
  const f = Buffer.alloc(14 + 40 + 8);
  mac('02:00:00:00:00:02').copy(f, 0);
  mac('02:00:00:00:00:01').copy(f, 6);
  f.writeUInt16BE(0x86dd, 12);
  f.writeUInt32BE(((6 << 28) | (tc << 20) | 0x12345) >>> 0, 14);
  f.writeUInt16BE(8, 18);
  f[20] = 17;
  f[21] = 64;
  f.fill(0x11, 22, 54);
  return f;
}

function arp(): Buffer {
  const f = Buffer.alloc(42);
  mac('ff:ff:ff:ff:ff:ff').copy(f, 0);
  mac('02:00:00:00:00:01').copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14);
  return f;
}

// ---- running frames through the runtime ----

interface Case {
  name: string;
  path: PathName;
  frame: Buffer;
  /** The inner frame expected out, or the drop reason expected. */
  want: Buffer | { drop: string };
}

interface Outcome {
  fate: 'tx' | 'drop';
  reason?: string;
  frame?: Buffer;
}

function tagOf(p: Plan, path: PathName): { spi: number; tenant: number } {
  const spi = PATH_IDS[path];
  return { spi, tenant: p.paths.find((x) => x.id === spi)!.tenant };
}

async function runCases(p: Plan, cases: Case[], artifacts: Record<number, string> = {}): Promise<Outcome[]> {
  start({ workers: 1, mode: 'presorted', captureDrops: true });
  const loaded = load(p, { artifacts });
  const bySeq = new Map<number, number>();
  for (let q = 0; q < loaded.queues; q++) {
    const idx = cases.map((_, i) => i).filter((i) => loaded.queueOfPath.get(PATH_IDS[cases[i].path]) === q);
    if (idx.length === 0) continue;
    const r = inject(
      q,
      idx.map((i) =>
        encapNsh({ ...tagOf(p, cases[i].path), si: PATHS[cases[i].path].length }, cases[i].frame),
      ),
    );
    expect(r.accepted).toBe(idx.length);
    idx.forEach((i, j) => bySeq.set(r.firstSeq + j, i));
  }
  const s = await settle();
  expect(s.received).toBe(cases.length);
  const out: Outcome[] = new Array(cases.length);
  for (const c of collect()) {
    const i = bySeq.get(c.seq)!;
    if (c.fate === 'drop') {
      out[i] = { fate: 'drop', reason: c.reason };
      continue;
    }
    const d = decapNsh(c.data);
    expect(d, `${cases[i].name}: leaves with an NSH`).not.toBeNull();
    expect(d!.tag).toEqual({ ...tagOf(p, cases[i].path), si: 0 });
    out[i] = { fate: 'tx', frame: d!.frame };
  }
  stop();
  return out;
}

function check(cases: Case[], got: Outcome[]): void {
  cases.forEach((c, i) => {
    const want = c.want;
    if ('drop' in want) {
      expect(got[i], c.name).toEqual({ fate: 'drop', reason: want.drop });
    } else {
      expect(got[i], c.name).toMatchObject({ fate: 'tx' });
      expect(got[i].frame!.toString('hex'), c.name).toBe(want.toString('hex'));
    }
  });
}

const u = ipv4();
const t = ipv4(undefined, { vlan: 0x2000 | 7 }); // PCP 1, VID 7
const v6 = ipv6((10 << 2) | 2);
const tci = (vid: number, pcp = 0) => (pcp << 13) | vid;

/** The plan's NF names are t<tenant>.<type><index>; drops read `<nf>:<reason>`. */
const dropOf = (nf: string, reason: string) => ({ drop: `${nf}:${reason}` });

const CASES: Case[] = [
  { name: 'push onto untagged', path: 'push', frame: u, want: tag(u, tci(VID)) },
  { name: 'push onto tagged rewrites the VID, keeps PCP', path: 'push', frame: t, want: tag(u, tci(VID, 1)) },
  { name: 'push onto a non-IP frame', path: 'push', frame: arp(), want: tag(arp(), tci(VID)) },
  { name: 'pop tagged', path: 'pop', frame: t, want: u },
  { name: 'pop untagged leaves it unchanged', path: 'pop', frame: u, want: u },
  {
    name: 'pop of a tag cut short is dropped',
    path: 'pop',
    frame: t.subarray(0, 16),
    want: dropOf('t2.vlan1', 'truncated'),
  },
  {
    name: 'marker on IPv4 keeps ECN, fixes the checksum',
    path: 'marker',
    frame: u,
    want: marked(u, 14, DSCP),
  },
  { name: 'marker on tagged IPv4', path: 'marker', frame: t, want: marked(t, 18, DSCP) },
  {
    name: 'marker on IPv6 keeps ECN and the flow label',
    path: 'marker',
    frame: v6,
    want: ipv6((DSCP << 2) | 2),
  },
  { name: 'marker on a non-IP frame leaves it unchanged', path: 'marker', frame: arp(), want: arp() },
  {
    name: 'marker on an IPv4 header cut short is dropped',
    path: 'marker',
    frame: u.subarray(0, 14 + 12),
    want: dropOf('t1.marker2', 'truncated'),
  },
  {
    name: 'marker on an IHL under 5 is dropped',
    path: 'marker',
    frame: (() => {
      const b = Buffer.from(u);
      b[14] = 0x44;
      return b;
    })(),
    want: dropOf('t1.marker2', 'bad-ihl'),
  },
  { name: 'encap rewrites both MACs', path: 'encap', frame: u, want: withMacs(u) },
  { name: 'encap on a tagged frame', path: 'encap', frame: t, want: withMacs(t) },
  {
    name: 'chain: push, mark, monitor, encap',
    path: 'chain',
    frame: u,
    want: withMacs(tag(marked(u, 14, DSCP), tci(VID))),
  },
  {
    name: 'chain on a tagged frame',
    path: 'chain',
    frame: t,
    want: withMacs(tag(marked(u, 14, DSCP), tci(VID, 1))),
  },
];

/** Push, mark (at the moved IP offset), monitor, pop, push (a fresh tag: PCP 0), encap. */
const REGROW: Case[] = Array.from({ length: 300 }, (_, i) => ({
  name: `regrow ${i}`,
  path: 'regrow' as const,
  frame: i % 2 ? t : u,
  want: withMacs(tag(marked(u, 14, DSCP), tci(VID))),
}));

describe.skipIf(!built)('vlan, marker and encap in the runtime (isolation none)', () => {
  it('give the exact bytes, or drop malformed frames with their reason', async () => {
    const got = await runCases(plan(false), CASES);
    check(CASES, got);
    // The marked IPv4 packets carry a valid header checksum, checked independently.
    const plain = CASES.findIndex((c) => c.name.startsWith('marker on IPv4'));
    const chained = CASES.findIndex((c) => c.path === 'chain');
    expect(parse(got[plain].frame!).ipChecksumOk).toBe(true);
    expect(parse(untag(got[chained].frame!)).ipChecksumOk).toBe(true);
  });

  it('grow, shrink and grow again in one chain, over many packets', async () => {
    check(REGROW, await runCases(plan(true), REGROW));
  });
});

describe.skipIf(!built)('vlan, marker and encap through the single-NF harness', () => {
  const open: NfHarness[] = [];
  afterAll(() => {
    for (const h of open) h.close();
  });
  const nf = (type: string, config: unknown): NfHarness => {
    const h = openNf(type, config);
    open.push(h);
    return h;
  };

  it('drop frames shorter than an Ethernet header as truncated', () => {
    const short = [Buffer.alloc(0), Buffer.alloc(13, 1)];
    for (const [type, config] of [
      ['vlan', { op: 'push', vid: VID }],
      ['vlan', { op: 'pop' }],
      ['marker', { dscp: DSCP }],
      ['encap', { srcMac: SRC_MAC, dstMac: DST_MAC }],
    ] as const) {
      const out = nf(type, config).run(short);
      expect(
        out.map((o) => `${o.verdict}/${o.reason}`),
        type,
      ).toEqual(['drop/truncated', 'drop/truncated']);
      out.forEach((o, i) => expect(o.data).toEqual(short[i]));
    }
  });

  it('count what they did', () => {
    const push = nf('vlan', { op: 'push', vid: VID });
    push.run([u, t, u]);
    expect(push.counters().slice(0, 4)).toEqual([2, 1, 0, 0]);
    const mark = nf('marker', { dscp: DSCP });
    mark.run([u, v6, arp()]);
    expect(mark.counters().slice(0, 3)).toEqual([1, 1, 1]);
  });

  it('refuse bad configs with the key at fault', () => {
    expect(() => nf('vlan', { op: 'push' })).toThrow(/vlan: config\.vid/);
    expect(() => nf('vlan', { op: 'swap', vid: 1 })).toThrow(/vlan: config\.op/);
    expect(() => nf('vlan', { op: 'push', vid: 4095 })).toThrow(
      /vlan: config\.vid: expected an integer in 1\.\.4094/,
    );
    expect(() => nf('marker', { dscp: 64 })).toThrow(/marker: config\.dscp/);
    expect(() => nf('encap', { srcMac: '02:00:00:00:00', dstMac: DST_MAC })).toThrow(/encap: config\.srcMac/);
  });
});

// Every sandboxed backend gets its tests; those that cannot run here (mpk needs a CPU with
// protection keys) are skipped, counted and say why.
const SANDBOXES = ['sfi', 'process', 'mpk'] as const;
function unavailable(b: (typeof SANDBOXES)[number]): string | undefined {
  if (!built) return 'the native addon is not built';
  if (!backends().includes(b)) return `the addon has no ${b} backend`;
  if (b === 'mpk' && !isolationSupport().pku) return isolationSupport().pkuReason || 'no protection keys';
  return undefined;
}
for (const b of SANDBOXES) {
  const why = unavailable(b);
  if (why) console.warn(`rewrite NFs under ${b} skipped: ${why}`);
}

describe('vlan, marker and encap under sandboxed backends', () => {
  for (const backend of SANDBOXES) {
    it.skipIf(unavailable(backend))(
      `${backend}: the same bytes as under none`,
      async () => {
        const p = plan(false);
        const sandboxed: Plan = {
          ...p,
          tenants: p.tenants.map((x) => ({ ...x, isolation: backend as 'sfi' })),
        };
        const artifacts = await planArtifacts(sandboxed);
        expect(Object.keys(artifacts).length).toBe(p.nfs.length);
        check(CASES, await runCases(sandboxed, CASES, artifacts));
      },
      240_000,
    );
    it.skipIf(unavailable(backend))(
      `${backend}: a tenant with two vlan NFs grows, shrinks and grows again`,
      async () => {
        const p = plan(true);
        const sandboxed: Plan = {
          ...p,
          tenants: p.tenants.map((x) => ({ ...x, isolation: backend as 'sfi' })),
        };
        check(REGROW, await runCases(sandboxed, REGROW, await planArtifacts(sandboxed)));
      },
      240_000,
    );
  }
});

/**
 * A probe NF for the rules of front adjustment: it moves `data` back by FRONT_BY bytes (filling
 * them with 0xab) and adds FRONT_BY + FRONT_EXTRA to `len`. FRONT_EXTRA != 0 moves the end.
 */
const FRONT_NF = `#include <string.h>
#include "nfp/nf.h"
static void front_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_pkt *p = &b->pkts[i];
		p->data -= FRONT_BY;
		memset(p->data, 0xab, FRONT_BY);
		p->len = (uint16_t)(p->len + FRONT_BY + FRONT_EXTRA);
		b->verdicts[i] = NFP_VERDICT_PASS;
	}
}
const struct nfp_nf_descriptor nfp_nf_v1 = {
	.manifest = {.abi_version = NFP_NF_ABI_VERSION, .name = "front", .version = "1.0.0",
		     .reads = NFP_REGION_L2, .writes = NFP_REGION_L2},
	.process = front_process,
};
`;

/**
 * Builds the probe once per content (cached like test/isolation's testNf, so a kit can carry it
 * prebuilt to a machine without a compiler).
 */
async function frontProbe(kind: 'sfi' | 'native', by: number, extra: number): Promise<string> {
  const dir = join(tmpdir(), 'nfp-test-nfs');
  mkdirSync(dir, { recursive: true });
  const h = createHash('sha256')
    .update(FRONT_NF)
    .update(readFileSync(join(__dirname, '../../host-runtime/nf-build/nfp-nf-build.sh')))
    .update(readFileSync(join(__dirname, '../../host-runtime/include/nfp/nf.h')))
    .digest('hex')
    .slice(0, 12);
  const out = join(dir, `front-${by}-${extra}.${kind}.${h}.so`);
  if (existsSync(out)) return out;
  const src = join(dir, `front-${h}.c`);
  writeFileSync(src, FRONT_NF);
  return buildNf({ kind, sources: [src], out, defines: [`FRONT_BY=${by}`, `FRONT_EXTRA=${extra}`] });
}

describe('front adjustment is held to its rules in sandboxes', () => {
  /** Path 1 runs the probe `times` times; returns the fate of one untagged frame. */
  async function probe(backend: string, by: number, extra: number, times: number): Promise<Outcome> {
    const art = await frontProbe(backend === 'sfi' ? 'sfi' : 'native', by, extra);
    const custom = {
      manifest: {
        name: 'front',
        version: '1.0.0',
        source: art,
        reads: ['l2'],
        writes: ['l2'],
        stateful: false,
        cyclesPerPacket: 10,
      },
      params: {},
    };
    const base = hostOnlyPlan(
      [{ type: 'custom', config: custom as never }],
      [{ id: 1, nfs: Array.from({ length: times }, () => 0), queue: 0 }],
    );
    const p: Plan = { ...base, tenants: base.tenants.map((x) => ({ ...x, isolation: backend as 'sfi' })) };
    start({ workers: 1, mode: 'presorted', captureDrops: true });
    load(p, { artifacts: { 0: art } });
    inject(0, [encapNsh({ spi: 1, si: times, tenant: 1 }, u)]);
    await settle();
    const [c] = collect();
    stop();
    if (c.fate === 'drop') return { fate: 'drop', reason: c.reason };
    return { fate: 'tx', frame: decapNsh(c.data)!.frame };
  }

  for (const backend of SANDBOXES) {
    it.skipIf(unavailable(backend))(
      `${backend}: the whole headroom, three times over (the worker re-centres the frame)`,
      async () => {
        const got = await probe(backend, 64, 0, 3);
        // The MACs are the first 12 bytes the NSH re-encapsulation finds: the probe's 0xab.
        const inner = Buffer.concat([Buffer.alloc(3 * 64, 0xab), u]);
        expect(got.fate).toBe('tx');
        expect(got.frame!.toString('hex')).toBe(inner.toString('hex'));
      },
      120_000,
    );
    it.skipIf(unavailable(backend))(
      `${backend}: a byte past the headroom, or a moved end, faults the tenant`,
      async () => {
        expect(await probe(backend, 65, 0, 1)).toEqual({ fate: 'drop', reason: 'quarantined' });
        expect(await probe(backend, 0, 1, 1)).toEqual({ fate: 'drop', reason: 'quarantined' });
      },
      120_000,
    );
  }
});
