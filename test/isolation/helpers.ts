/**
 * Shared by the isolation tests: whether the addon carries the isolation layer (else every suite
 * skips and says why), test NFs built once per input hash, and packets.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonBuilt } from '../../host-runtime/lib/index';
import { addon } from '../../host-runtime/lib/native';
import { buildNf, nfBuildInputs, type ArtifactKind } from '../../host-runtime/lib/isolation';
import { ipv4Packet } from '../host-runtime/packets';

export { ipv4Packet, parse } from '../host-runtime/packets';

function hasIsolation(): boolean {
  if (!addonBuilt()) return false;
  try {
    return (addon() as unknown as { isolation?: unknown }).isolation !== undefined;
  } catch {
    return false;
  }
}

export const isolationBuilt = hasIsolation();

/** Call at collection time: prints one line when the suite will be skipped. */
export function warnIfSkipped(suite: string): void {
  if (!isolationBuilt) {
    console.warn(
      `${suite} skipped: nfp_host.node is not built with host-runtime/src/isolation (run npm run build:native without NFP_SKIP_ISOLATION)`,
    );
  }
}

const NFS = join(__dirname, 'nfs');

/** Builds test/isolation/nfs/<name>.c (or several, as one chain module) for `kind`, cached. */
export async function testNf(names: string | string[], kind: ArtifactKind): Promise<string> {
  const list = Array.isArray(names) ? names : [names];
  const sources = list.map((n) => join(NFS, `${n}.c`));
  const h = createHash('sha256').update(kind);
  for (const f of [...sources, join(NFS, 'cfg.h'), ...nfBuildInputs()]) h.update(readFileSync(f));
  const dir = join(tmpdir(), 'nfp-test-nfs');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${list.join('-')}.${kind}.${h.digest('hex').slice(0, 12)}.so`);
  if (existsSync(out)) return out;
  // Built under a name of this process, then renamed: a second vitest process building the same
  // module at the same time never loads a half-written file.
  const part = out.replace(/\.so$/, `.${process.pid}.part.so`);
  await buildNf({ kind, sources, out: part });
  renameSync(part, out);
  return out;
}

/** `n` UDP packets of distinct flows from 10.0.0.x, 64 bytes on the wire without FCS. */
export function udpFlows(n: number, base = 0): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    ipv4Packet(
      {
        src: `10.0.${(base + i) >> 8}.${((base + i) & 0xff) + 1}`,
        dst: '192.0.2.10',
        sport: 1000 + i,
        dport: 53,
      },
      Buffer.alloc(22, 0x61),
    ),
  );
}

/** What macswap makes of a frame: the reference for a victim tenant's output. */
export function macswapped(p: Buffer): Buffer {
  const o = Buffer.from(p);
  p.copy(o, 0, 6, 12);
  p.copy(o, 6, 0, 6);
  return o;
}
