import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  EMBEDDING_PROVIDER,
  IndexGenerationService,
  IndexingPriority,
  IndexingQueueService,
  ProviderUsageService,
  type EmbeddingProvider,
  type EmbeddingUsage,
  type UsagePricing,
} from '@ai-infrastructure/core';
import {
  AI_CORE_RESOLVED_OPTIONS,
  AI_DATA_SOURCE,
  EntityPageReader,
  IndexGenerationMaintenance,
  IndexingHooks,
  isUuid,
  LiveWorkGate,
  PgVectorStore,
  addUsage,
  emptyUsage,
  type EntityPageRow,
  type IndexingOutcome,
  type OwnerUsage,
  type ResolvedAiCoreOptions,
  type UsageAdmissionRequest,
} from '@ai-infrastructure/core/internal';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { toPageFilters } from '../job/migration-filters';
import { MigrationJobRepository, type CheckpointMove, type JobOutcomeCounts, type LeasedJob } from '../job/migration-job.repository';
import { itemsPerRequest } from '../job/migration-pacing';
import { MIGRATION_REQUEST_LIMITS } from '../job/migration-request.limits';
import { MigrationPauseReason } from '../job/migration-pause-reason.enum';
import { MigrationStatus } from '../job/migration-status.enum';
import { MIGRATION_RESOLVED_OPTIONS } from '../migration.constants';
import { ActiveMigrationExistsError, InvalidMigrationStateError, MigrationJobNotFoundError, TooManyActiveMigrationsError } from '../migration.errors';
import { migrationCost, type ResolvedMigrationOptions } from '../migration-options.resolver';
import { MigrationWakeup } from '../migration-wakeup';
import { EntityRepositoryRegistry } from '../registry/entity-repository.registry';
import { DataMigrationService } from '../service/data-migration.service';
import { deleteFindings } from '../verify/migration-verify-findings';
import { MigrationVerifyProducer } from '../verify/migration-verify.producer';
import type { MigrationPageEvent } from './migration-page-event.interface';

/** How often each runner tries the cleanup of old jobs (one instance at a time gets to do it). */
const CLEANUP_INTERVAL_MS = 60 * 60 * 1000;
/** Pages a job may have waiting in the queue before its producer pauses reading (back-pressure). */
const MAX_PAGES_IN_FLIGHT = 8;
/**
 * A batch job's items are released all at once (no requests-per-minute pacing: the provider's batch queue
 * paces them), as one "request" group far larger than any page.
 */
const BATCH_GROUP = 1_000_000_000;
/** Longest time between two completion checks while pages are being produced. */
const COMPLETION_CHECK_MS = 1000;
/** How often an idle runner looks for BUILDING generations without a job (with `generations.autoBuild`). */
const AUTO_BUILD_CHECK_MS = 5_000;

/**
 * Drives the jobs' producers and finishes jobs. Runs in every instance (unless `enabled` is false):
 * - takes the leases of the RUNNING jobs whose lease is free or expired (takeover after a crash) and
 *   produces a page for each of them every round, so active jobs progress side by side;
 * - reads the next page by keyset from the checkpoint and skips entities whose stored hash equals their
 *   current hash (unless `reindexExisting`); then, in one statement fenced by the lease, the job's status
 *   and the checkpoint the page was read from, enqueues the rest at LOW priority tagged with the job id
 *   and saves the checkpoint and counters, so a crash neither skips nor duplicates a page and
 *   pause/cancel stop it at once;
 * - counts processed/skipped/failed from the workers' outcomes in the workers' own transactions;
 * - pauses the jobs whose items meet an exhausted quota or a lasting provider outage (core hooks);
 * - completes a job when its producer is done and none of its items is pending or in flight.
 *
 * VERIFY jobs have their own pages (see MigrationVerifyProducer): the same lease, fences, back-pressure,
 * pacing of the items they queue, and completion.
 */
