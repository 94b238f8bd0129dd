/**
 * `npm run bench -- <name> [--quick]`: runs one benchmark from bench/<name>.ts.
 * Every benchmark module exports `main(args: string[]): Promise<void>` and ends by printing one
 * line of JSON with its figures.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const NAMES = ['partition', 'emit', 'p4runtime', 'host', 'isolation', 'softnic', 'deploy'] as const;

async function run(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || !(NAMES as readonly string[]).includes(name)) {
    console.error(`usage: npm run bench -- <${NAMES.join('|')}> [--quick]`);
    process.exit(2);
  }
  const file = join(__dirname, `${name}.ts`);
  if (!existsSync(file)) {
    console.error(`bench: ${name} is not implemented yet (no bench/${name}.ts)`);
    process.exit(2);
  }
  const mod = (await import(file)) as { main: (args: string[]) => Promise<void> };
  await mod.main(rest);
}

run().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
