/**
 * P4RuntimeServer: a grpc-js P4Runtime v1.4 server implementing the specification's semantics
 * on top of a Device: arbitration per (device id, role), primary-only writes, roles as access
 * control, validation against P4Info with per-update errors, wildcard reads, every
 * SetForwardingPipelineConfig action, Capabilities, packet I/O, digests and idle timeouts.
 * It binds loopback unless told otherwise.
 */
import * as grpc from '@grpc/grpc-js';
import { Arbitration, electionIdValue, type Contender } from './arbitration';
import type { Device, PipelineConfig, UpdateResult } from './device';
import { DeviceError } from './device';
import type * as m from './messages';
import { Atomicity, PipelineAction, PipelineResponseType, UpdateType } from './messages';
import { codecs, type MessageCodec } from './proto';
import { P4Schema } from './schema';
import { p4runtimeServerService } from './service';
import { writeErrorTrailer } from './status-details';
import { validateEntity } from './validate';
import { bitLength, int64ToBigInt } from './values';

const Code = grpc.status;

/** What a role may touch. Unlisted objects are out of bounds for the role. */
export interface RoleConfig {
  /** Tables (names or aliases) the role may read and write, with their direct resources. */
  tables?: readonly string[];
  /** Indirect counters and meters the role may read and write. */
  counters?: readonly string[];
  meters?: readonly string[];
  /** Whether the role's primary receives PacketIn, digests and may send PacketOut. */
  packetIo?: boolean;
}

export interface P4RuntimeServerOptions {
  device: Device;
  /** The P4Runtime device id this server answers for (default 1). */
  deviceId?: number | bigint;
  /** host:port to bind; default 127.0.0.1:0 (loopback, any free port). */
  address?: string;
  /** Default: insecure (plaintext), fine on loopback. */
  credentials?: grpc.ServerCredentials;
  /**
   * Named roles and their limits. The default role ("") has full access unless listed here.
   * When roles are given, arbitration for a role not listed is refused (PERMISSION_DENIED).
   */
  roles?: Record<string, RoleConfig>;
  /** Largest message accepted and sent, in bytes (default 64 MiB). */
  maxMessageSize?: number;
  /** Entities per ReadResponse (default 1000). */
  readChunk?: number;
}

/** The P4Runtime version this server implements. */
export const P4RUNTIME_API_VERSION = '1.4.0';

interface Pipeline extends PipelineConfig {
  p4infoMessage: m.P4Info;
}

interface RoleAccess {
  tables: Set<number>;
  counters: Set<number>;
  meters: Set<number>;
  packetIo: boolean;
}

type StreamCall = grpc.ServerDuplexStream<Buffer, m.StreamMessageResponse>;

class Session implements Contender {
  role = '';
  electionId = 0n;
  arbitrated = false;
  constructor(readonly call: StreamCall) {}
  send(update: m.MasterArbitrationUpdate): void {
    this.write({ arbitration: update });
  }
  write(msg: m.StreamMessageResponse): void {
    if (!this.call.writable || this.call.destroyed) return;
    this.call.write(msg);
  }
}

