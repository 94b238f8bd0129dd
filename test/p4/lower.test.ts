import { describe, expect, it } from 'vitest';
import { expandRange } from '../../partitioner/match';
import { NfpError } from '../../partitioner/errors';
import type { Plan } from '../../partitioner/plan';
import type { ControlNode, IrEntry, NicPipeline } from '../../p4/ir';
import { emitNicArtifacts, lowerPlan } from '../../p4/index';
import { dropCode, ETHERTYPE_NSH } from '../../p4/headers';
import { PROFILE, twoTenantPlan } from './fixtures/plans';

const entriesOf = (p: NicPipeline, table: string): IrEntry[] => p.entries.filter((e) => e.table === table);
const pathOf = (e: IrEntry): number => Number(e.match[0].kind === 'exact' ? e.match[0].value : -1n);

/** Every table applied anywhere under `nodes`, in order. */
function applied(nodes: ControlNode[]): string[] {
  return nodes.flatMap((n) => (n.kind === 'apply' ? [n.table] : [...applied(n.then), ...applied(n.else)]));
}

/** The first `if` under `nodes` (depth first) whose condition passes `test`. */
function findIf(
  nodes: ControlNode[],
  test: (n: ControlNode & { kind: 'if' }) => boolean,
): ControlNode | undefined {
  for (const n of nodes) {
    if (n.kind !== 'if') continue;
    if (test(n)) return n;
    const inner = findIf(n.then, test) ?? findIf(n.else, test);
    if (inner) return inner;
  }
  return undefined;
}

function branch(p: NicPipeline, fromHost: boolean): ControlNode[] {
  const top = findIf(p.ingress, (n) => n.cond.kind === 'eq' && n.cond.field.field === 'from_host');
  if (!top || top.kind !== 'if') throw new Error('no from_host branch');
  return fromHost ? top.else : top.then;
}

describe('lowerPlan: steering', () => {
  const plan = twoTenantPlan();
  const p = lowerPlan(plan);

  it('steers exactly the root host paths to the host port of their queue, SI = host hops', () => {
    const steer = entriesOf(p, 'steer');
    const expected = plan.paths.filter((x) => x.needsHost && !x.branchOf);
    expect(steer.map(pathOf).sort()).toEqual(expected.map((x) => x.id).sort());
    for (const e of steer) {
      const path = plan.paths.find((x) => x.id === pathOf(e));
      expect(e.action.action).toBe('to_host');
      expect(e.action.args).toEqual([
        BigInt(PROFILE.hostPorts[path?.queue ?? -1]),
        BigInt(path?.hostHops ?? -1),
      ]);
    }
  });

  it('never steers a fully offloaded path to the host', () => {
    const offloaded = plan.paths.filter((x) => !x.needsHost).map((x) => x.id);
    expect(offloaded.length).toBeGreaterThan(0);
    for (const e of entriesOf(p, 'steer')) expect(offloaded).not.toContain(pathOf(e));
    for (const e of entriesOf(p, 'path_exit')) {
      const path = plan.paths.find((x) => x.id === pathOf(e));
      if (!path || path.needsHost) continue;
      // A drop is remembered (exit_drop) and taken after the path's NIC NFs ran.
      expect(e.action.action).toBe(path.terminal.kind === 'exit' ? 'to_wire' : 'exit_drop');
      if (path.terminal.kind === 'exit') expect(e.action.args).toEqual([BigInt(path.terminal.port)]);
      else expect(e.action.args).toEqual([BigInt(dropCode(path.terminal.reason))]);
    }
  });

  it('gives every root path an exit entry and never classifies into branch-only paths', () => {
    const roots = plan.paths.filter((x) => !x.branchOf).map((x) => x.id);
    expect(entriesOf(p, 'path_exit').map(pathOf).sort()).toEqual(roots.sort());
    const classified = entriesOf(p, 'path_classify').map((e) => Number(e.action.args[0]));
    expect(classified).not.toContain(5);
  });
});