@Injectable()
export class MigrationRunnerService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('MigrationRunner');
  /** This instance's name in the jobs' producer leases. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private running = false;
  private loop?: Promise<void>;
  private unsubscribe?: () => void;
  private lastCleanupAt = 0;
  private lastCompletionCheckAt = 0;
  private readonly pageListeners = new Set<(event: MigrationPageEvent) => void>();
  /** Jobs whose pages are enqueued with coalescing, after one of their pages met a pending twin. */
  private readonly coalescingJobs = new Set<string>();
  /** The generation of each job seen by the workers' target resolver (immutable per job). */
  private readonly jobGenerations = new Map<string, number>();
  private lastAutoBuildAt = 0;
  /** Pages of VERIFY jobs. */
  private readonly verifier: MigrationVerifyProducer;

  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(MIGRATION_RESOLVED_OPTIONS) private readonly options: ResolvedMigrationOptions,
    private readonly jobs: MigrationJobRepository,
    private readonly registry: EntityRepositoryRegistry,
    private readonly pages: EntityPageReader,
    private readonly queue: IndexingQueueService,
    private readonly hooks: IndexingHooks,
    private readonly wakeup: MigrationWakeup,
    private readonly migrations: DataMigrationService,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly coreOptions: ResolvedAiCoreOptions,
    private readonly liveWork: LiveWorkGate,
    private readonly generations: IndexGenerationService,
    private readonly maintenance: IndexGenerationMaintenance,
    vectorStore: PgVectorStore,
    private readonly usage: ProviderUsageService,
  ) {
    this.verifier = new MigrationVerifyProducer({
      dataSource,
      jobs,
      pages,
      queue,
      vectorStore,
      instanceId: this.instanceId,
      leaseMs: options.leaseMs,
      defaultRateLimit: options.defaultRateLimit,
    });
  }

  /** Resolves the migration repositories, subscribes to the workers' outcomes and starts the loop (unless `enabled` is false). */
  async onApplicationBootstrap(): Promise<void> {
    this.registry.build();
    const stopCounting = this.hooks.onOutcomes((manager, outcomes, usage) => this.count(manager, outcomes, usage));
    const stopQuota = this.hooks.onQuotaExceeded((owners, error) =>
      this.pauseJobs(owners, error, `the embedding provider's quota is exhausted`, 'Resume it once the quota is restored.', MigrationPauseReason.QUOTA_EXHAUSTED),
    );
    const stopOutage = this.hooks.onProviderUnavailable((owners, error) =>
      this.pauseJobs(owners, error, 'the embedding provider has been unavailable', 'Resume it once the provider answers again.', MigrationPauseReason.PROVIDER_UNAVAILABLE),
    );
    const stopTargets = this.hooks.onResolveTargets((owners) => this.generationsOf(owners));
    const stopAdmission = this.hooks.onAdmitUsage((requests) => this.checkBudgets(requests));
    const stopBudgets = this.hooks.onBudgetExceeded((refusals) => this.pauseOverBudget(refusals));
    this.unsubscribe = () => {
      stopAdmission();
      stopBudgets();
      stopTargets();
      stopCounting();
      stopQuota();
      stopOutage();
    };
    if (this.options.enabled) this.start();
  }

  /** Stops the loop and gives up this instance's leases before the connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /**
   * Leaves the workers' outcomes only now: every module's beforeApplicationShutdown has returned, so the
   * indexing workers have drained (batches answered within their shutdown grace are written at shutdown,
   * and must still be counted in their jobs' progress and usage, in the same transaction).
   */
  onApplicationShutdown(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
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
    await this.jobs.releaseLeases(this.instanceId).catch(() => undefined);
  }

  /**
   * Deletes COMPLETED, FAILED and CANCELLED jobs older than `cleanupCompletedAfterDays`, with their dead
   * letters and verification findings. Runs on one instance at a time (a transaction-scoped advisory lock;
   * the others skip), every `CLEANUP_INTERVAL_MS` from each runner. Returns how many jobs were deleted (0
   * when another instance holds the lock).
   */
  async cleanupOldJobs(): Promise<number> {
    this.lastCleanupAt = Date.now();
    return this.dataSource.transaction(async (manager) => {
      if (!(await this.jobs.tryLockCleanup(manager))) return 0;
      const ids = await this.jobs.deleteFinishedBefore(manager, this.options.cleanupCompletedAfterDays);
      if (ids.length > 0) {
        await this.queue.deleteDeadLetters(ids, manager);
        await deleteFindings(manager, ids);
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
    const leased = await this.cancelJobsOfEndedGenerations(
      await this.jobs.lease(this.instanceId, this.options.leaseMs, this.options.maxConcurrentJobs),
    );
    if (leased.length > 0) {
      const waiting = await this.queue.countWaiting(leased.map((job) => job.id));
      for (const job of leased) {
        if (await this.producePage(job, waiting.get(job.id) ?? 0)) worked = true;
      }
    }
    // While pages flow no job of ours can finish, so the completion check (a statement that waits for the
    // database like any other) runs on idle rounds, and at least every COMPLETION_CHECK_MS for jobs whose
    // producer ended while another job still has pages.
    if (!worked || Date.now() - this.lastCompletionCheckAt >= COMPLETION_CHECK_MS) await this.completeFinishedJobs();
    if (!worked) await this.startPendingBuilds();
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
   * Items a job may have pending or in flight before its producer waits: a few pages for synchronous jobs;
   * for a batch job enough to fill every batch the provider may have in flight and the next one.
   */
  private maxWaiting(leased: LeasedJob): number {
    if (leased.mode !== 'batch') return MAX_PAGES_IN_FLIGHT * leased.batchSize;
    const { maxInputsPerBatch, maxInFlight } = this.coreOptions.batch;
    return Math.max(MAX_PAGES_IN_FLIGHT * leased.batchSize, maxInputsPerBatch * (maxInFlight + 1));
  }

  /** Produces the job's next page; `waiting` is how many of its items are pending or in flight. */
  private async producePage(leased: LeasedJob, waiting: number): Promise<boolean> {
    // Back-pressure: keep only a few pages per job in the queue, so a 10M-row job does not enqueue 10M items.
    if (waiting >= this.maxWaiting(leased)) return false;
    const startedAt = performance.now();
    // Live indexing takes the database first (LiveWorkGate): the page's read and write wait their turn.
    await this.liveWork.backfillTurn();
    if (leased.kind === 'VERIFY') return this.produceVerifyPage(leased, startedAt);
    // The page is read, hashed and decided before it is written, so the write holds the job row (and, on
    // the embedded database, the single session every connection shares) only for the writes. Its fence
    // re-checks the checkpoint under the row lock: if another producer moved it meanwhile (a takeover),
    // this page is dropped, so a page is enqueued at most once and never out of order.
    const rows = await this.pages.readPage(leased.entityType, {
      afterId: leased.checkpoint,
      limit: leased.batchSize,
      filters: toPageFilters(leased.filterConfig),
      generationId: leased.generationId ?? undefined,
    });
    // Same text but other metadata (a metadata field added to the configuration): the worker refreshes
    // the row without calling the provider.
    const toEnqueue = rows.filter((r) => leased.reindexExisting || r.storedHash !== r.hash || (r.storedHash !== null && r.metadataChanged));
    const perRequest = leased.mode === 'batch' ? BATCH_GROUP : itemsPerRequest(this.provider, this.coreOptions.worker.batchSize);
    await this.liveWork.backfillTurn();
    let produced: boolean;
    if (rows.length > 0 && !this.coalescingJobs.has(leased.id)) {
      produced = await this.enqueuePage(leased, rows, toEnqueue, perRequest);
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

  /** A VERIFY job's next page (see MigrationVerifyProducer); its fixes are handed to this process's workers like backfill items. */
  private async produceVerifyPage(leased: LeasedJob, startedAt: number): Promise<boolean> {
    const perRequest = itemsPerRequest(this.provider, this.coreOptions.worker.batchSize);
    const page = await this.verifier.producePage(leased, perRequest);
    if (page.produced && page.enqueued.length > 0) {
      this.pages.handOffToWorkers(leased.entityType, page.enqueued);
      this.queue.notifyWorkers();
    }
    if (page.produced && page.pass === 'rows' && page.read > 0) {
      this.emitPage({
        jobId: leased.id,
        entityType: leased.entityType,
        rows: page.read,
        enqueued: page.enqueued.length,
        skipped: page.read - page.enqueued.length,
        durationMs: performance.now() - startedAt,
      });
    }
    return page.produced;
  }

  private checkpointMove(leased: LeasedJob, rows: EntityPageRow[], enqueued: number, perRequest: number): CheckpointMove {
    return {
      jobId: leased.id,
      instanceId: this.instanceId,
      from: leased.checkpoint,
      to: rows[rows.length - 1].entityId,
      skipped: rows.length - enqueued,
      enqueued,
      leaseMs: this.options.leaseMs,
      perRequest,
      defaultRateLimit: this.options.defaultRateLimit,
    };
  }

  /**
   * A page past the checkpoint holds entities this job has not queued yet, so its items are inserted
   * without coalescing, in the statement that moves the checkpoint (the queue's single-statement insert,
   * gated by the move): no transaction to open, which on the embedded database means no round trips while
   * the single session is held. Should one be pending for the job all the same (queued by hand, say), the
   * statement fails whole and the job's pages take the coalescing path from then on.
   */
  private async enqueuePage(leased: LeasedJob, rows: EntityPageRow[], toEnqueue: EntityPageRow[], perRequest: number): Promise<boolean> {
    const result = await this.queue.enqueueNew(
      {
        entityType: leased.entityType,
        entityIds: toEnqueue.map((r) => r.entityId),
        owner: leased.id,
        priority: lane(leased),
        force: leased.reindexExisting,
        maxRetries: this.coreOptions.queue.maxRetries,
        groupSize: perRequest,
      },
      this.jobs.checkpointGate(this.checkpointMove(leased, rows, toEnqueue.length, perRequest)),
      undefined,
      { wake: false },
    );
    if (result.status === 'conflict') {
      this.coalescingJobs.add(leased.id);
      this.logger.warn(`A page of migration job ${leased.id} met items it had already queued; the page is read again and merged into them.`);
    }
    return result.status === 'queued';
  }

  /**
   * The page in a transaction whose items go through IndexingQueueService.enqueue, which merges them into
   * pending items of the job; also marks the producer done on an empty page.
   */
  private async enqueuePageCoalescing(leased: LeasedJob, rows: EntityPageRow[], toEnqueue: EntityPageRow[], perRequest: number): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      if (rows.length === 0) return this.jobs.markProducerDone(manager, leased.id, this.instanceId, leased.checkpoint);
      // The row lock taken by the checkpoint's move is held until commit, so it covers the enqueue below.
      const release = await this.jobs.moveCheckpoint(manager, this.checkpointMove(leased, rows, toEnqueue.length, perRequest));
      if (!release) return false;
      for (let i = 0; i < toEnqueue.length; i += perRequest) {
        await this.queue.enqueue(
          toEnqueue.slice(i, i + perRequest).map((r) => ({
            entityType: leased.entityType,
            entityId: r.entityId,
            priority: lane(leased),
            owner: leased.id,
            force: leased.reindexExisting,
          })),
          manager,
          { runAfter: new Date(release.releaseAt.getTime() + (i / perRequest) * release.spacingSeconds * 1000), wake: false },
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
   * RUNNING jobs whose producer is done and that have no pending or in-flight item become COMPLETED (their
   * total becomes what they covered, see MigrationJobRepository.complete).
   */
  private async completeFinishedJobs(): Promise<void> {
    // Runs every round: a plain read first, so the common case (no job has read its last page) costs one
    // statement and no transaction.
    this.lastCompletionCheckAt = Date.now();
    if (!(await this.jobs.anyProducerDone())) return;
    let loaded = false;
    await this.dataSource.transaction(async (manager) => {
      // Lock the candidates first, then look for their items in a new statement: under READ COMMITTED it
      // sees everything committed before the lock was granted, e.g. failures a concurrent retryFailed put
      // back (a single statement would judge the items by its older snapshot and complete the job too early).
      const candidates = await this.jobs.lockProducerDone(manager);
      if (candidates.length === 0) return;
      const waiting = await this.queue.countWaiting(candidates, manager);
      const completed = await this.jobs.complete(manager, candidates.filter((id) => (waiting.get(id) ?? 0) === 0));
      // A backfill of a whole table completes its generation's load in the same transaction: a BUILDING
      // generation then gets its vector index (built once, after the load) and becomes READY.
      for (const job of completed) {
        if (job.kind === 'BACKFILL' && job.generationId !== null && job.wholeTable) {
          await this.generations.markLoaded(job.generationId, manager);
          loaded = true;
        }
      }
    });
    if (loaded) this.maintenance.kick();
  }

  /**
   * A job whose generation was discarded or retired (a newer configuration replaced it) has nothing left to
   * fill: it is cancelled as the `system` actor, so it neither scans the table for nothing nor holds its
   * entity type's active-job slot. Returns the other jobs.
   */
  private async cancelJobsOfEndedGenerations(leased: LeasedJob[]): Promise<LeasedJob[]> {
    const ids = [...new Set(leased.map((j) => j.generationId).filter((id): id is number => id !== null))];
    if (ids.length === 0) return leased;
    const ended: Array<{ id: number; state: string }> = await this.dataSource.query(
      `SELECT id, state FROM ai_index_generations WHERE id = ANY($1::int[]) AND state NOT IN ('BUILDING', 'READY', 'SERVING')`,
      [ids],
    );
    if (ended.length === 0) return leased;
    const states = new Map(ended.map((g) => [g.id, g.state]));
    for (const job of leased.filter((j) => j.generationId !== null && states.has(j.generationId))) {
      const reason = `Cancelled because its index generation ${job.generationId} is ${states.get(job.generationId!)}.`;
      await this.migrations.cancelMigration(job.id, { actor: 'system' }).catch((error) => {
        if (!(error instanceof InvalidMigrationStateError)) throw error;
      });
      this.logger.warn(`Migration job ${job.id}: ${reason}`);
    }
    return leased.filter((j) => j.generationId === null || !states.has(j.generationId));
  }

  /**
   * With `generations.autoBuild`, starts the backfill of each BUILDING generation that never had a backfill
   * job (a configuration change recorded it at startup; a verification of it does not count). At most every AUTO_BUILD_CHECK_MS; a start refused
   * because another job of the entity type is active is tried again later.
   */
  private async startPendingBuilds(): Promise<void> {
    if (!this.options.generations.autoBuild || Date.now() - this.lastAutoBuildAt < AUTO_BUILD_CHECK_MS) return;
    this.lastAutoBuildAt = Date.now();
    const pending: Array<{ id: number; entity_type: string }> = await this.dataSource.query(
      `SELECT g.id, g.entity_type FROM ai_index_generations g
        WHERE g.state = 'BUILDING' AND g.loaded_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM ai_migration_jobs j WHERE j.generation_id = g.id AND j.kind = 'BACKFILL')`,
    );
    for (const generation of pending) {
      if (!this.registry.entityTypes().includes(generation.entity_type)) continue;
      try {
        const job = await this.migrations.startMigration({ entityType: generation.entity_type, generationId: generation.id, createdBy: 'system' });
        this.logger.log(`Started migration job ${job.id} to build index generation ${generation.id} of "${generation.entity_type}".`);
      } catch (error) {
        if (error instanceof ActiveMigrationExistsError || error instanceof TooManyActiveMigrationsError) continue;
        // E.g. the generation was discarded since the query: nothing to build; the next check sees it.
        this.logger.warn(`Could not start the build of index generation ${generation.id}: ${(error as Error).message}`);
      }
    }
  }

  /**
   * Pauses the jobs whose items met a provider problem (exhausted quota, outage), as the `system` actor with
   * `Paused because <cause>: <error.message>` in error_message. A job that is already PAUSED gets its
   * pending items held back again: items of a batch that was in flight when it was paused come back with
   * the provider's back-off as their run_after, and must not run while the job stays paused.
   */
  private async pauseJobs(owners: Array<string | null>, error: Error, cause: string, advice: string, code: MigrationPauseReason): Promise<void> {
    for (const owner of new Set(owners)) {
      if (!isUuid(owner)) continue;
      try {
        await this.migrations.pauseMigration(owner, { actor: 'system', reason: pauseReason(`Paused because ${cause}: ${error.message}`), code });
        this.logger.warn(`Migration job ${owner} paused: ${cause}. ${advice}`);
      } catch (e) {
        // Another library's owner, or a job deleted meanwhile.
        if (e instanceof MigrationJobNotFoundError) continue;
        if (!(e instanceof InvalidMigrationStateError)) throw e;
        await this.holdItemsIfPaused(owner);
      }
    }
  }

  /**
   * Pauses the jobs whose next provider request a budget refused (BUDGET_EXCEEDED, the amounts in
   * errorMessage). A job already paused gets its returned items held back again.
   */
  private async pauseOverBudget(refusals: Map<string, string>): Promise<void> {
    for (const [jobId, reason] of refusals) {
      if (!isUuid(jobId)) continue;
      try {
        await this.migrations.pauseMigration(jobId, { actor: 'system', reason: pauseReason(`Paused (BUDGET_EXCEEDED): ${reason}`), code: MigrationPauseReason.BUDGET_EXCEEDED });
        this.logger.warn(`Migration job ${jobId} paused: ${reason}`);
      } catch (e) {
        if (e instanceof MigrationJobNotFoundError) continue;
        if (!(e instanceof InvalidMigrationStateError)) throw e;
        await this.holdItemsIfPaused(jobId);
      }
    }
  }

  /**
   * The workers' budget question before a provider request: a job is refused when the request's tokens
   * (or their cost) would take it over its maxTokens (maxCost), or all backfills of the UTC day over the
   * module's daily cap. Concurrent workers each ask before their own request, so a job overshoots by at
   * most one request per worker.
   */
  private async checkBudgets(requests: UsageAdmissionRequest[]): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    const owned = requests.filter((r) => isUuid(r.owner));
    if (owned.length === 0) return refused;
    const jobs = new Map((await this.jobs.budgetsOf([...new Set(owned.map((r) => r.owner))])).map((j) => [j.id, j]));
    const { dailyMaxTokens, dailyMaxCost } = this.options.budgets;
    const daily = dailyMaxTokens !== null || dailyMaxCost !== null ? await this.usage.today('backfill') : { tokens: 0, cost: 0 };
    for (const request of owned) {
      const job = jobs.get(request.owner);
      if (!job) continue;
      const cost = this.costOf(request.model, request.tokens, request.pricing);
      const api = `PATCH /api/ai/migration/jobs/${job.id}`;
      if (job.maxTokens !== null && job.tokensUsed + request.tokens > job.maxTokens) {
        refused.set(
          job.id,
          `Migration job ${job.id} has used ${tokens(job.tokensUsed)} of its maxTokens budget of ${tokens(job.maxTokens)}; its next provider request needs ` +
            `${tokens(request.tokens)} more. Raise maxTokens (${api}) and resume the job.`,
        );
      } else if (job.maxCost !== null && job.costUsed + cost > job.maxCost) {
        refused.set(
          job.id,
          `Migration job ${job.id} has spent ${usd(job.costUsed)} of its maxCost budget of ${usd(job.maxCost)}; its next provider request costs ` +
            `${usd(cost)} more. Raise maxCost (${api}) and resume the job.`,
        );
      } else if (dailyMaxTokens !== null && daily.tokens + request.tokens > dailyMaxTokens) {
        refused.set(
          job.id,
          `Backfills have used ${tokens(daily.tokens)} of the daily cap of ${tokens(dailyMaxTokens)} (MigrationModule option budgets.dailyMaxTokens, UTC day); ` +
            `migration job ${job.id}'s next provider request needs ${tokens(request.tokens)} more. Resume it after midnight UTC or raise the cap.`,
        );
      } else if (dailyMaxCost !== null && daily.cost + cost > dailyMaxCost) {
        refused.set(
          job.id,
          `Backfills have spent ${usd(daily.cost)} of the daily cap of ${usd(dailyMaxCost)} (MigrationModule option budgets.dailyMaxCost, UTC day); ` +
            `migration job ${job.id}'s next provider request costs ${usd(cost)} more. Resume it after midnight UTC or raise the cap.`,
        );
      } else {
        // Admitted: later requests of this question count it against the daily cap.
        daily.tokens += request.tokens;
        daily.cost += cost;
      }
    }
    return refused;
  }

  private costOf(model: string, tokenCount: number, pricing?: UsagePricing): number {
    return migrationCost(this.usage, this.options, model, tokenCount, pricing);
  }

  /** Holds back the pending items of a job that is PAUSED, under its row lock (so a concurrent resume wins or waits). */
  private async holdItemsIfPaused(jobId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const job = await this.jobs.lock(jobId, manager);
      if (job?.status === MigrationStatus.PAUSED) await this.queue.holdPending(jobId, manager);
    });
  }

  /**
   * The generation of each job among `owners` (workers ask per batch): a job's generation never changes,
   * so answers are kept; owners that are not jobs of this module are left out.
   */
  private async generationsOf(owners: string[]): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    const unknown: string[] = [];
    for (const owner of owners) {
      const known = this.jobGenerations.get(owner);
      if (known !== undefined) result.set(owner, known);
      else if (isUuid(owner)) unknown.push(owner);
    }
    if (unknown.length > 0) {
      for (const [jobId, generationId] of await this.jobs.generationsOf(unknown)) {
        if (this.jobGenerations.size >= 10_000) this.jobGenerations.clear();
        this.jobGenerations.set(jobId, generationId);
        result.set(jobId, generationId);
      }
    }
    return result;
  }

  /**
   * Counts the workers' outcomes into their jobs, inside the workers' completion transactions. Every item
   * the producer enqueued is already in the total; an item of the job queued some other way (by hand, with
   * the job as owner) raises the total too, so processed + skipped + failed never exceeds it.
   */
  private async count(manager: EntityManager, outcomes: IndexingOutcome[], usage: OwnerUsage[]): Promise<void> {
    const perJob = new Map<string, { counts?: JobOutcomeCounts; usage?: EmbeddingUsage; cost: number }>();
    const entry = (jobId: string) => {
      let found = perJob.get(jobId);
      if (!found) perJob.set(jobId, (found = { cost: 0 }));
      return found;
    };
    for (const outcome of outcomes) {
      if (!isUuid(outcome.owner)) continue;
      const job = entry(outcome.owner);
      const counts = (job.counts ??= { processed: 0, skipped: 0, failed: 0 });
      if (outcome.result === 'indexed' || outcome.result === 'removed') counts.processed++;
      else if (outcome.result === 'unchanged') counts.skipped++;
      else counts.failed++;
    }
    for (const spent of usage) {
      if (!isUuid(spent.owner)) continue;
      const job = entry(spent.owner);
      addUsage((job.usage ??= emptyUsage()), spent.usage);
      job.cost += this.costOf(spent.model, spent.usage.tokens, spent.pricing);
    }
    // Job rows in one order in every transaction: two workers whose batches hold items of the same two jobs
    // in opposite orders would otherwise lock the rows crosswise and deadlock (seen with concurrent jobs).
    for (const [jobId, job] of [...perJob].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (job.counts) await this.jobs.addOutcomes(manager, jobId, job.counts);
      if (job.usage) await this.jobs.addUsage(manager, jobId, job.usage, job.cost);
    }
    if (outcomes.length > 0 && perJob.size > 0) this.wakeup.notify();
  }
}

/** The queue lane of a job's items: the Batch API's for batch jobs, backfill priority otherwise. */
function lane(leased: LeasedJob): number {
  return leased.mode === 'batch' ? IndexingPriority.BATCH : IndexingPriority.LOW;
}

/** A token count for messages: `12,345 tokens`. */
function tokens(count: number): string {
  return `${Math.round(count).toLocaleString('en-US')} tokens`;
}

/** An amount for messages: `$0.0123`. */
function usd(amount: number): string {
  return `$${amount.toFixed(4)}`;
}

/**
 * A provider's error message can be long and hold anything: the pause reason keeps what fits its limit,
 * without NUL and with unpaired surrogates replaced, which PostgreSQL could not store.
 */
export function pauseReason(text: string): string {
  const max = MIGRATION_REQUEST_LIMITS.pauseReason.maxLength;
  const fitted = text.length <= max ? text : `${text.slice(0, max - 1)}…`;
  return fitted.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
