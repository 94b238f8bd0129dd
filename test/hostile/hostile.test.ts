/**
 * Hostile traffic on every data path: the corpus (test/hostile/corpus.ts: every class, cut at
 * every header boundary) and random bytes, replayed through a real deployment of each example
 * graph. No frame may abort the deployment or go unaccounted (`input = forwarded + dropped`),
 * and each must meet the fate the reference semantics gives its bytes.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzzFrames, HOSTILE_CLASSES, hostileCorpus } from './corpus';
import { DATA_PATHS, replayHostile } from './harness';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const graphs = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(EXAMPLES, f));
const FUZZ = Number(process.env.NFP_HOSTILE_FUZZ ?? 400);

for (const dp of DATA_PATHS) {
  const why = dp.unavailable?.();
  if (why) console.warn(`test/hostile: data path "${dp.name}" skipped: ${why}`);
  describe.skipIf(why !== undefined)(`hostile frames on ${dp.name}`, () => {
    afterAll(async () => {
      const host = await import('../../host-runtime/lib');
      host.stop();
    });

    it.each(graphs.map((g) => [basename(g), g]))(
      '%s: the corpus, every frame as the reference says',
      async (_name, graphFile) => {
        const run = await replayHostile(graphFile, dp, (valid) =>
          hostileCorpus(valid, { bases: dp.corpusBases }),
        );
        const { totals } = run.report;
        expect(totals.input).toBe(run.frames.length);
        expect(totals.forwarded + totals.dropped).toBe(totals.input);
        expect(run.fates.filter((f) => !f).length).toBe(0);
        const classes = new Set(run.frames.map((f) => f.class));
        for (const c of HOSTILE_CLASSES) expect(classes.has(c), `class ${c} in the corpus`).toBe(true);
        // Every frame of the corpus, each base cut at every byte through its L4 header.
        expect(run.frames.length + run.leftOut).toBe(
          hostileCorpus(run.valid, { bases: dp.corpusBases }).length,
        );
        console.log(
          `${dp.name}, ${basename(graphFile)}: ${run.frames.length} hostile frames`,
          JSON.stringify(Object.fromEntries([...run.byClass].map(([k, v]) => [k, Object.fromEntries(v)]))),
        );
        expect(run.failures.slice(0, 12)).toEqual([]);
      },
      120_000,
    );

    it.each(graphs.map((g) => [basename(g), g]))(
      `%s: ${FUZZ} random and ${FUZZ} mutated frames`,
      async (_name, graphFile) => {
        const run = await replayHostile(graphFile, dp, (valid) => fuzzFrames(valid, FUZZ, 17), dp.maxFrames);
        const { totals } = run.report;
        expect(totals.input).toBe(run.frames.length);
        expect(totals.forwarded + totals.dropped).toBe(totals.input);
        expect(run.failures.slice(0, 12)).toEqual([]);
      },
      120_000,
    );
  });
}