describe('lowerPlan: NSH', () => {
  const plan = twoTenantPlan();
  const p = lowerPlan(plan);
  const action = (n: string) => {
    const a = p.actions.find((x) => x.name === n);
    if (!a) throw new Error(`no action ${n}`);
    return a;
  };

  it('pushes NSH with SPI = path, the tenant in the context and EtherType 0x894F', () => {
    const ops = action('to_host').ops;
    expect(ops[0]).toEqual({ op: 'setValid', header: 'nsh' });
    const assigned = (field: string) =>
      ops.find((o) => o.op === 'assign' && o.dst.instance === 'nsh' && o.dst.field === field);
    expect(assigned('spi')).toMatchObject({
      src: { kind: 'field', ref: { instance: 'meta', field: 'path' } },
    });
    expect(assigned('si')).toMatchObject({ src: { kind: 'param', name: 'si' } });
    expect(assigned('tenant')).toMatchObject({
      src: { kind: 'field', ref: { instance: 'meta', field: 'tenant' } },
    });
    expect(assigned('etherType')).toMatchObject({
      src: { kind: 'field', ref: { instance: 'ethernet', field: 'etherType' } },
    });
    const last = ops.filter((o) => o.op === 'assign' && o.dst.instance !== 'meta').pop();
    expect(last).toMatchObject({
      dst: { instance: 'ethernet', field: 'etherType' },
      src: { kind: 'const', value: ETHERTYPE_NSH },
    });
  });

  it('pops NSH on the way back, restoring the EtherType, for every host path including branches', () => {
    for (const name of ['return_to_wire', 'return_drop']) {
      const ops = action(name).ops;
      const restore = ops.findIndex(
        (o) => o.op === 'assign' && o.dst.field === 'etherType' && o.dst.instance === 'ethernet',
      );
      const pop = ops.findIndex((o) => o.op === 'setInvalid' && o.header === 'nsh');
      expect(restore).toBeGreaterThanOrEqual(0);
      expect(pop).toBeGreaterThan(restore);
    }
    const ret = entriesOf(p, 'return_classify');
    expect(ret.map(pathOf).sort()).toEqual(
      plan.paths
        .filter((x) => x.needsHost)
        .map((x) => x.id)
        .sort(),
    );
    const branchEntry = ret.find((e) => pathOf(e) === 5);
    expect(branchEntry?.action).toEqual({
      action: 'return_drop',
      args: [5n, BigInt(dropCode('graph-drop'))],
    });
    // The tenant must match too: a host cannot move a packet into another tenant's path.
    for (const e of ret) {
      const path = plan.paths.find((x) => x.id === pathOf(e));
      expect(e.match[1]).toEqual({ kind: 'exact', value: BigInt(path?.tenant ?? -1) });
    }
  });

  it('drops NSH arriving on a wire port, counted as nsh-on-wire, before any classification', () => {
    const wire = branch(p, false);
    const guard = wire[0];
    expect(guard).toMatchObject({ kind: 'if', cond: { kind: 'valid', header: 'nsh' } });
    if (guard.kind !== 'if') return;
    expect(applied(guard.then)).toEqual(['nsh_on_wire']);
    expect(applied(guard.else)).toContain('tenant_classify');
    const t = p.tables.find((x) => x.name === 'nsh_on_wire');
    expect(t?.defaultAction).toEqual({ action: 'mark_drop', args: [BigInt(dropCode('nsh-on-wire'))] });
    expect(t?.constDefault).toBe(true);
  });

  it('only host ports are from_host; return-path stages run only in the host branch', () => {
    expect(
      entriesOf(p, 'port_role').map((e) => Number(e.match[0].kind === 'exact' && e.match[0].value)),
    ).toEqual(PROFILE.hostPorts);
    expect(applied(branch(p, true))).toEqual([
      'return_classify',
      'nf7_beta_mon2_post_ip_fault',
      'nf7_beta_mon2_post_monitor',
      'return_end_drop',
      'no_nsh_from_host',
    ]);
    expect(applied(branch(p, false))).not.toContain('nf7_beta_mon2_post_monitor');
  });

  it('counts every drop by reason at the end', () => {
    const last = p.ingress[p.ingress.length - 2];
    expect(last).toMatchObject({ kind: 'if', cond: { kind: 'eq', field: { field: 'drop' }, value: 1n } });
    if (last.kind === 'if') expect(applied(last.then)).toEqual(['drop_stage']);
    expect(action('drop_and_count').ops).toEqual([
      { op: 'drop' },
      {
        op: 'count',
        counter: 'drop_reasons',
        index: { kind: 'field', ref: { instance: 'meta', field: 'drop_reason' } },
      },
    ]);
    expect(p.counters.find((c) => c.name === 'drop_reasons')?.size).toBe(p.dropReasons.length + 1);
  });
});

