/**
 * P4RuntimeClient: a typed P4Runtime controller for one device and role. It keeps the
 * StreamChannel open (arbitration, packet I/O, notifications), reconnects with backoff when the
 * stream breaks, and offers Capabilities, Get/SetForwardingPipelineConfig, batched Write with
 * per-update errors, and streaming Read. With a P4Info loaded it also builds entities by name.
 */
import * as grpc from '@grpc/grpc-js';
import { electionIdMessage, electionIdValue } from './arbitration';
import { EntityBuilder } from './builders';
import {
  NotPrimaryError,
  P4RuntimeError,
  P4RuntimeReadError,
  P4RuntimeWriteError,
  P4SchemaError,
  type UpdateFailure,
} from './errors';
import { TypedEmitter } from './events';
import type * as m from './messages';
import { Atomicity, PipelineAction, PipelineResponseType } from './messages';
import { P4Schema } from './schema';
import { p4runtimeClientService as svc } from './service';
import { decodeWriteErrors } from './status-details';
import { checkUpdates } from './updates';
import { int64ToBigInt, type P4Value } from './values';
import { encodeWriteChunks } from './write-batch';

/** TLS settings; give `certChain` and `privateKey` too for mutual TLS. */
export interface TlsOptions {
  rootCert?: Buffer;
  privateKey?: Buffer;
  certChain?: Buffer;
  /**
   * Expected server name when it differs from the address's host. Give the certificate's DNS
   * name when the address is an IP literal: otherwise grpc-js sends the IP as the TLS server
   * name, which Node warns about (DEP0123, RFC 6066 allows only host names there).
   */
  serverName?: string;
}

export interface P4RuntimeClientOptions {
  /** host:port of the P4Runtime server. */
  address: string;
  /** Default 1. */
  deviceId?: number | bigint;
  /** 128-bit election id; highest wins. 0 means "backup, never primary". Default 1. */
  electionId?: number | bigint;
  /** Role name; "" (default) is the full-access default role. */
  role?: string;
  /** Plaintext when omitted. */
  tls?: TlsOptions;
  /** Largest request the client sends and response it accepts, in bytes (default 4 MiB). */
  maxMessageSize?: number;
  /** Most updates per WriteRequest (default 10,000). */
  maxUpdatesPerWrite?: number;
  /** Reconnect the stream after it breaks (default on: 100 ms doubling to 5 s). */
  reconnect?: false | { initialMs?: number; maxMs?: number };
  /** Acknowledge each digest list after the "digest" listeners ran (default true). */
  autoAckDigests?: boolean;
  /** Deadline for unary calls, in ms (default 30 s). */
  timeoutMs?: number;
}

/** Events of the client, with their arguments. */
export type ClientEvents = {
  /** This client became primary for its role. */
  primary: [electionId: bigint];
  /** The server reports this client as a backup (another primary, or none yet). */
  backup: [status: m.RpcStatus, primaryElectionId: bigint];
  /** This client was primary and no longer is (a higher election id arrived, or the stream broke). */
  demoted: [reason: string];
  /** Every arbitration update, raw. */
  arbitration: [update: m.MasterArbitrationUpdate];
  packetIn: [packet: m.PacketIn];
  digest: [list: m.DigestList];
  idleTimeout: [notification: m.IdleTimeoutNotification];
  /** An asynchronous error about a PacketOut, a digest ack or another stream message. */
  streamError: [error: m.StreamError];
  /** The stream broke; the client retries when reconnect is on. */
  disconnected: [error: P4RuntimeError];
  /** The stream is back and arbitration was re-sent. */
  reconnected: [];
};

export interface PipelineInput {
  p4info: m.P4Info;
  /** Target-specific config, e.g. BMv2 JSON. */
  deviceConfig?: Uint8Array | string;
  cookie?: number | bigint;
}

function toError(e: unknown): P4RuntimeError {
  if (e instanceof P4RuntimeError) return e;
  const se = e as Partial<grpc.ServiceError>;
  if (typeof se?.code === 'number')
    return new P4RuntimeError(se.code, se.details || se.message || 'call failed');
  return new P4RuntimeError(grpc.status.UNKNOWN, e instanceof Error ? e.message : String(e));
}

/** Write with a pre-encoded request (see write-batch.ts). */
const rawWrite: grpc.MethodDefinition<Buffer, m.WriteResponse> = {
  ...svc.Write,
  requestSerialize: (b: Buffer): Buffer => b,
  requestDeserialize: (b: Buffer): Buffer => b,
};

