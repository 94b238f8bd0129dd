/**
 * The server side of StreamChannel: one Session per controller stream. It arbitrates, checks
 * and forwards PacketOut, tracks digest lists until acknowledged, routes PacketIn, digests and
 * idle-timeout notifications to the primaries allowed to see them, and reports problems with
 * stream messages as StreamError (or ends the stream, for arbitration errors).
 */
import * as grpc from '@grpc/grpc-js';
import { electionIdOf, type Arbitration, type Contender } from './arbitration';
import { DeviceError, type Device } from './device';
import type * as m from './messages';
import { codecs } from './proto';
import type { RoleAccess } from './roles';
import type { P4Schema } from './schema';
import { bitLength } from './values';

const Code = grpc.status;

export type StreamCall = grpc.ServerDuplexStream<Buffer, m.StreamMessageResponse>;

/** What the stream side needs from the server. */
export interface StreamHost {
  readonly arbitration: Arbitration;
  readonly device: Device;
  /** Throws DeviceError(NOT_FOUND) for another device id. */
  checkDevice(id: m.Int64 | undefined): void;
  /** Throws DeviceError(NOT_FOUND) for a role the server does not know. */
  checkRoleKnown(role: string): void;
  /** A role's limits; undefined means full access. */
  access(role: string): RoleAccess | undefined;
  /** The committed pipeline's schema, if any. */
  schema(): P4Schema | undefined;
}

class Session implements Contender {
  role = '';
  electionId: bigint | undefined = undefined;
  deviceId = '';
  arbitrated = false;
  constructor(readonly call: StreamCall) {}
  send(update: m.MasterArbitrationUpdate): void {
    this.write({ arbitration: update });
  }
  write(msg: m.StreamMessageResponse): void {
    if (!this.call.writable || this.call.destroyed) return;
    this.call.write(msg);
  }
  error(code: number, message: string, details: Partial<m.StreamError>): void {
    this.write({ error: { canonicalCode: code, message, ...details } });
  }
}

