/**
 * Write updates. Every update carries its kind; build them with insert(), modify() and
 * remove(), which return frozen `{type, entity}` values and never touch the entity.
 */
import { P4SchemaError } from './errors';
import type { Entity, Update } from './messages';
import { UpdateType } from './messages';

/** One update of a Write batch: a kind and an entity. */
export interface P4Update extends Update {
  readonly type: UpdateType.INSERT | UpdateType.MODIFY | UpdateType.DELETE;
  readonly entity: Entity;
}

function make(type: P4Update['type'], entity: Entity): P4Update {
  if (entity === null || typeof entity !== 'object')
    throw new P4SchemaError('an update needs an entity, e.g. insert(builder.tableEntry({...}))');
  return Object.freeze({ type, entity });
}

export function insert(entity: Entity): P4Update {
  return make(UpdateType.INSERT, entity);
}

export function modify(entity: Entity): P4Update {
  return make(UpdateType.MODIFY, entity);
}

/** DELETE (named `remove` because `delete` is reserved). */
export function remove(entity: Entity): P4Update {
  return make(UpdateType.DELETE, entity);
}

/** Refuses anything that is not a kind-carrying update, naming its position in the list. */
export function checkUpdates(updates: readonly Update[]): void {
  updates.forEach((u, i) => {
    const t = (u as Update | undefined)?.type;
    if (t !== UpdateType.INSERT && t !== UpdateType.MODIFY && t !== UpdateType.DELETE)
      throw new P4SchemaError(
        `update [${i}] has no kind (INSERT, MODIFY or DELETE)`,
        'build updates with insert(entity), modify(entity) or remove(entity)',
      );
    if (!u.entity) throw new P4SchemaError(`update [${i}] has no entity`);
  });
}
