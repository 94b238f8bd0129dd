/**
 * The P4Runtime gRPC service (p4.v1.P4Runtime) as grpc-js method definitions built from the
 * protobufjs codecs. The server side keeps requests as raw bytes so that it, not grpc-js, decodes
 * them and can answer malformed input with INVALID_ARGUMENT.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { codecs, type MessageCodec } from './proto';
import type * as m from './messages';

const SERVICE = '/p4.v1.P4Runtime/';

/** The encoded bytes as a Buffer without copying them (protobufjs already returns a Buffer in Node). */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function method<Req, Res>(
  name: string,
  req: MessageCodec<Req>,
  res: MessageCodec<Res>,
  requestStream: boolean,
  responseStream: boolean,
): MethodDefinition<Req, Res> {
  return {
    path: SERVICE + name,
    requestStream,
    responseStream,
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
    requestSerialize: (v: Req) => asBuffer(req.encode(v)),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (v: Res) => asBuffer(res.encode(v)),
    responseDeserialize: (b: Buffer) => res.decode(b),
  };
}

/** Client-side definition: typed requests and responses. */
export const p4runtimeClientService = {
  Write: method('Write', codecs.WriteRequest, codecs.WriteResponse, false, false),
  Read: method('Read', codecs.ReadRequest, codecs.ReadResponse, false, true),
  SetForwardingPipelineConfig: method(
    'SetForwardingPipelineConfig',
    codecs.SetForwardingPipelineConfigRequest,
    codecs.SetForwardingPipelineConfigResponse,
    false,
    false,
  ),
  GetForwardingPipelineConfig: method(
    'GetForwardingPipelineConfig',
    codecs.GetForwardingPipelineConfigRequest,
    codecs.GetForwardingPipelineConfigResponse,
    false,
    false,
  ),
  StreamChannel: method(
    'StreamChannel',
    codecs.StreamMessageRequest,
    codecs.StreamMessageResponse,
    true,
    true,
  ),
  Capabilities: method('Capabilities', codecs.CapabilitiesRequest, codecs.CapabilitiesResponse, false, false),
} satisfies ServiceDefinition;

/** Raw request bytes, decoded by the handler. */
const raw: MessageCodec<Buffer> = {
  get type(): never {
    throw new Error('raw codec has no type');
  },
  name: 'raw',
  encode: (b: Buffer) => b,
  decode: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
};

/** Server-side definition: raw requests, typed responses. */
export const p4runtimeServerService = {
  Write: method<Buffer, m.WriteResponse>('Write', raw, codecs.WriteResponse, false, false),
  Read: method<Buffer, m.ReadResponse>('Read', raw, codecs.ReadResponse, false, true),
  SetForwardingPipelineConfig: method<Buffer, m.SetForwardingPipelineConfigResponse>(
    'SetForwardingPipelineConfig',
    raw,
    codecs.SetForwardingPipelineConfigResponse,
    false,
    false,
  ),
  GetForwardingPipelineConfig: method<Buffer, m.GetForwardingPipelineConfigResponse>(
    'GetForwardingPipelineConfig',
    raw,
    codecs.GetForwardingPipelineConfigResponse,
    false,
    false,
  ),
  StreamChannel: method<Buffer, m.StreamMessageResponse>(
    'StreamChannel',
    raw,
    codecs.StreamMessageResponse,
    true,
    true,
  ),
  Capabilities: method<Buffer, m.CapabilitiesResponse>(
    'Capabilities',
    raw,
    codecs.CapabilitiesResponse,
    false,
    false,
  ),
} satisfies ServiceDefinition;
