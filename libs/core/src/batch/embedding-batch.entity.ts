import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Where a provider batch is in its life here: being submitted (the row and its items are written before the
 * upload, so a crash can be recovered), in flight at the provider, or finished and applied.
 */
export type EmbeddingBatchRowStatus = 'SUBMITTING' | 'IN_FLIGHT' | 'DONE' | 'EXPIRED' | 'CANCELLED' | 'FAILED';

/**
 * One batch sent to the provider's Batch API (`ai_embedding_batches`). Its queue items stay claimed under
 * `leaseToken` until the results are applied, so no worker takes them meanwhile and applying them twice
 * (after a crash) changes nothing the second time.
 */
@Entity('ai_embedding_batches')
@Check('ai_embedding_batches_status_ck', `"status" IN ('SUBMITTING', 'IN_FLIGHT', 'DONE', 'EXPIRED', 'CANCELLED', 'FAILED')`)
@Index('ai_embedding_batches_open_idx', { synchronize: false })
export class EmbeddingBatchRecord {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ type: 'varchar', length: 12, default: 'SUBMITTING' })
  status: EmbeddingBatchRowStatus;

  @Column({ type: 'varchar', length: 50 })
  provider: string;

  @Column({ type: 'varchar', length: 200 })
  model: string;

  @Column({ type: 'int' })
  dimensions: number;

  /** The lease token its queue items are claimed under. */
  @Column({ name: 'lease_token', type: 'uuid' })
  leaseToken: string;

  /** Owners (migration jobs) of its items, to find an owner's batches (cancel, progress). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  owners: string[];

  /** The provider's batch id, once created. */
  @Column({ name: 'remote_id', type: 'varchar', length: 255, nullable: true })
  remoteId: string | null;

  /** The provider's last status word (`validating`, `in_progress`, ...). */
  @Column({ name: 'remote_status', type: 'varchar', length: 50, nullable: true })
  remoteStatus: string | null;

  /** Embeddings requests (file lines) it carries. */
  @Column({ type: 'int' })
  requests: number;

  /** Embedding inputs it carries. */
  @Column({ type: 'int' })
  inputs: number;

  @Column({ name: 'estimated_tokens', type: 'double precision', default: 0 })
  estimatedTokens: number;

  /** Items whose results were applied (written, re-queued or dead-lettered). */
  @Column({ name: 'applied_items', type: 'int', default: 0 })
  appliedItems: number;

  /** Its owner was cancelled: the remote batch is cancelled (again, at each check, until it ends). */
  @Column({ name: 'cancel_requested', type: 'boolean', default: false })
  cancelRequested: boolean;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'submitted_at', type: 'timestamptz', nullable: true })
  submittedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  /** When an instance should next look at it (the poller's claim moves it forward). */
  @Column({ name: 'next_check_at', type: 'timestamptz', default: () => 'now()' })
  nextCheckAt: Date;
}
