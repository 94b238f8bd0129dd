/**
 * The dpdk target's wire ports: given as `N@DEVARGS` (production: `--port 0@0000:3b:00.0`, a NIC
 * the EAL probes; or any vdev spec such as `1@net_af_packet0,iface=eth1`), or made up for a run on
 * this machine: one veth pair per wire port, DPDK's net_af_packet on the end here and the traffic
 * sent and read on the far end, inside a network namespace of its own.
 */
import { NfpError } from '../../partitioner/errors';
import { Lab } from '../netns';

export interface WirePort {
  /** The P4 wire port number the NIC pipeline knows it by. */
  port: number;
  /** What the host runtime opens: a probed device's name (PCI address) or a vdev spec. */
  devargs: string;
  /** Lab ports: the far end, where traffic enters and leaves (in `netns`). */
  far?: { ifname: string; netns: string };
}

const PCI = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;

/** Whether a port's devargs name a PCI device (rather than a vdev). */
export function isPci(devargs: string): boolean {
  return PCI.test(devargs);
}

/** Parses `N@DEVARGS`; throws NfpError naming the flag value on a malformed one. */
export function parsePortSpec(spec: string): WirePort {
  const m = /^(\d+)@(.+)$/.exec(spec.trim());
  if (!m) {
    throw new NfpError(
      `--port ${spec}: expected N@DEVARGS`,
      'e.g. --port 0@0000:3b:00.0 (a NIC by PCI address) or --port 1@net_af_packet0,iface=eth1 (a vdev)',
    );
  }
  const port = Number(m[1]);
  if (port > 510) throw new NfpError(`--port ${spec}: wire port ${port} is outside 0..510`);
  const devargs = m[2];
  if (!PCI.test(devargs) && !/^net_[a-z_]+\w*(,|$)/.test(devargs)) {
    throw new NfpError(
      `--port ${spec}: "${devargs}" is neither a PCI address (0000:3b:00.0) nor a vdev spec (net_<driver><n>,key=value...)`,
    );
  }
  return { port, devargs };
}

/** Wire ports given on the command line: one per wire port of the profile, no port twice. */
export function givenPorts(specs: string[], wirePorts: number[]): WirePort[] {
  const ports = specs.map(parsePortSpec);
  const seen = new Set<number>();
  for (const p of ports) {
    if (seen.has(p.port)) throw new NfpError(`wire port ${p.port} is given twice with --port`);
    seen.add(p.port);
    if (!wirePorts.includes(p.port))
      throw new NfpError(
        `--port ${p.port}@${p.devargs}: ${p.port} is not a wire port of the plan (${wirePorts.join(', ')})`,
      );
  }
  return ports.sort((a, b) => a.port - b.port);
}

/** A lab port per wire port: veth pairs in a namespace, net_af_packet on the ends here. */
export function labPorts(wirePorts: number[], queues: number): { lab: Lab; ports: WirePort[] } {
  const lab = new Lab('the dpdk target without --port');
  try {
    const ports = wirePorts.map((port) => {
      const { here, there } = lab.addVeth(port, 'd', `w${port}`);
      return {
        port,
        devargs: `net_af_packet_${here},iface=${here},qpairs=${queues}`,
        far: { ifname: there, netns: lab.namespace },
      };
    });
    return { lab, ports };
  } catch (err) {
    lab.remove();
    throw err;
  }
}
