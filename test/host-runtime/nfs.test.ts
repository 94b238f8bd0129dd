/**
 * Built-in NFs on crafted packets, each NF driven directly through the addon's single-NF harness:
 * happy paths, the malformed set, NAT both directions (checksums recomputed here from scratch),
 * load-balancer affinity and balance, IDS matches across patterns.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { addonBuilt, openNf, type NfHarness } from '../../host-runtime/lib/index';
import { ipv4Packet, malformedSet, parse } from './packets';

const built = addonBuilt();
if (!built) console.warn('host-runtime NF tests skipped: nfp_host.node is not built (npm run build:native)');

const CONFIGS: Record<string, unknown> = {
  firewall: {
    rules: [{ action: 'deny', match: { proto: 6, dstPort: { lo: 23, hi: 23 } } }],
    default: 'allow',
    stateful: true,
  },
  nat: { publicIp: '198.51.100.1', portRange: { lo: 20000, hi: 20099 }, maxFlows: 1000 },
  loadbalancer: {
    vip: '10.10.10.10',
    backends: ['10.0.1.1', '10.0.1.2', '10.0.1.3'],
    tableSize: 251,
    maxFlows: 10000,
  },
  ids: { patterns: ['attack', 'exploit'], inspectBytes: 256 },
  ratelimiter: { rateBps: 8_000_000, burstBytes: 100_000, perFlow: true },
  monitor: { perFlow: true },
};

const open: NfHarness[] = [];
function nf(type: string, config: unknown = CONFIGS[type]): NfHarness {
  const h = openNf(type, config);
  open.push(h);
  return h;
}
afterAll(() => {
  for (const h of open) h.close();
});

const udp = (src: string, dst: string, sport: number, dport: number, payload = 'x') =>
  ipv4Packet({ src, dst, sport, dport, proto: 'udp' }, payload);
const tcp = (src: string, dst: string, sport: number, dport: number, payload = 'x') =>
  ipv4Packet({ src, dst, sport, dport, proto: 'tcp' }, payload);

describe.skipIf(!built)('every IP-aware NF drops the malformed set with the right reason', () => {
  for (const type of Object.keys(CONFIGS)) {
    it(type, () => {
      const set = malformedSet();
      const out = nf(type).run(set.map((m) => m.pkt));
      expect(out.map((o, i) => `${set[i].name}: ${o.verdict}/${o.reason}`)).toEqual(
        set.map((m) => `${m.name}: drop/${m.reason}`),
      );
    });
  }
  it('macswap drops only frames too short for Ethernet', () => {
    const set = malformedSet();
    const out = nf('macswap', {}).run(set.map((m) => m.pkt));
    set.forEach((m, i) => expect(out[i].verdict).toBe(m.pkt.length < 14 ? 'drop' : 'pass'));
  });
});

describe.skipIf(!built)('macswap', () => {
  it('swaps source and destination MAC', () => {
    const p = udp('10.0.0.1', '10.0.0.2', 1, 2);
    const [o] = nf('macswap', {}).run([p]);
    expect(o.verdict).toBe('pass');
    expect(o.data.subarray(0, 6)).toEqual(p.subarray(6, 12));
    expect(o.data.subarray(6, 12)).toEqual(p.subarray(0, 6));
    expect(o.data.subarray(12)).toEqual(p.subarray(12));
  });
});

describe.skipIf(!built)('firewall', () => {
  it('applies the first matching rule, then the default', () => {
    const fw = nf('firewall', {
      rules: [
        {
          action: 'allow',
          match: { srcPrefix: { family: 4, addr: '10.1.0.0', len: 16 }, dstPort: { lo: 22, hi: 22 } },
        },
        { action: 'deny', match: { dstPort: { lo: 22, hi: 22 } } },
        { action: 'deny', match: { proto: 17, srcPort: { lo: 1000, hi: 2000 } } },
      ],
      default: 'allow',
      stateful: false,
    });
    const out = fw.run([
      tcp('10.1.2.3', '10.9.9.9', 5555, 22),
      tcp('10.2.2.3', '10.9.9.9', 5555, 22),
      udp('10.2.2.3', '10.9.9.9', 1500, 53),
      udp('10.2.2.3', '10.9.9.9', 2500, 53),
    ]);
    expect(out.map((o) => o.reason ?? o.verdict)).toEqual(['pass', 'acl-deny', 'acl-deny', 'pass']);
    expect(fw.counters().slice(0, 3)).toEqual([2, 0, 2]);
  });

  it('default deny with connection tracking lets replies of allowed connections through', () => {
    const fw = nf('firewall', {
      rules: [{ action: 'allow', match: { srcPrefix: { family: 4, addr: '192.168.0.0', len: 16 } } }],
      default: 'deny',
      stateful: true,
    });
    const [reply0] = fw.run([tcp('8.8.8.8', '192.168.1.5', 443, 40000)]);
    expect(reply0.reason).toBe('acl-deny');
    const [out] = fw.run([tcp('192.168.1.5', '8.8.8.8', 40000, 443)]);
    expect(out.verdict).toBe('pass');
    const [reply] = fw.run([tcp('8.8.8.8', '192.168.1.5', 443, 40000)]);
    expect(reply.verdict).toBe('pass');
    const [other] = fw.run([tcp('8.8.8.8', '192.168.1.5', 443, 40001)]);
    expect(other.reason).toBe('acl-deny');
    expect(fw.counters()[1]).toBe(1); // one packet passed as established
  });

  it('matches VLAN and DSCP through the linear path', () => {
    const fw = nf('firewall', {
      rules: [{ action: 'deny', match: { vlan: 7 } }],
      default: 'allow',
      stateful: false,
    });
    const tagged = ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2 }, 'x', { vlan: 7 });
    const other = ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2 }, 'x', { vlan: 8 });
    expect(fw.run([tagged, other]).map((o) => o.reason ?? o.verdict)).toEqual(['acl-deny', 'pass']);
  });

  it('rejects a bad config with a specific message', () => {
    expect(() => openNf('firewall', { rules: [], default: 'maybe', stateful: false })).toThrow(
      /config\.default/,
    );
    expect(() =>
      openNf('firewall', {
        rules: [{ action: 'allow', match: { dstPort: { lo: 9, hi: 1 } } }],
        default: 'allow',
      }),
    ).toThrow(/lo is greater than hi/);
  });
});

describe.skipIf(!built)('nat', () => {
  it('translates outbound and inbound with valid checksums, reusing the mapping', () => {
    const nat = nf('nat');
    const outPkts = [
      tcp('10.0.0.5', '93.184.216.34', 40000, 80, 'GET /'),
      udp('10.0.0.6', '8.8.8.8', 5353, 53, 'query'),
      tcp('10.0.0.5', '93.184.216.34', 40000, 80, 'more'),
    ];
    const out = nat.run(outPkts);
    const p = out.map((o) => parse(o.data));
    expect(out.every((o) => o.verdict === 'pass')).toBe(true);
    for (const x of p) {
      expect(x.src).toBe('198.51.100.1');
      expect(x.sport).toBeGreaterThanOrEqual(20000);
      expect(x.sport).toBeLessThanOrEqual(20099);
      expect(x.ipChecksumOk && x.l4ChecksumOk).toBe(true);
    }
    expect(p[0].sport).toBe(p[2].sport);
    expect(p[0].sport).not.toBe(p[1].sport);
    expect(p[0].dst).toBe('93.184.216.34');

    const back = nat.run([
      tcp('93.184.216.34', '198.51.100.1', 80, p[0].sport, 'HTTP/1.1 200'),
      udp('8.8.8.8', '198.51.100.1', 53, p[1].sport, 'answer'),
      udp('8.8.8.8', '198.51.100.1', 53, 20099, 'unsolicited'),
    ]);
    const b = back.slice(0, 2).map((o) => parse(o.data));
    expect(b[0]).toMatchObject({
      dst: '10.0.0.5',
      dport: 40000,
      src: '93.184.216.34',
      ipChecksumOk: true,
      l4ChecksumOk: true,
    });
    expect(b[1]).toMatchObject({ dst: '10.0.0.6', dport: 5353, ipChecksumOk: true, l4ChecksumOk: true });
    expect(back[2]).toMatchObject({ verdict: 'drop', reason: 'no-mapping' });
    expect(nat.counters().slice(0, 3)).toEqual([3, 2, 2]);
  });

  it('drops with no-port when the pool is exhausted, and ICMP as unsupported', () => {
    const nat = nf('nat', { publicIp: '198.51.100.2', portRange: { lo: 100, hi: 101 }, maxFlows: 10 });
    const out = nat.run([
      udp('10.0.0.1', '1.1.1.1', 1, 53),
      udp('10.0.0.1', '1.1.1.1', 2, 53),
      udp('10.0.0.1', '1.1.1.1', 3, 53),
      ipv4Packet({ src: '10.0.0.1', dst: '1.1.1.1', sport: 0, dport: 0, proto: 'icmp' }),
    ]);
    expect(out.map((o) => o.reason ?? o.verdict)).toEqual(['pass', 'pass', 'no-port', 'unsupported']);
  });

  it('keeps a UDP checksum of zero (none) as zero', () => {
    const p = udp('10.0.0.9', '1.1.1.1', 7, 53);
    p.writeUInt16BE(0, 14 + 20 + 6);
    const [o] = nf('nat').run([p]);
    expect(o.data.readUInt16BE(14 + 20 + 6)).toBe(0);
    expect(parse(o.data).ipChecksumOk).toBe(true);
  });
});

describe.skipIf(!built)('loadbalancer', () => {
  const backends = ['10.0.1.1', '10.0.1.2', '10.0.1.3'];
  it('keeps each flow on one backend and rewrites replies back to the VIP', () => {
    const lb = nf('loadbalancer');
    const flows = Array.from({ length: 50 }, (_, i) =>
      tcp(`172.16.0.${i + 1}`, '10.10.10.10', 30000 + i, 443),
    );
    const first = lb.run(flows).map((o) => parse(o.data));
    const again = lb.run(flows).map((o) => parse(o.data));
    first.forEach((x, i) => {
      expect(backends).toContain(x.dst);
      expect(x.dst).toBe(again[i].dst);
      expect(x.ipChecksumOk && x.l4ChecksumOk).toBe(true);
    });
    const reply = tcp(first[0].dst, '172.16.0.1', 443, 30000, 'data');
    const [r] = lb.run([reply]);
    expect(parse(r.data)).toMatchObject({
      src: '10.10.10.10',
      dst: '172.16.0.1',
      ipChecksumOk: true,
      l4ChecksumOk: true,
    });
    const [other] = lb.run([udp('1.1.1.1', '2.2.2.2', 1, 2)]);
    expect(other.verdict).toBe('pass');
    expect(parse(other.data).dst).toBe('2.2.2.2');
  });

  it('spreads many flows evenly over the backends (Maglev)', () => {
    const lb = nf('loadbalancer', { vip: '10.10.10.10', backends, tableSize: 65537, maxFlows: 60000 });
    const count = new Map<string, number>();
    for (let batch = 0; batch < 24; batch++) {
      const pkts = Array.from({ length: 250 }, (_, i) =>
        udp(`100.${batch}.${i >> 8}.${i & 255}`, '10.10.10.10', 1024 + i, 53),
      );
      for (const o of lb.run(pkts)) {
        const d = parse(o.data).dst;
        count.set(d, (count.get(d) ?? 0) + 1);
      }
    }
    const n = [...count.values()];
    expect(count.size).toBe(3);
    for (const c of n) expect(Math.abs(c - 2000) / 2000).toBeLessThan(0.1);
  });

  it('rejects a table size that is not prime', () => {
    expect(() => openNf('loadbalancer', { vip: '1.1.1.1', backends, tableSize: 100, maxFlows: 10 })).toThrow(
      /prime/,
    );
  });
});

describe.skipIf(!built)('ids', () => {
  it('alerts on any pattern anywhere in the inspected payload, across overlapping patterns', () => {
    const ids = nf('ids', { patterns: ['he', 'she', 'hers', 'evil\u0001'], inspectBytes: 64 });
    const out = ids.run([
      udp('1.1.1.1', '2.2.2.2', 1, 2, 'ushers'),
      udp('1.1.1.1', '2.2.2.2', 1, 2, 'xxhxexx'),
      udp('1.1.1.1', '2.2.2.2', 1, 2, 'an evil\u0001 byte'),
      tcp('1.1.1.1', '2.2.2.2', 1, 2, 'sh'),
      udp('1.1.1.1', '2.2.2.2', 1, 2, 'x'.repeat(70) + 'she'),
    ]);
    expect(out.map((o) => o.verdict)).toEqual(['alert', 'pass', 'alert', 'pass', 'pass']);
    expect(ids.counters()[0]).toBe(2);
  });

  it('matches patterns split across the end of the inspected window only when fully inside', () => {
    const ids = nf('ids', { patterns: ['attack'], inspectBytes: 10 });
    const out = ids.run([
      udp('1.1.1.1', '2.2.2.2', 1, 2, '1234attack'),
      udp('1.1.1.1', '2.2.2.2', 1, 2, '12345attack'),
    ]);
    expect(out.map((o) => o.verdict)).toEqual(['alert', 'pass']);
  });
});

describe.skipIf(!built)('ratelimiter', () => {
  it('passes a burst up to burstBytes per flow and drops the excess as meter-red', () => {
    const rl = nf('ratelimiter', { rateBps: 8000, burstBytes: 1000, perFlow: true });
    const a = Array.from({ length: 20 }, () => udp('1.1.1.1', '2.2.2.2', 1, 2, 'y'.repeat(58))); // 100-byte frames
    const b = Array.from({ length: 5 }, () => udp('1.1.1.3', '2.2.2.2', 1, 2, 'y'.repeat(58)));
    const t0 = 1_000_000_000;
    const out = rl.run([...a, ...b], t0);
    const passedA = out.slice(0, 20).filter((o) => o.verdict === 'pass').length;
    expect(passedA).toBe(10);
    expect(out.slice(10, 20).every((o) => o.reason === 'meter-red')).toBe(true);
    expect(out.slice(20).every((o) => o.verdict === 'pass')).toBe(true);
    // One second later the bucket has refilled by 1000 bytes: ten more pass.
    const later = rl.run(a, t0 + 1_000_000_000);
    expect(later.filter((o) => o.verdict === 'pass').length).toBe(10);
  });

  it('shares one bucket between flows when aggregate', () => {
    const rl = nf('ratelimiter', { rateBps: 8000, burstBytes: 1000, perFlow: false });
    const pkts = Array.from({ length: 20 }, (_, i) => udp(`1.1.1.${i + 1}`, '2.2.2.2', 1, 2, 'y'.repeat(58)));
    expect(rl.run(pkts, 5_000_000_000).filter((o) => o.verdict === 'pass').length).toBe(10);
  });
});

describe.skipIf(!built)('monitor', () => {
  it('counts packets, bytes and flows and passes everything well-formed', () => {
    const mon = nf('monitor');
    const pkts = [
      udp('1.1.1.1', '2.2.2.2', 1, 2),
      udp('1.1.1.1', '2.2.2.2', 1, 2),
      tcp('1.1.1.1', '2.2.2.2', 1, 2),
    ];
    const out = mon.run(pkts);
    expect(out.every((o) => o.verdict === 'pass')).toBe(true);
    const c = mon.counters();
    expect(c[0]).toBe(3);
    expect(c[1]).toBe(pkts.reduce((s, p) => s + p.length, 0));
    expect(c[2]).toBe(2);
  });
});

describe.skipIf(!built)('config errors are specific', () => {
  it('names the NF and the key', () => {
    expect(() => openNf('nat', { publicIp: 'nope', portRange: { lo: 1, hi: 2 }, maxFlows: 1 })).toThrow(
      /nat: config\.publicIp/,
    );
    expect(() => openNf('ids', { patterns: 'x', inspectBytes: 1 })).toThrow(/ids: config\.patterns/);
    expect(() => openNf('monitor', '{not json')).toThrow(/config/);
    expect(() => openNf('vlan', {})).toThrow(/vlan: config\.op/);
    expect(() => openNf('router', {})).toThrow(/no built-in NF of type `router`/);
  });
});
