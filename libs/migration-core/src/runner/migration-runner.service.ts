import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  AI_CORE_RESOLVED_OPTIONS,
  AI_DATA_SOURCE,
  EMBEDDING_PROVIDER,
  EntityPageReader,
  type EntityPageRow,
  isUuid,
  returnedRows,
  type EmbeddingProvider,
  type ResolvedAiCoreOptions,
  IndexingHooks,
  IndexingPriority,
  IndexingQueueService,
  isPendingTwinConflict,
  LiveWorkGate,
  type IndexingOutcome,
} from '@ai-infrastructure/core';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { MigrationFilters } from '../job/migration-request.interface';
import { MIGRATION_RESOLVED_OPTIONS } from '../migration.constants';
import type { ResolvedMigrationOptions } from '../migration-options.resolver';
import { EntityRepositoryRegistry } from '../registry/entity-repository.registry';
import { DataMigrationService, toPageFilters } from '../service/data-migration.service';
import { InvalidMigrationStateError, MigrationJobNotFoundError } from '../migration.errors';
import { MigrationStatus } from '../job/migration-status.enum';
import { itemsPerRequest, secondsFor } from './job-pacing';
import type { MigrationPageEvent } from './migration-page-event.interface';
import { MigrationWakeup } from './migration-wakeup';

/** How often each runner tries the cleanup of old jobs (one instance at a time gets to do it). */
const CLEANUP_INTERVAL_MS = 60 * 60 * 1000;
/** Pages a job may have waiting in the queue before its producer pauses reading (back-pressure). */
const MAX_PAGES_IN_FLIGHT = 8;

/**
 * The fence of a page's write: the job must still be RUNNING, leased by this instance ($2) and at the
 * checkpoint the page was read from ($3); pause, cancel and takeover stop the page here.
 */
const PAGE_FENCE = `id = $1 AND status = 'RUNNING' AND lease_owner = $2 AND NOT producer_done AND checkpoint IS NOT DISTINCT FROM $3::text`;

/**
 * Fence, checkpoint and pacing of a page, as SQL shared by both ways of enqueueing it. The page becomes
 * runnable when the job's rate budget allows (see job-pacing.ts): one request's worth of items at a time,
 * spaced by the job's rate, read under the job row's lock, so a rethrottle committed before the statement
 * applies to this page.
 * The page's rows are counted as scanned, and the total is raised to the scanned rows when they are more
 * (rows created during the job past the checkpoint), in the statement that enqueues them: every item a
 * worker can count is covered by the total before it can be claimed, so processed + skipped + failed never
 * exceeds the total.
 * Parameters: $1 job, $2 instance, $3 checkpoint read from, $4 new checkpoint, $5 skipped, $6 enqueued,
 * $7 lease ms, $8 items per request, $9 default rate limit.
 */
const MOVE_CHECKPOINT = `UPDATE ai_migration_jobs
    SET checkpoint = $4, skipped_entities = skipped_entities + $5, enqueued_entities = enqueued_entities + $6,
        scanned_entities = scanned_entities + $5 + $6,
        total_entities = greatest(total_entities, scanned_entities + $5 + $6),
        lease_expires_at = now() + make_interval(secs => $7::float8 / 1000), last_updated_at = now(),
        next_release_at = greatest(coalesce(next_release_at, now()), now())
          + make_interval(secs => $6::float8 / $8::float8 * 60 / coalesce(rate_limit, $9::int))
  WHERE ${PAGE_FENCE}
 RETURNING next_release_at, coalesce(rate_limit, $9::int) AS rate_limit`;
/** Longest time between two completion checks while pages are being produced. */
const COMPLETION_CHECK_MS = 1000;

/** A job whose producer lease this instance holds, as the producer needs it. */
interface LeasedJob {
  id: string;
  entityType: string;
  checkpoint: string | null;
  batchSize: number;
  reindexExisting: boolean;
  filterConfig: MigrationFilters | null;
  startedAt: number;
  /** Items of the job pending or in flight in the queue when the lease was taken. */
  waiting: number;
}

