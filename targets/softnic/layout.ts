/**
 * The map between a P4Info and the loaded BMv2 JSON program: P4Runtime ids to the engine's
 * table/action/counter/meter names and key/parameter positions. Building it is the softnic's
 * pipeline verification: any disagreement is an INVALID_ARGUMENT naming the object.
 */
import { status as Code } from '@grpc/grpc-js';
import { DeviceError } from '../../p4runtime/device';
import { IdleTimeoutBehavior, MatchType, MeterUnit, type P4Info } from '../../p4runtime/messages';
import type { NativeProgramInfo } from './native';

export interface TableLayout {
  name: string;
  /** P4Info match field id → position in the BMv2 key. */
  fieldPos: Map<number, number>;
  nKeys: number;
  directCounter: boolean;
}

export interface ActionLayout {
  name: string;
  /** P4Info param id → position in the BMv2 runtime_data. */
  paramPos: Map<number, number>;
  widths: number[];
}

export interface Layout {
  tables: Map<number, TableLayout>;
  actions: Map<number, ActionLayout>;
  /** BMv2 action name → P4Info id (for reads). */
  actionIdByName: Map<string, number>;
  counters: Map<number, { name: string; size: number }>;
  meters: Map<number, { name: string; size: number }>;
  packetOut?: Array<{ id: number; bitwidth: number }>;
  packetIn?: Array<{ id: number; bitwidth: number }>;
}

const KIND: Record<number, string[]> = {
  [MatchType.EXACT]: ['exact', 'valid'],
  [MatchType.LPM]: ['lpm'],
  [MatchType.TERNARY]: ['ternary'],
  [MatchType.RANGE]: ['range'],
  [MatchType.OPTIONAL]: ['optional'],
};

function bad(message: string): DeviceError {
  return new DeviceError(Code.INVALID_ARGUMENT, message);
}

