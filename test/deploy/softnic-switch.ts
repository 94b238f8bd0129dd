/**
 * The stand-alone softnic (`nfp softnic --grpc unix:… --port N@iface:…`) as the switch a launched
 * bmv2 target runs in its namespace: the real-ports plumbing (namespaces, veth, net_af_packet)
 * without simple_switch_grpc.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SwitchCommand } from '../../targets/bmv2/launch';

const ROOT = join(__dirname, '..', '..');

export const softnicSwitch: SwitchCommand = (ports, socket) => [
  process.execPath,
  join(ROOT, 'bin', 'run.js'),
  'softnic',
  '--grpc',
  `unix:${socket}`,
  '--device-id',
  '1',
  ...ports.flatMap((p) => ['--port', `${p.port}@iface:${p.ifname}`]),
];

/** Why this machine cannot run a launched switch on real ports, or undefined when it can. */
export function realPortsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, veth)';
  if (spawnSync('sh', ['-c', 'command -v ip']).status !== 0) return 'needs iproute2';
  if (!existsSync(join(ROOT, 'dist', 'cli', 'commands', 'softnic.js')))
    return 'needs the build (npm run build)';
  return undefined;
}
