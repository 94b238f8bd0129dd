/**
 * Server-side primary election per (device id, role), as the specification's "Rules for
 * Handling MasterArbitrationUpdate Messages" give it: the server remembers the highest election
 * id it has ever seen for the role, and a controller is primary only while its id equals that
 * highest id. When the primary leaves or lowers its id nobody is promoted: every controller is a
 * backup until one arbitrates with an id at least as high. Every change is announced to the
 * role's controllers; an arbitration that changes nothing for the others answers only its sender.
 */
import { status as Code } from '@grpc/grpc-js';
import type { Any, MasterArbitrationUpdate, Uint128 } from './messages';
import { int64ToBigInt } from './values';

/** 128-bit election id as a bigint (unset reads as 0). */
export function electionIdValue(id: Uint128 | null | undefined): bigint {
  if (!id) return 0n;
  // Both halves are uint64.
  const part = (v: unknown): bigint => BigInt.asUintN(64, int64ToBigInt(v));
  return (part(id.high) << 64n) | part(id.low);
}

/** The election id of a request, or undefined when the field is unset (never primary). */
export function electionIdOf(id: Uint128 | null | undefined): bigint | undefined {
  return id ? electionIdValue(id) : undefined;
}

export function electionIdMessage(v: bigint): Uint128 {
  return { high: (v >> 64n).toString(), low: (v & 0xffffffffffffffffn).toString() };
}

/** One controller's stream, as arbitration sees it. */
export interface Contender {
  readonly role: string;
  /** undefined: the controller gave no election id, so it is a backup for good. */
  electionId: bigint | undefined;
  send(update: MasterArbitrationUpdate): void;
}

interface RoleState {
  contenders: Set<Contender>;
  primary: Contender | undefined;
  /** The highest election id ever seen for the role; undefined while there never was a primary. */
  highest: bigint | undefined;
  /** role.config of the latest primary, echoed in notifications. */
  config: Any | null;
}

export class Arbitration {
  private readonly roles = new Map<string, RoleState>();

  constructor(private readonly deviceId: bigint) {}

  private state(role: string): RoleState {
    let s = this.roles.get(role);
    if (!s)
      this.roles.set(
        role,
        (s = { contenders: new Set(), primary: undefined, highest: undefined, config: null }),
      );
    return s;
  }

  /** Whether another live controller of the role already uses `electionId` (a conflict). */
  conflict(c: Contender, electionId: bigint | undefined): boolean {
    if (electionId === undefined) return false;
    for (const o of this.state(c.role).contenders) if (o !== c && o.electionId === electionId) return true;
    return false;
  }

  /** Adds or updates a controller and applies the election rules, notifying as they say. */
  join(c: Contender, electionId: bigint | undefined, config: Any | null = null): void {
    const s = this.state(c.role);
    const wasPrimary = s.primary === c;
    c.electionId = electionId;
    s.contenders.add(c);
    if (electionId !== undefined && (s.highest === undefined || electionId >= s.highest)) {
      // Becomes (or stays) primary: everyone else hears of it, then the new primary.
      s.highest = electionId;
      s.primary = c;
      s.config = config;
      for (const o of s.contenders) if (o !== c) this.notify(s, o);
      this.notify(s, c);
      return;
    }
    if (wasPrimary) {
      // The primary downgraded itself: nobody is primary now, and everyone is told.
      s.primary = undefined;
      for (const o of s.contenders) this.notify(s, o);
    } else this.notify(s, c);
  }

  /** Removes a controller (its stream ended); if it was the primary, the others are told. */
  leave(c: Contender): void {
    const s = this.roles.get(c.role);
    if (!s || !s.contenders.delete(c)) return;
    if (s.primary !== c) return;
    s.primary = undefined;
    for (const o of s.contenders) this.notify(s, o);
  }

  /** True when `electionId` is the current primary's for `role`. */
  isPrimary(role: string, electionId: bigint | undefined): boolean {
    const p = this.roles.get(role)?.primary;
    return !!p && electionId !== undefined && p.electionId === electionId;
  }

  primaryOf(role: string): Contender | undefined {
    return this.roles.get(role)?.primary;
  }

  /** Primary streams of every role. */
  primaries(): Contender[] {
    return [...this.roles.values()].flatMap((s) => (s.primary ? [s.primary] : []));
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
      role: c.role || s.config ? { name: c.role, config: s.config } : null,
      // Unset until there has been a primary; then the highest id ever seen.
      electionId: s.highest === undefined ? null : electionIdMessage(s.highest),
      status,
    });
  }
}
