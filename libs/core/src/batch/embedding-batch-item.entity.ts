import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { EmbeddingBatchRecord } from './embedding-batch.entity';

/**
 * A queue item carried by a provider batch (`ai_embedding_batch_items`): what the submitter decided from the
 * entity's row — its version, and per index generation the action, content hash, metadata and where its
 * input sits in the batch — so the results can be applied after a restart, by any instance, under the same
 * row-version rule as the synchronous path.
 */
@Entity('ai_embedding_batch_items')
export class EmbeddingBatchItemRecord {
  @PrimaryColumn({ name: 'batch_id', type: 'bigint' })
  batchId: string;

  /** The queue item's id. */
  @PrimaryColumn({ name: 'item_id', type: 'bigint' })
  itemId: string;

  @ManyToOne(() => EmbeddingBatchRecord, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'batch_id' })
  batch?: EmbeddingBatchRecord;

  @Column({ name: 'entity_type', type: 'varchar', length: 100 })
  entityType: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 255 })
  entityId: string;

  /** The entity row's version the texts were read at; null when the row did not exist. */
  @Column({ type: 'text', nullable: true })
  version: string | null;

  /** Per generation: `{ g, a, h, m, r?, i?, t? }` — generation, action, hash, metadata, request, input index, tokens. */
  @Column({ type: 'jsonb' })
  units: unknown;
}
