/**
 * P4RuntimeServer: a grpc-js P4Runtime server implementing the specification's semantics
 * on top of a Device: arbitration per (device id, role), primary-only writes, roles as access
 * control, validation against P4Info with per-update errors, wildcard reads with the spec's
 * filters and per-request errors, every SetForwardingPipelineConfig action, Capabilities,
 * packet I/O, digests and idle timeouts. docs/p4runtime.md lists the rules it implements.
 * It binds loopback unless told otherwise.
 */
import * as grpc from '@grpc/grpc-js';
import { Arbitration, electionIdOf } from './arbitration';
import { StreamChannel, type StreamCall } from './stream-channel';
import type { Device, PipelineConfig, UpdateResult } from './device';
import { DeviceError } from './device';
import type * as m from './messages';
import { Atomicity, PipelineAction, PipelineResponseType, UpdateType } from './messages';
import { codecs, type MessageCodec } from './proto';
import { P4Schema } from './schema';
import { p4runtimeServerService } from './service';
import { writeErrorTrailer } from './status-details';
import { validateEntity, validateTableRead } from './validate';
import { int64ToBigInt } from './values';
import { listenNoDelay, listenWithNagle, type Listening } from './listen';
import { checkAccess, roleAccessFor, visibleTo, type RoleAccess, type RoleConfig } from './roles';

export type { RoleConfig } from './roles';

const Code = grpc.status;

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
   * When roles are given, a role not listed is refused (NOT_FOUND) in arbitration, Read, Write
   * and SetForwardingPipelineConfig.
   */
  roles?: Record<string, RoleConfig>;
  /** Largest message accepted and sent, in bytes (default 64 MiB). */
  maxMessageSize?: number;
  /** Entities per ReadResponse (default 1000). */
  readChunk?: number;
  /**
   * TCP_NODELAY on accepted connections (default true; see listen.ts). False keeps grpc-js'
   * own listener, Nagle on: only for measuring what that costs.
   */
  noDelay?: boolean;
}

/** The P4Runtime version this server implements. */
export const P4RUNTIME_API_VERSION = '1.5.1-dev';

