/**
 * The lowering pass: a plan becomes a NIC pipeline IR. It decides the tables, their keys and
 * entries and the control flow; it prints nothing (the emitters do).
 */
import { InternalError, NfpError } from '../partitioner/errors';
import type { Plan } from '../partitioner/plan';
import {
  DEPARSE_ORDER,
  DROP_REASONS,
  dropCode,
  f,
  HEADER_TYPES,
  INSTANCES,
  IPV4_CHECKSUM,
  MAX_FRAME_BYTES,
  PARSER_ERRORS,
  parserStates,
  COLOR_RED,
} from './headers';
import type { ActionCall, ControlNode, IrMatch, NicPipeline } from './ir';
import { fromHeaderMatch, fromTenantRule, keyLayout, ruleMatches } from './keys';
import {
  Builder,
  call,
  and,
  checkPort,
  eq,
  INGRESS_CONTROL,
  notDropped,
  PORT_WIDTH,
  priorityShift,
} from './lower/builder';
import { lowerSide, meterConfig } from './lower/stages';

export { INGRESS_CONTROL } from './lower/builder';

/**
 * The CPU port of a profile that names none (plans made before profiles had one): BMv2's
 * conventional `--cpu-port`, below its drop port 511.
 */
export const DEFAULT_CPU_PORT = 255;

/** The references the lowering relies on; a hand-edited plan.json gets a specific error. */
function checkReferences(plan: Plan): void {
  const bad = (what: string): never => {
    throw new NfpError(
      `plan ${plan.graphFile || ''} is inconsistent: ${what}`.replace('  ', ' '),
      'regenerate it with `nfp partition`',
    );
  };
  const tenants = new Set(plan.tenants.map((t) => t.id));
  const paths = new Map(plan.paths.map((p) => [p.id, p]));
  plan.nfs.forEach((nf, i) => nf.id !== i && bad(`nfs[${i}] has id ${nf.id}`));
  for (const p of plan.paths) {
    if (!tenants.has(p.tenant)) bad(`path ${p.id} belongs to unknown tenant ${p.tenant}`);
    for (const h of p.hops) {
      if (!plan.nfs[h.nf]) bad(`path ${p.id} visits unknown NF ${h.nf}`);
      else if (plan.nfs[h.nf].tenant !== p.tenant)
        bad(`path ${p.id} visits NF ${plan.nfs[h.nf].name} of another tenant`);
    }
  }
  for (const r of plan.tenantRules)
    if (!tenants.has(r.tenant)) bad(`a tenant rule names unknown tenant ${r.tenant}`);
  for (const r of plan.pathRules) {
    const p = paths.get(r.path);
    if (!p) bad(`a path rule of tenant ${r.tenant} names unknown path ${r.path}`);
    else if (p.tenant !== r.tenant)
      bad(`a path rule of tenant ${r.tenant} names path ${r.path} of tenant ${p.tenant}`);
  }
}

