import { Args, Flags } from '@oclif/core';
import { NfpCommand } from '../base';
import { profiles } from '../../partitioner/profiles';
import {
  NIC_FAMILIES,
  parseGeneratorSpec,
  parseTrafficSource,
  renderReport,
  runDeploy,
  TARGET_KINDS,
  type DeployReport,
  type LiveDeployment,
} from '../../deploy';
import { DeployMetrics } from '../../metrics/metrics';
import { serveHttp, type HttpEndpoint } from '../../metrics/http';

export default class Deploy extends NfpCommand<DeployReport> {
  static override summary =
    'Deploy service graphs on a NIC target and the host runtime, run traffic, and report.';

  static override description = `Partitions the graph (or takes a plan folder written by \`nfp partition\`), starts the target (the embedded softnic serves P4Runtime on a loopback port; --target bmv2 launches simple_switch_grpc from PATH in a network namespace with veth ports, the host runtime attached to its host ports through net_af_packet — root needed — or uses a running one given with --grpc; --target dpdk puts the NIC half on the host runtime's own DPDK ports, as rte_flow rules where the NIC's driver takes them and the softnic engine inline for the rest, on veth ports in a namespace of its own unless --port names real ones), pushes the NIC pipeline and its table entries over P4Runtime as the primary controller, starts the host runtime with the plan's host half, and runs traffic through both.

Traffic: captures replayed (--traffic FILE, or --traffic PORT=FILE once per wire port; pcap or pcapng, frames of several files interleaved by capture time), or the embedded generator (--generate, or by default flows on every tenant and path, split by the tenants' trafficShare and the paths' shares). The traffic repeats until --duration seconds have passed (10 by default; 0: one pass). Any frame is accepted: a frame the NIC cannot read (cut short, lying lengths, oversize, stacked VLAN tags) is dropped and counted with its reason. With --grpc the NIC half runs on that device's own ports, so the deployment stays up until Ctrl-C unless --duration is given.

The report lists, per tenant, the offered load (pps, Mbps) and, per path and NF: packets, drops by reason, packets moved to branch paths by a host verdict, and host cycles per packet on that path; the NIC's counters as read back over P4Runtime; and the end-to-end account (every input packet is forwarded or dropped with a reason). With --json the report is printed as JSON.

With --metrics ADDR, Prometheus metrics of the running deployment (docs/metrics.md) are served at http://ADDR/metrics while it runs: per tenant, path and NF packets, bytes, drops by reason, host cycles, quarantines, and the NIC's counters.

Deployment is atomic: if a step fails (pipeline verification, an entry write, the host runtime), everything it set up is undone and the error names the step. Ctrl-C stops the traffic, prints the report and leaves nothing running.`;

  static override examples = [
    {
      description: 'Deploy the enterprise-edge example on the embedded softnic with generated traffic',
      command: '<%= config.bin %> <%= command.id %> examples/enterprise-edge.yaml --duration 3',
    },
    {
      description: 'Deploy a plan written by nfp partition, replay a pcap, capture what leaves',
      command: '<%= config.bin %> <%= command.id %> out/edge --traffic in.pcap --pcap-out out.pcap',
    },
    {
      description: 'Replay one capture per wire port (pcap or pcapng)',
      command: '<%= config.bin %> <%= command.id %> out/edge --traffic 0=port0.pcapng --traffic 1=port1.pcap',
    },
    {
      description: 'Deploy on a real BMv2 that nfp launches (simple_switch_grpc on PATH, as root)',
      command: '<%= config.bin %> <%= command.id %> examples/multi-tenant.yaml --target bmv2 --duration 5',
    },
    {
      description:
        'Deploy on DPDK ports (as root; here veth pairs, software NIC half) and see what ran offloaded',
      command: '<%= config.bin %> <%= command.id %> examples/multi-tenant.yaml --target dpdk --duration 3',
    },
    {
      description: 'On a ConnectX NIC: its two ports by PCI address, rte_flow offload required',
      command:
        '<%= config.bin %> <%= command.id %> out/mt --target dpdk --port 0@0000:3b:00.0 --port 1@0000:3b:00.1 --offload require',
    },
    {
      description: 'More flows, only 64-byte frames, as JSON for scripts',
      command:
        '<%= config.bin %> <%= command.id %> examples/multi-tenant.yaml --generate packets=500,flows=32,sizes=64 --json',
    },
  ];

  static override args = {
    input: Args.string({
      description: 'service graph (YAML) or plan folder (with plan.json)',
      required: true,
    }),
  };

