/**
 * The Device interface: what the P4Runtime server needs from a target. The server does
 * arbitration, roles, validation against P4Info and error framing; a Device holds the pipeline
 * and the forwarding state and does the data-plane work. The in-memory device
 * (memory-device.ts) holds real control-plane state; the softnic plugs its packet engine in by
 * implementing this same interface.
 *
 * Contract: the server calls a Device from one request at a time per method call, only with
 * updates and read entities that already passed validation against the committed P4Info, with
 * bytestrings in canonical form and match fields sorted by field id. Errors are reported as
 * DeviceError with a gRPC code.
 */
import type { Atomicity, Entity, P4Data, P4Info, PacketIn, PacketOut, TableEntry, Update } from './messages';
import type { P4Schema } from './schema';

/** A failure with a gRPC canonical code, as a Device (or validation) reports it. */
export class DeviceError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'DeviceError';
  }
}

/** A forwarding pipeline: the P4Info, the target's own config (e.g. BMv2 JSON), the cookie. */
export interface PipelineConfig {
  p4info: P4Info;
  /** Index of `p4info`, built once by the server. */
  schema: P4Schema;
  deviceConfig: Uint8Array;
  cookie?: bigint;
}

/** What a Device reports from its data plane; the server routes it to controllers. */
export interface DeviceEvents {
  packetIn(packet: PacketIn): void;
  /** One digest list (data produced by `digest<T>()`), for digest `digestId`. */
  digest(digestId: number, data: P4Data[]): void;
  /** Entries whose idle timeout expired (key fields, metadata and idle_timeout_ns set). */
  idleTimeout(entries: TableEntry[]): void;
}

/** One update's outcome: undefined when it succeeded. */
export type UpdateResult = DeviceError | undefined;

export interface Device {
  /** Atomicity modes this device honours; CONTINUE_ON_ERROR is always required. */
  readonly atomicity: readonly Atomicity[];
  /** Whether RECONCILE_AND_COMMIT is supported. */
  readonly canReconcile: boolean;

  /** Throws DeviceError(INVALID_ARGUMENT) when the target cannot realise `config`. */
  verifyPipeline(config: PipelineConfig): Promise<void>;

  /**
   * Realises `config`. With `preserveState` false the forwarding state is cleared; with true
   * (RECONCILE_AND_COMMIT) it is kept, or DeviceError(INVALID_ARGUMENT) is thrown when it
   * cannot be kept for this config.
   */
  commitPipeline(config: PipelineConfig, preserveState: boolean): Promise<void>;

  /**
   * Applies validated updates in order and returns exactly one result per update. Under
   * ROLLBACK_ON_ERROR or DATAPLANE_ATOMIC, a failure undoes the applied updates and every other
   * update gets an ABORTED result.
   */
  write(updates: readonly Update[], atomicity: Atomicity): Promise<UpdateResult[]>;

  /** The entities matching one validated read entity (wildcards allowed). */
  read(entity: Entity): Iterable<Entity>;

  /** Sends one packet from the controller into the data plane. */
  packetOut(packet: PacketOut): Promise<void>;

  /** Called once by the server; the device reports data-plane events through `events`. */
  attach(events: DeviceEvents): void;

  /** Releases timers and native resources. */
  close(): Promise<void>;
}
