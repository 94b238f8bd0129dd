/**
 * The rule set as JSON (flows.NIC.json next to the testpmd lines): values as hex strings, so that
 * a reader never loses bits of a 128-bit address.
 */
import type { FlowRuleSet } from '../ir';

export function emitFlowJson(rs: FlowRuleSet): string {
  return `${JSON.stringify(rs, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 1)}\n`;
}
