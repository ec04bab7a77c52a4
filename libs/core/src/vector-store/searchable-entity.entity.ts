import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Name of the single HNSW index from before index generations (over the active model and dimensions). An
 * upgraded database keeps it until the serving generation's own index is built, then it is dropped.
 */
export const SEARCHABLE_ENTITY_HNSW_INDEX = 'ai_searchable_entities_hnsw';

/**
 * One row per (entity type, entity id, index generation): the entity's whole index state in that generation — vector, the content hash it was
 * computed from, the embedding space (model, dimensions) and the metadata fields used as search filters.
 * One write stores it all, so an entity is never half-indexed.
 *
 * The `embedding` column has no fixed dimension so a model change never corrupts existing rows; the HNSW
 * index is a partial expression index over one (model, dimensions) space, declared here with
 * `synchronize: false` so TypeORM's schema sync and migration generation leave it alone. Each generation's
 * HNSW index (`ai_searchable_entities_hnsw_g<id>`) is a partial index over its rows, built by the core.
 */
@Entity('ai_searchable_entities')
@Index(SEARCHABLE_ENTITY_HNSW_INDEX, { synchronize: false })
@Index('ai_searchable_entities_generation_idx', ['generationId'])
export class SearchableEntityRecord {
  @PrimaryColumn({ name: 'entity_type', type: 'varchar', length: 100 })
  entityType: string;

  @PrimaryColumn({ name: 'entity_id', type: 'varchar', length: 255 })
  entityId: string;

  /** The index generation (`ai_index_generations.id`) the row belongs to. */
  @PrimaryColumn({ name: 'generation_id', type: 'int' })
  generationId: number;

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
