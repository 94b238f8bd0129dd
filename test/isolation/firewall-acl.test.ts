/**
 * The built-in firewall on the runtime's ACL service (nf.h, nfp_acl_*, DPDK's rte_acl): the same
 * C source runs natively (`none`, `process`, `mpk`) and sandboxed (`sfi`) and gives the same
 * verdict for every packet, which is also the first-match verdict of the rules; an sfi or process
 * NF naming an ACL it does not own, or classifying more keys than a batch, is quarantined.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IsolatedTenant,
  builtinArtifact,
  isolationSupport,
  type IsolationBackendName,
} from '../../host-runtime/lib/isolation';
import { ipv4Packet, isolationBuilt, testNf, warnIfSkipped } from './helpers';

warnIfSkipped('firewall ACL isolation tests');

const pku = isolationBuilt && isolationSupport().pku;
if (isolationBuilt && !pku) {
  console.warn(`firewall ACL under mpk skipped: ${isolationSupport().pkuReason || 'no protection keys'}`);
}
const BACKENDS: IsolationBackendName[] = ['none', 'sfi', 'process', ...(pku ? (['mpk'] as const) : [])];
/** Index of `acl-deny` among the firewall's drop reasons (after the five common ones). */
const ACL_DENY = 5;

interface Rule {
  action: 'allow' | 'deny';
  proto?: number;
  src?: [string, number];
  dst?: [string, number];
  sport?: [number, number];
  dport?: [number, number];
}

/** Overlapping rules, so the order decides: the first match wins. */
const RULES: Rule[] = [
  { action: 'deny', proto: 17, src: ['10.1.2.0', 24], dport: [53, 53] },
  { action: 'allow', proto: 17, dport: [53, 53] },
  { action: 'allow', proto: 6, dst: ['192.0.2.0', 25], dport: [80, 443] },
  { action: 'deny', proto: 6, src: ['10.1.0.0', 16] },
  { action: 'allow', src: ['10.0.0.0', 8], sport: [1000, 1999] },
  { action: 'allow', dst: ['198.51.100.7', 32] },
];

function firewallConfig(stateful: boolean): unknown {
  const range = (r?: [number, number]) => (r ? { lo: r[0], hi: r[1] } : undefined);
  const prefix = (p?: [string, number]) => (p ? { family: 4, addr: p[0], len: p[1] } : undefined);
  return {
    default: 'deny',
    stateful,
    rules: RULES.map((r) => ({
      action: r.action,
      match: {
        proto: r.proto,
        srcPrefix: prefix(r.src),
        dstPrefix: prefix(r.dst),
        srcPort: range(r.sport),
        dstPort: range(r.dport),
      },
    })),
  };
}

interface Pkt {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: 'tcp' | 'udp';
}

const ipNum = (a: string): number => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
const inPrefix = (a: string, p?: [string, number]): boolean =>
  !p || p[1] === 0 || Math.floor(ipNum(a) / 2 ** (32 - p[1])) === Math.floor(ipNum(p[0]) / 2 ** (32 - p[1]));
const inRange = (v: number, r?: [number, number]): boolean => !r || (v >= r[0] && v <= r[1]);

/** The first-match verdict of RULES, default deny: 'pass' or 'deny'. */
function expected(p: Pkt): 'pass' | 'deny' {
  const proto = p.proto === 'tcp' ? 6 : 17;
  for (const r of RULES) {
    if (r.proto !== undefined && r.proto !== proto) continue;
    if (!inPrefix(p.src, r.src) || !inPrefix(p.dst, r.dst)) continue;
    if (!inRange(p.sport, r.sport) || !inRange(p.dport, r.dport)) continue;
    return r.action === 'allow' ? 'pass' : 'deny';
  }
  return 'deny';
}

/** Reproducible packets aimed at the rules' edges: the prefixes, ports and both protocols. */
function packets(seed: number, n: number): Pkt[] {
  let x = seed;
  const rnd = (k: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % k;
  };
  const pick = <T>(a: T[]): T => a[rnd(a.length)];
  const srcs = ['10.1.2.9', '10.1.3.9', '10.2.0.1', '172.16.0.1', '10.1.200.4'];
  const dsts = ['192.0.2.1', '192.0.2.127', '192.0.2.128', '198.51.100.7', '198.51.100.8'];
  const ports = [53, 54, 79, 80, 443, 444, 999, 1000, 1999, 2000, 65535];
  return Array.from({ length: n }, () => ({
    src: pick(srcs),
    dst: pick(dsts),
    sport: pick(ports),
    dport: pick(ports),
    proto: pick(['tcp', 'udp'] as const),
  }));
}

