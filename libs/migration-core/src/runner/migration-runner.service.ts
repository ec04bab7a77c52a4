import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  AI_CORE_RESOLVED_OPTIONS,
  AI_DATA_SOURCE,
  EMBEDDING_PROVIDER,
  EntityPageReader,
  isUuid,
  returnedRows,
  type EmbeddingProvider,
  type ResolvedAiCoreOptions,
  IndexingHooks,
  IndexingPriority,
  IndexingQueueService,
  type IndexingOutcome,
} from '@ai-infrastructure/core';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { MigrationJob } from '../job/migration-job.entity';
import { MigrationStatus } from '../job/migration-status.enum';
import { MIGRATION_RESOLVED_OPTIONS } from '../migration.constants';
import type { ResolvedMigrationOptions } from '../migration-options.resolver';
import { EntityRepositoryRegistry } from '../registry/entity-repository.registry';
import { DataMigrationService, toPageFilters } from '../service/data-migration.service';
import { InvalidMigrationStateError } from '../migration.errors';
import { itemsPerRequest, secondsFor } from './job-pacing';
import type { MigrationPageEvent } from './migration-page-event.interface';
import { MigrationWakeup } from './migration-wakeup';

/** How often each runner tries the cleanup of old jobs (one instance at a time gets to do it). */
const CLEANUP_INTERVAL_MS = 60 * 60 * 1000;
/** Pages a job may have waiting in the queue before its producer pauses reading (back-pressure). */
const MAX_PAGES_IN_FLIGHT = 8;

/**
 * Drives the jobs' producers and finishes jobs. Runs in every instance (unless `enabled` is false):
 * - takes the lease of a RUNNING job whose lease is free or expired (takeover after a crash);
 * - reads the next page by keyset from the checkpoint, skips entities whose stored hash equals their
 *   current hash (unless `reindexExisting`), enqueues the rest at LOW priority tagged with the job id,
 *   and saves the checkpoint and counters — all in one transaction fenced by the lease and the job's
 *   status, so a crash neither skips nor duplicates a page and pause/cancel stop it at once;
 * - counts processed/skipped/failed from the workers' outcomes in the workers' own transactions;
 * - completes a job when its producer is done and none of its items is pending or in flight.
 */
