/**
 * Typed shapes of the P4Runtime messages nfp uses, as protobufjs encodes and decodes them
 * (camelCase fields). Every field is optional because proto3 omits defaults; message fields
 * decode as `null` when absent. 64-bit integers decode as `Long`; writers may pass a number,
 * a decimal string or a Long (see `Int64`). Bytes are `Uint8Array` (a Buffer on decode).
 */
import type Long from 'long';

/** A protobuf 64-bit integer as protobufjs accepts and returns it. */
export type Int64 = number | string | Long;

// ---- google.rpc / google.protobuf -------------------------------------------------------------

/** protobufjs' bundled google.protobuf.Any keeps the proto spelling `type_url`. */
export interface Any {
  type_url?: string;
  value?: Uint8Array;
}

export interface RpcStatus {
  code?: number;
  message?: string;
  details?: Any[];
}

// ---- p4.v1 data -------------------------------------------------------------------------------

export interface P4Data {
  bitstring?: Uint8Array;
  varbit?: { bitstring?: Uint8Array; bitwidth?: number } | null;
  bool?: boolean;
  tuple?: P4StructLike | null;
  struct?: P4StructLike | null;
  header?: P4Header | null;
  enum?: string;
  error?: string;
  enumValue?: Uint8Array;
}

export interface P4StructLike {
  members?: P4Data[];
}

export interface P4Header {
  isValid?: boolean;
  bitstrings?: Uint8Array[];
}

// ---- p4.v1 entities ---------------------------------------------------------------------------

export interface Uint128 {
  high?: Int64;
  low?: Int64;
}

export interface FieldMatch {
  fieldId?: number;
  exact?: { value?: Uint8Array } | null;
  ternary?: { value?: Uint8Array; mask?: Uint8Array } | null;
  lpm?: { value?: Uint8Array; prefixLen?: number } | null;
  range?: { low?: Uint8Array; high?: Uint8Array } | null;
  optional?: { value?: Uint8Array } | null;
  other?: Any | null;
}

export interface ActionParam {
  paramId?: number;
  value?: Uint8Array;
}

export interface Action {
  actionId?: number;
  params?: ActionParam[];
}

export interface ActionProfileAction {
  action?: Action | null;
  weight?: number;
  watchPort?: Uint8Array;
}

export interface TableAction {
  action?: Action | null;
  actionProfileMemberId?: number;
  actionProfileGroupId?: number;
  actionProfileActionSet?: ActionProfileActionSet | null;
}

export enum ActionSelectionMode {
  DEFAULT_MODE_DETERMINED_BY_ACTION_SELECTOR = 0,
  HASH = 1,
  RANDOM = 2,
}

export enum SizeSemantics {
  DEFAULT_SIZE_DETERMINED_BY_ACTION_SELECTOR = 0,
  SUM_OF_WEIGHTS = 1,
  SUM_OF_MEMBERS = 2,
}

export interface ActionProfileActionSet {
  groupAction?: Action | null;
  actionProfileActions?: ActionProfileAction[];
  actionSelectionMode?: ActionSelectionMode;
  sizeSemantics?: SizeSemantics;
}

export interface CounterData {
  byteCount?: Int64;
  packetCount?: Int64;
}

export interface MeterConfig {
  cir?: Int64;
  cburst?: Int64;
  pir?: Int64;
  pburst?: Int64;
  /** Excess burst size: only for single-rate three-colour meters. */
  eburst?: Int64;
}

export interface MeterCounterData {
  green?: CounterData | null;
  yellow?: CounterData | null;
  red?: CounterData | null;
}

export interface TableEntry {
  tableId?: number;
  match?: FieldMatch[];
  action?: TableAction | null;
  priority?: number;
  controllerMetadata?: Int64;
  meterConfig?: MeterConfig | null;
  counterData?: CounterData | null;
  meterCounterData?: MeterCounterData | null;
  isDefaultAction?: boolean;
  idleTimeoutNs?: Int64;
  timeSinceLastHit?: { elapsedNs?: Int64 } | null;
  metadata?: Uint8Array;
  /** Set by the server on reads of entries the program declared `const`. */
  isConst?: boolean;
}

export interface Index {
  index?: Int64;
}

export interface CounterEntry {
  counterId?: number;
  index?: Index | null;
  data?: CounterData | null;
}

export interface DirectCounterEntry {
  tableEntry?: TableEntry | null;
  data?: CounterData | null;
}

