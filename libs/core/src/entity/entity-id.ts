import { isUuid } from '../common/uuid';
import type { AiEntityDescriptor } from './ai-entity-registry.service';

/**
 * How an entity's primary key is written as text in the queue and the vector store; the integer kinds carry
 * the column's width, so an id out of its range is refused before it reaches PostgreSQL.
 */
export type EntityIdKind = 'uuid' | 'smallint' | 'integer' | 'bigint' | 'text';

const INTEGER = /^-?\d{1,19}$/;

/** Exclusive upper bound (and negated, inclusive lower bound) of each integer kind. */
const INTEGER_BOUND: Record<'smallint' | 'integer' | 'bigint', bigint> = { smallint: 2n ** 15n, integer: 2n ** 31n, bigint: 2n ** 63n };

/** Maps a TypeORM/PostgreSQL column type to how its values are written as ids. */
export function entityIdKindOf(normalizedType: string): EntityIdKind {
  if (normalizedType === 'uuid') return 'uuid';
  if (/^(int2|smallint)$/.test(normalizedType)) return 'smallint';
  if (/^(int|int4|integer)$/.test(normalizedType)) return 'integer';
  if (/^(int8|bigint)$/.test(normalizedType)) return 'bigint';
  return 'text';
}

/**
 * The canonical text form of an entity id as PostgreSQL prints it (lower-case uuid, integer without leading
 * zeros), so that every id of one entity is the same queue/vector key; `undefined` when `raw` is not a
 * valid value of the primary-key type.
 */
export function normalizeEntityId(descriptor: Pick<AiEntityDescriptor, 'idKind'>, raw: string): string | undefined {
  switch (descriptor.idKind) {
    case 'uuid':
      return isUuid(raw) ? raw.toLowerCase() : undefined;
    case 'smallint':
    case 'integer':
    case 'bigint': {
      if (!INTEGER.test(raw)) return undefined;
      const value = BigInt(raw);
      const bound = INTEGER_BOUND[descriptor.idKind];
      return value >= -bound && value < bound ? value.toString() : undefined;
    }
    default:
      return raw;
  }
}

/** What a valid id of this kind looks like, for error messages. */
export function describeEntityIdKind(kind: EntityIdKind): string {
  if (kind === 'uuid') return 'a uuid';
  if (kind === 'text') return 'a text';
  const bound = INTEGER_BOUND[kind];
  return `an integer from ${-bound} to ${bound - 1n} (${kind})`;
}
