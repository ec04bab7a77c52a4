import type { EntityManager } from 'typeorm';
import type { AiEntityDescriptor } from './ai-entity-registry.service';
import { buildEntityText, computeContentHash, extractMetadata } from './entity-text.builder';

/** What the indexing pipeline needs of one entity row: its text, content hash and metadata. */
export interface EntitySnapshot {
  text: string;
  hash: string;
  metadata: Record<string, unknown>;
}

/**
 * Reads the current rows of `ids` (only the primary key, embeddable and metadata columns) and builds their
 * snapshots. With `lock`, the rows are read `FOR SHARE`, so they cannot change until the caller's
 * transaction ends. Ids without a row are absent from the result.
 */
export async function loadEntitySnapshots(
  manager: EntityManager,
  descriptor: AiEntityDescriptor,
  ids: string[],
  space: { model: string; dimensions: number },
  lock = false,
): Promise<Map<string, EntitySnapshot>> {
  const snapshots = new Map<string, EntitySnapshot>();
  if (ids.length === 0) return snapshots;
  const pk = descriptor.primaryColumn.propertyName;
  const query = manager
    .createQueryBuilder(descriptor.target, 'e')
    .select(descriptor.selectedProperties.map((p) => `e.${p}`))
    .where(`e.${pk} IN (:...ids)`, { ids });
  if (lock) query.setLock('pessimistic_read');
  const rows = (await query.getMany()) as Array<Record<string, unknown>>;
  for (const row of rows) {
    const text = buildEntityText(row, descriptor.config);
    snapshots.set(String(row[pk]), {
      text,
      hash: computeContentHash(text, space.model, space.dimensions),
      metadata: extractMetadata(row, descriptor.config),
    });
  }
  return snapshots;
}
