/**
 * Test traffic for a plan's host part: NSH-tagged packets per root path, shaped by the path's host
 * NFs (VIP-bound flows for a load balancer, IDS patterns in some payloads), plus packets the host
 * must refuse (no NSH, unknown path, wrong tenant, bad SI, malformed inner packets).
 */
import type { IdsConfig, LoadBalancerConfig } from '../../partitioner/nf-config';
import type { Plan, PlanPath } from '../../partitioner/plan';
import { encapNsh } from '../../host-runtime/lib/index';
import { ipv4Packet, malformedSet } from './packets';

export interface TestPacket {
  path: number;
  /** The packet carries an IDS pattern (expects the `alert` branch where one is planned). */
  alert: boolean;
  toVip?: string;
  pkt: Buffer;
  /** A drop reason the runtime itself must give (refused before any NF). */
  refuse?: string;
}

function hostNfsOf(plan: Plan, path: PlanPath) {
  return path.hops.filter((h) => h.spot === 'host').map((h) => plan.nfs[h.nf]);
}

export function rootHostPaths(plan: Plan): PlanPath[] {
  return plan.paths.filter((p) => p.needsHost && !p.branchOf && p.hostHops > 0);
}

/** `perPath` packets for every root host path, deterministic. */
export function trafficFor(plan: Plan, perPath: number): TestPacket[] {
  const out: TestPacket[] = [];
  for (const path of rootHostPaths(plan)) {
    const nfs = hostNfsOf(plan, path);
    const lb = nfs.find((n) => n.type === 'loadbalancer')?.config as LoadBalancerConfig | undefined;
    const ids = nfs.find((n) => n.type === 'ids')?.config as IdsConfig | undefined;
    for (let i = 0; i < perPath; i++) {
      const alert = ids !== undefined && i % 3 === 1;
      const toVip = lb !== undefined && i % 2 === 0 ? lb.vip : undefined;
      const payload = alert
        ? `GET /${ids.patterns[i % ids.patterns.length]} HTTP/1.0`
        : `hello ${path.id}/${i}`;
      const frame = ipv4Packet(
        {
          src: `10.${path.id}.${(i >> 8) & 255}.${i & 255}`,
          dst: toVip ?? `203.0.113.${(i % 200) + 1}`,
          sport: 10000 + i,
          dport: i % 4 === 0 ? 443 : 80,
          proto: i % 5 === 0 ? 'udp' : 'tcp',
        },
        payload,
      );
      out.push({
        path: path.id,
        alert,
        toVip,
        pkt: encapNsh({ spi: path.id, si: path.hostHops, tenant: path.tenant }, frame),
      });
    }
    // Malformed inner packets: an NF on the path must drop them with a reason.
    for (const m of malformedSet().slice(3, 6)) {
      out.push({
        path: path.id,
        alert: false,
        pkt: encapNsh({ spi: path.id, si: path.hostHops, tenant: path.tenant }, m.pkt),
      });
    }
  }
  return out;
}

/** Packets the runtime refuses itself, each tagged for root path `path`. */
export function refusedFor(plan: Plan, path: PlanPath): TestPacket[] {
  const frame = ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 }, 'x');
  const unknown = Math.max(...plan.paths.map((p) => p.id)) + 1;
  const tag = { spi: path.id, si: path.hostHops, tenant: path.tenant };
  const broken = encapNsh(tag, frame);
  broken[17] = 0x03; // next protocol: not nfp's
  return [
    { path: path.id, alert: false, refuse: 'no-nsh', pkt: frame },
    { path: path.id, alert: false, refuse: 'unknown-path', pkt: encapNsh({ ...tag, spi: unknown }, frame) },
    {
      path: path.id,
      alert: false,
      refuse: 'tenant-mismatch',
      pkt: encapNsh({ ...tag, tenant: tag.tenant + 100 }, frame),
    },
    {
      path: path.id,
      alert: false,
      refuse: 'bad-si',
      pkt: encapNsh({ ...tag, si: path.hostHops + 1 }, frame),
    },
    { path: path.id, alert: false, refuse: 'bad-nsh', pkt: broken },
    { path: path.id, alert: false, refuse: 'bad-nsh', pkt: broken.subarray(0, 20) },
  ];
}
