/**
 * The NIC pipeline IR: a small, architecture-neutral model of one P4 program lowered from a plan.
 *
 * Every emitter (v1model, PNA, BMv2 JSON, P4Info, entries) is a plain translation of this IR,
 * so the artifacts cannot drift apart. Fields are named `instance.field`, where the instance is a
 * packet header (`ipv4`), the user metadata (`meta`) or an architecture intrinsic (`std`); the
 * emitters map `std.*` to `standard_metadata.*` (v1model) or `istd.*` (PNA).
 */

/** A field of a header or metadata instance, e.g. `{ instance: 'ipv4', field: 'dstAddr' }`. */
export interface FieldRef {
  instance: string;
  field: string;
}

export interface HeaderField {
  name: string;
  width: number;
}

export interface HeaderType {
  /** P4 type name, e.g. `ipv4_t`. */
  name: string;
  fields: HeaderField[];
  /**
   * A P4Runtime controller header (`@controller_header("packet_in")`): its fields travel as
   * PacketIn / PacketOut metadata, in this order.
   */
  controllerHeader?: 'packet_in' | 'packet_out';
}

export interface HeaderInstance {
  /** Instance name: the member of `headers_t` (`ipv4`), or `meta`/`std`. */
  name: string;
  type: string;
  metadata: boolean;
}

export type Operand =
  { kind: 'field'; ref: FieldRef } | { kind: 'const'; value: bigint } | { kind: 'param'; name: string };

/** The primitives an action may use; each maps to one BMv2 primitive. */
export type Op =
  | { op: 'assign'; dst: FieldRef; src: Operand }
  | { op: 'setValid'; header: string }
  | { op: 'setInvalid'; header: string }
  /** Mark the packet to be dropped at the end of ingress (v1model `mark_to_drop`). */
  | { op: 'drop' }
  /** Send the packet out of `port` (v1model `egress_spec`, PNA `send_to_port`). */
  | { op: 'forward'; port: Operand }
  | { op: 'count'; counter: string; index: Operand }
  | { op: 'meter'; meter: string; index: Operand; result: FieldRef };

export interface ActionParam {
  name: string;
  width: number;
}

export interface Action {
  /** Local name inside the ingress control (`set_tenant`); `NoAction` is the core library's. */
  name: string;
  params: ActionParam[];
  ops: Op[];
  comment: string;
}

export type MatchKind = 'exact' | 'ternary' | 'lpm' | 'range';

export interface TableKey {
  field: FieldRef;
  matchKind: MatchKind;
}

export interface ActionCall {
  action: string;
  args: bigint[];
}

export interface Table {
  /** Local name inside the ingress control, e.g. `tenant_classify`, `t1_acme_fw_acl`. */
  name: string;
  keys: TableKey[];
  actions: string[];
  defaultAction: ActionCall;
  /** True when the control plane may not change the default action. */
  constDefault: boolean;
  size: number;
  /** Ties the table to its tenant/NF/path; printed above it in P4 source. */
  comment: string;
}

export interface Counter {
  name: string;
  size: number;
  comment: string;
}

export interface Meter {
  name: string;
  size: number;
  /** Meters here are byte meters (token buckets over bytes). */
  unit: 'bytes' | 'packets';
  comment: string;
}

export type Cond =
  | { kind: 'eq' | 'ne' | 'gt'; field: FieldRef; value: bigint }
  | { kind: 'valid'; header: string }
  /** The parser's outcome: `standard_metadata.parser_error` (PNA `istd.parser_error`) vs an error. */
  | { kind: 'error'; op: 'eq' | 'ne'; error: string }
  | { kind: 'not'; arg: Cond }
  | { kind: 'and' | 'or'; args: Cond[] };

export type ControlNode =
  | { kind: 'apply'; table: string }
  | { kind: 'if'; cond: Cond; then: ControlNode[]; else: ControlNode[]; comment?: string };

