import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Name of the HNSW index; created at startup for the active embedding space (see PgVectorStore). */
export const SEARCHABLE_ENTITY_HNSW_INDEX = 'ai_searchable_entities_hnsw';

/**
 * One row per (entity type, entity id): the entity's whole index state — vector, the content hash it was
 * computed from, the embedding space (model, dimensions) and the metadata fields used as search filters.
 * One write stores it all, so an entity is never half-indexed.
 *
 * The `embedding` column has no fixed dimension so a model change never corrupts existing rows; the HNSW
 * index is a partial expression index over one (model, dimensions) space, declared here with
 * `synchronize: false` so TypeORM's schema sync and migration generation leave it alone.
 */
@Entity('ai_searchable_entities')
@Index(SEARCHABLE_ENTITY_HNSW_INDEX, { synchronize: false })
@Index('ai_searchable_entities_space_idx', ['entityType', 'model', 'dimensions'])
export class SearchableEntityRecord {
  @PrimaryColumn({ name: 'entity_type', type: 'varchar', length: 100 })
  entityType: string;

  @PrimaryColumn({ name: 'entity_id', type: 'varchar', length: 255 })
  entityId: string;

  @Column({ type: 'vector' })
  embedding: string;

  @Column({ name: 'content_hash', type: 'char', length: 64 })
  contentHash: string;

  @Column({ type: 'varchar', length: 200 })
  model: string;

  @Column({ type: 'int' })
  dimensions: number;

  @Column({ type: 'jsonb' })
  metadata: Record<string, unknown>;

  @Column({ name: 'indexed_at', type: 'timestamptz', default: () => 'now()' })
  indexedAt: Date;
}