describe('lowerPlan: offloaded NF stages', () => {
  const plan = twoTenantPlan();
  const p = lowerPlan(plan);

  it('orders each tenant’s stages in path order, each gated by its paths', () => {
    const wire = applied(branch(p, false));
    const i = (t: string): number => wire.indexOf(t);
    expect(i('path_classify')).toBeLessThan(i('path_exit'));
    expect(i('path_exit')).toBeLessThan(i('nf3_beta_tag_vlan'));
    expect(i('nf3_beta_tag_vlan')).toBeLessThan(i('nf4_beta_mark_mark'));
    expect(i('nf4_beta_mark_mark')).toBeLessThan(i('nf5_beta_rt_route'));
    expect(i('nf5_beta_rt_route')).toBeLessThan(i('steer'));
    expect(i('nf0_acme_fw_acl')).toBeLessThan(i('nf2_acme_mon_monitor'));
  });

  it('runs a router that precedes host NFs on the return side, where its port choice survives', () => {
    const plan = twoTenantPlan();
    plan.paths[3].hops.splice(1, 0, { nf: 5, spot: 'nic-pre' });
    const q = lowerPlan(plan);
    expect(applied(branch(q, true))).toEqual([
      'return_classify',
      'nf5_beta_rt_post_route',
      'nf5_beta_rt_post_route6',
      'nf5_beta_rt_post_not_ip',
      'nf7_beta_mon2_post_ip_fault',
      'nf7_beta_mon2_post_monitor',
      'return_end_drop',
      'no_nsh_from_host',
    ]);
    // On the wire side the router still serves the fully offloaded path 3 only.
    expect(applied(branch(q, false))).toContain('nf5_beta_rt_route');
    const wireRouter = JSON.stringify(branch(q, false), (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
    expect(wireRouter).toContain('"comment":"beta.rt on paths 3"');
  });

  it('lowers a first-match ACL to priorities that decrease with rule order, default from config', () => {
    const acl = entriesOf(p, 'nf0_acme_fw_acl');
    expect(acl.map((e) => e.priority)).toEqual([3, 2, 1]);
    expect(acl.map((e) => e.action.action)).toEqual(['mark_drop', 'acl_permit', 'mark_drop']);
    expect(p.tables.find((t) => t.name === 'nf0_acme_fw_acl')?.defaultAction.action).toBe('acl_permit');
    // The range rule stays one range entry when the profile has range matches.
    const range = acl[1].match.find((m) => m.kind === 'range');
    expect(range).toEqual({ kind: 'range', lo: 1000n, hi: 2000n });
  });

  it('expands ranges into ternary prefixes when the profile lacks range matches', () => {
    const noRange = { ...PROFILE, matchKinds: ['exact', 'ternary', 'lpm'] as Plan['profile']['matchKinds'] };
    const q = lowerPlan({ ...plan, profile: noRange });
    const acl = entriesOf(q, 'nf0_acme_fw_acl');
    const expected = expandRange({ lo: 1000, hi: 2000 }).length;
    expect(acl.filter((e) => e.comment.includes('rule 2'))).toHaveLength(expected);
    expect(q.tables.every((t) => t.keys.every((k) => k.matchKind !== 'range'))).toBe(true);
    // Expanded entries keep the rule's priority; all expanded entries are distinct.
    const rule2 = acl.filter((e) => e.comment.includes('rule 2'));
    expect(new Set(rule2.map((e) => e.priority))).toEqual(new Set([2]));
    expect(
      new Set(
        rule2.map((e) => JSON.stringify(e.match, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))),
      ).size,
    ).toBe(expected);
  });

  it('lowers router LPM to ternary with length-ordered priority when the profile lacks lpm', () => {
    const noLpm = { ...PROFILE, matchKinds: ['exact', 'ternary'] as Plan['profile']['matchKinds'] };
    const q = lowerPlan({ ...plan, profile: noLpm });
    const routes = entriesOf(q, 'nf5_beta_rt_route');
    expect(routes.map((e) => [e.match[0].kind, e.priority])).toEqual([
      ['ternary', 17],
      ['ternary', 25],
    ]);
  });

  it('meters the tenant rate limit and the aggregate rate limiter in bytes per second', () => {
    expect(p.meterConfigs).toEqual([
      expect.objectContaining({ meter: 'tenant_meter', index: 2, cir: 12_500_000, cburst: 125_000 }),
      expect.objectContaining({ meter: 'nf8_beta_rl_meter', index: 0, cir: 1_000_000, cburst: 10_000 }),
    ]);
    const tenant2 = entriesOf(p, 'tenant_classify').filter((e) => e.action.args[0] === 2n);
    expect(tenant2.every((e) => e.action.args[1] === 1n)).toBe(true);
  });

  it('keeps path rules per tenant: the tenant id is an exact key', () => {
    const t = p.tables.find((x) => x.name === 'path_classify');
    expect(t?.keys[0]).toEqual({ field: { instance: 'meta', field: 'tenant' }, matchKind: 'exact' });
    for (const e of entriesOf(p, 'path_classify')) {
      const path = plan.paths.find((x) => x.id === Number(e.action.args[0]));
      expect(e.match[0]).toEqual({ kind: 'exact', value: BigInt(path?.tenant ?? -1) });
    }
  });
});

describe('lowerPlan: bad input', () => {
  it('rejects a stateful NF placed on the NIC with a specific error', () => {
    const plan = twoTenantPlan();
    plan.nfs[1] = { ...plan.nfs[1], placement: 'nic' };
    plan.paths[0].hops[1] = { nf: 1, spot: 'nic-pre' };
    expect(() => lowerPlan(plan)).toThrow(NfpError);
    expect(() => lowerPlan(plan)).toThrow(/acme\.nat \(nat\) is placed on the NIC but the NIC cannot run it/);
  });

  it('rejects ports that do not fit 9 bits', () => {
    const plan = twoTenantPlan();
    plan.profile = { ...plan.profile, wirePorts: [0, 600] };
    expect(() => lowerPlan(plan)).toThrow(/wire port 600 does not fit/);
  });

  it('rejects a host queue without a host port', () => {
    const plan = twoTenantPlan();
    plan.profile = { ...plan.profile, hostPorts: [8] };
    expect(() => lowerPlan(plan)).toThrow(/uses host queue 1 but profile test-nic has 1 host port/);
  });

  it('rejects a plan whose references do not hold, naming the reference', () => {
    const plan = twoTenantPlan();
    plan.pathRules[0] = { ...plan.pathRules[0], path: 3 };
    expect(() => lowerPlan(plan)).toThrow(/inconsistent: a path rule of tenant 1 names path 3 of tenant 2/);
    const plan2 = twoTenantPlan();
    plan2.paths[0].hops.push({ nf: 42, spot: 'host' });
    expect(() => lowerPlan(plan2)).toThrow(/inconsistent: path 1 visits unknown NF 42/);
  });

  it('emits a pipeline for a plan without tenants (everything drops as no-tenant)', () => {
    const plan = {
      ...twoTenantPlan(),
      tenants: [],
      nfs: [],
      paths: [],
      tenantRules: [],
      pathRules: [],
      queues: [],
    };
    const p = lowerPlan(plan);
    // only the per-port entries: port roles and the PacketOut ports
    expect(p.entries.filter((e) => e.table !== 'port_role' && e.table !== 'cpu_send')).toEqual([]);
    expect(p.tables.find((t) => t.name === 'tenant_classify')?.defaultAction.action).toBe('mark_drop');
    expect(emitNicArtifacts(plan).files).toHaveLength(6);
  });

  it('rejects a NIC profile without ternary matches', () => {
    const plan = twoTenantPlan();
    plan.profile = { ...plan.profile, matchKinds: ['exact', 'lpm'] };
    expect(() => lowerPlan(plan)).toThrow(/has no ternary matches/);
  });

  it('rejects a port that is both wire and host', () => {
    const plan = twoTenantPlan();
    plan.profile = { ...plan.profile, hostPorts: [3, 9] };
    expect(() => lowerPlan(plan)).toThrow(/port 3 is both a wire port and a host port/);
  });
});

describe('lowerPlan: packet I/O with the controller', () => {
  const plan = twoTenantPlan();
  const p = lowerPlan(plan);

  it('uses the profile CPU port (255 when a saved plan names none)', () => {
    expect(p.cpuPort).toBe(255);
    expect(lowerPlan({ ...plan, profile: { ...PROFILE, cpuPort: 100 } }).cpuPort).toBe(100);
    expect(() => lowerPlan({ ...plan, profile: { ...PROFILE, cpuPort: PROFILE.hostPorts[0] } })).toThrow(
      /CPU port 8 is also a wire or host port/,
    );
    expect(() => lowerPlan({ ...plan, profile: { ...PROFILE, cpuPort: 511 } })).toThrow(NfpError);
  });

  it('parses a packet_out header only on the CPU port, then Ethernet', () => {
    const start = p.parser[0];
    expect(start.name).toBe('start');
    expect(start.select?.keys).toEqual([{ instance: 'std', field: 'ingress_port' }]);
    expect(start.select?.cases).toEqual([{ values: [255n], next: 'parse_packet_out' }]);
    expect(start.select?.default).toBe('parse_ethernet');
    expect(p.parser.find((s) => s.name === 'parse_packet_out')).toMatchObject({
      extract: 'packet_out',
      next: 'parse_ethernet',
    });
    expect(p.deparse[0]).toBe('packet_in');
    expect(p.deparse).not.toContain('packet_out');
  });

  it('sends a PacketOut straight out unless it asks for the pipeline; CPU-port egress gets packet_in', () => {
    const first = p.ingress[0];
    expect(first).toMatchObject({ kind: 'if', cond: { kind: 'and' } });
    if (first.kind !== 'if') return;
    expect(applied(first.then)).toEqual(['cpu_send']);
    expect(applied(first.else)).toContain('tenant_classify');
    const lastNode = p.ingress[p.ingress.length - 1];
    expect(lastNode).toMatchObject({ kind: 'if' });
    if (lastNode.kind === 'if') expect(applied(lastNode.then)).toEqual(['cpu_receive']);
    const push = p.actions.find((a) => a.name === 'push_packet_in')!;
    expect(push.ops[0]).toEqual({ op: 'setValid', header: 'packet_in' });
    // every action that forwards remembers the port, so the CPU check sees it
    for (const a of p.actions)
      if (a.ops.some((o) => o.op === 'forward'))
        expect(a.ops.some((o) => o.op === 'assign' && o.dst.field === 'out_port')).toBe(true);
  });

  it('sends a PacketOut only to a port the NIC has; any other is a counted drop', () => {
    const cpuSend = p.tables.find((t) => t.name === 'cpu_send')!;
    expect(cpuSend.keys).toEqual([
      { field: { instance: 'packet_out', field: 'egress_port' }, matchKind: 'exact' },
    ]);
    expect(cpuSend.defaultAction).toEqual({
      action: 'mark_drop',
      args: [BigInt(dropCode('bad-packet-out'))],
    });
    const entries = p.entries.filter((e) => e.table === 'cpu_send');
    const ports = [...PROFILE.wirePorts, ...PROFILE.hostPorts].sort((x, y) => x - y);
    expect(entries.map((e) => e.match[0])).toEqual(ports.map((x) => ({ kind: 'exact', value: BigInt(x) })));
    expect(entries.map((e) => e.action.args)).toEqual(ports.map((x) => [BigInt(x)]));
    expect(entries.every((e) => e.action.action === 'send_packet_out')).toBe(true);
  });

  it('declares controller headers of whole bytes', () => {
    const headers = p.headerTypes.filter((t) => t.controllerHeader);
    expect(headers.map((t) => t.controllerHeader).sort()).toEqual(['packet_in', 'packet_out']);
    for (const t of headers) expect(t.fields.reduce((s, f) => s + f.width, 0) % 8).toBe(0);
  });
});
