/**
 * Server-side primary election, per (device id, role): the stream with the highest election id
 * is the primary; every stream of the role hears about each change of primary.
 */
import { status as Code } from '@grpc/grpc-js';
import type { MasterArbitrationUpdate, Uint128 } from './messages';
import { int64ToBigInt } from './values';

/** 128-bit election id as a bigint (0 means "none"). */
export function electionIdValue(id: Uint128 | null | undefined): bigint {
  if (!id) return 0n;
  // Both halves are uint64.
  const part = (v: unknown): bigint => BigInt.asUintN(64, int64ToBigInt(v));
  return (part(id.high) << 64n) | part(id.low);
}

export function electionIdMessage(v: bigint): Uint128 {
  return { high: (v >> 64n).toString(), low: (v & 0xffffffffffffffffn).toString() };
}

/** One controller's stream, as arbitration sees it. */
export interface Contender {
  readonly role: string;
  electionId: bigint;
  send(update: MasterArbitrationUpdate): void;
}

interface RoleState {
  contenders: Set<Contender>;
  primary: Contender | undefined;
  highest: bigint;
}

export class Arbitration {
  private readonly roles = new Map<string, RoleState>();

  constructor(private readonly deviceId: bigint) {}

  private state(role: string): RoleState {
    let s = this.roles.get(role);
    if (!s) this.roles.set(role, (s = { contenders: new Set(), primary: undefined, highest: 0n }));
    return s;
  }

  /** The election id another stream of the role already uses, if any (a conflict). */
  conflict(c: Contender, electionId: bigint): boolean {
    if (electionId === 0n) return false;
    for (const o of this.state(c.role).contenders) if (o !== c && o.electionId === electionId) return true;
    return false;
  }

  /** Adds or updates a contender and re-elects; everyone learns of a new primary. */
  join(c: Contender, electionId: bigint): void {
    const s = this.state(c.role);
    c.electionId = electionId;
    s.contenders.add(c);
    if (electionId > s.highest) s.highest = electionId;
    if (!this.elect(s)) this.notify(s, c);
  }

  /** Removes a contender (its stream ended); a new primary is announced if it was the primary. */
  leave(c: Contender): void {
    const s = this.roles.get(c.role);
    if (!s || !s.contenders.delete(c)) return;
    if (s.primary === c) {
      s.primary = undefined;
      this.elect(s, true);
    }
  }

  /** True when `electionId` is the current primary's for `role`. */
  isPrimary(role: string, electionId: bigint): boolean {
    const p = this.roles.get(role)?.primary;
    return !!p && electionId !== 0n && p.electionId === electionId;
  }

  primaryOf(role: string): Contender | undefined {
    return this.roles.get(role)?.primary;
  }

  /** Primary streams of every role. */
  primaries(): Contender[] {
    return [...this.roles.values()].flatMap((s) => (s.primary ? [s.primary] : []));
  }

  /** Elects the highest election id; returns true when every contender was notified. */
  private elect(s: RoleState, force = false): boolean {
    let best: Contender | undefined;
    for (const c of s.contenders)
      if (c.electionId > 0n && (!best || c.electionId > best.electionId)) best = c;
    if (best === s.primary && !force) return false;
    s.primary = best;
    for (const c of s.contenders) this.notify(s, c);
    return true;
  }

  private notify(s: RoleState, c: Contender): void {
    const primary = s.primary;
    const status =
      primary === c
        ? { code: Code.OK, message: 'primary' }
        : primary
          ? { code: Code.ALREADY_EXISTS, message: 'a primary is connected; this controller is a backup' }
          : { code: Code.NOT_FOUND, message: 'no primary is connected' };
    c.send({
      deviceId: this.deviceId.toString(),
      role: c.role ? { name: c.role } : null,
      electionId: electionIdMessage(primary ? primary.electionId : s.highest),
      status,
    });
  }
}