  static override flags = {
    target: Flags.option({ description: 'NIC target', options: TARGET_KINDS, default: 'softnic' as const })(),
    profile: Flags.string({
      description: 'NIC profile used to partition a graph [default: the target]',
      options: Object.keys(profiles),
    }),
    grpc: Flags.string({
      description:
        'P4Runtime address of an already running device (HOST:PORT or unix:PATH); without it, nfp starts the target',
    }),
    'device-id': Flags.integer({ description: 'P4Runtime device id', default: 1, min: 0 }),
    port: Flags.string({
      description:
        'dpdk: wire port N on a DPDK device, N@DEVARGS: a NIC by PCI address (0@0000:3b:00.0) or a vdev spec (1@net_af_packet0,iface=eth1); repeat per wire port [default: veth ports in a namespace, with generated traffic]',
      multiple: true,
    }),
    nic: Flags.option({
      description:
        "dpdk: the NIC family whose rte_flow capabilities decide what is offloaded [default: recognised from the ports' PCI ids; software for virtual ports]",
      options: ['auto', ...NIC_FAMILIES] as const,
      default: 'auto' as const,
    })(),
    offload: Flags.option({
      description:
        'dpdk: auto: offload what the NIC takes, run the rest in software (a refused rule set falls back to software with a notice); require: fail if the NIC refuses; off: all in software',
      options: ['auto', 'require', 'off'] as const,
      default: 'auto' as const,
    })(),
    traffic: Flags.string({
      description:
        'capture to replay (pcap or pcapng): FILE, or PORT=FILE for the wire port it enters on; repeatable',
      multiple: true,
      exclusive: ['generate'],
    }),
    'traffic-port': Flags.integer({
      description: 'wire port of --traffic files given without PORT= [default: first wire port]',
    }),
    generate: Flags.string({
      description:
        'generator spec: packets=N (per pass, split by shares),flows=N (per path),sizes=A/B,suspicious=F,seed=N',
      exclusive: ['traffic'],
    }),
    duration: Flags.integer({
      description: 'seconds to run the traffic (replayed) [default: 10; with --grpc, until Ctrl-C]',
      min: 0,
    }),
    'pcap-out': Flags.string({ description: 'write every frame that leaves a wire port to this pcap' }),
    isolation: Flags.option({
      description: "run every tenant under this isolation backend [default: each tenant's own]",
      options: ['none', 'sfi', 'mpk', 'process'] as const,
    })(),
    workers: Flags.integer({ description: 'host runtime worker lcores', default: 1, min: 1 }),
    metrics: Flags.string({
      description: 'serve Prometheus metrics at http://ADDR/metrics while deployed (HOST:PORT, :PORT)',
      helpValue: 'ADDR',
    }),
  };

  async run(): Promise<DeployReport> {
    const { args, flags } = await this.parse(Deploy);
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let live: LiveDeployment | undefined;
    let final: DeployReport | undefined;
    let endpoint: HttpEndpoint | undefined;
    try {
      if (flags.metrics) {
        const metrics = new DeployMetrics(async () => final ?? (await live?.report()));
        endpoint = await serveHttp(flags.metrics, {
          '/metrics': async () => ({ status: 200, type: metrics.contentType, body: await metrics.scrape() }),
        });
        // On stderr even under --json (stdout carries only the report): scripts need the address.
        process.stderr.write(`nfp deploy: metrics on http://${endpoint.address}/metrics\n`);
      }
      const { report, prepared } = await runDeploy({
        input: args.input,
        target:
          flags.target === 'dpdk'
            ? { kind: 'dpdk', ports: flags.port, nic: flags.nic, offload: flags.offload }
            : { kind: flags.target, grpc: flags.grpc, deviceId: flags['device-id'] },
        profile: flags.profile,
        traffic: flags.traffic?.map(parseTrafficSource),
        trafficPort: flags['traffic-port'],
        generate: flags.generate ? parseGeneratorSpec(flags.generate) : undefined,
        // A device on its own ports carries real traffic: it stays deployed until Ctrl-C.
        durationSeconds: flags.duration ?? (flags.grpc || flags.port?.length ? Infinity : 10),
        pcapOut: flags['pcap-out'],
        isolation: flags.isolation,
        workers: flags.workers,
        signal: abort.signal,
        onLive: (l) => (live = l),
        onStep: (s, detail) => this.progress(`nfp deploy: ${s} done${detail ? `: ${detail}` : ''}`),
        onProgress: (p) =>
          this.progress(
            `  ${p.elapsedSeconds.toFixed(0)}s ${p.input} packets  ` +
              Object.entries(p.perTenantPps)
                .map(([t, pps]) => `${t} ${pps} pps`)
                .join('  '),
          ),
      });
      if (prepared.unreachablePaths.length) {
        this.progress(`note: no packet could be generated for paths ${prepared.unreachablePaths.join(', ')}`);
      }
      final = report;
      this.log(renderReport(report));
      return report;
    } finally {
      await endpoint?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
