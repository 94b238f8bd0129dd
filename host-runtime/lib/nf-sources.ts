/**
 * The files an NF's C source builds from: itself and what it includes with quotes from beside it,
 * recursively (`nfp/nf.h` and system headers come from the toolchain). A plan folder copies them
 * (`nfp partition`), and a module's build cache key hashes them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function nfSourceFiles(source: string): string[] {
  const out = [resolve(source)];
  const seen = new Set(out);
  for (let i = 0; i < out.length; i++) {
    let text: string;
    try {
      text = readFileSync(out[i], 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
      const f = resolve(dirname(out[i]), m[1]);
      if (seen.has(f) || !existsSync(f)) continue;
      seen.add(f);
      out.push(f);
    }
  }
  return out;
}