export interface SelectCase {
  /** One value per select key field; `mask` (same length) when masked. */
  values: bigint[];
  masks?: bigint[];
  next: string;
}

/**
 * A parser-time value: fields, constants, the frame's length, and 32-bit arithmetic and tests on
 * them (the lengths a parser checks and the offsets it keeps). Numbers never exceed 32 bits.
 */
export type Expr =
  | { kind: 'field'; ref: FieldRef }
  | { kind: 'const'; value: bigint }
  /** The frame's length in bytes (v1model `standard_metadata.packet_length`, PNA `pkt.length()`). */
  | { kind: 'packetLength' }
  | { kind: 'add' | 'sub' | 'mul'; a: Expr; b: Expr }
  /** Boolean tests. */
  | { kind: 'eq' | 'ne' | 'le' | 'ge'; a: Expr; b: Expr }
  | { kind: 'and' | 'or'; args: Expr[] };

/** A parser check: when `cond` is false, parsing stops with `error` (P4 `verify`). */
export interface ParserCheck {
  cond: Expr;
  error: string;
}

export interface ParserState {
  name: string;
  extract?: string;
  /** Checks of what was just extracted, in order, before the sets. */
  checks?: ParserCheck[];
  /** Metadata set after the extract and checks (wire values for classification keys, offsets). */
  sets: Array<{ dst: FieldRef; src: Expr }>;
  select?: { keys: FieldRef[]; cases: SelectCase[]; default: string };
  /** Next state when there is no select; `accept` ends parsing. */
  next?: string;
}

export type IrMatch =
  | { kind: 'exact'; value: bigint }
  | { kind: 'ternary'; value: bigint; mask: bigint }
  | { kind: 'lpm'; value: bigint; prefixLen: number }
  | { kind: 'range'; lo: bigint; hi: bigint };

export interface IrEntry {
  table: string;
  /** One per table key, in key order. */
  match: IrMatch[];
  /** P4Runtime order: a larger number wins; present for ternary/range/lpm-as-ternary tables. */
  priority?: number;
  action: ActionCall;
  comment: string;
}

export interface MeterConfig {
  meter: string;
  index: number;
  /** Committed/peak rate in the meter's unit per second, and bursts in the same unit. */
  cir: number;
  cburst: number;
  pir: number;
  pburst: number;
  comment: string;
}

export interface DropReason {
  code: number;
  name: string;
  description: string;
}

export interface ChecksumUpdate {
  /** Field that receives the ones'-complement sum (RFC 1071), e.g. ipv4.hdrChecksum. */
  target: FieldRef;
  inputs: FieldRef[];
  /** When the update runs (the header is valid, and has no options the sum would miss). */
  when: Cond;
}

export interface NicPipeline {
  /** Name of the ingress control; P4Info names are `<control>.<local name>`. */
  control: string;
  headerTypes: HeaderType[];
  /** In deparse order for packet headers; metadata instances last. */
  instances: HeaderInstance[];
  parser: ParserState[];
  actions: Action[];
  tables: Table[];
  counters: Counter[];
  meters: Meter[];
  ingress: ControlNode[];
  checksums: ChecksumUpdate[];
  /** Packet headers emitted by the deparser, in order. */
  deparse: string[];
  entries: IrEntry[];
  meterConfigs: MeterConfig[];
  dropReasons: DropReason[];
  /** The program's own parser errors (P4 `error { ... }`), after the core library's, in order. */
  errors: string[];
  /** Port roles, for readers of the IR: host ports carry NSH, wire ports never may. */
  wirePorts: number[];
  hostPorts: number[];
  /** Width of a port in the target architecture (v1model: 9). */
  portWidth: number;
  /**
   * The port that connects to the controller: PacketOut arrives on it with a `packet_out`
   * header, and a packet sent to it leaves with a `packet_in` header (BMv2 `--cpu-port`).
   */
  cpuPort: number;
}