export class P4RuntimeClient extends TypedEmitter<ClientEvents> {
  readonly deviceId: bigint;
  readonly role: string;
  private electionIdValue: bigint;
  private readonly grpcClient: grpc.Client;
  private stream: grpc.ClientDuplexStream<m.StreamMessageRequest, m.StreamMessageResponse> | undefined;
  private primary = false;
  private closed = false;
  private everConnected = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private currentSchema: P4Schema | undefined;
  private builder: EntityBuilder | undefined;

  constructor(private readonly options: P4RuntimeClientOptions) {
    super();
    this.deviceId = BigInt(options.deviceId ?? 1);
    this.electionIdValue = BigInt(options.electionId ?? 1);
    this.role = options.role ?? '';
    this.backoffMs = (options.reconnect && options.reconnect.initialMs) || 100;
    const max = options.maxMessageSize ?? 4 * 1024 * 1024;
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': Math.max(max, 64 * 1024 * 1024),
      'grpc.max_send_message_length': max,
      // Per-call bookkeeping nfp does not use (about a tenth of a unary call's CPU): channelz
      // statistics, and transparent retries (a Write is not idempotent; the caller decides).
      'grpc.enable_channelz': 0,
      'grpc.enable_retries': 0,
    };
    let creds: grpc.ChannelCredentials;
    if (options.tls) {
      const t = options.tls;
      creds = grpc.credentials.createSsl(t.rootCert ?? null, t.privateKey ?? null, t.certChain ?? null);
      if (t.serverName) {
        channelOptions['grpc.ssl_target_name_override'] = t.serverName;
        channelOptions['grpc.default_authority'] = t.serverName;
      }
    } else creds = grpc.credentials.createInsecure();
    this.grpcClient = new grpc.Client(options.address, creds, channelOptions);
  }

  /** Whether the server currently reports this client as primary. */
  get isPrimary(): boolean {
    return this.primary;
  }

  get electionId(): bigint {
    return this.electionIdValue;
  }

  /** The schema of the pipeline this client last set or fetched. */
  get schema(): P4Schema {
    if (!this.currentSchema)
      throw new P4SchemaError('no P4Info loaded', 'call setPipeline() or loadPipeline() first');
    return this.currentSchema;
  }

  /** Name-based entity builder for the loaded P4Info. */
  get entities(): EntityBuilder {
    this.builder ??= new EntityBuilder(this.schema);
    return this.builder;
  }

  /** Uses `p4info` for name-based building without touching the device. */
  useP4Info(p4info: m.P4Info): void {
    this.currentSchema = new P4Schema(p4info);
    this.builder = undefined;
  }

  private deadline(): grpc.CallOptions {
    return { deadline: Date.now() + (this.options.timeoutMs ?? 30_000) };
  }

  // ---- StreamChannel and arbitration ----------------------------------------------------------

  /**
   * Opens the stream and arbitrates. Resolves with true when primary, false when backup; rejects
   * with a P4RuntimeError when the server refuses the stream (unknown device, duplicate id, …).
   */
  connect(timeoutMs = 10_000): Promise<boolean> {
    if (this.stream)
      return Promise.reject(new P4RuntimeError(grpc.status.FAILED_PRECONDITION, 'already connected'));
    if (this.closed)
      return Promise.reject(
        new P4RuntimeError(grpc.status.FAILED_PRECONDITION, 'client was closed; create a new one'),
      );
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new P4RuntimeError(
            grpc.status.DEADLINE_EXCEEDED,
            `no arbitration answer from ${this.options.address}`,
          ),
        );
      }, timeoutMs);
      const onArb = (u: m.MasterArbitrationUpdate): void => {
        cleanup();
        resolve((u.status?.code ?? 0) === grpc.status.OK);
      };
      const onFail = (e: P4RuntimeError): void => {
        cleanup();
        reject(e);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('arbitration', onArb);
        this.off('disconnected', onFail);
      };
      this.once('arbitration', onArb);
      this.once('disconnected', onFail);
      this.openStream(false);
    });
  }

  /** Resolves once this client is primary (immediately if it already is). */
  waitForPrimary(timeoutMs = 10_000): Promise<void> {
    if (this.primary) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('primary', on);
        reject(new NotPrimaryError(`not primary after ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('primary', on);
    });
  }

  /**
   * Runs `handler` each time this client becomes primary, with a signal that aborts when it is
   * demoted (or the stream breaks); the handler runs again on the next promotion. Returns a
   * function that stops watching. A handler's error goes to `onError` unless it was aborted.
   */
  whilePrimary(handler: (signal: AbortSignal) => Promise<void>, onError?: (e: unknown) => void): () => void {
    let current: AbortController | undefined;
    const start = (): void => {
      current?.abort();
      const ac = new AbortController();
      current = ac;
      handler(ac.signal).catch((e: unknown) => {
        if (!ac.signal.aborted) onError?.(e);
      });
    };
    const stop = (): void => {
      current?.abort();
      current = undefined;
    };
    this.on('primary', start);
    this.on('demoted', stop);
    if (this.primary) start();
    return () => {
      this.off('primary', start);
      this.off('demoted', stop);
      stop();
    };
  }

  /** Changes the election id and re-arbitrates on the open stream. */
  setElectionId(id: number | bigint): void {
    this.electionIdValue = BigInt(id);
    this.sendArbitration();
  }

  private sendArbitration(): void {
    this.stream?.write({
      arbitration: {
        deviceId: this.deviceId.toString(),
        role: this.role ? { name: this.role } : null,
        electionId: this.electionIdValue ? electionIdMessage(this.electionIdValue) : null,
      },
    });
  }

  private openStream(isReconnect: boolean): void {
    const stream = this.grpcClient.makeBidiStreamRequest(
      svc.StreamChannel.path,
      svc.StreamChannel.requestSerialize,
      svc.StreamChannel.responseDeserialize,
    );
    this.stream = stream;
    // The first arbitration answer on a stream marks it as established (once per stream).
    let established = false;
    stream.on('data', (msg: m.StreamMessageResponse) => {
      if (msg.arbitration && !established) {
        established = true;
        this.everConnected = true;
        this.backoffMs = (this.options.reconnect && this.options.reconnect.initialMs) || 100;
        if (isReconnect) this.emit('reconnected');
      }
      this.onStreamMessage(msg);
    });
    let ended = false;
    const broken = (err: P4RuntimeError): void => {
      if (ended) return;
      ended = true;
      if (this.stream === stream) this.stream = undefined;
      if (this.primary) {
        this.primary = false;
        this.emit('demoted', `stream broke: ${err.message}`);
      }
      if (this.closed) return;
      this.emit('disconnected', err);
      this.scheduleReconnect();
    };
    stream.on('error', (e: unknown) => broken(toError(e)));
    stream.on('end', () =>
      broken(new P4RuntimeError(grpc.status.UNAVAILABLE, 'the server closed the stream')),
    );
    this.sendArbitration();
  }

  private scheduleReconnect(): void {
    const r = this.options.reconnect;
    if (r === false || !this.everConnected || this.closed || this.reconnectTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(delay * 2, (r && r.maxMs) || 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.openStream(true);
    }, delay);
    this.reconnectTimer.unref();
  }

  private onStreamMessage(msg: m.StreamMessageResponse): void {
    if (msg.arbitration) {
      const u = msg.arbitration;
      const ok = (u.status?.code ?? 0) === grpc.status.OK;
      const was = this.primary;
      this.primary = ok;
      this.emit('arbitration', u);
      if (ok && !was) this.emit('primary', electionIdValue(u.electionId));
      if (!ok) {
        if (was) this.emit('demoted', u.status?.message ?? 'another controller became primary');
        this.emit('backup', u.status ?? {}, electionIdValue(u.electionId));
      }
    } else if (msg.packet) this.emit('packetIn', msg.packet);
    else if (msg.digest) {
      this.emit('digest', msg.digest);
      if (this.options.autoAckDigests !== false) this.ackDigest(msg.digest);
    } else if (msg.idleTimeoutNotification) this.emit('idleTimeout', msg.idleTimeoutNotification);
    else if (msg.error) this.emit('streamError', msg.error);
  }

  /** Acknowledges a digest list so the device may send that data again. */
  ackDigest(list: Pick<m.DigestList, 'digestId' | 'listId'>): void {
    this.stream?.write({ digestAck: { digestId: list.digestId, listId: list.listId } });
  }

  /** Sends a packet to the device; metadata by name needs a loaded P4Info. */
  packetOut(payload: Uint8Array, metadata: Record<string, P4Value> = {}): void {
    this.sendPacketOut(this.entities.packetOut(payload, metadata));
  }

  /** Sends a raw PacketOut message. */
  sendPacketOut(packet: m.PacketOut): void {
    if (!this.stream)
      throw new P4RuntimeError(grpc.status.UNAVAILABLE, 'stream is not open; call connect() first');
    this.stream.write({ packet });
  }

  /** Closes the stream and the channel. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const s = this.stream;
    this.stream = undefined;
    this.primary = false;
    if (s) {
      s.end();
      s.cancel();
    }
    this.grpcClient.close();
  }

  // ---- Unary RPCs -----------------------------------------------------------------------------

  private unary<Req, Res>(def: grpc.MethodDefinition<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.grpcClient.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        req,
        new grpc.Metadata(),
        this.deadline(),
        (err, res) => (err ? reject(err) : resolve(res as Res)),
      );
    });
  }

  async capabilities(): Promise<m.CapabilitiesResponse> {
    try {
      return await this.unary(svc.Capabilities, { deviceId: this.deviceId.toString() });
    } catch (e) {
      throw toError(e);
    }
  }

  /**
   * SetForwardingPipelineConfig with any action. VERIFY_AND_COMMIT (the default),
   * RECONCILE_AND_COMMIT and VERIFY_AND_SAVE also make `config.p4info` this client's schema.
   */
  async setPipeline(
    config: PipelineInput | undefined,
    action: PipelineAction = PipelineAction.VERIFY_AND_COMMIT,
  ): Promise<void> {
    const req: m.SetForwardingPipelineConfigRequest = {
      deviceId: this.deviceId.toString(),
      role: this.role,
      electionId: electionIdMessage(this.electionIdValue),
      action,
      config: config
        ? {
            p4info: config.p4info,
            p4DeviceConfig:
              typeof config.deviceConfig === 'string'
                ? Buffer.from(config.deviceConfig)
                : (config.deviceConfig ?? new Uint8Array()),
            cookie: config.cookie === undefined ? null : { cookie: config.cookie.toString() },
          }
        : null,
    };
    try {
      await this.unary(svc.SetForwardingPipelineConfig, req);
    } catch (e) {
      throw toError(e);
    }
    if (config && action !== PipelineAction.VERIFY) this.useP4Info(config.p4info);
  }

  /** GetForwardingPipelineConfig; the default returns everything. */
  async getPipeline(
    responseType: PipelineResponseType = PipelineResponseType.ALL,
  ): Promise<m.ForwardingPipelineConfig> {
    try {
      const res = await this.unary(svc.GetForwardingPipelineConfig, {
        deviceId: this.deviceId.toString(),
        responseType,
      });
      return res.config ?? {};
    } catch (e) {
      throw toError(e);
    }
  }

  /** Fetches the device's P4Info and uses it for name-based building. */
  async loadPipeline(): Promise<P4Schema> {
    const cfg = await this.getPipeline(PipelineResponseType.P4INFO_AND_COOKIE);
    if (!cfg.p4info) throw new P4RuntimeError(grpc.status.FAILED_PRECONDITION, 'the device has no P4Info');
    this.useP4Info(cfg.p4info);
    return this.schema;
  }

  /**
   * Writes a batch. Updates must come from insert()/modify()/remove(). A large batch is split
   * under the message-size limit (only for CONTINUE_ON_ERROR; an atomic batch must fit one
   * request). Throws one P4RuntimeWriteError listing each failed update with its index.
   */
  async write(updates: readonly m.Update[], options: { atomicity?: Atomicity } = {}): Promise<void> {
    checkUpdates(updates);
    const atomicity = options.atomicity ?? Atomicity.CONTINUE_ON_ERROR;
    const header: m.WriteRequest = {
      deviceId: this.deviceId.toString(),
      role: this.role,
      electionId: electionIdMessage(this.electionIdValue),
      atomicity,
    };
    const max = (this.options.maxMessageSize ?? 4 * 1024 * 1024) - 512;
    const chunks = encodeWriteChunks(header, updates, max, this.options.maxUpdatesPerWrite ?? 10_000);
    if (chunks.length > 1 && atomicity !== Atomicity.CONTINUE_ON_ERROR)
      throw new P4SchemaError(
        `an atomic write of ${updates.length} updates does not fit one message (${chunks.length} would be needed)`,
        'write fewer updates at once, or raise maxMessageSize on both ends',
      );
    const failures: UpdateFailure[] = [];
    let code: number = grpc.status.UNKNOWN;
    for (const chunk of chunks) {
      try {
        await this.unary(rawWrite, chunk.bytes);
      } catch (e) {
        const se = e as grpc.ServiceError;
        const details = decodeWriteErrors(se.metadata);
        if (!details || details.errors.length !== chunk.indices.length) {
          if (se.code === grpc.status.PERMISSION_DENIED && !this.primary)
            throw new NotPrimaryError(se.details || 'this controller is not primary');
          throw toError(e);
        }
        code = se.code;
        details.errors.forEach((err, j) => {
          if ((err.canonicalCode ?? 0) !== grpc.status.OK) {
            const index = chunk.indices[j];
            failures.push({ index, update: updates[index], error: err });
          }
        });
      }
    }
    if (failures.length) throw new P4RuntimeWriteError(code, failures, updates.length);
  }

  /**
   * Reads entities as an async iterator. An empty list (or none) reads every table entry,
   * counter, meter and direct counter/meter of the device.
   */
  read(entities?: m.Entity | readonly m.Entity[]): AsyncIterable<m.Entity> {
    return flatten(this.readBatches(entities), (e) => e);
  }

  /**
   * Reads entities as the server sends them: one array per ReadResponse (per-entity iteration
   * costs a promise per entity; a batch loop does not).
   */
  async *readBatches(entities?: m.Entity | readonly m.Entity[]): AsyncIterable<m.Entity[]> {
    let list: readonly m.Entity[] =
      entities === undefined ? [] : Array.isArray(entities) ? entities : [entities as m.Entity];
    if (!list.length)
      list = [
        { tableEntry: { tableId: 0 } },
        { counterEntry: { counterId: 0 } },
        { meterEntry: { meterId: 0 } },
      ];
    const call = this.grpcClient.makeServerStreamRequest(
      svc.Read.path,
      svc.Read.requestSerialize,
      svc.Read.responseDeserialize,
      { deviceId: this.deviceId.toString(), role: this.role, entities: [...list] },
      new grpc.Metadata(),
      {},
    );
    try {
      for await (const res of call as AsyncIterable<m.ReadResponse>)
        if (res.entities?.length) yield res.entities;
    } catch (e) {
      // Per-request errors come as one p4.v1.Error per request in the status details.
      const details = decodeWriteErrors((e as grpc.ServiceError).metadata);
      if (details && details.errors.length === list.length) {
        const failures = details.errors.flatMap((error, index) =>
          (error.canonicalCode ?? 0) === grpc.status.OK ? [] : [{ index, entity: list[index], error }],
        );
        if (failures.length)
          throw new P4RuntimeReadError((e as grpc.ServiceError).code, failures, list.length);
      }
      throw toError(e);
    } finally {
      call.cancel();
    }
  }

  /** Reads the entries of one table by name (or of every table), optionally with counters. */
  readTable(table?: string, options: { counters?: boolean } = {}): AsyncIterable<m.TableEntry> {
    const e = this.entities.tableWildcard(table);
    if (options.counters) e.tableEntry!.counterData = {};
    return flatten(this.readBatches(e), (x) => x.tableEntry ?? undefined);
  }

  /** Reads the cells of an indirect counter by name. */
  async readCounter(
    name: string,
    index?: number,
  ): Promise<{ index: number; bytes: bigint; packets: bigint }[]> {
    const out: { index: number; bytes: bigint; packets: bigint }[] = [];
    for await (const e of this.read(this.entities.counterEntry(name, index))) {
      const c = e.counterEntry;
      if (!c) continue;
      out.push({
        index: Number(int64ToBigInt(c.index?.index)),
        bytes: int64ToBigInt(c.data?.byteCount),
        packets: int64ToBigInt(c.data?.packetCount),
      });
    }
    return out;
  }
}

/**
 * The items of an async iterable of arrays, picked, as one async iterator. A hand-rolled
 * iterator: an async generator's `yield` costs several promise steps per item, this one one.
 */
function flatten<T, U>(batches: AsyncIterable<T[]>, pick: (t: T) => U | undefined): AsyncIterable<U> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<U> {
      const source = batches[Symbol.asyncIterator]();
      let buffer: T[] = [];
      let at = 0;
      const next = async (): Promise<IteratorResult<U>> => {
        for (;;) {
          while (at < buffer.length) {
            const v = pick(buffer[at++]);
            if (v !== undefined) return { value: v, done: false };
          }
          const r = await source.next();
          if (r.done) return { value: undefined, done: true };
          buffer = r.value;
          at = 0;
        }
      };
      return {
        next,
        async return(): Promise<IteratorResult<U>> {
          await source.return?.();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
