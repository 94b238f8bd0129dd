/**
 * Packet I/O through nfp's P4Runtime client, with the pipelines nfp emits for every example
 * graph: a PacketOut leaves by the wire port its packet_out header names (or runs through the
 * pipeline when it asks to), and a packet the pipeline sends to the CPU port arrives as a
 * PacketIn whose metadata names its ingress port. On the softnic always; on a real
 * simple_switch_grpc (`--cpu-port`) when it is on PATH and we are root.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DROP_REASONS, emitNicArtifacts, entriesToUpdates, type NicArtifacts } from '../../p4';
import { loadGraph, partition } from '../../partitioner';
import type { Plan } from '../../partitioner/plan';
import { DEFAULT_GENERATOR, generateTraffic, type GeneratedPacket } from '../../deploy/traffic';
import {
  insert,
  modify,
  P4RuntimeClient,
  P4RuntimeServer,
  UpdateType,
  type PacketIn,
  type Update,
} from '../../p4runtime';
import { SoftnicDevice } from '../../targets/softnic/device';
import { MemoryPort } from '../../targets/softnic/ports';
import { findOnPath } from '../../targets/bmv2/launch';
import { bmv2Wire, type Bmv2Wire } from '../p4/bmv2-wire';
import { next } from './helpers';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const graphs = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
const bmv2 = !!findOnPath('simple_switch_grpc') && process.getuid?.() === 0;
if (!bmv2)
  console.warn('test/p4runtime/packet-io: real BMv2 part skipped: needs simple_switch_grpc on PATH and root');

const asUpdates = (us: Update[]) =>
  us.map((u) => (u.type === UpdateType.INSERT ? insert(u.entity!) : modify(u.entity!)));

const dropCode = (name: string): number => DROP_REASONS.find((r) => r.name === name)!.code;

/** A 9-bit port that is neither a wire, host nor CPU port of the pipeline. */
function unusedPort(p: NicArtifacts['pipeline']): number {
  const used = new Set([...p.wirePorts, ...p.hostPorts, p.cpuPort]);
  return [...Array(511).keys()].reverse().find((x) => !used.has(x))!;
}

/** An NSH frame (EtherType 0x894F): a wire packet the pipeline must drop as nsh-on-wire. */
function nshFrame(): Buffer {
  const f = Buffer.alloc(64);
  f.writeUInt16BE(0x894f, 12);
  return f;
}

/**
 * Generated packets that leave by a table entry the test can rewrite to the CPU port, with that
 * rewrite: a fully offloaded path's path_exit entry, or a host path's steer entry.
 */
function toCpu(
  c: P4RuntimeClient,
  plan: Plan,
  cpu: number,
  packets: GeneratedPacket[],
): { pkt: GeneratedPacket; rewrite: Update }[] {
  const b = c.entities;
  return packets.flatMap((pkt) => {
    const path = plan.paths.find((x) => x.id === pkt.path);
    if (!path || path.branchOf) return [];
    if (!path.needsHost && path.terminal.kind === 'exit')
      return [
        {
          pkt,
          rewrite: modify(
            b.tableEntry({
              table: 'path_exit',
              match: { 'meta.path': pkt.path },
              action: 'to_wire',
              params: { port: cpu },
            }),
          ),
        },
      ];
    if (path.needsHost)
      return [
        {
          pkt,
          rewrite: modify(
            b.tableEntry({
              table: 'steer',
              match: { 'meta.path': pkt.path },
              action: 'to_host',
              params: { port: cpu, si: path.hostHops },
            }),
          ),
        },
      ];
    return [];
  });
}

interface Example {
  file: string;
  plan: Plan;
  a: NicArtifacts;
  packets: GeneratedPacket[];
}

const examples: Example[] = [];
beforeAll(async () => {
  for (const file of graphs) {
    const plan = await partition(loadGraph(join(EXAMPLES, file)), { solver: 'heuristic' });
    const packets = generateTraffic(plan, { ...DEFAULT_GENERATOR, packetsPerPath: 1 }).packets;
    examples.push({ file, plan, a: emitNicArtifacts(plan), packets });
  }
});