/** Checks that `p4info` describes the program in `prog` and returns the id map. */
export function buildLayout(p4info: P4Info, prog: NativeProgramInfo): Layout {
  const layout: Layout = {
    tables: new Map(),
    actions: new Map(),
    actionIdByName: new Map(),
    counters: new Map(),
    meters: new Map(),
  };
  for (const a of p4info.actions ?? []) {
    const name = a.preamble?.name ?? '';
    const na = prog.actions.find((x) => x.name === name);
    if (!na) throw bad(`P4Info action "${name}" is not in the BMv2 JSON`);
    const params = a.params ?? [];
    if (params.length !== na.params.length)
      throw bad(
        `action "${name}": P4Info has ${params.length} parameters, BMv2 JSON has ${na.params.length}`,
      );
    const paramPos = new Map<number, number>();
    params.forEach((p, i) => {
      const byName = na.params.findIndex((q) => q.name === p.name);
      const pos = byName >= 0 ? byName : i;
      if (na.params[pos].width !== p.bitwidth)
        throw bad(
          `action "${name}" parameter "${p.name}": P4Info width ${p.bitwidth}, BMv2 JSON width ${na.params[pos].width}`,
        );
      paramPos.set(p.id ?? 0, pos);
    });
    const id = a.preamble?.id ?? 0;
    layout.actions.set(id, { name, paramPos, widths: na.params.map((p) => p.width) });
    layout.actionIdByName.set(name, id);
  }
  for (const t of p4info.tables ?? []) {
    const name = t.preamble?.name ?? '';
    const nt = prog.tables.find((x) => x.name === name);
    if (!nt) throw bad(`P4Info table "${name}" is not in the BMv2 JSON`);
    if (t.implementationId)
      throw bad(`table "${name}" uses an action profile, which the softnic does not support`);
    const fields = t.matchFields ?? [];
    if (fields.length !== nt.keys.length)
      throw bad(`table "${name}": P4Info has ${fields.length} match fields, BMv2 JSON has ${nt.keys.length}`);
    const fieldPos = new Map<number, number>();
    fields.forEach((f, i) => {
      const byName = nt.keys.findIndex((k) => k.name === f.name);
      const pos = byName >= 0 ? byName : i;
      const k = nt.keys[pos];
      if (!(KIND[f.matchType ?? 0] ?? []).includes(k.kind))
        throw bad(
          `table "${name}" match field "${f.name}": P4Info kind ${MatchType[f.matchType ?? 0]}, BMv2 JSON ${k.kind}`,
        );
      if (k.width !== f.bitwidth)
        throw bad(
          `table "${name}" match field "${f.name}": P4Info width ${f.bitwidth}, BMv2 JSON width ${k.width}`,
        );
      fieldPos.set(f.id ?? 0, pos);
    });
    for (const r of t.actionRefs ?? []) {
      const an = layout.actions.get(r.id ?? 0)?.name;
      if (!an || !nt.actions.includes(an))
        throw bad(`table "${name}": action ${an ?? r.id} is not permitted in the BMv2 JSON`);
    }
    const directCounter = (p4info.directCounters ?? []).some((d) => d.directTableId === t.preamble?.id);
    if (directCounter && !nt.directCounter)
      throw bad(`table "${name}" has a direct counter in P4Info but not in the BMv2 JSON`);
    layout.tables.set(t.preamble?.id ?? 0, { name, fieldPos, nKeys: nt.keys.length, directCounter });
  }
  if ((p4info.directMeters ?? []).length)
    throw bad(`direct meter "${p4info.directMeters?.[0].preamble?.name}" is not supported by the softnic`);
  if ((p4info.actionProfiles ?? []).length)
    throw bad(
      `action profile "${p4info.actionProfiles?.[0].preamble?.name}" is not supported by the softnic`,
    );
  if ((p4info.registers ?? []).length)
    throw bad(`register "${p4info.registers?.[0].preamble?.name}" is not supported by the softnic`);
  // The BMv2 JSON subset has no learn lists and no table timeouts: refuse rather than never notify.
  if ((p4info.digests ?? []).length)
    throw bad(`digest "${p4info.digests?.[0].preamble?.name}" is not supported by the softnic`);
  const idle = (p4info.tables ?? []).find(
    (t) => t.idleTimeoutBehavior === IdleTimeoutBehavior.NOTIFY_CONTROL,
  );
  if (idle)
    throw bad(
      `table "${idle.preamble?.name}" asks for idle-timeout notifications, which the softnic does not send`,
    );
  for (const c of p4info.counters ?? []) {
    const name = c.preamble?.name ?? '';
    const nc = prog.counters.find((x) => x.name === name && !x.direct);
    if (!nc) throw bad(`P4Info counter "${name}" is not in the BMv2 JSON`);
    layout.counters.set(c.preamble?.id ?? 0, { name, size: nc.size });
  }
  for (const m of p4info.meters ?? []) {
    const name = m.preamble?.name ?? '';
    const nm = prog.meters.find((x) => x.name === name);
    if (!nm) throw bad(`P4Info meter "${name}" is not in the BMv2 JSON`);
    const unit =
      m.spec?.unit === MeterUnit.PACKETS ? 'packets' : m.spec?.unit === MeterUnit.BYTES ? 'bytes' : nm.unit;
    if (unit !== nm.unit) throw bad(`meter "${name}": P4Info unit ${unit}, BMv2 JSON unit ${nm.unit}`);
    layout.meters.set(m.preamble?.id ?? 0, { name, size: nm.size });
  }
  for (const h of p4info.controllerPacketMetadata ?? []) {
    const md = (h.metadata ?? []).map((x) => ({ id: x.id ?? 0, bitwidth: x.bitwidth ?? 0 }));
    const bits = md.reduce((s, x) => s + x.bitwidth, 0);
    if (bits % 8) throw bad(`controller header "${h.preamble?.name}" is ${bits} bits, not whole bytes`);
    if (h.preamble?.name === 'packet_out') layout.packetOut = md;
    if (h.preamble?.name === 'packet_in') layout.packetIn = md;
  }
  return layout;
}
