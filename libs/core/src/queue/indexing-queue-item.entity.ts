import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Where an item is in its life: waiting (possibly until `runAfter`), claimed by a worker, or dead-lettered. */
export type IndexingItemStatus = 'PENDING' | 'ACTIVE' | 'DEAD';

/**
 * A row of the indexing queue: "bring the vector of this entity in line with its current row". The worker
 * reads the row when it processes the item, so an item never carries stale content; a row that no longer
 * exists has its vector removed. Completed items are deleted in the same transaction that writes their
 * vector; dead-lettered items stay with their last error until retried or purged.
 *
 * Dedupe: at most one PENDING item per (owner, entity type, entity id) — enforced by a partial unique
 * expression index created by the migrations, declared here with `synchronize: false`; it also finds an
 * owner's pending items.
 */
@Entity('ai_indexing_queue')
@Check('ai_indexing_queue_status_ck', `"status" IN ('PENDING', 'ACTIVE', 'DEAD')`)
@Index('ai_indexing_queue_pending_uq', { synchronize: false })
@Index('ai_indexing_queue_claim_idx', { synchronize: false })
@Index('ai_indexing_queue_lease_idx', { synchronize: false })
@Index('ai_indexing_queue_dead_idx', { synchronize: false })
export class IndexingQueueItem {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ name: 'entity_type', type: 'varchar', length: 100 })
  entityType: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 255 })
  entityId: string;

  /** Higher is claimed first (live HIGH = 100, backfill LOW = 0). */
  @Column({ type: 'smallint', default: 50 })
  priority: number;

  /** Accounting tag, e.g. the migration job id that enqueued the item. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  owner: string | null;

  /** Re-embed even when the stored content hash matches (a forced re-index). */
  @Column({ type: 'boolean', default: false })
  force: boolean;

  @Column({ type: 'varchar', length: 10, default: 'PENDING' })
  status: IndexingItemStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'max_retries', type: 'int', default: 5 })
  maxRetries: number;

  @Column({ name: 'run_after', type: 'timestamptz', default: () => 'now()' })
  runAfter: Date;

  @Column({ name: 'lease_token', type: 'uuid', nullable: true })
  leaseToken: string | null;

  @Column({ name: 'lease_owner', type: 'varchar', length: 255, nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
