/**
 * Protobuf text format (as `p4c --p4runtime-files p4info.txtpb` writes it) for any message
 * whose protobufjs type is known: fields in field-number order, defaults omitted, enums by name.
 */
import * as protobuf from 'protobufjs';

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function isDefault(v: unknown): boolean {
  return (
    v === undefined || v === null || v === 0 || v === '' || v === false || (Array.isArray(v) && !v.length)
  );
}

/** A text-format string literal: printable ASCII as is, quotes and backslashes escaped, other bytes in octal. */
function quote(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

function scalar(field: protobuf.Field, v: unknown): string {
  if (field.resolvedType instanceof protobuf.Enum) {
    const name = field.resolvedType.valuesById[Number(v)];
    return name ?? String(v);
  }
  if (typeof v === 'string') return quote(Buffer.from(v, 'utf8'));
  if (v instanceof Uint8Array) return quote(v);
  return String(v);
}

const sortedFields = new WeakMap<protobuf.Type, protobuf.Field[]>();

function fieldsOf(type: protobuf.Type): protobuf.Field[] {
  let fs = sortedFields.get(type);
  if (!fs) {
    fs = [...type.fieldsArray].sort((a, b) => a.id - b.id).map((x) => x.resolve());
    sortedFields.set(type, fs);
  }
  return fs;
}

function lines(type: protobuf.Type, msg: Record<string, unknown>, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  for (const field of fieldsOf(type)) {
    const value = msg[field.name];
    if (isDefault(value)) continue;
    const name = snake(field.name);
    const items = field.repeated ? (value as unknown[]) : [value];
    for (const item of items) {
      if (field.resolvedType instanceof protobuf.Type) {
        out.push(`${pad}${name} {`);
        lines(field.resolvedType, item as Record<string, unknown>, depth + 1, out);
        out.push(`${pad}}`);
      } else {
        out.push(`${pad}${name}: ${scalar(field, item)}`);
      }
    }
  }
}

export function toTextProto(type: protobuf.Type, msg: object): string {
  const out: string[] = [];
  lines(type, msg as Record<string, unknown>, 0, out);
  return `${out.join('\n')}\n`;
}
