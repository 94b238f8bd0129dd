/** Control-plane names of fields: the P4 expression as written in program.p4 (v1model). */
import type { FieldRef } from '../ir';

export function keyName(ref: FieldRef): string {
  if (ref.instance === 'std') return `standard_metadata.${ref.field}`;
  if (ref.instance === 'meta') return `meta.${ref.field}`;
  return `hdr.${ref.instance}.${ref.field}`;
}
