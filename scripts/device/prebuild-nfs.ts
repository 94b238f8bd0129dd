/**
 * Builds, into the caches the code reads (TMPDIR/nfp-test-nfs for the tests' testNf, NFP_NF_CACHE
 * for builtinArtifact), every NF module the device checks load, so a machine without a compiler
 * runs them: scripts/device-kit.sh runs this in the kit's copy of the tree.
 */
import { builtinArtifact, type ArtifactKind } from '../../host-runtime/lib/isolation';
import { testNf } from '../../test/isolation/helpers';

const KINDS: ArtifactKind[] = ['native', 'sfi'];

async function main(): Promise<void> {
  const built: string[] = [];
  for (const kind of KINDS) {
    for (const nf of ['evil', 'secret']) built.push(await testNf(nf, kind));
    for (const t of ['firewall', 'nat', 'loadbalancer', 'macswap'])
      built.push(await builtinArtifact(t, kind));
  }
  built.push(await builtinArtifact(['firewall', 'nat', 'loadbalancer'], 'sfi'));
  for (const f of built) console.log(f);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`prebuild-nfs: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
