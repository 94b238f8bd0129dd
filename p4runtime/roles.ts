/**
 * Roles as access control: a named role may touch only the tables (with their direct
 * resources), counters and meters it lists. nfp gives each tenant's controller its own role.
 */
import { status as Code } from '@grpc/grpc-js';
import { DeviceError } from './device';
import type { Entity } from './messages';
import type { P4Schema } from './schema';

/** What a role may touch. Unlisted objects are out of bounds for the role. */
export interface RoleConfig {
  /** Tables (names or aliases) the role may read and write, with their direct resources. */
  tables?: readonly string[];
  /** Indirect counters and meters the role may read and write. */
  counters?: readonly string[];
  meters?: readonly string[];
  /** Whether the role's primary receives PacketIn and digests, and may send PacketOut. */
  packetIo?: boolean;
}

/** A role's limits resolved to ids of the committed pipeline. */
export interface RoleAccess {
  tables: Set<number>;
  counters: Set<number>;
  meters: Set<number>;
  packetIo: boolean;
}

/** Resolves every role's names against a pipeline; names it does not have give no access. */
export function roleAccessFor(schema: P4Schema, roles: Record<string, RoleConfig>): Map<string, RoleAccess> {
  const out = new Map<string, RoleAccess>();
  const ids = (names: readonly string[] | undefined, find: (n: string) => number | undefined): Set<number> =>
    new Set((names ?? []).map(find).filter((x): x is number => x !== undefined));
  for (const [name, cfg] of Object.entries(roles))
    out.set(name, {
      tables: ids(cfg.tables, (n) => schema.tables.find(n)?.preamble?.id),
      counters: ids(cfg.counters, (n) => schema.counters.find(n)?.preamble?.id),
      meters: ids(cfg.meters, (n) => schema.meters.find(n)?.preamble?.id),
      packetIo: !!cfg.packetIo,
    });
  return out;
}

/** Throws PERMISSION_DENIED when a validated entity lies outside the role (undefined = full access). */
export function checkAccess(access: RoleAccess | undefined, e: Entity, schema: P4Schema): void {
  if (!access) return;
  const deny = (what: string): never => {
    throw new DeviceError(Code.PERMISSION_DENIED, `${what} is outside this controller's role`);
  };
  const te = e.tableEntry ?? e.directCounterEntry?.tableEntry ?? e.directMeterEntry?.tableEntry;
  if (te) {
    if (te.tableId && !access.tables.has(te.tableId)) deny(`table "${schema.tables.nameOf(te.tableId)}"`);
    return; // table id 0 is a wildcard read, filtered by visibleTo()
  }
  if (e.counterEntry) {
    const id = e.counterEntry.counterId;
    if (id && !access.counters.has(id)) deny(`counter "${schema.counters.nameOf(id)}"`);
    return;
  }
  if (e.meterEntry) {
    const id = e.meterEntry.meterId;
    if (id && !access.meters.has(id)) deny(`meter "${schema.meters.nameOf(id)}"`);
    return;
  }
  const profile = (e.actionProfileMember ?? e.actionProfileGroup)?.actionProfileId;
  if (profile !== undefined) {
    if (profile && !profileVisible(access, profile, schema))
      deny(`action profile "${schema.actionProfiles.nameOf(profile)}"`);
    return;
  }
  deny('this entity kind');
}

/** An action profile belongs to a role when one of the tables sharing it does. */
function profileVisible(access: RoleAccess, profileId: number, schema: P4Schema): boolean {
  const tableIds = schema.actionProfiles.byIdOrUndefined(profileId)?.tableIds ?? [];
  return tableIds.some((t) => access.tables.has(t));
}

/** Whether a read result is visible to a role, for filtering wildcard reads. */
export function visibleTo(access: RoleAccess | undefined, e: Entity, schema: P4Schema): boolean {
  if (!access) return true;
  const te = e.tableEntry ?? e.directCounterEntry?.tableEntry ?? e.directMeterEntry?.tableEntry;
  if (te) return access.tables.has(te.tableId ?? 0);
  if (e.counterEntry) return access.counters.has(e.counterEntry.counterId ?? 0);
  if (e.meterEntry) return access.meters.has(e.meterEntry.meterId ?? 0);
  const profile = (e.actionProfileMember ?? e.actionProfileGroup)?.actionProfileId;
  if (profile) return profileVisible(access, profile, schema);
  return false;
}