export interface MeterEntry {
  meterId?: number;
  index?: Index | null;
  config?: MeterConfig | null;
  counterData?: MeterCounterData | null;
}

export interface DirectMeterEntry {
  tableEntry?: TableEntry | null;
  config?: MeterConfig | null;
  counterData?: MeterCounterData | null;
}

export interface ActionProfileMember {
  actionProfileId?: number;
  memberId?: number;
  action?: Action | null;
}

export interface ActionProfileGroupMember {
  memberId?: number;
  weight?: number;
  watchPort?: Uint8Array;
}

export interface ActionProfileGroup {
  actionProfileId?: number;
  groupId?: number;
  members?: ActionProfileGroupMember[];
  maxSize?: number;
}

export interface BackupReplica {
  port?: Uint8Array;
  instance?: number;
}

export interface Replica {
  /** Deprecated (32-bit port); `port` is the SDN port as a bytestring. */
  egressPort?: number;
  port?: Uint8Array;
  instance?: number;
  backupReplicas?: BackupReplica[];
}

export interface MulticastGroupEntry {
  multicastGroupId?: number;
  replicas?: Replica[];
  metadata?: Uint8Array;
}

export interface CloneSessionEntry {
  sessionId?: number;
  replicas?: Replica[];
  classOfService?: number;
  packetLengthBytes?: number;
}

export interface PacketReplicationEngineEntry {
  multicastGroupEntry?: MulticastGroupEntry | null;
  cloneSessionEntry?: CloneSessionEntry | null;
}

export interface RegisterEntry {
  registerId?: number;
  index?: Index | null;
  data?: P4Data | null;
}

export interface DigestEntryConfig {
  maxTimeoutNs?: Int64;
  maxListSize?: number;
  ackTimeoutNs?: Int64;
}

export interface DigestEntry {
  digestId?: number;
  config?: DigestEntryConfig | null;
}

export interface ValueSetEntry {
  valueSetId?: number;
  members?: { match?: FieldMatch[] }[];
}

export interface ExternEntry {
  externTypeId?: number;
  externId?: number;
  entry?: Any | null;
}

/** The `entity` oneof: exactly one member is set. */
export interface Entity {
  externEntry?: ExternEntry | null;
  tableEntry?: TableEntry | null;
  actionProfileMember?: ActionProfileMember | null;
  actionProfileGroup?: ActionProfileGroup | null;
  meterEntry?: MeterEntry | null;
  directMeterEntry?: DirectMeterEntry | null;
  counterEntry?: CounterEntry | null;
  directCounterEntry?: DirectCounterEntry | null;
  packetReplicationEngineEntry?: PacketReplicationEngineEntry | null;
  valueSetEntry?: ValueSetEntry | null;
  registerEntry?: RegisterEntry | null;
  digestEntry?: DigestEntry | null;
}

/** Names of the members of the `entity` oneof. */
export type EntityKind = keyof Entity;

// ---- p4.v1 RPCs -------------------------------------------------------------------------------

export enum UpdateType {
  UNSPECIFIED = 0,
  INSERT = 1,
  MODIFY = 2,
  DELETE = 3,
}

export interface Update {
  type?: UpdateType;
  entity?: Entity | null;
}

export enum Atomicity {
  CONTINUE_ON_ERROR = 0,
  ROLLBACK_ON_ERROR = 1,
  DATAPLANE_ATOMIC = 2,
}

export interface WriteRequest {
  deviceId?: Int64;
  roleId?: Int64;
  role?: string;
  electionId?: Uint128 | null;
  updates?: Update[];
  atomicity?: Atomicity;
}

export type WriteResponse = Record<string, never>;

export interface ReadRequest {
  deviceId?: Int64;
  role?: string;
  entities?: Entity[];
}

export interface ReadResponse {
  entities?: Entity[];
}

/** A P4Runtime per-update error (p4.v1.Error). */
export interface P4Error {
  canonicalCode?: number;
  message?: string;
  space?: string;
  code?: number;
  details?: Any | null;
}

export interface PacketMetadata {
  metadataId?: number;
  value?: Uint8Array;
}

export interface PacketOut {
  payload?: Uint8Array;
  metadata?: PacketMetadata[];
}

export interface PacketIn {
  payload?: Uint8Array;
  metadata?: PacketMetadata[];
}

export interface DigestListAck {
  digestId?: number;
  listId?: Int64;
}