const frame = (p: Pkt): Buffer =>
  ipv4Packet({ src: p.src, dst: p.dst, sport: p.sport, dport: p.dport, proto: p.proto }, 'acl');

const artifacts: Partial<Record<IsolationBackendName, string>> = {};
const open: IsolatedTenant[] = [];
beforeAll(async () => {
  if (!isolationBuilt) return;
  artifacts.sfi = await builtinArtifact('firewall', 'sfi');
  artifacts.process = artifacts.mpk = await builtinArtifact('firewall', 'native');
}, 120_000);
afterAll(() => {
  for (const t of open) t.close();
});

function firewall(backend: IsolationBackendName, config: unknown, id = 1): IsolatedTenant {
  const nf = backend === 'none' ? { builtin: 'firewall', config } : { artifact: artifacts[backend], config };
  const t = new IsolatedTenant({ id, backend, nfs: [nf] });
  open.push(t);
  return t;
}

describe.skipIf(!isolationBuilt)('firewall on the ACL service, per backend', () => {
  for (const stateful of [false, true]) {
    it(`gives the first-match verdict per packet under ${BACKENDS.join(', ')} (stateful ${stateful})`, () => {
      const batches = [packets(11, 256), packets(12, 97), packets(13, 1)];
      const seen: Record<string, string[]> = {};
      for (const backend of BACKENDS) {
        const t = firewall(backend, firewallConfig(stateful));
        seen[backend] = batches.flatMap((b) => {
          const r = t.run(b.map(frame));
          expect(r.quarantinedNow).toBe(false);
          return r.verdicts.map((v, i) => `${v}/${r.reasons[i]}`);
        });
        expect(t.stats().quarantined).toBe(false);
      }
      for (const backend of BACKENDS) expect(seen[backend], backend).toEqual(seen.none);
      if (!stateful) {
        // Without connection tracking every verdict is the rules' own.
        const want = batches.flat().map((p) => (expected(p) === 'pass' ? '0/0' : `1/${ACL_DENY}`));
        expect(seen.none).toEqual(want);
      }
      expect(seen.none).toContain('0/0');
      expect(seen.none).toContain(`1/${ACL_DENY}`);
    });
  }

  it('keeps the DSCP/VLAN rules on the NF scan, the same under every backend', () => {
    const config = {
      default: 'allow',
      rules: [{ action: 'deny', match: { proto: 17, dscp: 0 } }],
    };
    const batch = packets(21, 64);
    const seen: Record<string, number[]> = {};
    for (const backend of BACKENDS) seen[backend] = firewall(backend, config).run(batch.map(frame)).verdicts;
    // ipv4Packet sends DSCP 0: UDP is denied, TCP allowed.
    expect(seen.none).toEqual(batch.map((p) => (p.proto === 'udp' ? 1 : 0)));
    for (const backend of BACKENDS) expect(seen[backend], backend).toEqual(seen.none);
  });
});

describe.skipIf(!isolationBuilt)('an ACL handle or batch the NF does not own', () => {
  const dns = frame({ src: '10.9.0.1', dst: '192.0.2.1', sport: 5000, dport: 53, proto: 'udp' });
  const web = frame({ src: '10.9.0.1', dst: '192.0.2.1', sport: 5000, dport: 80, proto: 'udp' });
  for (const backend of ['sfi', 'process'] as const) {
    it(`${backend}: its own ACL classifies`, async () => {
      const art = await testNf('acl', backend === 'sfi' ? 'sfi' : 'native');
      const t = new IsolatedTenant({ id: 30, backend, nfs: [{ artifact: art, config: { use: 'own' } }] });
      open.push(t);
      expect(t.run([dns, web, dns]).verdicts).toEqual([0, 1, 0]);
      expect(t.stats().quarantined).toBe(false);
    });
    for (const use of ['bad-handle', 'bad-count']) {
      it(`${backend}: ${use} quarantines the tenant`, async () => {
        const art = await testNf('acl', backend === 'sfi' ? 'sfi' : 'native');
        const t = new IsolatedTenant({ id: 31, backend, nfs: [{ artifact: art, config: { use } }] });
        open.push(t);
        const r = t.run([dns]);
        expect(r.quarantinedNow).toBe(true);
        expect(r.verdicts).toEqual([1]);
        const s = t.stats();
        expect(s.quarantined).toBe(true);
        expect(s.fault).toContain('handle it does not own');
      });
    }
  }
});
