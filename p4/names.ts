/** P4 identifiers and values derived from plan names. */
import { NfpError } from '../partitioner/errors';
import type { PlanNf } from '../partitioner/plan';

/** A P4 identifier from any text: letters, digits and underscores. */
export function ident(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return s || 'x';
}

/** `nf<id>_<tenant>_<nf>`: unique by the NF id, readable by its qualified name. */
export function nfIdent(nf: PlanNf): string {
  return `nf${nf.id}_${ident(nf.name)}`;
}

export function macToBigInt(mac: string): bigint {
  const m = /^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2}){5}$/.exec(mac);
  if (!m) throw new NfpError(`"${mac}" is not a MAC address`, 'write MAC addresses like 02:00:00:00:00:01');
  return BigInt(`0x${mac.replace(/[:-]/g, '')}`);
}