interface Pipeline extends PipelineConfig {
  p4infoMessage: m.P4Info;
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

/** What to ask the device for one read request, and which of its answers to keep. */
function readQuery(
  schema: P4Schema,
  e: m.Entity,
): { query: m.Entity | undefined; keep?: (found: m.Entity) => boolean } {
  if (e.tableEntry) {
    const r = validateTableRead(schema, e.tableEntry);
    const keep = r.keep;
    return {
      query: { tableEntry: r.query },
      keep: keep && ((found) => !!found.tableEntry && keep(found.tableEntry)),
    };
  }
  const query = validateEntity(schema, e, undefined);
  // A wildcard read of a kind the pipeline declares none of is empty (spec: Wildcard Reads).
  const none =
    (query.registerEntry && !schema.registers.all.length) ||
    (query.valueSetEntry && !schema.valueSets.all.length) ||
    (query.externEntry && !(schema.p4info.externs ?? []).length);
  return { query: none ? undefined : query };
}

export class P4RuntimeServer {
  private readonly server: grpc.Server;
  private readonly device: Device;
  readonly deviceId: bigint;
  private readonly arbitration: Arbitration;
  private committed: Pipeline | undefined;
  private saved: Pipeline | undefined;
  /** Writes accepted after VERIFY_AND_SAVE, replayed by COMMIT. */
  private pendingWrites: { updates: m.Update[]; atomicity: Atomicity }[] = [];
  private roleAccess = new Map<string, RoleAccess>();
  private readonly streams: StreamChannel;
  private port = 0;
  private listening: Listening | undefined;
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
      'grpc.enable_channelz': 0, // per-call statistics nobody reads here
    });
    this.server.addService(p4runtimeServerService, {
      Write: this.handleUnary((b, md) => this.write(b, md)),
      Read: (call: grpc.ServerWritableStream<Buffer, m.ReadResponse>) => this.read(call),
      SetForwardingPipelineConfig: this.handleUnary((b) => this.setPipeline(b)),
      GetForwardingPipelineConfig: this.handleUnary((b) => this.getPipeline(b)),
      StreamChannel: (call: StreamCall) => this.streams.handle(call),
      Capabilities: this.handleUnary(async (b) => {
        const req = decode(codecs.CapabilitiesRequest, b);
        // device_id 0 asks for server-wide capabilities; another device is NOT_FOUND.
        if (int64ToBigInt(req.deviceId) !== 0n) this.checkDevice(req.deviceId);
        return { p4runtimeApiVersion: P4RUNTIME_API_VERSION };
      }),
    });
    this.streams = new StreamChannel({
      arbitration: this.arbitration,
      device: this.device,
      checkDevice: (id) => this.checkDevice(id),
      checkRoleKnown: (role) => this.checkRoleKnown(role),
      access: (role) => this.access(role),
      schema: () => this.committed?.schema,
    });
    this.device.attach({
      packetIn: (p) => this.streams.packetIn(p),
      digest: (digestId, data) => this.streams.digest(digestId, data),
      idleTimeout: (entries) => this.streams.idleTimeout(entries),
    });
  }

  /** Starts listening (TCP with Nagle off, see listen.ts); resolves with the bound port. */
  async start(): Promise<number> {
    const address = this.options.address ?? '127.0.0.1:0';
    const creds = this.options.credentials ?? grpc.ServerCredentials.createInsecure();
    this.listening =
      this.options.noDelay === false
        ? await listenWithNagle(this.server, address, creds)
        : await listenNoDelay(this.server, address, creds);
    this.port = this.listening.port;
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
    await this.listening?.close();
    this.listening = undefined;
    await this.device.close();
  }

  /** Outstanding (unacknowledged) digest lists. */
  get unackedDigests(): number {
    return this.streams.unackedDigests;
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

  /**
   * Spec (Write, SetForwardingPipelineConfig): a role the device does not have is NOT_FOUND.
   * Without configured roles every role name has full access (an unset role config).
   */
  private checkRoleKnown(role: string): void {
    const roles = this.options.roles;
    if (role && roles && !(role in roles))
      throw new DeviceError(
        Code.NOT_FOUND,
        `unknown role "${role}" (this server's roles: ${Object.keys(roles).join(', ')})`,
      );
  }

  private checkPrimary(role: string, electionId: m.Uint128 | null | undefined): void {
    this.checkRoleKnown(role);
    if (!this.arbitration.isPrimary(role, electionIdOf(electionId)))
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
    this.roleAccess = roleAccessFor(schema, this.options.roles ?? {});
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
          checkAccess(access, entity, target.schema);
          u.entity = entity; // the decoded request is ours: no copy per update
          valid.push(u);
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
      const schema = pipeline.schema;
      const access = this.access(role);
      const requests = req.entities ?? [];
      const chunk = this.options.readChunk ?? 1000;
      // Spec (Read, Batch Processing): every valid request is answered; an invalid one gets its
      // own p4.Error, and the call then ends with UNKNOWN and one p4.Error per request.
      const errors: (DeviceError | undefined)[] = [];
      let batch: m.Entity[] = [];
      for (let i = 0; i < requests.length; i++) {
        try {
          const { query, keep } = readQuery(schema, requests[i]);
          if (!query) continue;
          checkAccess(access, query, schema);
          for (const found of this.device.read(query)) {
            if (access && !visibleTo(access, found, schema)) continue;
            if (keep && !keep(found)) continue;
            batch.push(found);
            if (batch.length >= chunk) {
              if (call.cancelled) return;
              if (!call.write({ entities: batch })) await new Promise((r) => call.once('drain', r));
              batch = [];
            }
          }
        } catch (e) {
          errors[i] = e instanceof DeviceError ? e : new DeviceError(Code.INTERNAL, String(e));
        }
      }
      if (batch.length) call.write({ entities: batch });
      const failed = errors.filter((e) => e).length;
      if (!failed) return void call.end();
      const message = `${failed} of ${requests.length} read requests failed: ${errors
        .flatMap((e, i) => (e ? [`[${i}] ${e.message}`] : []))
        .join('; ')}`;
      const details: m.P4Error[] = requests.map((_, i) => {
        const e = errors[i];
        return e ? { canonicalCode: e.code, message: e.message } : { canonicalCode: Code.OK };
      });
      call.emit(
        'error',
        Object.assign(new Error(message), {
          code: Code.UNKNOWN,
          details: message,
          metadata: writeErrorTrailer(Code.UNKNOWN, message, details),
        }),
      );
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
            throw new DeviceError(Code.NOT_FOUND, 'COMMIT: no saved config (use VERIFY_AND_SAVE first)');
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
    this.streams.resetDigests();
    this.computeRoleAccess(p.schema);
  }

  private async getPipeline(bytes: Buffer): Promise<m.GetForwardingPipelineConfigResponse> {
    const req = decode(codecs.GetForwardingPipelineConfigRequest, bytes);
    this.checkDevice(req.deviceId);
    const p = this.committed;
    // Spec: before any config is known the answer is OK with `config` unset.
    if (!p) return {};
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
}
