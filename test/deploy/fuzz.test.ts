/**
 * Differential fuzzing of the whole system: seeded random service graphs (partitioner/synthetic:
 * forks, bypasses, drops, IDS verdict branches, every NF type) are partitioned, emitted, deployed
 * on the softnic and the host runtime, and a few hundred packets per graph are compared with the
 * reference semantics, packet by packet. Each graph exercises placements the examples never do:
 * this is how the bugs in the header rewrites before a NIC ACL, the ICMP payload and the NAT's
 * unsupported protocols were found. NFP_FUZZ_SEEDS=A-B runs other seeds, NFP_FUZZ_ISOLATION=sfi|process|mpk under another
 * isolation backend than `none`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IsolationBackend } from '../../host-runtime/lib';
import { builtinModule } from '../../host-runtime/lib/isolation';
import { syntheticYaml } from '../../partitioner/synthetic';
import { deployDifferential } from './differential';

function seeds(): number[] {
  const m = /^(\d+)-(\d+)$/.exec(process.env.NFP_FUZZ_SEEDS ?? '');
  const [from, to] = m ? [Number(m[1]), Number(m[2])] : [1, 60];
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function graphOf(seed: number): string {
  return syntheticYaml({
    tenants: 1 + (seed % 3),
    nfsPerTenant: 2 + (seed % 5),
    seed,
    forks: seed % 4,
    idsRate: 0.2,
  });
}

const dir = mkdtempSync(join(tmpdir(), 'nfp-fuzz-'));

const isolation = (process.env.NFP_FUZZ_ISOLATION as IsolationBackend | undefined) ?? 'none';

describe('random service graphs, deployed, packet by packet against the reference', () => {
  // Sandboxed tenants run the module of every built-in NF: built once here, not inside a seed's time.
  beforeAll(async () => {
    if (isolation !== 'none') await builtinModule(isolation === 'sfi' ? 'sfi' : 'native');
  }, 600_000);

  afterAll(async () => {
    const host = await import('../../host-runtime/lib');
    host.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(seeds())(
    'seed %i',
    async (seed) => {
      const file = join(dir, `g${seed}.yaml`);
      writeFileSync(file, graphOf(seed));
      const { traffic, report, failures, reportFailures } = await deployDifferential(`seed ${seed}`, file, {
        target: { kind: 'softnic' },
        packets: 500,
        isolation,
      });
      expect(report.totals.forwarded + report.totals.dropped).toBe(traffic.length);
      // On failure, the graph is in the message: rerun it with `nfp deploy` to see for yourself.
      expect(failures.slice(0, 8), `graph of seed ${seed}:\n${graphOf(seed)}`).toEqual([]);
      expect(reportFailures.slice(0, 8), `graph of seed ${seed}:\n${graphOf(seed)}`).toEqual([]);
    },
    30_000,
  );
});