function fail(code: number, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

function decode<T>(codec: MessageCodec<T>, bytes: Buffer): T {
  try {
    return codec.decode(bytes);
  } catch (e) {
    throw new DeviceError(Code.INVALID_ARGUMENT, `malformed ${codec.name}: ${(e as Error).message}`);
  }
}

function asServiceError(e: unknown): grpc.ServiceError {
  if (e instanceof DeviceError) return fail(e.code, e.message);
  return fail(Code.INTERNAL, `internal error: ${e instanceof Error ? e.message : String(e)}`);
}

export class P4RuntimeServer {
  private readonly server: grpc.Server;
  private readonly device: Device;
  readonly deviceId: bigint;
  private readonly arbitration: Arbitration;
  private readonly sessions = new Set<Session>();
  private committed: Pipeline | undefined;
  private saved: Pipeline | undefined;
  /** Writes accepted after VERIFY_AND_SAVE, replayed by COMMIT. */
  private pendingWrites: { updates: m.Update[]; atomicity: Atomicity }[] = [];
  private roleAccess = new Map<string, RoleAccess>();
  private nextDigestListId = 1n;
  private readonly pendingDigests = new Map<string, number>();
  private port = 0;
  /** Serialises state-changing calls so that a Write never sees a half-committed pipeline. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: P4RuntimeServerOptions) {
    this.device = options.device;
    this.deviceId = BigInt(options.deviceId ?? 1);
    this.arbitration = new Arbitration(this.deviceId);
    const max = options.maxMessageSize ?? 64 * 1024 * 1024;
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
    });
    this.server.addService(p4runtimeServerService, {
      Write: this.handleUnary((b, md) => this.write(b, md)),
      Read: (call: grpc.ServerWritableStream<Buffer, m.ReadResponse>) => this.read(call),
      SetForwardingPipelineConfig: this.handleUnary((b) => this.setPipeline(b)),
      GetForwardingPipelineConfig: this.handleUnary((b) => this.getPipeline(b)),
      StreamChannel: (call: StreamCall) => this.stream(call),
      Capabilities: this.handleUnary(async (b) => {
        decode(codecs.CapabilitiesRequest, b);
        return { p4runtimeApiVersion: P4RUNTIME_API_VERSION };
      }),
    });
    this.device.attach({
      packetIn: (p) => this.broadcast((a) => a.packetIo, { packet: p }),
      digest: (digestId, data) => this.sendDigest(digestId, data),
      idleTimeout: (entries) => this.sendIdleTimeouts(entries),
    });
  }

  /** Starts listening; resolves with the bound port. */
  async start(): Promise<number> {
    const address = this.options.address ?? '127.0.0.1:0';
    const creds = this.options.credentials ?? grpc.ServerCredentials.createInsecure();
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))),
    );
    return this.port;
  }

  /** host:port clients should dial. */
  get address(): string {
    const host = (this.options.address ?? '127.0.0.1:0').replace(/:\d+$/, '');
    return `${host}:${this.port}`;
  }

  /** Stops the server; open streams are cancelled after `graceMs`. */
  async stop(graceMs = 500): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.device.close();
  }

  /** The committed pipeline's schema, if any. */
  get schema(): P4Schema | undefined {
    return this.committed?.schema;
  }

  private handleUnary<Res>(
    fn: (req: Buffer, md: grpc.Metadata) => Promise<Res>,
  ): grpc.handleUnaryCall<Buffer, Res> {
    return (call, callback) => {
      fn(call.request, call.metadata).then(
        (res) => callback(null, res),
        (e: unknown) =>
          callback(
            e instanceof Error && 'code' in e && 'metadata' in e
              ? (e as grpc.ServiceError)
              : asServiceError(e),
          ),
      );
    };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkDevice(id: m.Int64 | undefined): void {
    const v = int64ToBigInt(id);
    if (v !== this.deviceId)
      throw new DeviceError(
        Code.NOT_FOUND,
        `unknown device id ${v} (this server is device ${this.deviceId})`,
      );
  }

  private checkRoleKnown(role: string): void {
    if (role && this.options.roles && !(role in this.options.roles))
      throw new DeviceError(Code.PERMISSION_DENIED, `unknown role "${role}"`);
  }

  private checkPrimary(role: string, electionId: m.Uint128 | null | undefined): void {
    this.checkRoleKnown(role);
    if (!this.arbitration.isPrimary(role, electionIdValue(electionId)))
      throw new DeviceError(
        Code.PERMISSION_DENIED,
        `not the primary controller for role "${role || '<default>'}" (election id does not match the primary's)`,
      );
  }

  /** Access of a role under the committed pipeline; undefined means full access. */
  private access(role: string): RoleAccess | undefined {
    return this.roleAccess.get(role);
  }

  private computeRoleAccess(schema: P4Schema): void {
    this.roleAccess.clear();
    for (const [name, cfg] of Object.entries(this.options.roles ?? {})) {
      const ids = (
        names: readonly string[] | undefined,
        find: (n: string) => number | undefined,
      ): Set<number> => new Set((names ?? []).map(find).filter((x): x is number => x !== undefined));
      this.roleAccess.set(name, {
        tables: ids(cfg.tables, (n) => schema.tables.find(n)?.preamble?.id),
        counters: ids(cfg.counters, (n) => schema.counters.find(n)?.preamble?.id),
        meters: ids(cfg.meters, (n) => schema.meters.find(n)?.preamble?.id),
        packetIo: !!cfg.packetIo,
      });
    }
  }

  /** Throws PERMISSION_DENIED when a (validated) entity lies outside the role. */
  private checkAccess(access: RoleAccess | undefined, e: m.Entity, schema: P4Schema): void {
    if (!access) return;
    const deny = (what: string): never => {
      throw new DeviceError(Code.PERMISSION_DENIED, `${what} is outside this controller's role`);
    };
    const te = e.tableEntry ?? e.directCounterEntry?.tableEntry ?? e.directMeterEntry?.tableEntry;
    if (te) {
      if (!te.tableId) return; // wildcard reads are filtered instead
      if (!access.tables.has(te.tableId)) deny(`table "${schema.tables.nameOf(te.tableId)}"`);
      return;
    }
    if (e.counterEntry) {
      if (e.counterEntry.counterId && !access.counters.has(e.counterEntry.counterId))
        deny(`counter "${schema.counters.nameOf(e.counterEntry.counterId)}"`);
      return;
    }
    if (e.meterEntry) {
      if (e.meterEntry.meterId && !access.meters.has(e.meterEntry.meterId))
        deny(`meter "${schema.meters.nameOf(e.meterEntry.meterId)}"`);
      return;
    }
    deny('this entity kind');
  }

  /** Whether a (result) entity is visible to a role, for filtering wildcard reads. */
  private visible(access: RoleAccess | undefined, e: m.Entity): boolean {
    if (!access) return true;
    const te = e.tableEntry ?? e.directCounterEntry?.tableEntry ?? e.directMeterEntry?.tableEntry;
    if (te) return access.tables.has(te.tableId ?? 0);
    if (e.counterEntry) return access.counters.has(e.counterEntry.counterId ?? 0);
    if (e.meterEntry) return access.meters.has(e.meterEntry.meterId ?? 0);
    return false;
  }

  // ---- Write ----------------------------------------------------------------------------------

  private async write(bytes: Buffer, _md: grpc.Metadata): Promise<m.WriteResponse> {
    const req = decode(codecs.WriteRequest, bytes);
    this.checkDevice(req.deviceId);
    const role = req.role ?? '';
    this.checkPrimary(role, req.electionId);
    const atomicity = req.atomicity ?? Atomicity.CONTINUE_ON_ERROR;
    if (!(atomicity in Atomicity))
      throw new DeviceError(Code.INVALID_ARGUMENT, `unknown atomicity ${atomicity}`);
    if (!this.device.atomicity.includes(atomicity))
      throw new DeviceError(
        Code.UNIMPLEMENTED,
        `atomicity ${Atomicity[atomicity]} is not supported by this device`,
      );
    return this.serial(async () => {
      const target = this.saved ?? this.committed;
      if (!target)
        throw new DeviceError(Code.FAILED_PRECONDITION, 'no forwarding pipeline config has been set');
      const updates = req.updates ?? [];
      const access = this.access(role);
      const results: UpdateResult[] = new Array<UpdateResult>(updates.length);
      const valid: m.Update[] = [];
      const validAt: number[] = [];
      updates.forEach((u, i) => {
        try {
          if (!u.entity) throw new DeviceError(Code.INVALID_ARGUMENT, 'update has no entity');
          const entity = validateEntity(target.schema, u.entity, u.type ?? UpdateType.UNSPECIFIED);
          this.checkAccess(access, entity, target.schema);
          valid.push({ type: u.type, entity });
          validAt.push(i);
        } catch (e) {
          results[i] = e instanceof DeviceError ? e : new DeviceError(Code.INTERNAL, String(e));
        }
      });
      const atomic = atomicity !== Atomicity.CONTINUE_ON_ERROR;
      if (atomic && valid.length < updates.length) {
        for (const i of validAt)
          results[i] = new DeviceError(Code.ABORTED, 'not attempted: another update in the batch is invalid');
      } else if (this.saved) {
        // After VERIFY_AND_SAVE, writes refer to the saved pipeline and are replayed by COMMIT.
        this.pendingWrites.push({ updates: valid, atomicity });
      } else if (valid.length) {
        const out = await this.device.write(valid, atomicity);
        out.forEach((r, j) => (results[validAt[j]] = r));
      }
      const failed = results.filter((r) => r !== undefined).length;
      if (failed === 0) return {};
      const errors: m.P4Error[] = updates.map((_, i) => {
        const r = results[i];
        return r ? { canonicalCode: r.code, message: r.message } : { canonicalCode: Code.OK };
      });
      const message = `${failed} of ${updates.length} updates failed`;
      throw Object.assign(new Error(message), {
        code: Code.UNKNOWN,
        details: message,
        metadata: writeErrorTrailer(Code.UNKNOWN, message, errors),
      });
    });
  }

  // ---- Read -----------------------------------------------------------------------------------

  private async read(call: grpc.ServerWritableStream<Buffer, m.ReadResponse>): Promise<void> {
    try {
      const req = decode(codecs.ReadRequest, call.request);
      this.checkDevice(req.deviceId);
      const role = req.role ?? '';
      this.checkRoleKnown(role);
      const pipeline = this.committed;
      if (!pipeline)
        throw new DeviceError(Code.FAILED_PRECONDITION, 'no forwarding pipeline config has been set');
      const access = this.access(role);
      const entities = (req.entities ?? []).map((e) => {
        const v = validateEntity(pipeline.schema, e, undefined);
        this.checkAccess(access, v, pipeline.schema);
        return v;
      });
      const chunk = this.options.readChunk ?? 1000;
      let batch: m.Entity[] = [];
      for (const e of entities) {
        for (const found of this.device.read(e)) {
          if (!this.visible(access, found)) continue;
          batch.push(found);
          if (batch.length >= chunk) {
            if (call.cancelled) return;
            if (!call.write({ entities: batch })) await new Promise((r) => call.once('drain', r));
            batch = [];
          }
        }
      }
      if (batch.length) call.write({ entities: batch });
      call.end();
    } catch (e) {
      // grpc-js turns an 'error' event into the call's final status; destroy() would drop it.
      call.emit('error', asServiceError(e));
    }
  }

  // ---- Pipeline config ------------------------------------------------------------------------

  private async setPipeline(bytes: Buffer): Promise<m.SetForwardingPipelineConfigResponse> {
    const req = decode(codecs.SetForwardingPipelineConfigRequest, bytes);
    this.checkDevice(req.deviceId);
    const role = req.role ?? '';
    this.checkPrimary(role, req.electionId);
    if (this.access(role))
      throw new DeviceError(Code.PERMISSION_DENIED, `role "${role}" may not change the pipeline`);
    return this.serial(async () => {
      const action = req.action ?? PipelineAction.UNSPECIFIED;
      const needConfig = (): Pipeline => {
        if (!req.config?.p4info)
          throw new DeviceError(
            Code.INVALID_ARGUMENT,
            `${PipelineAction[action]} needs a config with a p4info`,
          );
        return this.pipelineOf(req.config);
      };
      switch (action) {
        case PipelineAction.VERIFY:
          await this.device.verifyPipeline(needConfig());
          return {};
        case PipelineAction.VERIFY_AND_SAVE: {
          const p = needConfig();
          await this.device.verifyPipeline(p);
          this.saved = p;
          this.pendingWrites = [];
          return {};
        }
        case PipelineAction.VERIFY_AND_COMMIT: {
          const p = needConfig();
          await this.device.verifyPipeline(p);
          await this.commit(p, false);
          return {};
        }
        case PipelineAction.COMMIT: {
          if (req.config)
            throw new DeviceError(Code.INVALID_ARGUMENT, 'COMMIT takes no config (it commits the saved one)');
          const p = this.saved;
          if (!p)
            throw new DeviceError(
              Code.FAILED_PRECONDITION,
              'COMMIT: no saved config (use VERIFY_AND_SAVE first)',
            );
          const replay = this.pendingWrites;
          await this.commit(p, false);
          for (const w of replay) await this.device.write(w.updates, w.atomicity);
          return {};
        }
        case PipelineAction.RECONCILE_AND_COMMIT: {
          if (!this.device.canReconcile)
            throw new DeviceError(Code.UNIMPLEMENTED, 'this device cannot reconcile forwarding state');
          const p = needConfig();
          await this.device.verifyPipeline(p);
          await this.commit(p, true);
          return {};
        }
        default:
          throw new DeviceError(
            Code.INVALID_ARGUMENT,
            `unknown SetForwardingPipelineConfig action ${action}`,
          );
      }
    });
  }

  private pipelineOf(config: m.ForwardingPipelineConfig): Pipeline {
    const p4info = config.p4info!;
    let schema: P4Schema;
    try {
      schema = new P4Schema(p4info);
    } catch (e) {
      throw new DeviceError(Code.INVALID_ARGUMENT, `invalid p4info: ${(e as Error).message}`);
    }
    const cookie = config.cookie ? int64ToBigInt(config.cookie.cookie) : undefined;
    return {
      p4info,
      p4infoMessage: p4info,
      schema,
      deviceConfig: config.p4DeviceConfig ?? new Uint8Array(),
      cookie,
    };
  }

  private async commit(p: Pipeline, preserve: boolean): Promise<void> {
    await this.device.commitPipeline(p, preserve);
    this.committed = p;
    this.saved = undefined;
    this.pendingWrites = [];
    this.pendingDigests.clear();
    this.computeRoleAccess(p.schema);
  }

  private async getPipeline(bytes: Buffer): Promise<m.GetForwardingPipelineConfigResponse> {
    const req = decode(codecs.GetForwardingPipelineConfigRequest, bytes);
    this.checkDevice(req.deviceId);
    const p = this.committed;
    if (!p) throw new DeviceError(Code.FAILED_PRECONDITION, 'no forwarding pipeline config has been set');
    const cookie = p.cookie === undefined ? null : { cookie: p.cookie.toString() };
    switch (req.responseType ?? PipelineResponseType.ALL) {
      case PipelineResponseType.COOKIE_ONLY:
        return { config: { cookie } };
      case PipelineResponseType.P4INFO_AND_COOKIE:
        return { config: { p4info: p.p4infoMessage, cookie } };
      case PipelineResponseType.DEVICE_CONFIG_AND_COOKIE:
        return { config: { p4DeviceConfig: p.deviceConfig, cookie } };
      case PipelineResponseType.ALL:
        return { config: { p4info: p.p4infoMessage, p4DeviceConfig: p.deviceConfig, cookie } };
      default:
        throw new DeviceError(Code.INVALID_ARGUMENT, `unknown response_type ${req.responseType}`);
    }
  }

  // ---- StreamChannel --------------------------------------------------------------------------

  private stream(call: StreamCall): void {
    const s = new Session(call);
    this.sessions.add(s);
    const close = (): void => {
      if (!this.sessions.delete(s)) return;
      this.arbitration.leave(s);
    };
    const end = (code: number, message: string): void => {
      close();
      if (call.writable) call.emit('error', fail(code, message));
    };
    call.on('data', (bytes: Buffer) => {
      let msg: m.StreamMessageRequest;
      try {
        msg = codecs.StreamMessageRequest.decode(bytes);
      } catch (e) {
        return end(Code.INVALID_ARGUMENT, `malformed StreamMessageRequest: ${(e as Error).message}`);
      }
      try {
        if (msg.arbitration) this.onArbitration(s, msg.arbitration);
        else if (msg.packet) this.onPacketOut(s, msg.packet);
        else if (msg.digestAck) this.onDigestAck(s, msg.digestAck);
        else if (msg.other)
          s.write({
            error: {
              canonicalCode: Code.UNIMPLEMENTED,
              message: 'stream "other" messages are not supported',
              other: { other: msg.other },
            },
          });
        else
          s.write({
            error: { canonicalCode: Code.INVALID_ARGUMENT, message: 'empty StreamMessageRequest', other: {} },
          });
      } catch (e) {
        if (e instanceof DeviceError) end(e.code, e.message);
        else end(Code.INTERNAL, String(e));
      }
    });
    call.on('end', () => {
      close();
      if (call.writable) call.end();
    });
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
  }

  private onArbitration(s: Session, a: m.MasterArbitrationUpdate): void {
    this.checkDevice(a.deviceId);
    const role = a.role?.name ?? '';
    this.checkRoleKnown(role);
    if (s.arbitrated && role !== s.role)
      throw new DeviceError(Code.FAILED_PRECONDITION, 'a stream cannot change its role; open a new stream');
    const id = electionIdValue(a.electionId);
    // The election id must be unique per role among live streams.
    (s as { role: string }).role = role;
    if (this.arbitration.conflict(s, id))
      throw new DeviceError(
        Code.INVALID_ARGUMENT,
        `election id ${id} is already used by another controller of this role`,
      );
    s.arbitrated = true;
    this.arbitration.join(s, id);
  }

  private isPrimarySession(s: Session): boolean {
    return s.arbitrated && this.arbitration.primaryOf(s.role) === s;
  }

  private streamError(s: Session, code: number, message: string, details: Partial<m.StreamError>): void {
    s.write({ error: { canonicalCode: code, message, ...details } });
  }

  private onPacketOut(s: Session, p: m.PacketOut): void {
    const detail = { packetOut: { packetOut: p } };
    if (!this.isPrimarySession(s))
      return this.streamError(
        s,
        Code.PERMISSION_DENIED,
        'only the primary controller may send packets',
        detail,
      );
    const access = this.access(s.role);
    if (access && !access.packetIo)
      return this.streamError(s, Code.PERMISSION_DENIED, `role "${s.role}" may not send packets`, detail);
    const pipeline = this.committed;
    if (!pipeline)
      return this.streamError(
        s,
        Code.FAILED_PRECONDITION,
        'no forwarding pipeline config has been set',
        detail,
      );
    const fields = pipeline.schema.controllerHeader('packet_out')?.metadata ?? [];
    const seen = new Set<number>();
    for (const md of p.metadata ?? []) {
      const f = fields.find((x) => x.id === md.metadataId);
      if (!f)
        return this.streamError(
          s,
          Code.INVALID_ARGUMENT,
          `unknown packet_out metadata id ${md.metadataId}`,
          detail,
        );
      if (seen.has(f.id ?? 0))
        return this.streamError(
          s,
          Code.INVALID_ARGUMENT,
          `packet_out metadata "${f.name}" given twice`,
          detail,
        );
      seen.add(f.id ?? 0);
      if (!md.value?.length || bitLength(md.value) > (f.bitwidth ?? 0))
        return this.streamError(
          s,
          Code.INVALID_ARGUMENT,
          `packet_out metadata "${f.name}" does not fit in ${f.bitwidth} bits`,
          detail,
        );
    }
    this.device.packetOut(p).catch((e: unknown) => {
      const err = e instanceof DeviceError ? e : new DeviceError(Code.INTERNAL, String(e));
      this.streamError(s, err.code, err.message, detail);
    });
  }

  private onDigestAck(s: Session, ack: m.DigestListAck): void {
    const detail = { digestListAck: { digestListAck: ack } };
    if (!this.isPrimarySession(s))
      return this.streamError(
        s,
        Code.PERMISSION_DENIED,
        'only the primary controller may acknowledge digests',
        detail,
      );
    const key = String(ack.listId ?? 0);
    if (this.pendingDigests.get(key) !== ack.digestId)
      return this.streamError(
        s,
        Code.NOT_FOUND,
        `no outstanding digest list ${key} for digest ${ack.digestId}`,
        detail,
      );
    this.pendingDigests.delete(key);
  }

  /** Outstanding (unacknowledged) digest lists. */
  get unackedDigests(): number {
    return this.pendingDigests.size;
  }

  private broadcast(allowed: (a: RoleAccess) => boolean, msg: m.StreamMessageResponse): void {
    for (const c of this.arbitration.primaries()) {
      const access = this.access(c.role);
      if (!access || allowed(access)) (c as Session).write(msg);
    }
  }

  private sendDigest(digestId: number, data: m.P4Data[]): void {
    const listId = this.nextDigestListId++;
    this.pendingDigests.set(listId.toString(), digestId);
    this.broadcast((a) => a.packetIo, {
      digest: {
        digestId,
        listId: listId.toString(),
        data,
        timestamp: (BigInt(Date.now()) * 1000000n).toString(),
      },
    });
  }

  private sendIdleTimeouts(entries: m.TableEntry[]): void {
    const timestamp = (BigInt(Date.now()) * 1000000n).toString();
    for (const c of this.arbitration.primaries()) {
      const access = this.access(c.role);
      const mine = access ? entries.filter((e) => access.tables.has(e.tableId ?? 0)) : entries;
      if (mine.length) (c as Session).write({ idleTimeoutNotification: { tableEntry: mine, timestamp } });
    }
  }
}
