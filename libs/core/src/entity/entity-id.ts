import { isUuid } from '../common/uuid';
import type { AiEntityDescriptor } from './ai-entity-registry.service';

/** How an entity's primary key is written as text in the queue and the vector store. */
export type EntityIdKind = 'uuid' | 'integer' | 'text';

const INTEGER = /^-?\d{1,19}$/;

/** Maps a TypeORM/PostgreSQL column type to how its values are written as ids. */
export function entityIdKindOf(normalizedType: string): EntityIdKind {
  if (normalizedType === 'uuid') return 'uuid';
  if (/^(int|int2|int4|int8|integer|smallint|bigint)$/.test(normalizedType)) return 'integer';
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
    case 'integer': {
      if (!INTEGER.test(raw)) return undefined;
      const value = BigInt(raw);
      return value >= -(2n ** 63n) && value < 2n ** 63n ? value.toString() : undefined;
    }
    default:
      return raw;
  }
}

/** What a valid id of this kind looks like, for error messages. */
export function describeEntityIdKind(kind: EntityIdKind): string {
  return kind === 'uuid' ? 'a uuid' : kind === 'integer' ? 'an integer' : 'a text';
}
