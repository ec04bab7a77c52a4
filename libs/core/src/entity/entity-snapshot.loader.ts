import type { EntityManager, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { GenerationTarget } from '../generation/index-generation.catalog';
import { SearchableEntityRecord } from '../vector-store/searchable-entity.entity';
import type { StoredVectorState } from '../vector-store/vector-store.interface';
import type { AiEntityDescriptor } from './ai-entity-registry.service';
import { buildEntityText, computeContentHash, extractMetadata } from './entity-text.builder';

/** Rows turned into snapshots between two yields to the event loop. */
const YIELD_EVERY_ROWS = 250;

/** What the indexing pipeline needs of one entity row, for one index generation. */
export interface EntitySnapshot {
  /** The primary key in PostgreSQL's text form. */
  entityId: string;
  /** The generation whose text definition and space the text and hash are for. */
  generationId: number;
  text: string;
  /** Content hash of `text` in the generation's embedding space. */
  hash: string;
  metadata: Record<string, unknown>;
  /** The row version read (PostgreSQL `xmin`): any later update of the row changes it. */
  version: string;
  /** Content hash stored with the entity's vector in the generation, or null when it has none. */
  storedHash: string | null;
  /** Metadata stored with the entity's vector in the generation, or null when it has none. */
  storedMetadata: Record<string, unknown> | null;
}

/** An entity row as read, before it is turned into a generation's text. */
export interface EntityRow {
  entityId: string;
  entity: Record<string, unknown>;
  version: string;
}

/**
 * The properties a read must select for these generations: the primary key, the metadata fields and
 * every generation's embeddable fields. Throws when a generation names a field the entity class does
 * not have (a generation defined by an instance with a newer entity class).
 */
export function propertiesFor(descriptor: AiEntityDescriptor, generations: GenerationTarget[]): string[] {
  const properties = new Set(descriptor.selectedProperties);
  const known = new Set(descriptor.metadata.columns.map((c) => c.propertyName));
  for (const generation of generations) {
    for (const field of generation.textDefinition.embeddableFields) {
      if (!known.has(field.name)) {
        throw new Error(
          `Index generation ${generation.id} of "${descriptor.entityType}" embeds the field "${field.name}", which is not a column of ${descriptor.target.name} in this instance; ` +
            `deploy the entity class that has it to every instance, or discard the generation.`,
        );
      }
      properties.add(field.name);
    }
  }
  return [...properties];
}

/** The snapshot of a row for a generation, given what the generation stores for it. */
export function snapshotFor(
  row: EntityRow,
  descriptor: AiEntityDescriptor,
  generation: GenerationTarget,
  stored: StoredVectorState | undefined,
): EntitySnapshot {
  const text = buildEntityText(row.entity, { ...descriptor.config, embeddableFields: generation.textDefinition.embeddableFields });
  return {
    entityId: row.entityId,
    generationId: generation.id,
    text,
    hash: computeContentHash(text, generation.model, generation.dimensions),
    metadata: extractMetadata(row.entity, descriptor.config),
    version: row.version,
    storedHash: stored?.contentHash ?? null,
    storedMetadata: stored?.metadata ?? null,
  };
}

/**
 * Runs `query` (a query builder over the entity with alias `e`, already filtered, ordered and limited by
 * the caller) reading only the primary key, embeddable and metadata columns, plus each row's version
 * and the stored content hash and metadata of its vector in `generation` — one query — and builds the
 * snapshots, in the query's order.
 */
export async function readEntitySnapshots(
  query: SelectQueryBuilder<ObjectLiteral>,
  descriptor: AiEntityDescriptor,
  generation: GenerationTarget,
): Promise<EntitySnapshot[]> {
  const pk = descriptor.primaryColumn.propertyName;
  const pkAlias = `e_${descriptor.primaryColumn.databaseName}`;
  const { raw, entities } = await query
    .select(propertiesFor(descriptor, [generation]).map((p) => `e.${p}`))
    .addSelect('e.xmin::text', 'ai_row_version')
    .leftJoin(
      SearchableEntityRecord,
      's',
      `s.entityType = :aiEntityType AND s.entityId = e.${pk}::text AND s.generationId = :aiGenerationId`,
      { aiEntityType: descriptor.entityType, aiGenerationId: generation.id },
    )
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
    const storedHash = (row?.ai_stored_hash as string | null | undefined) ?? null;
    const stored = storedHash === null ? undefined : { contentHash: storedHash, metadata: row?.ai_stored_metadata as Record<string, unknown> };
    snapshots.push(snapshotFor({ entityId, entity, version: String(row?.ai_row_version) }, descriptor, generation, stored));
  }
  return snapshots;
}

/** The rows of `ids` with the given properties and their versions, by id; ids without a row are absent. */
export async function loadEntityRows(
  manager: EntityManager,
  descriptor: AiEntityDescriptor,
  ids: string[],
  properties: string[],
): Promise<Map<string, EntityRow>> {
  if (ids.length === 0) return new Map();
  const pk = descriptor.primaryColumn.propertyName;
  const pkAlias = `e_${descriptor.primaryColumn.databaseName}`;
  const { raw, entities } = await manager
    .createQueryBuilder(descriptor.target, 'e')
    .select(properties.map((p) => `e.${p}`))
    .addSelect('e.xmin::text', 'ai_row_version')
    .where(`e.${pk} = ANY(:ids)`, { ids })
    .getRawAndEntities();
  const versions = new Map<string, string>(raw.map((r: Record<string, unknown>) => [String(r[pkAlias]), String(r.ai_row_version)]));
  const rows = new Map<string, EntityRow>();
  for (const entity of entities as Array<Record<string, unknown>>) {
    const entityId = String(entity[pk]);
    rows.set(entityId, { entityId, entity, version: versions.get(entityId)! });
  }
  return rows;
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
