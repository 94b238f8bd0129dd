/**
 * `--target dpdk` on this machine, for real: the target makes veth pairs in a namespace, the host
 * runtime opens DPDK's net_af_packet on them (a PMD with no flow API, so the whole NIC half runs
 * in software: the softnic engine inline on the receiving and transmitting lcores), generated
 * traffic goes in and comes out through raw sockets on the far ends, and every packet's fate is
 * compared with the reference semantics: every example graph, the test graphs, and seeded random
 * graphs (partitioner/synthetic) as in test/deploy/fuzz.test.ts.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticYaml } from '../../partitioner/synthetic';
import { deployDifferential } from '../deploy/differential';
import { leftovers } from '../deploy/leftovers';

const ROOT = join(__dirname, '..', '..');
const root = process.getuid?.() === 0;
if (!root) console.warn('test/dpdk/software: skipped: veth pairs and namespaces need root');

const graphs = [
  ...readdirSync(join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(ROOT, 'examples', f)),
  ...['test/deploy/graphs', 'test/dpdk/graphs'].flatMap((d) =>
    readdirSync(join(ROOT, d))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(ROOT, d, f)),
  ),
];

const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);
const dir = mkdtempSync(join(tmpdir(), 'nfp-dpdk-fuzz-'));
const counts = { graphs: 0, packets: 0 };

describe.skipIf(!root)('dpdk target, software path on net_af_packet over veth', () => {
  afterAll(async () => {
    const host = await import('../../host-runtime/lib');
    host.stop();
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `dpdk software path: ${counts.graphs} graphs, ${counts.packets} packets, each as the reference says`,
    );
  });

  it.each(graphs.map((g) => [g.split('/').pop()!, g]))(
    '%s: every packet as the reference says',
    async (_name, file) => {
      const { traffic, report, failures, seen } = await deployDifferential(file, file, {
        target: { kind: 'dpdk' },
        packets: 300,
      });
      expect(report.target).toBe('dpdk');
      expect(report.totals.input).toBe(traffic.length);
      expect(report.totals.forwarded + report.totals.dropped).toBe(traffic.length);
      expect(report.dropsByReason['nic:lost'] ?? 0).toBe(0);
      console.log(`dpdk software, ${file.split('/').pop()}: ${traffic.length} packets`, JSON.stringify(seen));
      expect(failures.slice(0, 12)).toEqual([]);
      expect(seen.forwarded).toBeGreaterThan(0);
      // The report says where the NIC half ran: net_af_packet has no flow API.
      expect(report.nicPlacement?.nic).toBe('software');
      expect(report.nicPlacement?.nfs.every((n) => n.where === 'software')).toBe(true);
      expect(leftovers()).toEqual([]);
      counts.graphs++;
      counts.packets += traffic.length;
    },
    60_000,
  );

  it.each(SEEDS)(
    'random graph of seed %i: every packet as the reference says',
    async (seed) => {
      const file = join(dir, `g${seed}.yaml`);
      const yaml = syntheticYaml({
        tenants: 1 + (seed % 3),
        nfsPerTenant: 2 + (seed % 5),
        seed,
        forks: seed % 4,
        idsRate: 0.2,
      });
      writeFileSync(file, yaml);
      const { traffic, report, failures } = await deployDifferential(`dpdk seed ${seed}`, file, {
        target: { kind: 'dpdk' },
        packets: 200,
      });
      expect(report.totals.forwarded + report.totals.dropped).toBe(traffic.length);
      expect(report.dropsByReason['nic:lost'] ?? 0).toBe(0);
      expect(failures.slice(0, 8), `graph of seed ${seed}:\n${yaml}`).toEqual([]);
      counts.graphs++;
      counts.packets += traffic.length;
    },
    60_000,
  );
});
