/** What a launched switch may leave behind: namespaces and interfaces named after process `pid`. */
import { spawnSync } from 'node:child_process';

export function leftovers(pid: number = process.pid): string[] {
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const links = spawnSync('ip', ['-br', 'link'], { encoding: 'utf8' }).stdout ?? '';
  return [
    ...ns.split('\n').filter((l) => l.startsWith(`nfp-${pid}-`)),
    ...links.split('\n').filter((l) => l.startsWith(`n${pid.toString(36)}`)),
  ];
}