@Injectable()
export class MigrationRunnerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('MigrationRunner');
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private running = false;
  private loop?: Promise<void>;
  private unsubscribe?: () => void;
  private lastCleanupAt = 0;
  private readonly pageListeners = new Set<(event: MigrationPageEvent) => void>();

  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(MIGRATION_RESOLVED_OPTIONS) private readonly options: ResolvedMigrationOptions,
    private readonly registry: EntityRepositoryRegistry,
    private readonly pages: EntityPageReader,
    private readonly queue: IndexingQueueService,
    private readonly hooks: IndexingHooks,
    private readonly wakeup: MigrationWakeup,
    private readonly migrations: DataMigrationService,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly coreOptions: ResolvedAiCoreOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.registry.build();
    const stopCounting = this.hooks.onOutcomes((manager, outcomes) => this.count(manager, outcomes));
    const stopQuota = this.hooks.onQuotaExceeded((owners, error) => this.pauseOnQuota(owners, error));
    this.unsubscribe = () => {
      stopCounting();
      stopQuota();
    };
    if (this.options.enabled) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.stop();
  }

  /**
   * Calls `listener` after each page this instance's producer commits (for metrics). Returns a function
   * that removes the listener. A throwing listener is logged and does not affect the job.
   */
  onPage(listener: (event: MigrationPageEvent) => void): () => void {
    this.pageListeners.add(listener);
    return () => this.pageListeners.delete(listener);
  }

  /** Starts the producer loop (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the producer loop and gives up this instance's leases, so another instance can take over at once. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeup.notify();
    await this.loop;
    await this.dataSource
      .query(`UPDATE ai_migration_jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1`, [this.instanceId])
      .catch(() => undefined);
  }

  /**
   * Deletes COMPLETED, FAILED and CANCELLED jobs older than `cleanupCompletedAfterDays`, with their dead
   * letters. Runs on one instance at a time (a transaction-scoped advisory lock; the others skip), every
   * `CLEANUP_INTERVAL_MS` from each runner. Returns how many jobs were deleted (0 when another instance
   * holds the lock).
   */
  async cleanupOldJobs(): Promise<number> {
    this.lastCleanupAt = Date.now();
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext('ai_migration_jobs.cleanup')) AS locked`);
      if (!locked) return 0;
      const deleted: unknown = await manager.query(
        `DELETE FROM ai_migration_jobs
          WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED')
            AND completed_at < now() - make_interval(days => $1::int)
          RETURNING id::text AS id`,
        [this.options.cleanupCompletedAfterDays],
      );
      const ids = returnedRows<{ id: string }>(deleted).map((r) => r.id);
      if (ids.length > 0) {
        await manager.query(`DELETE FROM ai_indexing_queue WHERE owner = ANY($1::text[]) AND status = 'DEAD'`, [ids]);
        this.logger.log(`Deleted ${ids.length} migration job(s) finished more than ${this.options.cleanupCompletedAfterDays} days ago.`);
      }
      return ids.length;
    });
  }

  /** One round: complete finished jobs, then produce one page for one job. Returns whether it did work. */
  async tick(): Promise<boolean> {
    if (Date.now() - this.lastCleanupAt >= CLEANUP_INTERVAL_MS) await this.cleanupOldJobs();
    await this.completeFinishedJobs();
    const job = await this.leaseJob();
    if (!job) return false;
    return this.producePage(job);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let worked = false;
      try {
        worked = await this.tick();
      } catch (error) {
        this.logger.error(`Migration runner round failed: ${(error as Error).message}`);
      }
      if (!worked && this.running) await this.wakeup.wait(this.options.pollIntervalMs);
    }
  }

  /** Takes (or renews) the lease of the oldest RUNNING job with pages left whose lease is free, expired or ours. */
  private async leaseJob(): Promise<MigrationJob | undefined> {
    const rows = await this.dataSource.query(
      `UPDATE ai_migration_jobs
          SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2::float8 / 1000)
        WHERE id = (SELECT id FROM ai_migration_jobs
                     WHERE status = 'RUNNING' AND NOT producer_done
                       AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at < now())
                     ORDER BY started_at
                     LIMIT 1
                     FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [this.instanceId, this.options.leaseMs],
    );
    const id = returnedRows<{ id: string }>(rows)[0]?.id;
    return id ? ((await this.dataSource.getRepository(MigrationJob).findOneBy({ id })) ?? undefined) : undefined;
  }

  private async producePage(leased: MigrationJob): Promise<boolean> {
    const [{ waiting }] = await this.dataSource.query(
      `SELECT count(*)::int AS waiting FROM ai_indexing_queue WHERE owner = $1 AND status IN ('PENDING', 'ACTIVE')`,
      [leased.id],
    );
    // Back-pressure: keep only a few pages per job in the queue, so a 10M-row job does not enqueue 10M items.
    if (waiting >= MAX_PAGES_IN_FLIGHT * leased.batchSize) return false;
    const startedAt = performance.now();
    let page: Omit<MigrationPageEvent, 'durationMs'> | undefined;
    const produced = await this.dataSource.transaction(async (manager) => {
      // Fence: the job must still be RUNNING and leased by this instance (pause/cancel/takeover stop us here).
      const job = await manager
        .getRepository(MigrationJob)
        .createQueryBuilder('j')
        .setLock('pessimistic_write')
        .where('j.id = :id AND j.status = :status AND j.leaseOwner = :owner', { id: leased.id, status: MigrationStatus.RUNNING, owner: this.instanceId })
        .getOne();
      if (!job || job.producerDone) return false;
      const rows = await this.pages.readPage(
        job.entityType,
        { afterId: job.checkpoint, limit: job.batchSize, filters: toPageFilters(job.filterConfig) },
        manager,
      );
      if (rows.length === 0) {
        await manager.query(
          `UPDATE ai_migration_jobs SET producer_done = true, last_updated_at = now(), version = version + 1 WHERE id = $1`,
          [job.id],
        );
        return true;
      }
      // Same text but other metadata (a metadata field added to the configuration): the worker refreshes
      // the row without calling the provider.
      const toEnqueue = rows.filter((r) => job.reindexExisting || r.storedHash !== r.hash || (r.storedHash !== null && r.metadataChanged));
      const skipped = rows.length - toEnqueue.length;
      // The page becomes runnable when the job's rate budget allows (see job-pacing.ts).
      const [{ release }] = await manager.query(
        `SELECT greatest(coalesce(next_release_at, now()), now()) AS release FROM ai_migration_jobs WHERE id = $1`,
        [job.id],
      );
      const budget = secondsFor(toEnqueue.length, itemsPerRequest(this.provider, this.coreOptions), job.rateLimit ?? this.options.defaultRateLimit);
      // One request's worth of items becomes runnable at a time, spaced by the job's rate.
      const perRequest = itemsPerRequest(this.provider, this.coreOptions);
      const interval = secondsFor(perRequest, perRequest, job.rateLimit ?? this.options.defaultRateLimit);
      for (let i = 0; i < toEnqueue.length; i += perRequest) {
        await this.queue.enqueue(
          toEnqueue.slice(i, i + perRequest).map((r) => ({
            entityType: job.entityType,
            entityId: r.entityId,
            priority: IndexingPriority.LOW,
            owner: job.id,
            force: job.reindexExisting,
          })),
          manager,
          { runAfter: new Date(new Date(release).getTime() + (i / perRequest) * interval * 1000) },
        );
      }
      await manager.query(
        `UPDATE ai_migration_jobs
            SET checkpoint = $2, skipped_entities = skipped_entities + $3, enqueued_entities = enqueued_entities + $4,
                lease_expires_at = now() + make_interval(secs => $5::float8 / 1000), last_updated_at = now(),
                next_release_at = $6::timestamptz + make_interval(secs => $7::float8)
          WHERE id = $1`,
        [job.id, rows[rows.length - 1].entityId, skipped, toEnqueue.length, this.options.leaseMs, release, budget],
      );
      page = { jobId: job.id, entityType: job.entityType, rows: rows.length, enqueued: toEnqueue.length, skipped };
      return true;
    });
    if (page) this.emitPage({ ...page, durationMs: performance.now() - startedAt });
    return produced;
  }

  private emitPage(event: MigrationPageEvent): void {
    for (const listener of this.pageListeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn(`A page listener failed: ${(error as Error).message}`);
      }
    }
  }

  /** RUNNING jobs whose producer is done and that have no pending or in-flight item become COMPLETED. */
  private async completeFinishedJobs(): Promise<void> {
    // Runs every round: a plain read first, so the common case (no job has read its last page) costs one
    // statement and no transaction.
    const [finishing] = await this.dataSource.query(`SELECT 1 FROM ai_migration_jobs WHERE status = 'RUNNING' AND producer_done LIMIT 1`);
    if (!finishing) return;
    await this.dataSource.transaction(async (manager) => {
      // Lock the candidates first, then look for their items in a new statement: under READ COMMITTED it
      // sees everything committed before the lock was granted, e.g. failures a concurrent retryFailed put
      // back (a single UPDATE would judge the items by its older snapshot and complete the job too early).
      const candidates = returnedRows<{ id: string }>(
        await manager.query(`SELECT id FROM ai_migration_jobs WHERE status = 'RUNNING' AND producer_done FOR UPDATE SKIP LOCKED`),
      ).map((row) => row.id);
      if (candidates.length === 0) return;
      await manager.query(
        `UPDATE ai_migration_jobs j
            SET status = 'COMPLETED', completed_at = now(), last_updated_at = now(), version = version + 1,
                lease_owner = NULL, lease_expires_at = NULL
          WHERE j.id = ANY($1::uuid[]) AND j.status = 'RUNNING'
            AND NOT EXISTS (SELECT 1 FROM ai_indexing_queue q WHERE q.owner = j.id::text AND q.status IN ('PENDING', 'ACTIVE'))`,
        [candidates],
      );
    });
  }

  /** An exhausted provider quota pauses the jobs whose items hit it, with the reason in error_message. */
  private async pauseOnQuota(owners: Array<string | null>, error: Error): Promise<void> {
    for (const owner of owners) {
      if (!isUuid(owner)) continue;
      try {
        await this.migrations.pauseMigration(owner, {
          actor: 'system',
          reason: `Paused because the embedding provider's quota is exhausted: ${error.message}`,
        });
        this.logger.warn(`Migration job ${owner} paused: the embedding provider's quota is exhausted. Resume it once the quota is restored.`);
      } catch (e) {
        if (!(e instanceof InvalidMigrationStateError)) throw e;
      }
    }
  }

  /** Counts the workers' outcomes into their jobs, inside the workers' completion transactions. */
  private async count(manager: EntityManager, outcomes: IndexingOutcome[]): Promise<void> {
    const perJob = new Map<string, { processed: number; skipped: number; failed: number }>();
    for (const outcome of outcomes) {
      if (!isUuid(outcome.owner)) continue;
      const counts = perJob.get(outcome.owner) ?? { processed: 0, skipped: 0, failed: 0 };
      if (outcome.result === 'indexed' || outcome.result === 'removed') counts.processed++;
      else if (outcome.result === 'unchanged') counts.skipped++;
      else counts.failed++;
      perJob.set(outcome.owner, counts);
    }
    for (const [jobId, c] of perJob) {
      await manager.query(
        `UPDATE ai_migration_jobs
            SET processed_entities = processed_entities + $2, skipped_entities = skipped_entities + $3,
                failed_entities = failed_entities + $4, last_updated_at = now()
          WHERE id = $1`,
        [jobId, c.processed, c.skipped, c.failed],
      );
    }
    if (perJob.size > 0) this.wakeup.notify();
  }
}