export interface DigestList {
  digestId?: number;
  listId?: Int64;
  data?: P4Data[];
  timestamp?: Int64;
}

export interface Role {
  id?: Int64;
  name?: string;
  config?: Any | null;
}

export interface MasterArbitrationUpdate {
  deviceId?: Int64;
  role?: Role | null;
  electionId?: Uint128 | null;
  status?: RpcStatus | null;
}

export interface IdleTimeoutNotification {
  tableEntry?: TableEntry[];
  timestamp?: Int64;
}

export interface StreamError {
  canonicalCode?: number;
  message?: string;
  space?: string;
  code?: number;
  packetOut?: { packetOut?: PacketOut | null } | null;
  digestListAck?: { digestListAck?: DigestListAck | null } | null;
  other?: { other?: Any | null } | null;
}

export interface StreamMessageRequest {
  arbitration?: MasterArbitrationUpdate | null;
  packet?: PacketOut | null;
  digestAck?: DigestListAck | null;
  other?: Any | null;
}

export interface StreamMessageResponse {
  arbitration?: MasterArbitrationUpdate | null;
  packet?: PacketIn | null;
  digest?: DigestList | null;
  idleTimeoutNotification?: IdleTimeoutNotification | null;
  other?: Any | null;
  error?: StreamError | null;
}

export enum PipelineAction {
  UNSPECIFIED = 0,
  VERIFY = 1,
  VERIFY_AND_SAVE = 2,
  VERIFY_AND_COMMIT = 3,
  COMMIT = 4,
  RECONCILE_AND_COMMIT = 5,
}

export interface ForwardingPipelineConfig {
  p4info?: P4Info | null;
  p4DeviceConfig?: Uint8Array;
  cookie?: { cookie?: Int64 } | null;
}

export interface SetForwardingPipelineConfigRequest {
  deviceId?: Int64;
  roleId?: Int64;
  role?: string;
  electionId?: Uint128 | null;
  action?: PipelineAction;
  config?: ForwardingPipelineConfig | null;
}

export type SetForwardingPipelineConfigResponse = Record<string, never>;

export enum PipelineResponseType {
  ALL = 0,
  COOKIE_ONLY = 1,
  P4INFO_AND_COOKIE = 2,
  DEVICE_CONFIG_AND_COOKIE = 3,
}

export interface GetForwardingPipelineConfigRequest {
  deviceId?: Int64;
  responseType?: PipelineResponseType;
}

export interface GetForwardingPipelineConfigResponse {
  config?: ForwardingPipelineConfig | null;
}

export interface CapabilitiesRequest {
  /** 0 (unset): server-wide capabilities only. */
  deviceId?: Int64;
}

export interface CapabilitiesResponse {
  p4runtimeApiVersion?: string;
  experimental?: Any | null;
}

// ---- p4.config.v1 (P4Info) --------------------------------------------------------------------

export interface Preamble {
  id?: number;
  name?: string;
  alias?: string;
  annotations?: string[];
  doc?: { brief?: string; description?: string } | null;
}

export enum MatchType {
  UNSPECIFIED = 0,
  EXACT = 2,
  LPM = 3,
  TERNARY = 4,
  RANGE = 5,
  OPTIONAL = 6,
}

export interface MatchFieldInfo {
  id?: number;
  name?: string;
  annotations?: string[];
  bitwidth?: number;
  matchType?: MatchType;
  otherMatchType?: string;
}

export enum ActionRefScope {
  TABLE_AND_DEFAULT = 0,
  TABLE_ONLY = 1,
  DEFAULT_ONLY = 2,
  GROUP_ACTION = 3,
}

export interface ActionRef {
  id?: number;
  scope?: ActionRefScope;
  annotations?: string[];
}

export enum IdleTimeoutBehavior {
  NO_TIMEOUT = 0,
  NOTIFY_CONTROL = 1,
}

/** An action with its arguments, as the program declares it (p4.config.v1.TableActionCall). */
export interface TableActionCall {
  actionId?: number;
  arguments?: { paramId?: number; value?: Uint8Array }[];
}

export interface TableInfo {
  preamble?: Preamble | null;
  matchFields?: MatchFieldInfo[];
  actionRefs?: ActionRef[];
  constDefaultActionId?: number;
  initialDefaultAction?: TableActionCall | null;
  implementationId?: number;
  directResourceIds?: number[];
  size?: Int64;
  idleTimeoutBehavior?: IdleTimeoutBehavior;
  isConstTable?: boolean;
  hasInitialEntries?: boolean;
}

