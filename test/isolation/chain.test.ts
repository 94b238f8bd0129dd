/**
 * A tenant's chain with one domain entry per batch (`chain: true`, what the isolation bench and
 * the deployed runtime's fused host hops use) against the same NFs run one by one under `none`,
 * packet by packet. Two chains: FW -> NAT -> LB, where no NF moves a packet's front (the
 * backends' uniform fast path), and VLAN push -> marker -> encap, where the first NF grows every
 * packet at its front and the later ones must find the moved headers. Batches of different
 * lengths follow each other, so what a backend keeps from one batch's layout is not reused for
 * the next.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  IsolatedTenant,
  builtinArtifact,
  isolationSupport,
  type IsolationBackendName,
  type NfSpec,
} from '../../host-runtime/lib/isolation';
import { ipv4Packet, isolationBuilt, udpFlows, warnIfSkipped } from './helpers';

warnIfSkipped('isolation chain tests');

const CHAINS: Record<string, { type: string; config: unknown }[]> = {
  'FW -> NAT -> LB': [
    {
      type: 'firewall',
      config: {
        rules: [{ action: 'allow', match: { proto: 17, dstPort: { lo: 53, hi: 53 } } }],
        default: 'deny',
      },
    },
    {
      type: 'nat',
      config: { publicIp: '198.51.100.1', portRange: { lo: 20000, hi: 29999 }, maxFlows: 4096 },
    },
    {
      type: 'loadbalancer',
      config: { vip: '192.0.2.10', backends: ['10.0.1.1', '10.0.1.2'], tableSize: 251, maxFlows: 4096 },
    },
  ],
  'VLAN push -> marker -> encap': [
    { type: 'vlan', config: { op: 'push', vid: 100 } },
    { type: 'marker', config: { dscp: 46 } },
    { type: 'encap', config: { srcMac: '02:aa:00:00:00:01', dstMac: '02:bb:00:00:00:02' } },
  ],
};

/** 64-byte frames, then longer ones (a payload past the 64-byte head), a mixed batch, 64 again. */
function batches(): Buffer[][] {
  const long = Array.from({ length: 32 }, (_, i) =>
    ipv4Packet(
      { src: `10.1.0.${i + 1}`, dst: '192.0.2.10', sport: 2000 + i, dport: 53 },
      Buffer.alloc(400, i),
    ),
  );
  const mixed = udpFlows(32, 64).map((p, i) => (i % 3 === 1 ? long[i] : p));
  const denied = udpFlows(8, 200).map((p) => {
    const q = Buffer.from(p);
    q.writeUInt16BE(80, 36); // not port 53: the firewall drops it
    return q;
  });
  return [udpFlows(32), long, mixed, [...udpFlows(8, 300), ...denied], udpFlows(32, 400)];
}

const built = isolationBuilt;
const pku = built && isolationSupport().pku;
const open: IsolatedTenant[] = [];
afterAll(() => open.forEach((t) => t.close()));

describe.skipIf(!built)('a chain entered once per batch gives what its NFs give one by one', () => {
  let id = 900;
  for (const [name, nfs] of Object.entries(CHAINS)) {
    const types = nfs.map((n) => n.type);
    const backends: IsolationBackendName[] = ['sfi', 'process', ...(pku ? (['mpk'] as const) : [])];
    for (const backend of backends) {
      it(`${name} under ${backend}`, async () => {
        const reference = new IsolatedTenant({
          id: id++,
          backend: 'none',
          nfs: nfs.map((n) => ({ builtin: n.type, config: n.config })),
        });
        open.push(reference);
        let specs: NfSpec[];
        if (backend === 'sfi') {
          const mod = await builtinArtifact(types, 'sfi'); // one sandbox: the whole chain
          specs = nfs.map((n, k) => ({ artifact: `${mod}#${k}`, config: n.config }));
        } else {
          specs = await Promise.all(
            nfs.map(async (n) => ({ artifact: await builtinArtifact(n.type, 'native'), config: n.config })),
          );
        }
        const chained = new IsolatedTenant({ id: id++, backend, nfs: specs, chain: true });
        open.push(chained);
        for (const [b, batch] of batches().entries()) {
          const want = reference.run(batch);
          const got = chained.run(batch);
          expect(got.verdicts, `batch ${b}: verdicts`).toEqual(want.verdicts);
          for (let i = 0; i < batch.length; i++)
            expect(got.packets[i].toString('hex'), `batch ${b}, packet ${i}`).toBe(
              want.packets[i].toString('hex'),
            );
        }
        // The chains did change packets (the comparison above is not of untouched frames).
        const first = batches()[0];
        expect(chained.run(first).packets[0].equals(first[0])).toBe(false);
        expect(chained.stats().faults).toBe(0);
      }, 120_000);
    }
  }
});