export function lowerPlan(plan: Plan): NicPipeline {
  checkReferences(plan);
  const b = new Builder(plan);
  const { profile } = plan;
  for (const p of profile.wirePorts) checkPort(p, 'wire port');
  for (const p of profile.hostPorts) checkPort(p, 'host port');
  const wire = new Set(profile.wirePorts);
  for (const p of profile.hostPorts) {
    if (wire.has(p))
      throw new NfpError(`port ${p} is both a wire port and a host port in profile ${profile.name}`);
  }
  const cpuPort = profile.cpuPort ?? DEFAULT_CPU_PORT;
  checkPort(cpuPort, 'CPU port');
  if (wire.has(cpuPort) || profile.hostPorts.includes(cpuPort))
    throw new NfpError(
      `CPU port ${cpuPort} is also a wire or host port in profile ${profile.name}`,
      'give the profile a cpuPort that no other port uses',
    );
  if (!profile.matchKinds.includes('ternary')) {
    throw new NfpError(
      `NIC profile ${profile.name} has no ternary matches; tenant and path classification need them`,
      'use a NIC profile with ternary (TCAM) tables',
    );
  }
  const sortedPaths = [...plan.paths].sort((x, y) => x.id - y.id);

  // Port roles: host ports carry NSH; everything else is wire.
  for (const port of [...profile.hostPorts].sort((x, y) => x - y)) {
    b.entry({
      table: 'port_role',
      match: [{ kind: 'exact', value: BigInt(port) }],
      action: call('from_host'),
      comment: `host port ${port}`,
    });
  }
  const portRole = b.table({
    name: 'port_role',
    keys: [{ field: f('std', 'ingress_port'), matchKind: 'exact' }],
    actions: ['from_host', 'NoAction'],
    defaultAction: call('NoAction'),
    constDefault: false,
    comment: 'which ports face the host; every other port is a wire port',
  });

  // Tenant classification.
  b.shared('set_tenant');
  b.shared('mark_drop');
  const tenantRules = plan.tenantRules.map(fromTenantRule);
  const tLayout = keyLayout(tenantRules, false, ['port']);
  const tShift = priorityShift(plan.tenantRules.map((r) => r.priority));
  const policed = new Set(plan.tenants.filter((t) => t.rateLimit).map((t) => t.id));
  plan.tenantRules.forEach((r, i) => {
    if (r.ingressPort !== undefined) checkPort(r.ingressPort, 'tenant ingress port');
    const tenant = plan.tenants.find((t) => t.id === r.tenant);
    b.ruleEntries(
      'tenant_classify',
      ruleMatches(tLayout, tenantRules[i]),
      r.priority + tShift,
      call('set_tenant', r.tenant, policed.has(r.tenant) ? 1 : 0),
      `tenant ${r.tenant} (${tenant?.name ?? '?'}) slice`,
    );
  });
  const tenantClassify = b.table({
    name: 'tenant_classify',
    keys: tLayout.keys,
    actions: ['set_tenant', 'mark_drop'],
    defaultAction: call('mark_drop', dropCode('no-tenant')),
    constDefault: false,
    comment: 'wire packets into tenants by their traffic slice; no slice: drop (no-tenant)',
  });

  const policing: ControlNode[] = [];
  if (policed.size) {
    const size = Math.max(...plan.tenants.map((t) => t.id)) + 1;
    b.meters.push({
      name: 'tenant_meter',
      size,
      unit: 'bytes',
      comment: 'per-tenant rate limits, indexed by tenant id',
    });
    for (const t of [...plan.tenants].sort((x, y) => x.id - y.id)) {
      if (!t.rateLimit) continue;
      b.meterConfigs.push(
        meterConfig(
          'tenant_meter',
          t.id,
          t.rateLimit.bitsPerSecond,
          t.rateLimit.burstBytes,
          `tenant ${t.name}`,
        ),
      );
    }
    policing.push({
      kind: 'if',
      cond: eq('meta', 'policed', 1),
      then: [
        b.fixed('tenant_police', call('police_tenant'), "meter the tenant's aggregate rate"),
        {
          kind: 'if',
          cond: eq('meta', 'color', COLOR_RED),
          then: [
            b.fixed(
              'tenant_police_red',
              call('mark_drop', dropCode('meter-red')),
              'tenant over its rate limit',
            ),
          ],
          else: [],
        },
      ],
      else: [],
    });
  }

  // Path classification, per tenant, larger priority wins.
  b.shared('set_path');
  const pathRules = plan.pathRules.map((r) => fromHeaderMatch(r.match));
  const pLayout = keyLayout(pathRules, profile.matchKinds.includes('range'));
  const pShift = priorityShift(plan.pathRules.map((r) => r.priority));
  plan.pathRules.forEach((r, i) => {
    const path = b.pathById.get(r.path);
    const matches = ruleMatches(pLayout, pathRules[i]).map((m) => [
      { kind: 'exact', value: BigInt(r.tenant) } as IrMatch,
      ...m,
    ]);
    b.ruleEntries(
      'path_classify',
      matches,
      r.priority + pShift,
      call('set_path', r.path),
      `path ${r.path}: ${path?.name ?? '?'}`,
    );
  });
  const pathClassify = b.table({
    name: 'path_classify',
    keys: [{ field: f('meta', 'tenant'), matchKind: 'exact' }, ...pLayout.keys],
    actions: ['set_path', 'mark_drop'],
    defaultAction: call('mark_drop', dropCode('no-path')),
    constDefault: false,
    comment: "a tenant's packets into its root service paths",
  });

  // Where each root path leaves: offloaded paths get their wire port (or drop) before their NIC
  // stages run, so an offloaded router can still override the port; host paths are steered after.
  for (const p of sortedPaths) {
    if (p.branchOf) continue;
    let action: ActionCall;
    let what: string;
    if (p.needsHost) {
      action = call('NoAction');
      what = 'to the host after its NIC stages (see steer)';
    } else if (p.terminal.kind === 'drop') {
      action = call('exit_drop', dropCode(p.terminal.reason));
      what = `dropped on the NIC (${p.terminal.reason}) after its NIC NFs`;
    } else {
      checkPort(p.terminal.port, `exit port of path ${p.id}`);
      action = call('to_wire', p.terminal.port);
      what = `fully offloaded, out of port ${p.terminal.port}`;
    }
    b.entry({
      table: 'path_exit',
      match: [{ kind: 'exact', value: BigInt(p.id) }],
      action,
      comment: `path ${p.id} (${p.name}): ${what}`,
    });
  }
  const pathExit = b.table({
    name: 'path_exit',
    keys: [{ field: f('meta', 'path'), matchKind: 'exact' }],
    actions: ['to_wire', 'exit_drop', 'mark_drop', 'NoAction'],
    defaultAction: call('mark_drop', dropCode('no-path')),
    constDefault: false,
    comment: 'fully offloaded paths: their wire port or drop; host paths: nothing yet',
  });

  const wireStages = lowerSide(b, 'wire');

  // Steering of root paths that need the host: push NSH, go to the path's host queue.
  for (const p of sortedPaths) {
    if (p.branchOf || !p.needsHost) continue;
    const port = profile.hostPorts[p.queue ?? -1];
    if (port === undefined) {
      throw new NfpError(
        `path ${p.id} (${p.name}) uses host queue ${p.queue ?? 'none'} but profile ${profile.name} has ${profile.hostPorts.length} host port(s)`,
        'add host ports to the NIC profile or regenerate the plan',
      );
    }
    b.entry({
      table: 'steer',
      match: [{ kind: 'exact', value: BigInt(p.id) }],
      action: call('to_host', port, p.hostHops),
      comment: `path ${p.id} (${p.name}): to the host on queue ${p.queue} (port ${port}), ${p.hostHops} host hop(s)`,
    });
  }
  const steer = b.table({
    name: 'steer',
    keys: [{ field: f('meta', 'path'), matchKind: 'exact' }],
    actions: ['to_host', 'NoAction'],
    defaultAction: call('NoAction'),
    constDefault: false,
    comment: 'host paths get NSH and go to their host queue; no other path ever has an entry here',
  });

  // The return path: host ports deliver NSH packets of the paths that visit the host.
  for (const p of sortedPaths) {
    if (!p.needsHost) continue;
    const action =
      p.terminal.kind === 'exit'
        ? call('return_to_wire', p.id, p.terminal.port)
        : call('return_drop', p.id, dropCode(p.terminal.reason));
    if (p.terminal.kind === 'exit') checkPort(p.terminal.port, `exit port of path ${p.id}`);
    b.entry({
      table: 'return_classify',
      match: [
        { kind: 'exact', value: BigInt(p.id) },
        { kind: 'exact', value: BigInt(p.tenant) },
      ],
      action,
      comment: `path ${p.id} (${p.name}) back from the host`,
    });
  }
  const returnClassify = b.table({
    name: 'return_classify',
    keys: [
      { field: f('nsh', 'spi'), matchKind: 'exact' },
      { field: f('nsh', 'tenant'), matchKind: 'exact' },
    ],
    actions: ['return_to_wire', 'return_drop', 'mark_drop'],
    defaultAction: call('mark_drop', dropCode('bad-spi')),
    constDefault: false,
    comment: 'packets back from the host: SPI and tenant must name a host path of that tenant',
  });
  const returnStages = lowerSide(b, 'return');
  // A path that ends in a drop ends after its NIC NFs ran, so that a drop of their own (an ACL
  // deny) is the reason counted, as the service graph says.
  const endOfPath = (name: string, host: boolean): ControlNode[] =>
    sortedPaths.some((p) => p.needsHost === host && p.terminal.kind === 'drop')
      ? [
          {
            kind: 'if',
            cond: and(notDropped, eq('meta', 'exit_drop', 1)),
            then: [b.fixed(name, call('take_exit_drop'), 'the path ends in a drop')],
            else: [],
          },
        ]
      : [];

  const nshOnWire = b.fixed(
    'nsh_on_wire',
    call('mark_drop', dropCode('nsh-on-wire')),
    'NSH is internal: never accepted from the wire',
  );
  const noNsh = b.fixed(
    'no_nsh_from_host',
    call('mark_drop', dropCode('no-nsh-from-host')),
    'host ports must return NSH packets',
  );
  b.counters.push({ name: 'drop_reasons', size: DROP_REASONS.length + 1, comment: 'drops by reason code' });
  // Named so that it shadows no architecture extern (PNA declares drop_packet()).
  const dropStage = b.fixed('drop_stage', call('drop_and_count'), 'drop, counted by reason');
  // A PacketOut leaves by the port its header names through one entry per NIC port: PNA's
  // send_to_port() has a directionless parameter, which p4c accepts only as a compile-time
  // constant or an action parameter, never a header field. A port the NIC lacks is a counted drop.
  const nicPorts = [...new Set([...profile.wirePorts, ...profile.hostPorts])].sort((x, y) => x - y);
  for (const port of nicPorts)
    b.entry({
      table: 'cpu_send',
      match: [{ kind: 'exact', value: BigInt(port) }],
      action: call('send_packet_out', port),
      comment: `PacketOut to port ${port}`,
    });
  const cpuSend = b.table({
    name: 'cpu_send',
    keys: [{ field: f('packet_out', 'egress_port'), matchKind: 'exact' }],
    actions: ['send_packet_out', 'mark_drop'],
    defaultAction: call('mark_drop', dropCode('bad-packet-out')),
    constDefault: false,
    comment: 'a controller PacketOut leaves by the port its packet_out header names',
  });
  const cpuReceive = b.fixed(
    'cpu_receive',
    call('push_packet_in'),
    'a packet sent to the CPU port goes to the controller with a packet_in header',
  );

  // What the parser could not read never reaches a tenant (partitioner/frame.ts).
  const oversize = b.fixed(
    'frame_oversize',
    call('mark_drop', dropCode('oversize')),
    `wire frames longer than ${MAX_FRAME_BYTES} bytes`,
  );
  const qinq = b.fixed(
    'frame_qinq',
    call('mark_drop', dropCode('qinq')),
    'stacked VLAN tags: the pipeline takes one 802.1Q tag',
  );
  const malformed = b.fixed(
    'frame_malformed',
    call('mark_drop', dropCode('malformed')),
    'a header cut short or a lying length: the parser stopped',
  );
  const readable = (then: ControlNode[]): ControlNode => ({
    kind: 'if',
    cond: and(eq('meta', 'from_host', 0), {
      kind: 'gt',
      field: f('meta', 'frame_len'),
      value: BigInt(MAX_FRAME_BYTES),
    }),
    comment: 'frames the parser could not read are dropped first',
    then: [oversize],
    else: [
      {
        kind: 'if',
        cond: { kind: 'error', op: 'eq', error: 'VlanStack' },
        then: [qinq],
        else: [
          { kind: 'if', cond: { kind: 'error', op: 'ne', error: 'NoError' }, then: [malformed], else: then },
        ],
      },
    ],
  });

  const pipeline: ControlNode[] = [
    portRole,
    readable([
      {
        kind: 'if',
        cond: eq('meta', 'from_host', 0),
        comment: 'from the wire',
        then: [
          {
            kind: 'if',
            cond: { kind: 'valid', header: 'nsh' },
            then: [nshOnWire],
            else: [
              tenantClassify,
              ...policing,
              { kind: 'if', cond: notDropped, then: [pathClassify], else: [] },
              { kind: 'if', cond: notDropped, then: [pathExit], else: [] },
              ...wireStages,
              ...endOfPath('path_end_drop', false),
              { kind: 'if', cond: notDropped, then: [steer], else: [] },
            ],
          },
        ],
        else: [
          {
            kind: 'if',
            cond: { kind: 'valid', header: 'nsh' },
            then: [returnClassify, ...returnStages, ...endOfPath('return_end_drop', true)],
            else: [noNsh],
          },
        ],
      },
    ]),
  ];
  const ingress: ControlNode[] = [
    {
      kind: 'if',
      cond: and({ kind: 'valid', header: 'packet_out' }, eq('packet_out', 'submit_to_ingress', 0)),
      comment: 'from the controller, straight out of a port; otherwise through the pipeline',
      then: [cpuSend],
      else: pipeline,
    },
    { kind: 'if', cond: eq('meta', 'drop', 1), then: [dropStage], else: [] },
    { kind: 'if', cond: and(notDropped, eq('meta', 'out_port', cpuPort)), then: [cpuReceive], else: [] },
  ];

  for (const t of b.tables) {
    const n = b.entryCount(t.name);
    if (n > t.size)
      throw new InternalError('p4/lower', `table ${t.name} holds ${n} entries but has size ${t.size}`);
  }
  return {
    control: INGRESS_CONTROL,
    headerTypes: HEADER_TYPES,
    instances: INSTANCES,
    parser: parserStates(cpuPort),
    actions: [...b.actions.values()],
    tables: b.tables,
    counters: b.counters,
    meters: b.meters,
    ingress,
    checksums: [IPV4_CHECKSUM],
    deparse: DEPARSE_ORDER,
    entries: b.entries,
    meterConfigs: b.meterConfigs,
    dropReasons: DROP_REASONS,
    errors: PARSER_ERRORS,
    wirePorts: [...profile.wirePorts].sort((x, y) => x - y),
    hostPorts: [...profile.hostPorts].sort((x, y) => x - y),
    portWidth: PORT_WIDTH,
    cpuPort,
  };
}
