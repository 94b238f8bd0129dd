/**
 * The rte_flow lowering: the NIC pipeline (as gathered by stages.ts) becomes rules for one NIC
 * profile, with the tenants and paths that must stay in software given. Two layouts:
 *
 * - groups (a NIC with JUMP and priorities, mlx5): group 0 drops stacked VLAN tags (by outer
 *   TPID) and NSH from the wire and jumps to group 1, the tenant slices; each tenant has a group
 *   of its path rules; each table-like NF
 *   stage of a path (an ACL, a router, a marker that differs by IP version) gets a group of its
 *   own. Rules in a group keep the pipeline's first-match order through priorities, and header
 *   rewrites happen where the pipeline does them, so later groups match the rewritten packet.
 * - flat (no JUMP: ice, i40e): every combination of slice, path rule and stage entry is one rule
 *   in group 0, listed in first-match order; the NIC cannot order rules, so a rule is installed
 *   only when it overlaps no rule before it (a packet it matches is then the pipeline's too), and
 *   whatever no installed rule matches reaches the software pipeline on the default queue.
 *
 * A rule the profile cannot express is reported as a problem naming its tenant or path; the
 * offload pass (offload.ts) moves those to software and lowers again.
 */
import { intersect, normalise, ones, WIDTH, type Cube, type CubeField } from './cube';
import type { NicCaps } from '../caps';
import { IP_AWARE_NFS } from '../../../partitioner/reference';
import {
  MARK_SOFTWARE,
  MARK_WIRE,
  type FlowAction,
  type FlowCounter,
  type FlowItem,
  type FlowMeter,
  type FlowOrigin,
  type FlowRule,
} from './ir';
import type { Cell, ClassEntry, MeterUse, PathSpec, PipelineSpec, Stage, StageEntry } from './stages';

const ETHERTYPE_NSH = 0x894f;
/** Outer TPIDs of a stacked tag (802.1ad and the older 0x9100): partitioner/frame.ts drops them as qinq. */
const QINQ_TPIDS = [0x88a8, 0x9100];

export interface LowerInput {
  spec: PipelineSpec;
  caps: NicCaps;
  /** Wire ports in the host runtime's port order. */
  ports: number[];
  softwareTenants: ReadonlySet<number>;
  softwarePaths: ReadonlySet<number>;
}

export interface LowerProblem {
  tenant?: number;
  path?: number;
  reason: string;
}

export interface LowerOutput {
  rules: FlowRule[];
  counters: FlowCounter[];
  meters: FlowMeter[];
  problems: LowerProblem[];
  /** Flat layout: per path, its rules and how many of them are installed. */
  installed: Map<number, { rules: number; installed: number; reason?: string }>;
  /** Whether every packet is matched by some installed rule (flow isolation is then safe). */
  complete: boolean;
}

type Pattern = FlowItem[];