describe('PacketOut and PacketIn through the client on the softnic', () => {
  it('has examples', () => expect(graphs.length).toBeGreaterThan(0));

  it.each(graphs)(
    '%s: PacketOut → wire, → pipeline, → a port the NIC lacks (counted drop); wire → PacketIn',
    async (file) => {
      const { plan, a, packets } = examples.find((e) => e.file === file)!;
      const cpu = a.pipeline.cpuPort;
      const device = new SoftnicDevice({ cpuPort: cpu });
      const server = new P4RuntimeServer({ device });
      await server.start();
      const ports = new Map<number, MemoryPort>();
      for (const id of [...a.pipeline.wirePorts, ...a.pipeline.hostPorts]) {
        const p = new MemoryPort(id);
        ports.set(id, p);
        await device.addPort(p);
      }
      const c = new P4RuntimeClient({ address: server.address, electionId: 1, reconnect: false });
      try {
        await c.connect();
        await c.setPipeline({ p4info: a.p4info, deviceConfig: JSON.stringify(a.bmv2) });
        await c.write(asUpdates(entriesToUpdates(a.entries)));
        // The P4Info declares the controller headers by name, as controllers look them up.
        expect(c.schema.controllerHeader('packet_out')?.metadata?.map((m) => m.name)).toEqual([
          'egress_port',
          'submit_to_ingress',
        ]);

        // PacketOut straight out of a wire port, unchanged.
        const out = a.pipeline.wirePorts[1];
        const frame = packets[0].data;
        c.packetOut(frame, { egress_port: out, submit_to_ingress: 0 });
        await until(() => ports.get(out)!.sent.length === 1);
        expect(ports.get(out)!.sent.pop()!.equals(frame)).toBe(true);

        // PacketOut into the pipeline: a wire packet from the CPU port, so NSH is dropped and counted.
        const [before] = await c.readCounter('drop_reasons', 2);
        c.packetOut(nshFrame(), { egress_port: 0, submit_to_ingress: 1 });
        await until(() => device.getStats().rx[cpu] === 2);
        const [after] = await c.readCounter('drop_reasons', 2);
        expect(after.packets - before.packets).toBe(1n);

        // PacketOut to a port the NIC does not have: dropped, counted as bad-packet-out.
        const badPort = unusedPort(a.pipeline);
        const [badBefore] = await c.readCounter('drop_reasons', dropCode('bad-packet-out'));
        c.packetOut(frame, { egress_port: badPort, submit_to_ingress: 0 });
        await until(() => device.getStats().rx[cpu] === 3);
        const [badAfter] = await c.readCounter('drop_reasons', dropCode('bad-packet-out'));
        expect(badAfter.packets - badBefore.packets).toBe(1n);
        expect([...ports.values()].flatMap((p) => p.sent)).toEqual([]);

        // Wire → PacketIn: send a path's packet to the CPU port instead of its own port.
        // (the first such packet the pipeline forwards: some are dropped by an ACL or a meter)
        let sent: Buffer[] = [];
        const chosen = toCpu(c, plan, cpu, packets).find(({ pkt }) => {
          ports.get(pkt.port)!.inject([pkt.data]);
          sent = [...ports.values()].flatMap((p) => p.sent.splice(0));
          return sent.length === 1;
        });
        expect(chosen).toBeDefined();
        const { pkt, rewrite } = chosen!;
        await c.write([rewrite]);
        const got = next(c, 'packetIn');
        ports.get(pkt.port)!.inject([pkt.data]);
        const [packetIn]: [PacketIn] = await got;
        const view = c.entities.decodePacketIn(packetIn);
        expect(view.metadata.ingress_port).toBe(BigInt(pkt.port));
        expect(Buffer.from(view.payload).equals(sent[0])).toBe(true);
      } finally {
        c.close();
        await server.stop(50);
      }
    },
  );
});

describe.skipIf(!bmv2)('PacketOut and PacketIn through the client on a real simple_switch_grpc', () => {
  let wire: Bmv2Wire | undefined;
  afterAll(async () => wire?.close());

  it.each(graphs)(
    '%s: PacketOut → wire, → a port the NIC lacks (counted drop); wire → PacketIn with --cpu-port',
    async (file) => {
      const { plan, a, packets } = examples.find((e) => e.file === file)!;
      wire = await bmv2Wire(a, JSON.stringify(a.bmv2));
      const c = wire.client;
      const cpu = a.pipeline.cpuPort;
      const out = a.pipeline.wirePorts[1];
      const frame = packets[0].data;
      c.packetOut(frame, { egress_port: out, submit_to_ingress: 0 });
      const left = await wire.collect(2000);
      expect(left.map((f) => f.port)).toEqual([out]);
      expect(left[0].data.subarray(0, frame.length).equals(frame)).toBe(true);
      const [badBefore] = await c.readCounter('drop_reasons', dropCode('bad-packet-out'));
      c.packetOut(frame, { egress_port: unusedPort(a.pipeline), submit_to_ingress: 0 });
      expect(await wire.collect(500)).toEqual([]);
      const [badAfter] = await c.readCounter('drop_reasons', dropCode('bad-packet-out'));
      expect(badAfter.packets - badBefore.packets).toBe(1n);

      let normal: { port: number; data: Buffer }[] = [];
      let chosen: ReturnType<typeof toCpu>[number] | undefined;
      for (const candidate of toCpu(c, plan, cpu, packets)) {
        wire.send(candidate.pkt.port, candidate.pkt.data);
        normal = await wire.collect(500);
        if (normal.length === 1) {
          chosen = candidate;
          break;
        }
      }
      expect(chosen).toBeDefined();
      const { pkt, rewrite } = chosen!;
      await c.write([rewrite]);
      const got = next(c, 'packetIn');
      wire.send(pkt.port, pkt.data);
      const [packetIn]: [PacketIn] = await got;
      const view = c.entities.decodePacketIn(packetIn);
      expect(view.metadata.ingress_port).toBe(BigInt(pkt.port));
      expect(Buffer.from(view.payload).equals(normal[0].data)).toBe(true);
      await wire.close();
      wire = undefined;
    },
    60_000,
  );
});

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
