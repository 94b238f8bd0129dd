import { Flags } from '@oclif/core';
import { NfpCommand } from '../base';
import type { SoftnicStats } from '../../targets/softnic/device';
import { startSoftnic } from '../../targets/softnic/serve';

export interface SoftnicResult {
  address: string;
  deviceId: number;
  ports: Array<{ id: number; describe: string; output?: string }>;
  stats: SoftnicStats;
}

export default class Softnic extends NfpCommand<SoftnicResult> {
  static override summary = 'Run the embedded software NIC as a P4Runtime device until stopped.';

  static override description = `Starts the softnic, nfp's embedded NIC model that executes the same BMv2 JSON that simple_switch loads (v1model; the supported constructs are listed in docs/targets.md), behind a P4Runtime server, like \`simple_switch_grpc --no-p4\`. Any P4Runtime controller (nfp deploy, p4runtime-shell, ONOS) can then push a pipeline (P4Info + BMv2 JSON as p4_device_config) and entries, and exchange packets through the ports.

Ports:
  N@pcap:FILE   replays FILE (it must exist) into port N once a pipeline is committed, and writes what leaves port N to FILE with .pcap replaced by .out.pcap (in FILE's folder)
  N@pcap:rx=IN.pcap,tx=OUT.pcap
                the same with the output named; tx=OUT.pcap alone is an output-only port
  N@iface:NAME  sends and receives on network interface NAME through an AF_PACKET socket (root)
  N@ethdev:DEVARGS
                sends and receives through a DPDK ethdev: a vdev created from DEVARGS and removed at exit, such as net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap or net_af_packet0,iface=veth0 or net_tap0,iface=tap0 (vdev names start with the driver name; each needs its own name), or the name of a device the EAL already probed. Frames are received from the first pipeline commit on. The DPDK EAL starts once in the process (no hugepages, no PCI)

Runs until SIGINT (Ctrl-C) or SIGTERM, then stops the server, closes the ports and prints the packet counts.`;

  static override examples = [
    {
      description:
        'Serve P4Runtime on the standard port: replay in.pcap into port 1 (what leaves it goes to in.out.pcap), write what leaves port 2 to out.pcap',
      command:
        '<%= config.bin %> <%= command.id %> --grpc 127.0.0.1:9559 --port 1@pcap:in.pcap --port 2@pcap:tx=out.pcap',
    },
    {
      description: 'Bridge two veth interfaces through the pipeline a controller pushes',
      command: '<%= config.bin %> <%= command.id %> --port 1@iface:veth0 --port 2@iface:veth1',
    },
    {
      description:
        'Two DPDK net_pcap ports: replay in0.pcap into port 0, write what leaves port 1 to out1.pcap',
      command:
        '<%= config.bin %> <%= command.id %> --port 0@ethdev:net_pcap0,rx_pcap=in0.pcap,tx_pcap=out0.pcap --port 1@ethdev:net_pcap1,rx_pcap=in1.pcap,tx_pcap=out1.pcap',
    },
    {
      description: 'Device id 3 with a CPU port for PacketIn/PacketOut',
      command: '<%= config.bin %> <%= command.id %> --grpc 127.0.0.1:50051 --device-id 3 --cpu-port 64',
    },
  ];

  static override flags = {
    grpc: Flags.string({ description: 'address to serve P4Runtime on', default: '127.0.0.1:9559' }),
    'device-id': Flags.integer({ description: 'P4Runtime device id', default: 1, min: 0 }),
    port: Flags.string({
      description: 'a port: N@pcap:FILE, N@pcap:rx=IN,tx=OUT, N@iface:NAME or N@ethdev:DEVARGS (repeatable)',
      multiple: true,
    }),
    'cpu-port': Flags.integer({
      description:
        "port that connects to the controller (PacketIn/PacketOut); default 255, as in nfp's NIC profiles",
      min: 0,
      max: 510,
    }),
  };

  async run(): Promise<SoftnicResult> {
    const { flags } = await this.parse(Softnic);
    const sn = await startSoftnic({
      grpc: flags.grpc,
      deviceId: flags['device-id'],
      ports: flags.port ?? [],
      cpuPort: flags['cpu-port'],
    });
    // With --json, stdout carries only the final result; say where we listen on stderr.
    const say = (line: string): void => {
      if (this.jsonEnabled()) process.stderr.write(`${line}\n`);
      else this.log(line);
    };
    say(`softnic: P4Runtime on ${sn.address}, device id ${sn.deviceId}`);
    for (const p of sn.ports) say(`  port ${p.id}: ${p.describe}${p.output ? ` → ${p.output}` : ''}`);
    // Listen for the signals before saying how to stop, so an early one is not lost.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    say('  stop with Ctrl-C');
    await stopped;
    const stats = await sn.stop();
    const rx = Object.values(stats.rx).reduce((a, b) => a + b, 0);
    const tx = Object.values(stats.tx).reduce((a, b) => a + b, 0);
    const d = stats.drops;
    this.log(
      `softnic: stopped; ${rx} received, ${tx} sent, dropped ${d.ingress} in ingress, ${d.egress} in egress, ${d.noPort} to unattached ports, ${d.noPipeline} before a pipeline was loaded`,
    );
    for (const p of sn.ports) {
      if (p.output) this.log(`  port ${p.id}: wrote ${stats.tx[p.id] ?? 0} frames to ${p.output}`);
    }
    return { address: sn.address, deviceId: sn.deviceId, ports: sn.ports, stats };
  }
}
