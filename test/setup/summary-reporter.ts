/**
 * Ends every vitest run with the list of skipped tests, each with the reason its file printed
 * (the `… skipped: <why>` line a gated suite writes when it is collected), so no skip is silent:
 * a skipped test whose file printed no reason is listed as such. Also says how many runtime log
 * lines the tests' deliberate faults wrote to NFP_LOG_FILE (see test/setup/global.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { UserConsoleLog } from 'vitest';
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipSummaryReporter implements Reporter {
  /** Skip reasons printed at collection, by the module (file) task id. */
  private readonly reasons = new Map<string, Set<string>>();

  onUserConsoleLog(log: UserConsoleLog): void {
    if (!log.taskId || !/\bskip/i.test(log.content)) return;
    const set = this.reasons.get(log.taskId) ?? new Set<string>();
    for (const line of log.content.split('\n')) if (/\bskip/i.test(line)) set.add(line.trim());
    this.reasons.set(log.taskId, set);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const out: string[] = [];
    let total = 0;
    for (const m of [...modules].sort((a, b) => a.moduleId.localeCompare(b.moduleId))) {
      const skipped = [...m.children.allTests()].filter((t) => t.result().state === 'skipped');
      if (skipped.length === 0) continue;
      total += skipped.length;
      const why = [...(this.reasons.get(m.id) ?? [])];
      out.push(`  ${relative(process.cwd(), m.moduleId)} (${skipped.length}):`);
      out.push(...(why.length ? why : ['(no reason printed)']).map((w) => `    why: ${w}`));
      for (const t of skipped) out.push(`    - ${t.fullName}`);
    }
    const lines = [
      total ? `Skipped tests (${total}), with the reasons their files gave:` : 'Skipped tests: none',
    ];
    lines.push(...out);
    const log = process.env.NFP_LOG_FILE;
    if (log && existsSync(log)) {
      const n = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
      if (n)
        lines.push(
          `Runtime log: ${n} lines from faults the tests provoke on purpose, in ${relative(process.cwd(), log)}`,
        );
    }
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}
