import type { EntityManager, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { SearchableEntityRecord } from '../vector-store/searchable-entity.entity';
import type { AiEntityDescriptor } from './ai-entity-registry.service';
import { buildEntityText, computeContentHash, extractMetadata } from './entity-text.builder';

/** Rows turned into snapshots between two yields to the event loop. */
const YIELD_EVERY_ROWS = 250;

/** What the indexing pipeline needs of one entity row. */
export interface EntitySnapshot {
  /** The primary key in PostgreSQL's text form. */
  entityId: string;
  text: string;
  /** Content hash of `text` in the active embedding space. */
  hash: string;
  metadata: Record<string, unknown>;
  /** The row version read (PostgreSQL `xmin`): any later update of the row changes it. */
  version: string;
  /** Content hash stored with the entity's vector, or null when it has no vector. */
  storedHash: string | null;
  /** Metadata stored with the entity's vector, or null when it has no vector. */
  storedMetadata: Record<string, unknown> | null;
}

/**
 * Runs `query` (a query builder over the entity with alias `e`, already filtered, ordered and limited by
 * the caller) reading only the primary key, embeddable and metadata columns, plus each row's version
 * and the stored content hash and metadata of its vector — one query — and builds the snapshots, in the
 * query's order.
 */
export async function readEntitySnapshots(
  query: SelectQueryBuilder<ObjectLiteral>,
  descriptor: AiEntityDescriptor,
  space: { model: string; dimensions: number },
): Promise<EntitySnapshot[]> {
  const pk = descriptor.primaryColumn.propertyName;
  const pkAlias = `e_${descriptor.primaryColumn.databaseName}`;
  const { raw, entities } = await query
    .select(descriptor.selectedProperties.map((p) => `e.${p}`))
    .addSelect('e.xmin::text', 'ai_row_version')
    .leftJoin(SearchableEntityRecord, 's', `s.entityType = :aiEntityType AND s.entityId = e.${pk}::text`, {
      aiEntityType: descriptor.entityType,
    })
    .addSelect('s.contentHash', 'ai_stored_hash')
    .addSelect('s.metadata', 'ai_stored_metadata')
    .getRawAndEntities();
  const rawById = new Map<string, Record<string, unknown>>(raw.map((r: Record<string, unknown>) => [String(r[pkAlias]), r]));
  const snapshots: EntitySnapshot[] = [];
  for (const entity of entities as Array<Record<string, unknown>>) {
    // Texts and hashes of a page take milliseconds of CPU; yielding now and then keeps the event loop (and
    // every other connection's open transaction) moving.
    if (snapshots.length > 0 && snapshots.length % YIELD_EVERY_ROWS === 0) await new Promise((resolve) => setImmediate(resolve));
    const entityId = String(entity[pk]);
    const row = rawById.get(entityId);
    const text = buildEntityText(entity, descriptor.config);
    snapshots.push({
      entityId,
      text,
      hash: computeContentHash(text, space.model, space.dimensions),
      metadata: extractMetadata(entity, descriptor.config),
      version: String(row?.ai_row_version),
      storedHash: (row?.ai_stored_hash as string | null | undefined) ?? null,
      storedMetadata: (row?.ai_stored_metadata as Record<string, unknown> | null | undefined) ?? null,
    });
  }
  return snapshots;
}

/** The snapshots of the rows of `ids`, by id; ids without a row are absent. */
export async function loadEntitySnapshots(
  manager: EntityManager,
  descriptor: AiEntityDescriptor,
  ids: string[],
  space: { model: string; dimensions: number },
): Promise<Map<string, EntitySnapshot>> {
  if (ids.length === 0) return new Map();
  const query = manager
    .createQueryBuilder(descriptor.target, 'e')
    .where(`e.${descriptor.primaryColumn.propertyName} = ANY(:ids)`, { ids });
  const snapshots = await readEntitySnapshots(query, descriptor, space);
  return new Map(snapshots.map((snapshot) => [snapshot.entityId, snapshot]));
}

/**
 * Locks the rows of `ids` (`FOR SHARE SKIP LOCKED`, so they cannot change until the caller's transaction
 * ends) and returns their current row versions; a row locked by a writer is absent from the result.
 * Cheaper than re-reading the content: only the key and `xmin` travel.
 */
export async function lockEntityVersions(
  manager: EntityManager,
  descriptor: AiEntityDescriptor,
  ids: string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const pk = descriptor.primaryColumn.propertyName;
  const pkAlias = `e_${descriptor.primaryColumn.databaseName}`;
  const rows: Array<Record<string, unknown>> = await manager
    .createQueryBuilder(descriptor.target, 'e')
    .select(`e.${pk}`)
    .addSelect('e.xmin::text', 'ai_row_version')
    .where(`e.${pk} = ANY(:ids)`, { ids })
    .setLock('pessimistic_read')
    // Rows being written by another transaction are skipped, not waited for: they are about to change, so
    // the caller treats them as stale, and waiting could deadlock with that writer's own lock order.
    .setOnLocked('skip_locked')
    .getRawMany();
  return new Map(rows.map((r) => [String(r[pkAlias]), String(r.ai_row_version)]));
}
