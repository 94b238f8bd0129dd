/**
 * The P4 back end's own output on the softnic: for every example graph, partition, emit
 * bmv2.json/P4Info/entries, install them, and run generated traffic through the engine. Each
 * packet's NIC outcome is checked against the plan (host paths: NSH with SPI = path id on the
 * path's host port) and, for fully offloaded paths, against the graph's reference semantics.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitNicArtifacts } from '../../p4';
import { loadGraph, partition } from '../../partitioner';
import { packetFate, type PacketHeaders } from '../../partitioner/reference';
import { parsePacket } from '../../deploy/packet';
import { DEFAULT_GENERATOR, generateTraffic } from '../../deploy/traffic';
import { SoftnicDevice } from '../../targets/softnic/device';
import { installArtifacts } from '../../targets/softnic/install';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const graphs = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

describe('emitted NIC pipelines on the softnic', () => {
  it('has example graphs to run', () => expect(graphs.length).toBeGreaterThan(0));

  it.each(graphs)(
    '%s: every generated packet gets the NIC outcome the plan and the graph expect',
    async (file) => {
      const graph = loadGraph(join(EXAMPLES, file));
      const plan = await partition(graph, { solver: 'heuristic' });
      const artifacts = emitNicArtifacts(plan);
      const device = new SoftnicDevice();
      await installArtifacts(device, artifacts);
      const { packets } = generateTraffic(plan, { ...DEFAULT_GENERATOR, packetsPerPath: 12 });
      expect(packets.length).toBeGreaterThan(0);
      const seen = { host: 0, offloadedExit: 0, offloadedDrop: 0, nicDrop: 0, meterRed: 0, returned: 0 };
      const engine = device.engine!;
      const dropCounter = artifacts.entries.dropCounter.name;
      const codes = artifacts.entries.dropReasons.map((r) => r.code);
      const dropCounts = (): number[] => {
        const c: number[] = [];
        for (const code of codes) c[code] = engine.counterRead(dropCounter, code).packets;
        return c;
      };
      // Rate limiting depends on time, which the reference does not model: a red packet is right
      // exactly when its path has a rate limiter placed on the NIC.
      const metered = (pathId: number): boolean =>
        plan.paths
          .find((p) => p.id === pathId)!
          .hops.some((h) => h.spot !== 'host' && plan.nfs[h.nf].type === 'ratelimiter');
      const failures: string[] = [];
      for (const pkt of packets) {
        const path = plan.paths.find((p) => p.id === pkt.path)!;
        const before = dropCounts();
        const [out] = device.inject(pkt.port, [pkt.data]);
        const after = dropCounts();
        const nicReason = artifacts.entries.dropReasons.find((r) => after[r.code] > before[r.code])?.name;
        const wire = parsePacket(pkt.data);
        const headers: PacketHeaders = {
          ingressPort: pkt.port,
          vlan: wire.vlan,
          proto: wire.proto ?? 0,
          srcIp: wire.srcIp ?? '0.0.0.0',
          dstIp: wire.dstIp ?? '0.0.0.0',
          srcPort: wire.srcPort,
          dstPort: wire.dstPort,
          dscp: wire.dscp ?? 0,
          payload: wire.payload,
        };
        const fate = packetFate(graph, headers);
        const where = `${file} path ${path.id} (${path.name}) ${headers.srcIp}→${headers.dstIp}:${headers.dstPort ?? ''}`;
        if (!('port' in out) && !nicReason) failures.push(`${where}: dropped without a counted reason`);
        if (nicReason === 'meter-red') {
          seen.meterRed++;
          if (!metered(path.id)) failures.push(`${where}: meter-red on a path without a NIC rate limiter`);
          continue;
        }
        if (path.needsHost) {
          if ('port' in out) {
            const p = parsePacket(out.data);
            seen.host++;
            if (p.nsh?.spi !== path.id || out.port !== plan.profile.hostPorts[path.queue ?? -1]) {
              failures.push(
                `${where}: expected NSH spi ${path.id} to host port, got port ${out.port} spi ${p.nsh?.spi}`,
              );
              continue;
            }
            // Back from the host as if every host NF passed it: the path's terminal decides.
            const b0 = dropCounts();
            const [back] = device.inject(out.port, [out.data]);
            const b1 = dropCounts();
            const backReason = artifacts.entries.dropReasons.find((r) => b1[r.code] > b0[r.code])?.name;
            if (path.terminal.kind === 'exit') {
              if (!('port' in back)) {
                if (!(backReason === 'meter-red' && metered(path.id)))
                  failures.push(`${where}: dropped (${backReason}) on return from the host`);
              } else {
                const q = parsePacket(back.data);
                seen.returned++;
                if (back.port !== path.terminal.port || q.nsh || q.ipChecksumOk !== true)
                  failures.push(
                    `${where}: returned to port ${back.port} (nsh ${!!q.nsh}), expected ${path.terminal.port}`,
                  );
              }
            } else if ('port' in back)
              failures.push(`${where}: a path ending in drop left the NIC on ${back.port}`);
          } else {
            // Only a NIC stage before the host may drop it, and the graph must agree.
            seen.nicDrop++;
            if (fate.outcome.kind !== 'drop')
              failures.push(`${where}: dropped on the NIC, reference says exit`);
          }
          continue;
        }
        if (fate.outcome.kind === 'drop') {
          seen.offloadedDrop++;
          if ('port' in out)
            failures.push(`${where}: reference drops (${fate.outcome.reason}), softnic sent to ${out.port}`);
          else if (nicReason !== fate.outcome.reason.split(':')[0])
            failures.push(
              `${where}: reference drops for ${fate.outcome.reason}, softnic counted ${nicReason}`,
            );
          continue;
        }
        seen.offloadedExit++;
        if (!('port' in out)) {
          failures.push(`${where}: reference exits on ${fate.outcome.port}, softnic dropped`);
          continue;
        }
        const p = parsePacket(out.data);
        if (out.port !== fate.outcome.port)
          failures.push(`${where}: port ${out.port}, reference ${fate.outcome.port}`);
        if (p.nsh) failures.push(`${where}: NSH left on a wire packet`);
        if (p.ipChecksumOk !== true) failures.push(`${where}: bad IPv4 checksum`);
        if ((p.dscp ?? 0) !== fate.headers.dscp)
          failures.push(`${where}: dscp ${p.dscp}, reference ${fate.headers.dscp}`);
        if (p.vlan !== fate.headers.vlan)
          failures.push(`${where}: vlan ${p.vlan}, reference ${fate.headers.vlan}`);
      }
      expect(failures.slice(0, 10)).toEqual([]);
      expect(seen.host + seen.offloadedExit + seen.offloadedDrop).toBeGreaterThan(0);
      if (seen.host > 0) expect(seen.returned).toBeGreaterThan(0);
    },
  );
});
