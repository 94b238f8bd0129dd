/** The agent's `--port N@iface:NAME` flags: which interface carries each NIC wire port. */
import { NfpError } from '../partitioner/errors';

export function parseWirePorts(specs: string[]): Record<number, string> {
  const out: Record<number, string> = {};
  for (const spec of specs) {
    const m = /^(\d{1,3})@iface:([A-Za-z0-9_.:@-]{1,15})$/.exec(spec);
    if (!m || Number(m[1]) > 510) {
      throw new NfpError(
        `--port ${spec}: expected N@iface:NAME (N a wire port 0-510, NAME a network interface)`,
        'e.g. --port 0@iface:eth1',
      );
    }
    const port = Number(m[1]);
    if (out[port] !== undefined) throw new NfpError(`--port: wire port ${port} is given twice`);
    out[port] = m[2];
  }
  return out;
}