export interface ActionParamInfo {
  id?: number;
  name?: string;
  annotations?: string[];
  bitwidth?: number;
}

export interface ActionInfo {
  preamble?: Preamble | null;
  params?: ActionParamInfo[];
}

export interface ActionProfileInfo {
  preamble?: Preamble | null;
  tableIds?: number[];
  withSelector?: boolean;
  size?: Int64;
  maxGroupSize?: number;
  sumOfWeights?: Record<string, never> | null;
  sumOfMembers?: { maxMemberWeight?: number } | null;
  weightsDisallowed?: boolean;
}

export enum CounterUnit {
  UNSPECIFIED = 0,
  BYTES = 1,
  PACKETS = 2,
  BOTH = 3,
}

export interface CounterInfo {
  preamble?: Preamble | null;
  spec?: { unit?: CounterUnit } | null;
  size?: Int64;
}

export interface DirectCounterInfo {
  preamble?: Preamble | null;
  spec?: { unit?: CounterUnit } | null;
  directTableId?: number;
}

export enum MeterUnit {
  UNSPECIFIED = 0,
  BYTES = 1,
  PACKETS = 2,
}

/** Which MeterConfigs a meter accepts (p4.config.v1.MeterSpec.Type). */
export enum MeterType {
  TWO_RATE_THREE_COLOR = 0,
  SINGLE_RATE_THREE_COLOR = 1,
  SINGLE_RATE_TWO_COLOR = 2,
}

export interface MeterSpec {
  unit?: MeterUnit;
  type?: MeterType;
}

export interface MeterInfo {
  preamble?: Preamble | null;
  spec?: MeterSpec | null;
  size?: Int64;
}

export interface DirectMeterInfo {
  preamble?: Preamble | null;
  spec?: MeterSpec | null;
  directTableId?: number;
}

export interface ControllerPacketMetadataInfo {
  preamble?: Preamble | null;
  metadata?: { id?: number; name?: string; annotations?: string[]; bitwidth?: number }[];
}

export interface P4BitstringLikeTypeSpec {
  bit?: { bitwidth?: number } | null;
  int?: { bitwidth?: number } | null;
  varbit?: { maxBitwidth?: number } | null;
}

export interface P4DataTypeSpec {
  bitstring?: P4BitstringLikeTypeSpec | null;
  bool?: Record<string, never> | null;
  tuple?: { members?: P4DataTypeSpec[] } | null;
  struct?: { name?: string } | null;
  header?: { name?: string } | null;
}

export interface RegisterInfo {
  preamble?: Preamble | null;
  typeSpec?: P4DataTypeSpec | null;
  size?: number;
}

export interface DigestInfo {
  preamble?: Preamble | null;
  typeSpec?: P4DataTypeSpec | null;
}

export interface ValueSetInfo {
  preamble?: Preamble | null;
  match?: MatchFieldInfo[];
  size?: number;
}

export interface P4TypeInfo {
  structs?: Record<string, { members?: { name?: string; typeSpec?: P4DataTypeSpec | null }[] }>;
  headers?: Record<string, { members?: { name?: string; typeSpec?: P4BitstringLikeTypeSpec | null }[] }>;
}

export interface PlatformProperties {
  multicastGroupTableSize?: number;
  multicastGroupTableTotalReplicas?: number;
  multicastGroupTableMaxReplicasPerEntry?: number;
}

export interface PkgInfo {
  name?: string;
  version?: string;
  arch?: string;
  platformProperties?: PlatformProperties | null;
}

export interface P4Info {
  pkgInfo?: PkgInfo | null;
  tables?: TableInfo[];
  actions?: ActionInfo[];
  actionProfiles?: ActionProfileInfo[];
  counters?: CounterInfo[];
  directCounters?: DirectCounterInfo[];
  meters?: MeterInfo[];
  directMeters?: DirectMeterInfo[];
  controllerPacketMetadata?: ControllerPacketMetadataInfo[];
  valueSets?: ValueSetInfo[];
  registers?: RegisterInfo[];
  digests?: DigestInfo[];
  externs?: ExternInfo[];
  typeInfo?: P4TypeInfo | null;
}

/** Architecture-specific externs (p4.config.v1.Extern). */
export interface ExternInfo {
  externTypeId?: number;
  externTypeName?: string;
  instances?: { preamble?: Preamble | null; info?: Any | null }[];
}
