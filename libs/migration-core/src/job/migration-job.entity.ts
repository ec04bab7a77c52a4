import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { MigrationPauseReason } from './migration-pause-reason.enum';
import { MigrationStatus } from './migration-status.enum';
import type { MigrationFilters, MigrationMode } from './migration-request.interface';

const double = { type: 'double precision' as const, default: 0 };
const nullableBigint = { type: 'bigint' as const, nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } };
const bigint = { type: 'bigint' as const, default: 0, transformer: { to: (v: number) => v, from: (v: string | null) => Number(v ?? 0) } };

/** What a job does: fill a generation, or verify (and optionally fix) it. */
export type MigrationJobKind = 'BACKFILL' | 'VERIFY';

/**
 * A backfill or verification job (`ai_migration_jobs`). Every state change is one conditional UPDATE; the counters are
 * incremented in the same transactions as the work they count (pages enqueued, vectors stored).
 */
@Entity('ai_migration_jobs')
@Index('ai_migration_jobs_status_idx', ['status'])
@Index('ai_migration_jobs_entity_type_idx', ['entityType'])
@Index('ai_migration_jobs_started_at_idx', ['startedAt'])
@Index('ai_migration_jobs_active_uq', { synchronize: false })
@Index('ai_migration_jobs_generation_idx', ['generationId'])
@Check('ai_migration_jobs_kind_ck', `"kind" IN ('BACKFILL', 'VERIFY')`)
export class MigrationJob {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'entity_type', type: 'varchar', length: 100 })
  entityType: string;

  @Column({ type: 'varchar', length: 20 })
  status: MigrationStatus;

  /** BACKFILL embeds entities into its generation; VERIFY compares the generation with the table (and fixes it with `verifyFix`). */
  @Column({ type: 'varchar', length: 10, default: 'BACKFILL' })
  kind: MigrationJobKind;

  /** The index generation the job fills or verifies (null for jobs from before generations). */
  @Column({ name: 'generation_id', type: 'int', nullable: true })
  generationId: number | null;

  /** A VERIFY job re-queues missing and stale entities and deletes orphaned vectors. */
  @Column({ name: 'verify_fix', type: 'boolean', default: false })
  verifyFix: boolean;

  /** A VERIFY job's keyset checkpoint over the generation's vectors (its second pass, for orphans). */
  @Column({ name: 'vector_checkpoint', type: 'varchar', length: 255, nullable: true })
  vectorCheckpoint: string | null;

  /** VERIFY: rows without a vector in the generation. */
  @Column({ name: 'missing_entities', ...bigint })
  missingEntities: number;

  /** VERIFY: vectors whose content hash is not the row's current one. */
  @Column({ name: 'stale_entities', ...bigint })
  staleEntities: number;

  /** VERIFY: vectors whose row no longer exists. */
  @Column({ name: 'orphaned_entities', ...bigint })
  orphanedEntities: number;

  /** VERIFY: vectors of the entity type in generations that are not maintained (retired, discarded, unknown). */
  @Column({ name: 'foreign_entities', ...bigint })
  foreignEntities: number;

  /**
   * Entities the job covers: the rows matching its filters when it started, raised to the rows its
   * producer has read when that is more (rows created during the job whose keys lie past the checkpoint
   * are read and covered too), and set to exactly processed + skipped + failed when the job completes (rows
   * deleted before the producer reached them are then no longer counted). processed + skipped + failed
   * never exceeds it.
   */
  @Column({ name: 'total_entities', ...bigint })
  totalEntities: number;

  /** Entities whose vectors were stored by this job. */
  @Column({ name: 'processed_entities', ...bigint })
  processedEntities: number;

  /**
   * Entities already indexed with the current content (no provider call): skipped by the producer, or found
   * unchanged by a worker.
   */
  @Column({ name: 'skipped_entities', ...bigint })
  skippedEntities: number;

  /** Entities dead-lettered (see getFailures). */
  @Column({ name: 'failed_entities', ...bigint })
  failedEntities: number;

  /** Entities handed to the indexing queue. */
  @Column({ name: 'enqueued_entities', ...bigint })
  enqueuedEntities: number;

  /** Rows the producer has read (enqueued or skipped by it); `totalEntities` is at least this. */
  @Column({ name: 'scanned_entities', ...bigint })
  scannedEntities: number;

  /** Primary key of the last row read (keyset checkpoint); null before the first page. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  checkpoint: string | null;

  /** The producer has read the last page. */
  @Column({ name: 'producer_done', type: 'boolean', default: false })
  producerDone: boolean;

  @Column({ name: 'batch_size', type: 'int' })
  batchSize: number;

  @Column({ name: 'rate_limit', type: 'int', nullable: true })
  rateLimit: number | null;

  @Column({ name: 'reindex_existing', type: 'boolean', default: false })
  reindexExisting: boolean;

  /** How its texts reach the provider: `sync` (embeddings requests) or `batch` (the provider's Batch API). */
  @Column({ type: 'varchar', length: 10, default: 'sync' })
  mode: MigrationMode;

  @Column({ name: 'filter_config', type: 'jsonb', nullable: true })
  filterConfig: MigrationFilters | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @Column({ name: 'last_updated_at', type: 'timestamptz' })
  lastUpdatedAt: Date;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ name: 'created_by', type: 'varchar', length: 255, nullable: true })
  createdBy: string | null;

  /** Instance driving the producer, and until when (takeover after expiry). */
  @Column({ name: 'lease_owner', type: 'varchar', length: 255, nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  /**
   * When the job's next page may become runnable: the per-job rate limit, as a token bucket kept in the
   * job row so every instance honours it.
   */
  @Column({ name: 'next_release_at', type: 'timestamptz', nullable: true })
  nextReleaseAt: Date | null;

  /**
   * Provider requests sent for the job's items, failed attempts included; a request shared with other
   * owners' items counts by the job's share of its inputs.
   */
  @Column({ name: 'provider_requests', ...double })
  providerRequests: number;

  /** The part of `providerRequests` that failed. */
  @Column({ name: 'failed_requests', ...double })
  failedRequests: number;

  /** Tokens billed for the job's items (the provider's usage; the library's count where it reported none). */
  @Column({ name: 'tokens_used', ...double })
  tokensUsed: number;

  /** The part of `tokensUsed` that is the library's count rather than the provider's report. */
  @Column({ name: 'estimated_tokens', ...double })
  estimatedTokens: number;

  /** USD at the configured price of the model (`AiCoreModule` option `pricing`). */
  @Column({ name: 'cost_used', ...double })
  costUsed: number;

  /** Budget: the job pauses (BUDGET_EXCEEDED) before a request that would take tokensUsed over this. */
  @Column({ name: 'max_tokens', ...nullableBigint })
  maxTokens: number | null;

  /** Budget in USD: the job pauses (BUDGET_EXCEEDED) before a request that would take costUsed over this. */
  @Column({ name: 'max_cost', type: 'double precision', nullable: true })
  maxCost: number | null;

  /** Why the job is PAUSED; null otherwise. */
  @Column({ name: 'pause_reason', type: 'varchar', length: 30, nullable: true })
  pauseReason: MigrationPauseReason | null;

  /**
   * Entities finished recently: a count that decays with time constant RATE_TIME_CONSTANT_S, as of `rateAt`,
   * measured since `rateSince` (the start, or the last resume). The ETA's measured rate.
   */
  @Column({ name: 'rate_done', ...double })
  rateDone: number;

  @Column({ name: 'rate_at', type: 'timestamptz', nullable: true })
  rateAt: Date | null;

  @Column({ name: 'rate_since', type: 'timestamptz', nullable: true })
  rateSince: Date | null;

  /** Incremented by every state change. */
  @Column({ type: 'int', default: 0 })
  version: number;
}
