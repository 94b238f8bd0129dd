/**
 * The entries of entries.json as P4Runtime updates: every P4Runtime target (the softnic, BMv2, a
 * P4 SmartNIC) gets the NIC half's entries through these.
 */
import type { FieldMatch, Update } from '../p4runtime/messages';
import { UpdateType } from '../p4runtime/messages';
import type { NicEntries } from './emit/entries';

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