function fail(code: number, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/**
 * Why a PacketOut's metadata is wrong for the pipeline (spec: Packet I/O: precisely one value
 * per packet_out field, each a bytestring of the field's width), or undefined when it is fine.
 */
function packetOutProblem(schema: P4Schema, p: m.PacketOut): DeviceError | undefined {
  const fields = schema.controllerHeader('packet_out')?.metadata ?? [];
  const seen = new Set<number>();
  for (const md of p.metadata ?? []) {
    const f = fields.find((x) => x.id === md.metadataId);
    if (!f) return new DeviceError(Code.INVALID_ARGUMENT, `unknown packet_out metadata id ${md.metadataId}`);
    if (seen.has(f.id ?? 0))
      return new DeviceError(Code.INVALID_ARGUMENT, `packet_out metadata "${f.name}" given twice`);
    seen.add(f.id ?? 0);
    if (!md.value?.length || bitLength(md.value) > (f.bitwidth ?? 0))
      return new DeviceError(
        Code.OUT_OF_RANGE,
        `packet_out metadata "${f.name}" does not fit in ${f.bitwidth} bits`,
      );
  }
  const missing = fields.filter((f) => !seen.has(f.id ?? 0)).map((f) => `"${f.name}"`);
  if (missing.length)
    return new DeviceError(
      Code.INVALID_ARGUMENT,
      `packet_out metadata ${missing.join(', ')} missing: every field of the packet_out header must be given`,
    );
  return undefined;
}

function nowNs(): string {
  return (BigInt(Date.now()) * 1000000n).toString();
}

export class StreamChannel {
  private readonly sessions = new Set<Session>();
  private nextDigestListId = 1n;
  /** Digest lists sent and not yet acknowledged: list id → digest id. */
  private readonly pendingDigests = new Map<string, number>();

  constructor(private readonly host: StreamHost) {}

  /** Outstanding (unacknowledged) digest lists. */
  get unackedDigests(): number {
    return this.pendingDigests.size;
  }

  /** Forgets outstanding digest lists (a new pipeline was committed). */
  resetDigests(): void {
    this.pendingDigests.clear();
  }

  /** Serves one StreamChannel call. */
  handle(call: StreamCall): void {
    const s = new Session(call);
    this.sessions.add(s);
    const close = (): void => {
      if (!this.sessions.delete(s)) return;
      this.host.arbitration.leave(s);
    };
    const end = (code: number, message: string): void => {
      close();
      // grpc-js turns an 'error' event into the call's final status.
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
          s.error(Code.UNIMPLEMENTED, 'stream "other" messages are not supported', {
            other: { other: msg.other },
          });
        else s.error(Code.INVALID_ARGUMENT, 'empty StreamMessageRequest', { other: {} });
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
    const role = a.role?.name ?? '';
    const device = String(a.deviceId ?? 0);
    if (s.arbitrated) {
      // A live controller keeps its device and role (spec: Rules for Handling MasterArbitrationUpdate).
      if (device !== s.deviceId)
        throw new DeviceError(
          Code.FAILED_PRECONDITION,
          'a stream cannot change its device id; open a new stream',
        );
      if (role !== s.role)
        throw new DeviceError(Code.FAILED_PRECONDITION, 'a stream cannot change its role; open a new stream');
    } else {
      this.host.checkDevice(a.deviceId);
      this.host.checkRoleKnown(role);
    }
    const id = electionIdOf(a.electionId);
    s.role = role;
    // The election id must be unique per role among live streams.
    if (this.host.arbitration.conflict(s, id))
      throw new DeviceError(
        Code.INVALID_ARGUMENT,
        `election id ${id} is already used by another controller of this role`,
      );
    s.arbitrated = true;
    s.deviceId = device;
    this.host.arbitration.join(s, id, a.role?.config ?? null);
  }

  private isPrimary(s: Session): boolean {
    return s.arbitrated && this.host.arbitration.primaryOf(s.role) === s;
  }

  private onPacketOut(s: Session, p: m.PacketOut): void {
    const detail = { packetOut: { packetOut: p } };
    if (!this.isPrimary(s))
      return s.error(Code.PERMISSION_DENIED, 'only the primary controller may send packets', detail);
    const access = this.host.access(s.role);
    if (access && !access.packetIo)
      return s.error(Code.PERMISSION_DENIED, `role "${s.role}" may not send packets`, detail);
    const schema = this.host.schema();
    if (!schema)
      return s.error(Code.FAILED_PRECONDITION, 'no forwarding pipeline config has been set', detail);
    const problem = packetOutProblem(schema, p);
    if (problem) return s.error(problem.code, problem.message, detail);
    this.host.device.packetOut(p).catch((e: unknown) => {
      const err = e instanceof DeviceError ? e : new DeviceError(Code.INTERNAL, String(e));
      s.error(err.code, err.message, detail);
    });
  }

  private onDigestAck(s: Session, ack: m.DigestListAck): void {
    const detail = { digestListAck: { digestListAck: ack } };
    if (!this.isPrimary(s))
      return s.error(Code.PERMISSION_DENIED, 'only the primary controller may acknowledge digests', detail);
    const key = String(ack.listId ?? 0);
    if (this.pendingDigests.get(key) !== ack.digestId)
      return s.error(Code.NOT_FOUND, `no outstanding digest list ${key} for digest ${ack.digestId}`, detail);
    this.pendingDigests.delete(key);
  }

  /** Sends `msg` to every primary whose role allows it (the default role always does). */
  private broadcast(allowed: (a: RoleAccess) => boolean, msg: m.StreamMessageResponse): void {
    for (const c of this.host.arbitration.primaries()) {
      const access = this.host.access(c.role);
      if (!access || allowed(access)) (c as Session).write(msg);
    }
  }

  packetIn(packet: m.PacketIn): void {
    this.broadcast((a) => a.packetIo, { packet });
  }

  digest(digestId: number, data: m.P4Data[]): void {
    const listId = this.nextDigestListId++;
    this.pendingDigests.set(listId.toString(), digestId);
    this.broadcast((a) => a.packetIo, {
      digest: { digestId, listId: listId.toString(), data, timestamp: nowNs() },
    });
  }

  /** Each primary hears about the expired entries of the tables its role covers. */
  idleTimeout(entries: m.TableEntry[]): void {
    const timestamp = nowNs();
    for (const c of this.host.arbitration.primaries()) {
      const access = this.host.access(c.role);
      const mine = access ? entries.filter((e) => access.tables.has(e.tableId ?? 0)) : entries;
      if (mine.length) (c as Session).write({ idleTimeoutNotification: { tableEntry: mine, timestamp } });
    }
  }
}
