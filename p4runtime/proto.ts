/**
 * Loads the P4Runtime protos (written in this folder) plus google.rpc.Status from
 * google-proto-files into one protobufjs Root, and gives typed encode/decode handles for the
 * messages nfp uses. The Root is built once, lazily, and shared.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as protobuf from 'protobufjs';
import type * as m from './messages';

/**
 * Folder holding `p4/v1/*.proto` and `p4/config/v1/*.proto`: next to this file in the source
 * tree; from the compiled `dist/p4runtime/`, the source tree's copy (the package ships
 * `p4runtime/proto`).
 */
export const PROTO_DIR: string =
  [join(__dirname, 'proto'), join(__dirname, '..', '..', 'p4runtime', 'proto')].find((d) =>
    existsSync(join(d, 'p4', 'v1', 'p4runtime.proto')),
  ) ?? join(__dirname, 'proto');

/** The proto files that make up P4Runtime, relative to PROTO_DIR. */
export const PROTO_FILES: readonly string[] = [
  'p4/v1/p4runtime.proto',
  'p4/v1/p4data.proto',
  'p4/config/v1/p4info.proto',
  'p4/config/v1/p4types.proto',
];

function googleProtoDir(): string {
  // google-proto-files ships google/rpc/status.proto next to its package.json.
  return dirname(require.resolve('google-proto-files/package.json'));
}

let cached: protobuf.Root | undefined;

/** The protobufjs Root holding p4.v1, p4.config.v1 and google.rpc. */
export function p4runtimeRoot(): protobuf.Root {
  if (cached) return cached;
  const root = new protobuf.Root();
  const google = googleProtoDir();
  root.resolvePath = (_origin: string, target: string): string => {
    // google/protobuf/* resolve to protobufjs' bundled copies whatever path is returned here.
    if (target.startsWith('google/')) return join(google, target);
    if (target.startsWith('/')) return target;
    return join(PROTO_DIR, target);
  };
  root.loadSync([...PROTO_FILES, 'google/rpc/status.proto', 'google/rpc/code.proto']);
  root.resolveAll();
  cached = root;
  return root;
}

/** A typed view of one protobufjs message type. */
export interface MessageCodec<T> {
  readonly type: protobuf.Type;
  /** Fully qualified type name, e.g. `p4.v1.WriteRequest`. */
  readonly name: string;
  encode(message: T): Uint8Array;
  /** Throws on malformed input (protobufjs' RangeError/Error). */
  decode(bytes: Uint8Array): T;
}

function codec<T>(name: string): MessageCodec<T> {
  let type: protobuf.Type | undefined;
  const get = (): protobuf.Type => (type ??= p4runtimeRoot().lookupType(name));
  return {
    get type(): protobuf.Type {
      return get();
    },
    name,
    encode(message: T): Uint8Array {
      return get()
        .encode(message as unknown as Record<string, unknown>)
        .finish();
    },
    decode(bytes: Uint8Array): T {
      return get().decode(bytes) as unknown as T;
    },
  };
}

/** Encoders/decoders for every message that crosses the wire or the status details. */
export const codecs = {
  WriteRequest: codec<m.WriteRequest>('p4.v1.WriteRequest'),
  WriteResponse: codec<m.WriteResponse>('p4.v1.WriteResponse'),
  ReadRequest: codec<m.ReadRequest>('p4.v1.ReadRequest'),
  ReadResponse: codec<m.ReadResponse>('p4.v1.ReadResponse'),
  SetForwardingPipelineConfigRequest: codec<m.SetForwardingPipelineConfigRequest>(
    'p4.v1.SetForwardingPipelineConfigRequest',
  ),
  SetForwardingPipelineConfigResponse: codec<m.SetForwardingPipelineConfigResponse>(
    'p4.v1.SetForwardingPipelineConfigResponse',
  ),
  GetForwardingPipelineConfigRequest: codec<m.GetForwardingPipelineConfigRequest>(
    'p4.v1.GetForwardingPipelineConfigRequest',
  ),
  GetForwardingPipelineConfigResponse: codec<m.GetForwardingPipelineConfigResponse>(
    'p4.v1.GetForwardingPipelineConfigResponse',
  ),
  StreamMessageRequest: codec<m.StreamMessageRequest>('p4.v1.StreamMessageRequest'),
  StreamMessageResponse: codec<m.StreamMessageResponse>('p4.v1.StreamMessageResponse'),
  CapabilitiesRequest: codec<m.CapabilitiesRequest>('p4.v1.CapabilitiesRequest'),
  CapabilitiesResponse: codec<m.CapabilitiesResponse>('p4.v1.CapabilitiesResponse'),
  Entity: codec<m.Entity>('p4.v1.Entity'),
  Update: codec<m.Update>('p4.v1.Update'),
  TableEntry: codec<m.TableEntry>('p4.v1.TableEntry'),
  Error: codec<m.P4Error>('p4.v1.Error'),
  P4Info: codec<m.P4Info>('p4.config.v1.P4Info'),
  Status: codec<m.RpcStatus>('google.rpc.Status'),
} as const;

/** The `type_url` of a p4.v1.Error packed into google.rpc.Status.details. */
export const P4_ERROR_TYPE_URL = 'type.googleapis.com/p4.v1.Error';

/**
 * Converts a JSON-mapped P4Info (protobuf's canonical JSON, as `p4c --p4runtime-format json`
 * writes it) into the typed message. Text format is not supported.
 */
export function p4infoFromJson(json: unknown): m.P4Info {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error('invalid P4Info JSON: expected an object');
  try {
    return codecs.P4Info.type.fromObject(json as Record<string, unknown>) as unknown as m.P4Info;
  } catch (e) {
    throw new Error(`invalid P4Info JSON: ${(e as Error).message}`);
  }
}

/** Canonical protobuf JSON of a P4Info (enums as names, 64-bit as strings). */
export function p4infoToJson(info: m.P4Info): Record<string, unknown> {
  const type = codecs.P4Info.type;
  return type.toObject(type.fromObject(info as unknown as Record<string, unknown>), {
    enums: String,
    longs: String,
    bytes: String,
    defaults: false,
  });
}