/**
 * Drives the jobs' producers and finishes jobs. Runs in every instance (unless `enabled` is false):
 * - takes the leases of the RUNNING jobs whose lease is free or expired (takeover after a crash) and
 *   produces a page for each of them every round, so active jobs progress side by side;
 * - reads the next page by keyset from the checkpoint and skips entities whose stored hash equals their
 *   current hash (unless `reindexExisting`); then, in one transaction fenced by the lease, the job's
 *   status and the checkpoint the page was read from, enqueues the rest at LOW priority tagged with the
 *   job id and saves the checkpoint and counters, so a crash neither skips nor duplicates a page and
 *   pause/cancel stop it at once;
 * - counts processed/skipped/failed from the workers' outcomes in the workers' own transactions;
 * - pauses the jobs whose items meet an exhausted quota or a lasting provider outage (core hooks);
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
  private lastCompletionCheckAt = 0;
  private readonly pageListeners = new Set<(event: MigrationPageEvent) => void>();
  /** Jobs whose pages are enqueued with coalescing, after one of their pages met a pending twin. */
  private readonly coalescingJobs = new Set<string>();

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
    private readonly liveWork: LiveWorkGate,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.registry.build();
    const stopCounting = this.hooks.onOutcomes((manager, outcomes) => this.count(manager, outcomes));
    const stopQuota = this.hooks.onQuotaExceeded((owners, error) =>
      this.pauseJobs(owners, error, `the embedding provider's quota is exhausted`, 'Resume it once the quota is restored.'),
    );
    const stopOutage = this.hooks.onProviderUnavailable((owners, error) =>
      this.pauseJobs(owners, error, 'the embedding provider has been unavailable', 'Resume it once the provider answers again.'),
    );
    this.unsubscribe = () => {
      stopCounting();
      stopQuota();
      stopOutage();
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

  /**
   * One round: produce one page for each RUNNING job this instance holds or can take, then complete
   * finished jobs. Returns whether a page was produced.
   */
  async tick(): Promise<boolean> {
    if (Date.now() - this.lastCleanupAt >= CLEANUP_INTERVAL_MS) await this.cleanupOldJobs();
    let worked = false;
    for (const job of await this.leaseJobs()) {
      if (await this.producePage(job)) worked = true;
    }
    // While pages flow no job of ours can finish, so the completion check (a statement that waits for the
    // database like any other) runs on idle rounds, and at least every COMPLETION_CHECK_MS for jobs whose
    // producer ended while another job still has pages.
    if (!worked || Date.now() - this.lastCompletionCheckAt >= COMPLETION_CHECK_MS) await this.completeFinishedJobs();
    return worked;
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

  /**
   * Takes (or renews) the leases of the RUNNING jobs with pages left whose lease is free, expired or ours,
   * oldest first, and returns them with the number of their items waiting in the queue — one statement,
   * because on the embedded database every statement waits its turn behind the workers'.
   */
  private async leaseJobs(): Promise<LeasedJob[]> {
    const rows = await this.dataSource.query(
      `UPDATE ai_migration_jobs j
          SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2::float8 / 1000)
        WHERE j.id IN (SELECT id FROM ai_migration_jobs
                        WHERE status = 'RUNNING' AND NOT producer_done
                          AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at < now())
                        ORDER BY started_at
                        LIMIT $3
                        FOR UPDATE SKIP LOCKED)
        RETURNING j.id::text AS id, j.entity_type, j.checkpoint, j.batch_size, j.reindex_existing, j.filter_config, j.started_at,
                  (SELECT count(*)::int FROM ai_indexing_queue q WHERE coalesce(q.owner, '') = j.id::text AND q.status = 'PENDING')
                  + (SELECT count(*)::int FROM ai_indexing_queue q WHERE q.status = 'ACTIVE' AND q.owner = j.id::text) AS waiting`,
      [this.instanceId, this.options.leaseMs, this.options.maxConcurrentJobs],
    );
    return returnedRows<Record<string, unknown>>(rows)
      .map((r) => ({
        id: r.id as string,
        entityType: r.entity_type as string,
        checkpoint: r.checkpoint as string | null,
        batchSize: Number(r.batch_size),
        reindexExisting: r.reindex_existing === true,
        filterConfig: r.filter_config as MigrationFilters | null,
        startedAt: new Date(r.started_at as string).getTime(),
        waiting: Number(r.waiting),
      }))
      .sort((a, b) => a.startedAt - b.startedAt);
  }

  private async producePage(leased: LeasedJob): Promise<boolean> {
    // Back-pressure: keep only a few pages per job in the queue, so a 10M-row job does not enqueue 10M items.
    if (leased.waiting >= MAX_PAGES_IN_FLIGHT * leased.batchSize) return false;
    const startedAt = performance.now();
    // Live indexing takes the database first (LiveWorkGate): the page's read and write wait their turn.
    await this.liveWork.backfillTurn();
    // The page is read, hashed and decided before it is written, so the write holds the job row (and, on
    // the embedded database, the single session every connection shares) only for the writes. Its fence
    // re-checks the checkpoint under the row lock: if another producer moved it meanwhile (a takeover),
    // this page is dropped, so a page is enqueued at most once and never out of order.
    const rows = await this.pages.readPage(leased.entityType, {
      afterId: leased.checkpoint,
      limit: leased.batchSize,
      filters: toPageFilters(leased.filterConfig),
    });
    // Same text but other metadata (a metadata field added to the configuration): the worker refreshes
    // the row without calling the provider.
    const toEnqueue = rows.filter((r) => leased.reindexExisting || r.storedHash !== r.hash || (r.storedHash !== null && r.metadataChanged));
    const perRequest = itemsPerRequest(this.provider, this.coreOptions);
    await this.liveWork.backfillTurn();
    let produced: boolean;
    if (rows.length > 0 && !this.coalescingJobs.has(leased.id)) {
      // A page past the checkpoint holds entities this job has not queued yet, so its items are inserted
      // without coalescing, in the statement that moves the checkpoint. Should one be pending for the job
      // all the same (inserted by hand, say), the statement fails whole and the job's pages take the
      // coalescing path from then on.
      produced = await this.enqueuePage(leased, rows, toEnqueue, perRequest).catch((error: unknown) => {
        if (!isPendingTwinConflict(error)) throw error;
        this.coalescingJobs.add(leased.id);
        this.logger.warn(`A page of migration job ${leased.id} met items it had already queued; the page is read again and merged into them.`);
        return false;
      });
    } else {
      produced = await this.enqueuePageCoalescing(leased, rows, toEnqueue, perRequest);
    }
    if (produced && rows.length > 0) {
      // Committed: this process's workers may embed the rows from what was just read instead of reading them again.
      this.pages.handOffToWorkers(leased.entityType, toEnqueue);
      this.queue.notifyWorkers();
      this.emitPage({
        jobId: leased.id,
        entityType: leased.entityType,
        rows: rows.length,
        enqueued: toEnqueue.length,
        skipped: rows.length - toEnqueue.length,
        durationMs: performance.now() - startedAt,
      });
    }
    return produced;
  }

  private moveCheckpointParams(leased: LeasedJob, rows: EntityPageRow[], enqueued: number, perRequest: number): unknown[] {
    return [
      leased.id,
      this.instanceId,
      leased.checkpoint,
      rows[rows.length - 1].entityId,
      rows.length - enqueued,
      enqueued,
      this.options.leaseMs,
      perRequest,
      this.options.defaultRateLimit,
    ];
  }

  /**
   * Moves the checkpoint and inserts the page's items in one statement (data-modifying CTEs run atomically
   * under the job row's lock): no transaction to open, which on the embedded database means no round trips
   * while the single session is held. Item k (from 0) becomes runnable at the page's release plus
   * floor(k / itemsPerRequest) request intervals, as {@link enqueuePageCoalescing} computes it.
   */
  private async enqueuePage(leased: LeasedJob, rows: EntityPageRow[], toEnqueue: EntityPageRow[], perRequest: number): Promise<boolean> {
    const result = await this.dataSource.query(
      `WITH moved AS (${MOVE_CHECKPOINT}),
       queued AS (
         INSERT INTO ai_indexing_queue (entity_type, entity_id, priority, owner, force, max_retries, run_after)
         SELECT $10::text, t.entity_id, $11::smallint, $1::text, $12::boolean, $13::int,
                moved.next_release_at
                  - make_interval(secs => $6::float8 / $8::float8 * 60 / moved.rate_limit)
                  + make_interval(secs => floor((t.k - 1) / $8::float8) * 60 / moved.rate_limit)
           FROM moved, unnest($14::text[]) WITH ORDINALITY AS t(entity_id, k)
         RETURNING 1)
       SELECT (SELECT count(*) FROM moved)::int AS moved, (SELECT count(*) FROM queued)::int AS queued`,
      [
        ...this.moveCheckpointParams(leased, rows, toEnqueue.length, perRequest),
        leased.entityType,
        IndexingPriority.LOW,
        leased.reindexExisting,
        this.coreOptions.queue.maxRetries,
        toEnqueue.map((r) => r.entityId),
      ],
    );
    return returnedRows<{ moved: number }>(result)[0].moved > 0;
  }

  /**
   * The page in a transaction whose items go through IndexingQueueService.enqueue, which merges them into
   * pending items of the job; also marks the producer done on an empty page.
   */
  private async enqueuePageCoalescing(leased: LeasedJob, rows: EntityPageRow[], toEnqueue: EntityPageRow[], perRequest: number): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      if (rows.length === 0) {
        const done = await manager.query(
          `UPDATE ai_migration_jobs SET producer_done = true, last_updated_at = now(), version = version + 1 WHERE ${PAGE_FENCE} RETURNING id`,
          [leased.id, this.instanceId, leased.checkpoint],
        );
        return returnedRows(done).length > 0;
      }
      // The row lock taken by the checkpoint's move is held until commit, so it covers the enqueue below.
      const [moved] = returnedRows<{ next_release_at: Date | string; rate_limit: number }>(
        await manager.query(MOVE_CHECKPOINT, this.moveCheckpointParams(leased, rows, toEnqueue.length, perRequest)),
      );
      if (!moved) return false;
      const rateLimit = Number(moved.rate_limit);
      const interval = secondsFor(perRequest, perRequest, rateLimit);
      const release = new Date(moved.next_release_at).getTime() - secondsFor(toEnqueue.length, perRequest, rateLimit) * 1000;
      for (let i = 0; i < toEnqueue.length; i += perRequest) {
        await this.queue.enqueue(
          toEnqueue.slice(i, i + perRequest).map((r) => ({
            entityType: leased.entityType,
            entityId: r.entityId,
            priority: IndexingPriority.LOW,
            owner: leased.id,
            force: leased.reindexExisting,
          })),
          manager,
          { runAfter: new Date(release + (i / perRequest) * interval * 1000) },
        );
      }
      return true;
    });
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

  /**
   * RUNNING jobs whose producer is done and that have no pending or in-flight item become COMPLETED. Their
   * total becomes what they covered, processed + skipped + failed: every row the producer read has its
   * outcome by then, and rows deleted before the producer reached them no longer count.
   */
  private async completeFinishedJobs(): Promise<void> {
    // Runs every round: a plain read first, so the common case (no job has read its last page) costs one
    // statement and no transaction.
    this.lastCompletionCheckAt = Date.now();
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
                lease_owner = NULL, lease_expires_at = NULL,
                total_entities = processed_entities + skipped_entities + failed_entities
          WHERE j.id = ANY($1::uuid[]) AND j.status = 'RUNNING'
            AND NOT EXISTS (SELECT 1 FROM ai_indexing_queue q WHERE coalesce(q.owner, '') = j.id::text AND q.status = 'PENDING')
            AND NOT EXISTS (SELECT 1 FROM ai_indexing_queue q WHERE q.status = 'ACTIVE' AND q.owner = j.id::text)`,
        [candidates],
      );
    });
  }

  /**
   * Pauses the jobs whose items met a provider problem (exhausted quota, outage), as the `system` actor with
   * `Paused because <cause>: <error.message>` in error_message. A job that is already PAUSED gets its
   * pending items held back again: items of a batch that was in flight when it was paused come back with
   * the provider's back-off as their run_after, and must not run while the job stays paused.
   */
  private async pauseJobs(owners: Array<string | null>, error: Error, cause: string, advice: string): Promise<void> {
    for (const owner of new Set(owners)) {
      if (!isUuid(owner)) continue;
      try {
        await this.migrations.pauseMigration(owner, { actor: 'system', reason: `Paused because ${cause}: ${error.message}` });
        this.logger.warn(`Migration job ${owner} paused: ${cause}. ${advice}`);
      } catch (e) {
        // Another library's owner, or a job deleted meanwhile.
        if (e instanceof MigrationJobNotFoundError) continue;
        if (!(e instanceof InvalidMigrationStateError)) throw e;
        await this.holdItemsIfPaused(owner);
      }
    }
  }

  /** Holds back the pending items of a job that is PAUSED, under its row lock (so a concurrent resume wins or waits). */
  private async holdItemsIfPaused(jobId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const [job] = returnedRows<{ status: string }>(await manager.query(`SELECT status FROM ai_migration_jobs WHERE id = $1 FOR UPDATE`, [jobId]));
      if (job?.status !== MigrationStatus.PAUSED) return;
      await manager.query(
        `UPDATE ai_indexing_queue SET run_after = 'infinity' WHERE coalesce(owner, '') = $1 AND status = 'PENDING' AND run_after <> 'infinity'`,
        [jobId],
      );
    });
  }

  /**
   * Counts the workers' outcomes into their jobs, inside the workers' completion transactions. Every item
   * the producer enqueued is already in the total; an item of the job queued some other way (by hand, with
   * the job as owner) raises the total too, so processed + skipped + failed never exceeds it.
   */
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
    // Job rows in one order in every transaction: two workers whose batches hold items of the same two jobs
    // in opposite orders would otherwise lock the rows crosswise and deadlock (seen with concurrent jobs).
    for (const [jobId, c] of [...perJob].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      await manager.query(
        `UPDATE ai_migration_jobs
            SET processed_entities = processed_entities + $2, skipped_entities = skipped_entities + $3,
                failed_entities = failed_entities + $4, last_updated_at = now(),
                total_entities = greatest(total_entities, processed_entities + skipped_entities + failed_entities + $2 + $3 + $4)
          WHERE id = $1`,
        [jobId, c.processed, c.skipped, c.failed],
      );
    }
    if (perJob.size > 0) this.wakeup.notify();
  }
}
