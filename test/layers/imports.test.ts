/**
 * The layering, checked by the imports (ARCHITECTURE.md: dependencies point one way,
 * cli → deploy → targets / p4 / partitioner → p4runtime, host-runtime/lib):
 * - nothing under p4/ or p4runtime/ imports from a target or from deploy/ (p4runtime/ imports
 *   not even p4/: it is the library below it);
 * - targets/ never import deploy/ or cli/;
 * - deploy/ reaches targets only through the targets' front (targets/index.ts: the Target
 *   interface and openTarget) and never names a target kind;
 * - the targets' native code (the softnic engine, the dpdk rte_flow installer) includes nothing
 *   private of the host runtime: only its own headers and the published ones under
 *   host-runtime/include.
 * Each rule is also run on a planted violation, so a broken checker cannot pass silently.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');

function filesUnder(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules' || name === 'build' || name === 'proto') continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (exts.some((e) => name.endsWith(e))) out.push(p);
    }
  };
  walk(join(ROOT, dir));
  return out;
}

/** Relative module specifiers of a TypeScript source: imports, re-exports, import(), require(). */
export function specifiersOf(source: string): string[] {
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  return [...source.matchAll(re)].map((m) => m[1]);
}

/** The repository path (from the root, `/`-separated) a relative specifier of `file` names. */
function target(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return relative(ROOT, resolve(dirname(file), spec))
    .split('\\')
    .join('/');
}

interface Violation {
  file: string;
  imports: string;
}

/** Imports of files under `from` that resolve into a folder of `forbidden` (allowing `except`). */
function crossings(
  files: Array<{ file: string; source: string }>,
  forbidden: string[],
  except: (resolved: string) => boolean = () => false,
): Violation[] {
  const out: Violation[] = [];
  for (const { file, source } of files) {
    for (const spec of specifiersOf(source)) {
      const to = target(file, spec);
      if (!to || except(to)) continue;
      if (forbidden.some((f) => to === f || to.startsWith(`${f}/`)))
        out.push({ file: relative(ROOT, file), imports: spec });
    }
  }
  return out;
}

const ts = (dir: string): Array<{ file: string; source: string }> =>
  filesUnder(dir, ['.ts']).map((file) => ({ file, source: readFileSync(file, 'utf8') }));

/** targets/index.ts (as `../targets` or `../targets/index`) is the only way in. */
const targetsFront = (to: string): boolean => to === 'targets' || to === 'targets/index';

/** `#include "x"` of a native file that resolve to neither its own folder nor a published header. */
function privateIncludes(files: Array<{ file: string; source: string }>, published: string): Violation[] {
  const out: Violation[] = [];
  for (const { file, source } of files) {
    for (const m of source.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
      const inc = m[1];
      const own = statSafe(join(dirname(file), inc));
      const pub = statSafe(join(ROOT, published, inc));
      if (!own && !pub) out.push({ file: relative(ROOT, file), imports: inc });
    }
  }
  return out;
}

function statSafe(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

describe('layering by the imports', () => {
  it('p4/ imports no target and not deploy/', () => {
    expect(crossings(ts('p4'), ['targets', 'deploy', 'cli'])).toEqual([]);
  });

  it('p4runtime/ imports no target, not deploy/ and not even p4/', () => {
    expect(crossings(ts('p4runtime'), ['targets', 'deploy', 'cli', 'p4'])).toEqual([]);
  });

  it('targets/ import neither deploy/ nor cli/', () => {
    expect(crossings(ts('targets'), ['deploy', 'cli'])).toEqual([]);
  });

  it('host-runtime/ and partitioner/ import none of the layers above them', () => {
    const above = ['targets', 'deploy', 'cli', 'p4'];
    expect(crossings(ts('host-runtime'), above)).toEqual([]);
    expect(crossings(ts('partitioner'), [...above, 'p4runtime'])).toEqual([]);
  });

  it('deploy/ reaches targets only through targets/index.ts (the Target interface)', () => {
    const files = ts('deploy');
    expect(files.length).toBeGreaterThan(3);
    expect(crossings(files, ['targets'], targetsFront)).toEqual([]);
    // ... and each file that uses a target does so through the front.
    expect(
      files.some(({ file, source }) => specifiersOf(source).some((s) => targetsFront(target(file, s) ?? ''))),
    ).toBe(true);
  });

  it('deploy/ never names a target kind (it does not branch on one)', () => {
    const named = ts('deploy').flatMap(({ file, source }) =>
      [...source.matchAll(/['"`](softnic|bmv2|dpdk)['"`]/g)].map((m) => `${relative(ROOT, file)}: ${m[0]}`),
    );
    expect(named).toEqual([]);
  });

  it.each(['targets/softnic/engine', 'targets/dpdk/engine'])(
    "%s includes only its own and the host runtime's published headers",
    (folder) => {
      const files = filesUnder(folder, ['.cc', '.h']).map((file) => ({
        file,
        source: readFileSync(file, 'utf8'),
      }));
      expect(files.length).toBeGreaterThan(0);
      expect(privateIncludes(files, 'host-runtime/include')).toEqual([]);
      // It does use the published link API.
      expect(files.filter((f) => f.source.includes('#include "nfp/host.h"')).length).toBeGreaterThanOrEqual(
        1,
      );
    },
  );

  it('the checks catch planted violations', () => {
    const p4File = join(ROOT, 'p4', 'x.ts');
    expect(
      crossings([{ file: p4File, source: "import { a } from '../targets/softnic/device';" }], ['targets']),
    ).toHaveLength(1);
    expect(
      crossings(
        [{ file: p4File, source: "export * from '../deploy';\nconst m = require('../deploy/x');" }],
        ['deploy'],
      ),
    ).toHaveLength(2);
    const deployFile = join(ROOT, 'deploy', 'x.ts');
    expect(
      crossings(
        [
          {
            file: deployFile,
            source: "import type { T } from '../targets';\nimport { S } from '../targets/softnic/target';",
          },
        ],
        ['targets'],
        targetsFront,
      ),
    ).toEqual([{ file: 'deploy/x.ts', imports: '../targets/softnic/target' }]);
    const cc = join(ROOT, 'targets', 'softnic', 'engine', 'x.cc');
    expect(
      privateIncludes(
        [{ file: cc, source: '#include "engine.h"\n#include "nfp/host.h"\n#include "runtime.h"\n' }],
        'host-runtime/include',
      ),
    ).toEqual([{ file: 'targets/softnic/engine/x.cc', imports: 'runtime.h' }]);
  });
});
