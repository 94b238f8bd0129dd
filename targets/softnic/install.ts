/**
 * Installs nfp's NIC artifacts (P4Info, BMv2 JSON, entries.json) straight into a SoftnicDevice,
 * without gRPC: benchmarks and tests use it; deploy goes through P4Runtime instead.
 */
import { DeviceError } from '../../p4runtime/device';
import type { FieldMatch, P4Info, Update } from '../../p4runtime/messages';
import { Atomicity, UpdateType } from '../../p4runtime/messages';
import { P4Schema } from '../../p4runtime/schema';
import type { NicEntries } from '../../p4';
import type { SoftnicDevice } from './device';

function hexBytes(h: string): Buffer {
  const s = h.replace(/^0x/, '');
  return Buffer.from(s.length % 2 ? `0${s}` : s, 'hex');
}

/** The entries of entries.json as P4Runtime INSERT/MODIFY updates. */
export function entriesToUpdates(entries: NicEntries): Update[] {
  const updates: Update[] = [];
  for (const e of entries.tableEntries) {
    const match: FieldMatch[] = e.match.map((m) => {
      if ('exact' in m) return { fieldId: m.fieldId, exact: { value: hexBytes(m.exact.value) } };
      if ('ternary' in m)
        return {
          fieldId: m.fieldId,
          ternary: { value: hexBytes(m.ternary.value), mask: hexBytes(m.ternary.mask) },
        };
      if ('lpm' in m)
        return { fieldId: m.fieldId, lpm: { value: hexBytes(m.lpm.value), prefixLen: m.lpm.prefixLen } };
      return { fieldId: m.fieldId, range: { low: hexBytes(m.range.low), high: hexBytes(m.range.high) } };
    });
    updates.push({
      type: UpdateType.INSERT,
      entity: {
        tableEntry: {
          tableId: e.tableId,
          priority: e.priority ?? 0,
          match,
          action: {
            action: {
              actionId: e.action.id,
              params: e.action.params.map((p) => ({ paramId: p.id, value: hexBytes(p.value) })),
            },
          },
        },
      },
    });
  }
  for (const m of entries.meterEntries)
    updates.push({
      type: UpdateType.MODIFY,
      entity: { meterEntry: { meterId: m.meterId, index: { index: m.index }, config: m.config } },
    });
  return updates;
}

/** Verifies and commits the pipeline, then writes every entry; throws DeviceError on the first failure. */
export async function installArtifacts(
  device: SoftnicDevice,
  a: { p4info: P4Info; bmv2: unknown; entries: NicEntries },
): Promise<void> {
  const config = {
    p4info: a.p4info,
    schema: new P4Schema(a.p4info),
    deviceConfig: Buffer.from(typeof a.bmv2 === 'string' ? a.bmv2 : JSON.stringify(a.bmv2)),
  };
  await device.verifyPipeline(config);
  await device.commitPipeline(config, false);
  const updates = entriesToUpdates(a.entries);
  const results = await device.write(updates, Atomicity.ROLLBACK_ON_ERROR);
  const i = results.findIndex((r) => r !== undefined);
  if (i >= 0) {
    const e = results[i] as DeviceError;
    const what = a.entries.tableEntries[i]?.comment ?? `meter entry ${i - a.entries.tableEntries.length}`;
    throw new DeviceError(e.code, `entry ${i} (${what}): ${e.message}`);
  }
}
