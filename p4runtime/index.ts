/**
 * nfp's P4Runtime library: protos and typed messages, a client, name-based builders, and a
 * server framework over a small Device interface (with an in-memory device).
 */
export * from './messages';
export {
  p4runtimeRoot,
  codecs,
  PROTO_DIR,
  PROTO_FILES,
  P4_ERROR_TYPE_URL,
  p4infoFromJson,
  p4infoToJson,
} from './proto';
export type { MessageCodec } from './proto';
export {
  Code,
  codeName,
  P4RuntimeError,
  P4RuntimeWriteError,
  P4RuntimeReadError,
  P4SchemaError,
  NotPrimaryError,
} from './errors';
export type { UpdateFailure, ReadFailure } from './errors';
export type { P4Value } from './values';
export {
  ValueError,
  encodeValue,
  valueToBigInt,
  bigIntToBytes,
  bytesToBigInt,
  canonicalBytes,
  bitLength,
  formatValue,
  int64ToBigInt,
} from './values';
export { P4Schema, ObjectIndex, closest } from './schema';
export type { TableFacts } from './schema';
export { EntityBuilder, counterView } from './builders';
export type {
  MatchSpec,
  LpmSpec,
  TernarySpec,
  RangeSpec,
  TableEntrySpec,
  MeterConfigSpec,
  MatchView,
  TableEntryView,
} from './builders';
export { insert, modify, remove, checkUpdates } from './updates';
export type { P4Update } from './updates';
export { P4RuntimeClient } from './client';
export type { P4RuntimeClientOptions, ClientEvents, TlsOptions, PipelineInput } from './client';
export { DeviceError } from './device';
export type { Device, DeviceEvents, PipelineConfig, UpdateResult } from './device';
export { MemoryDevice, entryKey } from './memory-device';
export type { MemoryDeviceOptions } from './memory-device';
export { P4RuntimeServer, P4RUNTIME_API_VERSION } from './server';
export type { P4RuntimeServerOptions } from './server';
export { roleAccessFor, checkAccess, visibleTo } from './roles';
export type { RoleConfig, RoleAccess } from './roles';
export { electionIdValue, electionIdMessage } from './arbitration';
export { p4runtimeClientService, p4runtimeServerService } from './service';
export { writeErrorTrailer, decodeWriteErrors, STATUS_DETAILS_KEY } from './status-details';
