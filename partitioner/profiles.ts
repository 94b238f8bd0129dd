/**
 * NIC target profiles: the resources and match kinds a NIC pipeline offers, and what crossing
 * PCIe (or its stand-in) costs. `hw-small` is deliberately tight so that placement must choose.
 */
import type { NicProfile } from './plan';
import { NfpError } from './errors';
import { didYouMean } from './reader';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

export const profiles: Record<string, NicProfile> = {
  softnic: {
    name: 'softnic',
    description: 'embedded software NIC (in-process, BMv2 JSON semantics); generous tables, cheap crossings',
    stages: 16,
    exactEntries: 65536,
    ternaryEntries: 8192,
    lpmEntries: 16384,
    rangeEntries: 2048,
    meters: 1024,
    counters: 65536,
    hostQueues: 64,
    matchKinds: ['exact', 'ternary', 'lpm', 'range'],
    crossingCycles: 150,
    wirePorts: range(0, 8),
    hostPorts: range(64, 64),
    cpuPort: 255,
  },
  bmv2: {
    name: 'bmv2',
    description:
      'BMv2 simple_switch_grpc (v1model) with host-facing veth ports; crossings go through the kernel',
    stages: 24,
    exactEntries: 16384,
    ternaryEntries: 4096,
    lpmEntries: 4096,
    rangeEntries: 1024,
    meters: 256,
    counters: 16384,
    hostQueues: 8,
    matchKinds: ['exact', 'ternary', 'lpm', 'range'],
    crossingCycles: 2500,
    wirePorts: range(0, 8),
    hostPorts: range(8, 8),
    cpuPort: 255,
  },
  dpdk: {
    name: 'dpdk',
    description:
      "any DPDK NIC: rte_flow offload where the NIC's driver can, the rest in software on the receiving lcore",
    // What the software NIC (the softnic engine, inline in the host runtime) holds; what the NIC
    // itself takes is decided per NF against its capability profile (nfp partition --nic).
    stages: 16,
    exactEntries: 65536,
    ternaryEntries: 8192,
    lpmEntries: 16384,
    rangeEntries: 2048,
    meters: 1024,
    counters: 65536,
    hostQueues: 16,
    matchKinds: ['exact', 'ternary', 'lpm', 'range'],
    // The NIC half and the host NFs share the lcore: a crossing is an NSH push and pop.
    crossingCycles: 200,
    wirePorts: range(0, 4),
    hostPorts: range(64, 16),
  },
  'hw-small': {
    name: 'hw-small',
    description:
      'a small hardware-like SmartNIC: 5 stages, 32 TCAM entries, no range match, 1 meter, 2 host queues',
    stages: 5,
    exactEntries: 256,
    ternaryEntries: 32,
    lpmEntries: 32,
    rangeEntries: 0,
    meters: 1,
    counters: 64,
    hostQueues: 2,
    matchKinds: ['exact', 'ternary', 'lpm'],
    crossingCycles: 400,
    wirePorts: range(0, 4),
    hostPorts: range(4, 2),
    cpuPort: 255,
  },
};

/** Looks a profile up by name, or passes a given profile through. */
export function resolveProfile(p: string | NicProfile | undefined): NicProfile {
  if (p === undefined) return profiles.softnic;
  if (typeof p !== 'string') return p;
  const found = profiles[p];
  if (!found) {
    const names = Object.keys(profiles);
    throw new NfpError(
      `unknown NIC profile "${p}"${didYouMean(p, names)}`,
      `use one of: ${names.join(', ')}`,
    );
  }
  return found;
}