/** The rte_flow patterns one cube needs (several when it leaves the IP version or L4 open). */
export function patternsOf(c: Cube, caps: NicCaps): Pattern[] | string {
  const fields = (Object.keys(c) as CubeField[]).filter((f) => f !== 'port');
  // TCP and UDP name the protocol by their item; no protocol field is needed for them.
  const l4Proto = (c.l4src || c.l4dst) && (!c.proto || c.proto.value === 6n || c.proto.value === 17n);
  for (const f of fields)
    if (!caps.fields.includes(f) && !(f === 'proto' && l4Proto)) return `${caps.name} cannot match on ${f}`;
  if (caps.masks === 'exact') {
    for (const f of fields) {
      if (f === 'ipVer' || f === 'tagged') continue;
      if (c[f]!.mask !== ones(WIDTH[f]))
        return `${caps.name} matches ${f} exactly only (this rule needs mask 0x${c[f]!.mask.toString(16)})`;
    }
  }
  const eth: Extract<FlowItem, { type: 'eth' }> = { type: 'eth' };
  if (c.ethType) eth.etherType = Number(c.ethType.value);
  let vlan: FlowItem | undefined;
  if (c.vid) {
    if (c.vid.value === 0n)
      return 'VID 0 stands for an untagged frame in the pipeline, which no VLAN item matches';
    vlan = { type: 'vlan', vid: { value: c.vid.value, mask: c.vid.mask } };
  } else if (c.tagged?.value === 1n) {
    vlan = { type: 'vlan', vid: { value: 0n, mask: 0n } };
  }
  if (c.tagged?.value === 0n) {
    if (!caps.hasVlan) return `${caps.name} cannot tell untagged frames (ETH has_vlan)`;
    eth.hasVlan = false;
  }
  if (c.ipVer && c.ipVer.mask !== ones(WIDTH.ipVer)) return 'a partial mask on the IP version';
  const needsIp = !!(c.proto || c.dscp || c.l4src || c.l4dst || c.src4 || c.dst4 || c.src6 || c.dst6);
  const families: Array<4 | 6 | undefined> = c.ipVer
    ? [Number(c.ipVer.value) as 4 | 6]
    : needsIp
      ? [4, 6]
      : [undefined];
  if ((c.src4 || c.dst4) && families.some((f) => f !== 4)) return 'IPv4 addresses without the IPv4 version';
  if ((c.src6 || c.dst6) && families.some((f) => f !== 6)) return 'IPv6 addresses without the IPv6 version';
  let l4: Array<'tcp' | 'udp' | undefined> = [undefined];
  if (c.l4src || c.l4dst) {
    const proto = c.proto && c.proto.mask === ones(8) ? Number(c.proto.value) : undefined;
    if (c.proto && proto === undefined) return 'L4 ports with a partial protocol mask';
    if (proto === undefined) l4 = ['tcp', 'udp'];
    else if (proto === 6) l4 = ['tcp'];
    else if (proto === 17) l4 = ['udp'];
    else return `L4 ports on IP protocol ${proto}`;
  }
  const out: Pattern[] = [];
  for (const fam of families) {
    for (const k of l4) {
      const items: Pattern = [{ ...eth }];
      if (vlan) items.push(vlan);
      if (fam !== undefined) {
        const m = (t?: { value: bigint; mask: bigint }): { value: bigint; mask: bigint } | undefined =>
          t ? { value: t.value, mask: t.mask } : undefined;
        const l3 = {
          ...(fam === 4 ? { src: m(c.src4), dst: m(c.dst4) } : { src: m(c.src6), dst: m(c.dst6) }),
          // The L4 item names the protocol; otherwise the protocol field does.
          proto: k ? undefined : m(c.proto),
          dscp: m(c.dscp),
        };
        items.push({ type: fam === 4 ? 'ipv4' : 'ipv6', ...strip(l3) });
      }
      if (k) items.push({ type: k, ...strip({ srcPort: c.l4src, dstPort: c.l4dst }) });
      out.push(items);
    }
  }
  for (const p of out) {
    for (const it of p)
      if (!caps.items.includes(it.type)) return `${caps.name} has no ${it.type.toUpperCase()} item`;
    if (!caps.matchAll && fields.length === 0)
      return `${caps.name} cannot match every packet (a rule needs fields)`;
  }
  return out;
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The flow type and input set of a pattern, as a flow director sees it (i40e). */
function inputSet(p: Pattern): { type: string; set: string } {
  const l3 = p.find((i) => i.type === 'ipv4' || i.type === 'ipv6')?.type ?? 'l2';
  const l4 = p.find((i) => i.type === 'tcp' || i.type === 'udp')?.type ?? 'other';
  const fields = p.flatMap((i) =>
    Object.entries(i)
      .filter(
        ([k, v]) =>
          k !== 'type' && v !== undefined && !(typeof v === 'object' && (v as { mask: bigint }).mask === 0n),
      )
      .map(([k]) => `${i.type}.${k}`),
  );
  return { type: `${l3}-${l4}`, set: fields.sort().join(',') };
}

/** What a packet's walk so far asks of the rule that ends it. */
interface Walk {
  cube: Cube;
  actions: FlowAction[];
  cells: Cell[];
  exitPort?: number;
  origin: FlowOrigin;
}

export function lowerRules(input: LowerInput): LowerOutput {
  const { spec, caps, ports } = input;
  const out: LowerOutput = {
    rules: [],
    counters: [],
    meters: [],
    problems: [],
    installed: new Map(),
    complete: true,
  };
  if (!caps.flowApi) return { ...out, complete: false };
  const grouped = caps.actions.includes('jump') && caps.priorities > 1;
  const has = (a: FlowAction['type']): boolean => caps.actions.includes(a);
  const dropCell = (reason: number): Cell => ({ counter: spec.dropCounter, index: reason });
  const software: FlowAction[] = [
    { type: 'mark', id: MARK_SOFTWARE },
    { type: 'queue', index: 0 },
  ];
  const count = (cells: Cell[]): FlowAction[] => {
    if (!cells.length) return [];
    const id = out.counters.length;
    out.counters.push({ id, cells });
    return [{ type: 'count', id }];
  };
  const meterIds = new Map<string, number>();
  const meter = (use: MeterUse, port: number): FlowAction => {
    const key = `${use.meter}#${use.index}@${port}`;
    let id = meterIds.get(key);
    if (id === undefined) {
      id = out.meters.length;
      const cfg = spec.meters.get(`${use.meter}#${use.index}`);
      out.meters.push({
        id,
        cir: cfg?.cir ?? 0,
        cbs: cfg?.cbs ?? 0,
        cell: use,
        redReason: spec.dropCode('meter-red'),
      });
      meterIds.set(key, id);
    }
    return { type: 'meter', id };
  };
  const terminalActions = (p: PathSpec, w: Walk): FlowAction[] => {
    const t = p.terminal;
    if (t.kind === 'drop')
      return [...w.actions, ...count([...w.cells, dropCell(t.reason)]), { type: 'drop' }];
    if (t.kind === 'host')
      return [
        ...w.actions,
        ...count(w.cells),
        { type: 'mark', id: p.path.id },
        { type: 'queue', index: t.queue },
      ];
    const port = w.exitPort ?? t.port;
    return [
      ...w.actions,
      ...count(w.cells),
      { type: 'mark', id: MARK_WIRE | port },
      { type: 'queue', index: 0 },
    ];
  };
  const entryCells = (e: StageEntry, path: number): Cell[] =>
    e.cells.map((c) => ({ counter: c.counter, index: c.index < 0 ? path : c.index }));

  // Checks the actions a rule needs against the profile.
  const actionProblem = (actions: FlowAction[]): string | undefined => {
    for (const a of actions) {
      if (!has(a.type)) return `${caps.name} has no ${a.type.toUpperCase()} action`;
      if (a.type === 'mark' && a.id >= 2 ** caps.markBits)
        return `MARK ${a.id} is wider than ${caps.markBits} bits`;
      if (a.type === 'queue' && a.index >= caps.maxQueues)
        return `queue ${a.index} is beyond ${caps.maxQueues}`;
    }
    return undefined;
  };

  for (const port of ports) {
    const onPort = (c: Cube): Cube | undefined => {
      if (c.port && ((BigInt(port) ^ c.port.value) & c.port.mask) !== 0n) return undefined;
      const { port: _p, ...rest } = c;
      return normalise(rest);
    };
    const tenantEntries = spec.tenants
      .flatMap((t) => t.entries.map((e) => ({ t, e })))
      .sort((a, b) => a.e.order - b.e.order);
    if (grouped) lowerGrouped(port, tenantEntries, onPort);
    else lowerFlat(port, tenantEntries, onPort);
  }
  return out;

  function lowerGrouped(
    port: number,
    tenantEntries: Array<{ t: (typeof spec.tenants)[number]; e: ClassEntry }>,
    onPort: (c: Cube) => Cube | undefined,
  ): void {
    let nextGroup = 2;
    const prio = new Map<number, number>();
    const add = (group: number, cube: Cube, actions: FlowAction[], origin: FlowOrigin): void => {
      const pats = patternsOf(cube, caps);
      const problem = typeof pats === 'string' ? pats : actionProblem(actions);
      if (problem !== undefined) {
        out.problems.push({ tenant: origin.tenant, path: origin.path, reason: `${origin.what}: ${problem}` });
        return;
      }
      for (const pattern of pats as Pattern[]) push(group, pattern, actions, origin);
    };
    const push = (group: number, pattern: Pattern, actions: FlowAction[], origin: FlowOrigin): void => {
      const priority = prio.get(group) ?? 0;
      prio.set(group, priority + 1);
      out.rules.push({ port, group, priority, pattern, actions, origin });
    };
    // Group 0: stacked VLAN tags by their outer TPID (the parser's QinQ check; a second 802.1Q tag
    // and every length check need more than a pattern: the inline stage rechecks what is queued).
    for (const tpid of QINQ_TPIDS)
      add(
        0,
        { ethType: { value: BigInt(tpid), mask: ones(16) } },
        [...count([dropCell(spec.dropCode('qinq'))]), { type: 'drop' }],
        { what: `stacked VLAN tag (TPID 0x${tpid.toString(16)}) on a wire port` },
      );
    // NSH is internal, never accepted from the wire; everything else on to the slices.
    add(
      0,
      { ethType: { value: BigInt(ETHERTYPE_NSH), mask: ones(16) } },
      [...count([dropCell(spec.dropCode('nsh-on-wire'))]), { type: 'drop' }],
      {
        what: 'NSH on a wire port',
      },
    );
    // IPv4 with options or fragmented reads other L4 ports in a rule than in the pipeline (which
    // reads none): the software pipeline decides those, before any rule matches on ports.
    if (caps.ipv4HeaderChecks) {
      const ipv4 = (fields: Omit<Extract<FlowItem, { type: 'ipv4' }>, 'type'>): Pattern => [
        { type: 'eth' },
        { type: 'ipv4', ...fields },
      ];
      push(
        0,
        ipv4({ versionIhl: { value: 0x45n, mask: 0xffn }, fragmentOffset: { value: 0n, mask: 0x3fffn } }),
        [{ type: 'jump', group: 1 }],
        { what: 'IPv4 without options, not a fragment: to the tenant slices' },
      );
      push(0, ipv4({}), software, { what: 'IPv4 with options or a fragment: the software pipeline' });
    }
    add(0, {}, [{ type: 'jump', group: 1 }], { what: 'every other frame: to the tenant slices' });
    const tenantGroup = new Map<number, number>();
    for (const { t, e } of tenantEntries) {
      const origin = { tenant: t.tenant, what: e.what };
      const offloaded = !input.softwareTenants.has(t.tenant);
      for (const raw of e.cubes) {
        const cube = onPort(raw);
        if (!cube) continue;
        let g = tenantGroup.get(t.tenant);
        if (offloaded && g === undefined) tenantGroup.set(t.tenant, (g = nextGroup++));
        add(
          1,
          cube,
          offloaded ? [...(t.meter ? [meter(t.meter, port)] : []), { type: 'jump', group: g! }] : software,
          origin,
        );
      }
    }
    add(1, {}, [...count([dropCell(spec.dropCode('no-tenant'))]), { type: 'drop' }], {
      what: 'no tenant slice',
    });
    for (const t of spec.tenants) {
      const g = tenantGroup.get(t.tenant);
      if (g === undefined) continue;
      const entries = t.paths
        .flatMap((p) => p.entries.map((e) => ({ p, e })))
        .sort((a, b) => a.e.order - b.e.order);
      for (const { p, e } of entries) {
        const origin = {
          tenant: t.tenant,
          path: p.path.id,
          what: e.what,
        };
        for (const cube of e.cubes) {
          if (input.softwarePaths.has(p.path.id)) {
            add(g, cube, software, origin);
            continue;
          }
          add(g, cube, walkStages(p, 0, { cube: {}, actions: [], cells: [], origin }), origin);
        }
      }
      add(g, {}, [...count([dropCell(spec.dropCode('no-path'))]), { type: 'drop' }], {
        tenant: t.tenant,
        what: `tenant ${t.name}: no path`,
      });
    }

    // The actions of the rule that enters stage k of path p; later stages get groups of their own.
    // `gated`: the packet already passed the L3 gate (ipGate) of an earlier stage.
    function walkStages(p: PathSpec, k: number, w: Walk, gated?: 'ipv4' | 'ip'): FlowAction[] {
      const cells = w.cells;
      const retagged = p.stages.find((s) =>
        s.entries.some((e) => e.actions.some((a) => VLAN_REWRITES.has(a.type))),
      );
      if (k === 0 && !gated && retagged)
        out.problems.push({
          tenant: w.origin.tenant,
          path: p.path.id,
          reason: `${retagged.nf.name}: a VLAN tag rewritten in the NIC would hide an oversize or double-tagged frame from the software stage's recheck`,
        });
      const needsGate = (s: Stage): boolean => {
        const g = ipGate(s);
        return g !== undefined && gated !== 'ipv4' && !(g.families.length === 2 && gated === 'ip');
      };
      // Single-entry stages (no match of their own) only add actions to the rule.
      while (k < p.stages.length && isPlain(p.stages[k]) && !needsGate(p.stages[k])) {
        const e = p.stages[k].entries[0];
        w = {
          ...w,
          actions: [...w.actions, ...(e.meter ? [meter(e.meter, port)] : []), ...e.actions],
          cells: [...w.cells, ...entryCells(e, p.path.id)],
        };
        k++;
      }
      void cells;
      if (k === p.stages.length) return terminalActions(p, w);
      const stage = p.stages[k];
      const gate = needsGate(stage) ? ipGate(stage) : undefined;
      if (gate) {
        // A group that lets the IP versions the NF reads on and drops the rest as the pipeline does.
        const g = nextGroup++;
        const origin = {
          ...w.origin,
          nf: stage.nf.name,
          what: `${w.origin.what} → ${stage.nf.name}: L3 check`,
        };
        const rest = walkStages(
          p,
          k,
          { cube: {}, actions: [], cells: [], exitPort: w.exitPort, origin: w.origin },
          gate.families.length === 1 ? 'ipv4' : 'ip',
        );
        for (const fam of gate.families) push(g, [{ type: 'eth' }, { type: fam }], rest, origin);
        push(
          g,
          [{ type: 'eth' }],
          [...count([dropCell(spec.dropCode(gate.reason))]), { type: 'drop' }],
          origin,
        );
        return [...w.actions, ...count(w.cells), { type: 'jump', group: g }];
      }
      const g = nextGroup++;
      for (const e of stage.entries) {
        const origin = { ...w.origin, nf: stage.nf.name, what: `${w.origin.what} → ${e.what}` };
        const after: Walk = {
          cube: {},
          actions: [...(e.meter ? [meter(e.meter, port)] : []), ...e.actions],
          cells: entryCells(e, p.path.id),
          exitPort: e.outcome.kind === 'continue' ? (e.outcome.exitPort ?? w.exitPort) : w.exitPort,
          origin,
        };
        const actions =
          e.outcome.kind === 'drop'
            ? [
                ...after.actions,
                ...count([...after.cells, dropCell(e.outcome.reason)]),
                { type: 'drop' } as FlowAction,
              ]
            : walkStages(p, k + 1, after, gated);
        for (const cube of e.cubes) add(g, cube, actions, origin);
      }
      return [...w.actions, ...count(w.cells), { type: 'jump', group: g }];
    }
  }

  function lowerFlat(
    port: number,
    tenantEntries: Array<{ t: (typeof spec.tenants)[number]; e: ClassEntry }>,
    onPort: (c: Cube) => Cube | undefined,
  ): void {
    // The whole NIC pipeline as one first-match list; `install: false` marks what only software may decide.
    const list: Array<{ cube: Cube; actions: FlowAction[]; origin: FlowOrigin; install: boolean }> = [];
    const push = (
      cube: Cube | undefined,
      actions: FlowAction[],
      origin: FlowOrigin,
      install = true,
    ): void => {
      if (cube) list.push({ cube, actions, origin, install });
    };
    push(
      { ethType: { value: BigInt(ETHERTYPE_NSH), mask: ones(16) } },
      [...count([dropCell(spec.dropCode('nsh-on-wire'))]), { type: 'drop' }],
      {
        what: 'NSH on a wire port',
      },
    );
    for (const { t, e } of tenantEntries) {
      for (const raw of e.cubes) {
        const tc = onPort(raw);
        if (!tc) continue;
        const origin = { tenant: t.tenant, what: e.what };
        if (input.softwareTenants.has(t.tenant) || t.meter) {
          push(tc, software, origin, false);
          continue;
        }
        const entries = t.paths
          .flatMap((p) => p.entries.map((pe) => ({ p, pe })))
          .sort((a, b) => a.pe.order - b.pe.order);
        for (const { p, pe } of entries) {
          for (const pc of pe.cubes) {
            const cube = intersect(tc, pc);
            if (!cube) continue;
            const po = {
              tenant: t.tenant,
              path: p.path.id,
              what: pe.what,
            };
            if (input.softwarePaths.has(p.path.id)) push(cube, software, po, false);
            else
              for (const r of expand(p, 0, { cube, actions: [], cells: [], origin: po }))
                push(r.cube, r.actions, r.origin, r.install);
          }
        }
        push(tc, [...count([dropCell(spec.dropCode('no-path'))]), { type: 'drop' }], {
          tenant: t.tenant,
          what: `tenant ${t.name}: no path`,
        });
      }
    }
    push({}, [...count([dropCell(spec.dropCode('no-tenant'))]), { type: 'drop' }], {
      what: 'no tenant slice',
    });

    // Install what the NIC can decide alone: expressible, and overlapping nothing before it.
    const inputSets = new Map<string, string>();
    let installed = 0;
    list.forEach((r, i) => {
      const stat =
        r.origin.path !== undefined
          ? (out.installed.get(r.origin.path) ?? { rules: 0, installed: 0 })
          : undefined;
      if (stat) out.installed.set(r.origin.path!, { ...stat, rules: stat.rules + 1 });
      const fail = (why: string): void => {
        out.complete = false;
        const st = r.origin.path !== undefined ? out.installed.get(r.origin.path) : undefined;
        if (st && st.reason === undefined) out.installed.set(r.origin.path!, { ...st, reason: why });
      };
      if (!r.install)
        return fail(
          `${r.origin.what}: ${r.origin.nf ? `${r.origin.nf} needs what ${caps.name} lacks` : 'left to software'}`,
        );
      const before = list.slice(0, i).find((x) => intersect(x.cube, r.cube) !== undefined);
      if (before)
        return fail(
          `${r.origin.what}: overlaps the earlier "${before.origin.what}", and ${caps.name} cannot order rules`,
        );
      const all = patternsOf(r.cube, caps);
      const problem = typeof all === 'string' ? all : actionProblem(r.actions);
      if (problem !== undefined || typeof all === 'string') return fail(`${r.origin.what}: ${problem}`);
      // A flat rule set cannot send IPv4 options and fragments to software first, and a rule reads
      // other L4 ports from them than the pipeline: an IPv4 drop by L4 ports stays in software
      // (a steered packet is safe: the inline stage rechecks it).
      const pats = r.actions.some((a) => a.type === 'drop') ? all.filter((p) => !ipv4Ports(p)) : all;
      if (!pats.length)
        return fail(
          `${r.origin.what}: an IPv4 drop by L4 ports, and ${caps.name} cannot keep IPv4 options and fragments from it`,
        );
      if (caps.oneInputSetPerFlowType) {
        for (const p of pats) {
          const s = inputSet(p);
          const first = inputSets.get(s.type);
          if (first !== undefined && first !== s.set)
            return fail(
              `${r.origin.what}: ${caps.name} keeps one input set per flow type (${s.type}: ${first})`,
            );
        }
        for (const p of pats) {
          const s = inputSet(p);
          inputSets.set(s.type, s.set);
        }
      }
      if (installed + pats.length > caps.maxRules)
        return fail(`${r.origin.what}: over ${caps.maxRules} rules`);
      for (const pattern of pats)
        out.rules.push({ port, group: 0, priority: 0, pattern, actions: r.actions, origin: r.origin });
      installed += pats.length;
      if (stat) {
        const s = out.installed.get(r.origin.path!)!;
        out.installed.set(r.origin.path!, { ...s, installed: s.installed + 1 });
      }
    });
  }

  /** Flat layout: every way through the path's stages, as (cube, actions) in first-match order. */
  function expand(
    p: PathSpec,
    k: number,
    w: Walk,
  ): Array<{ cube: Cube; actions: FlowAction[]; origin: FlowOrigin; install: boolean }> {
    if (k === p.stages.length)
      return [{ cube: w.cube, actions: terminalActions(p, w), origin: w.origin, install: true }];
    const stage = p.stages[k];
    const gate = ipGate(stage);
    if (gate) {
      // Only frames of the versions the NF takes go on in rules; the rest stays in software.
      const ver =
        w.cube.ipVer && w.cube.ipVer.mask === ones(WIDTH.ipVer) ? Number(w.cube.ipVer.value) : undefined;
      const rest = {
        cube: w.cube,
        actions: software,
        origin: { ...w.origin, nf: stage.nf.name },
        install: false,
      };
      if (ver !== undefined && gate.families.includes(ver === 4 ? 'ipv4' : 'ipv6'))
        return expandStage(p, k, w);
      if (gate.families.length === 2) return [rest];
      const v4 = intersect(w.cube, { ipVer: { value: 4n, mask: ones(WIDTH.ipVer) } });
      return [...(v4 ? expandStage(p, k, { ...w, cube: v4 }) : []), rest];
    }
    return expandStage(p, k, w);
  }

  function expandStage(
    p: PathSpec,
    k: number,
    w: Walk,
  ): Array<{ cube: Cube; actions: FlowAction[]; origin: FlowOrigin; install: boolean }> {
    const stage = p.stages[k];
    // After a rewrite, later matches see other headers than the wire's: that part stays in software.
    if (stage.entries.some((e) => e.actions.length > 0))
      return [
        { cube: w.cube, actions: software, origin: { ...w.origin, nf: stage.nf.name }, install: false },
      ];
    const out2: Array<{ cube: Cube; actions: FlowAction[]; origin: FlowOrigin; install: boolean }> = [];
    for (const e of stage.entries) {
      if (e.meter) {
        out2.push({
          cube: w.cube,
          actions: software,
          origin: { ...w.origin, nf: stage.nf.name },
          install: false,
        });
        continue;
      }
      for (const ec of e.cubes) {
        const cube = intersect(w.cube, ec);
        if (!cube) continue;
        const origin = { ...w.origin, nf: stage.nf.name, what: `${w.origin.what} → ${e.what}` };
        const cells = [...w.cells, ...entryCells(e, p.path.id)];
        if (e.outcome.kind === 'drop') {
          out2.push({
            cube,
            actions: [...count([...cells, dropCell(e.outcome.reason)]), { type: 'drop' }],
            origin,
            install: true,
          });
        } else {
          out2.push(
            ...expand(p, k + 1, {
              cube,
              actions: [],
              cells,
              exitPort: e.outcome.exitPort ?? w.exitPort,
              origin,
            }),
          );
        }
      }
    }
    return out2;
  }
}

/**
 * What a stage's NF takes by IP version (partitioner/reference.ts): IP-aware NFs only IPv4 (the
 * group-0 rules already sent options and fragments to software), the others drop as `not-ipv4`;
 * a router IPv4 and IPv6, the others drop as `no-route`. Undefined: it takes every frame.
 */
function ipGate(s: Stage): { families: Array<'ipv4' | 'ipv6'>; reason: string } | undefined {
  if (IP_AWARE_NFS.has(s.nf.type)) return { families: ['ipv4'], reason: 'not-ipv4' };
  if (s.nf.type === 'router') return { families: ['ipv4', 'ipv6'], reason: 'no-route' };
  return undefined;
}

/** An IPv4 pattern that reads L4 ports. */
function ipv4Ports(p: FlowItem[]): boolean {
  return p.some((it) => it.type === 'ipv4') && p.some((it) => it.type === 'tcp' || it.type === 'udp');
}

/** Rewrites that change a frame's length or tags (the software stage's checks read both). */
const VLAN_REWRITES: ReadonlySet<FlowAction['type']> = new Set([
  'of_pop_vlan',
  'of_push_vlan',
  'of_set_vlan_vid',
]);

/** A stage with one catch-all entry: only actions (a monitor, a rate limiter, an encap). */
function isPlain(s: Stage): boolean {
  return (
    s.entries.length === 1 &&
    s.entries[0].cubes.length === 1 &&
    Object.keys(s.entries[0].cubes[0]).length === 0 &&
    s.entries[0].outcome.kind === 'continue'
  );
}
