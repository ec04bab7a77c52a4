import {
  EMBEDDING_PROVIDER,
  EmbeddingBatchService,
  EmbeddingService,
  IndexGenerationService,
  IndexingQueueService,
  MAINTAINED_GENERATION_STATES,
  GenerationNotFoundError,
  ProviderUsageService,
  type EmbeddingProvider,
  type IndexGeneration,
  type UsagePricing,
} from '@ai-infrastructure/core';
import { AI_DATA_SOURCE, EmbeddingProviderRegistry, PgVectorStore } from '@ai-infrastructure/core/internal';
import { AI_CORE_RESOLVED_OPTIONS, AiEntityRegistry, EntityPageReader, isUuid, type ResolvedAiCoreOptions } from '@ai-infrastructure/core/internal';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { MigrationAuditAction } from '../audit/migration-audit-action.enum';
import { MigrationAuditEntry } from '../audit/migration-audit-entry.entity';
import { appendAuditEntry, type MigrationActionOptions } from '../audit/migration-audit.writer';
import { toPageFilters } from '../job/migration-filters';
import { MigrationJob } from '../job/migration-job.entity';
import { MigrationJobRepository } from '../job/migration-job.repository';
import { itemsPerRequest, requestPacing } from '../job/migration-pacing';
import type { MigrationEstimate, MigrationFailure, MigrationModeEstimate, MigrationProgress, MigrationTokenCountBasis } from '../job/migration-progress.interface';
import type { MigrationBudgetUpdate, MigrationJobQuery, MigrationMode, MigrationRequest } from '../job/migration-request.interface';
import { MigrationPauseReason } from '../job/migration-pause-reason.enum';
import { MIGRATION_REQUEST_LIMITS } from '../job/migration-request.limits';
import {
  normalizeEntityIds,
  validateActor,
  validateBudgetUpdate,
  validateEntityIdList,
  validateJobFilter,
  validateJobQuery,
  validateMigrationRequest,
  validatePauseReason,
  validateRateLimit,
  type MigrationRequestContext,
  type ValidatedMigrationRequest,
} from '../job/migration-request.validator';
import { ACTIVE_MIGRATION_STATUSES, MigrationStatus } from '../job/migration-status.enum';
import { MIGRATION_RESOLVED_OPTIONS } from '../migration.constants';
import {
  ActiveMigrationExistsError,
  InvalidMigrationRequestError,
  InvalidMigrationStateError,
  MigrationJobNotFoundError,
  TooManyActiveMigrationsError,
} from '../migration.errors';
import { migrationCost, type ResolvedMigrationOptions } from '../migration-options.resolver';
import { MigrationWakeup } from '../migration-wakeup';
import { EntityRepositoryRegistry } from '../registry/entity-repository.registry';
import { isoDuration, toProgress, type ProgressLimits } from './migration-progress';
import { listFindings } from '../verify/migration-verify-findings';
import type { VerificationRequest, VerifyFindingsPage, VerifyFindingsQuery, VerifyReport } from '../verify/migration-verify.interfaces';
import { validateFindingsQuery, validateFix } from '../verify/migration-verify.validator';

/** The provider's completion window of a batch (OpenAI: 24 hours): a batch job's duration is at most this per round of batches. */
const BATCH_WINDOW_SECONDS = 24 * 60 * 60;

/**
 * Starts, watches and controls backfill and verification jobs. Jobs run in the background (the runner of any instance
 * drives them); every method here is one short transaction, and pause/cancel are read from the database
 * by every instance, so they take effect within one batch everywhere.
 *
 * @example
 * ```ts
 * const job = await migrations.indexAllEntities('product');
 * const progress = await migrations.getProgress(job.id);
 * ```
 */
@Injectable()
export class DataMigrationService {
  /** What request validation needs to know about this application's entity types. */
  private readonly requestContext: MigrationRequestContext;

  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(MIGRATION_RESOLVED_OPTIONS) private readonly options: ResolvedMigrationOptions,
    private readonly jobs: MigrationJobRepository,
    registry: EntityRepositoryRegistry,
    private readonly pages: EntityPageReader,
    private readonly wakeup: MigrationWakeup,
    private readonly queue: IndexingQueueService,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly coreOptions: ResolvedAiCoreOptions,
    entities: AiEntityRegistry,
    private readonly embedding: EmbeddingService,
    private readonly generations: IndexGenerationService,
    private readonly providers: EmbeddingProviderRegistry,
    private readonly vectorStore: PgVectorStore,
    private readonly usage: ProviderUsageService,
    private readonly batches: EmbeddingBatchService,
  ) {
    this.requestContext = {
      entityTypes: () => registry.entityTypes(),
      idKind: (entityType) => entities.find(entityType)?.idKind,
      hasCreatedDate: (entityType) => pages.hasCreatedDate(entityType),
      batchProvider: () => ({ name: provider.name, supported: batches.supported() }),
    };
  }

  /**
   * Dry run: reads the matching rows (keyset pages, read-only) and reports how many would be skipped or
   * embedded, the tokens, the cost at `pricePerMillionTokens` and the duration at the rate limit.
   * Calls no provider and writes nothing.
   */
  async estimateMigration(request: MigrationRequest): Promise<MigrationEstimate> {
    const validated = this.validate(request);
    const filters = toPageFilters(validated.filters);
    let afterId: string | null = null;
    let matching = 0;
    let wouldSkip = 0;
    let countedTokens = 0;
    for (;;) {
      const rows = await this.pages.readPage(validated.entityType, { afterId, limit: 5000, filters, countTokens: true });
      if (rows.length === 0) break;
      for (const row of rows) {
        matching++;
        if (!validated.reindexExisting && row.storedHash === row.hash) wouldSkip++;
        else countedTokens += row.tokens ?? 0;
      }
      afterId = rows[rows.length - 1].entityId;
    }
    const wouldEmbed = matching - wouldSkip;
    // The byte estimate of a provider without a tokenizer, corrected by what the provider reported so far.
    const estimatedTokens = Math.round(this.embedding.calibratedTokens(countedTokens));
    const tokenCountBasis: MigrationTokenCountBasis =
      this.embedding.tokenCounting === 'tokenizer' ? 'tokenizer' : this.embedding.tokenRatio === undefined ? 'byte-estimate' : 'calibrated-estimate';
    // One provider request carries a worker batch (capped by the provider), as the job's pacing assumes.
    const estimatedRequests = Math.ceil(wouldEmbed / this.perRequest());
    const duration = await this.estimateDuration(validated.entityType, wouldEmbed, estimatedRequests, estimatedTokens, validated.rateLimit);
    const usd = (pricing: UsagePricing) => Math.round(this.costOf(estimatedTokens, pricing) * 10_000) / 10_000;
    // A batch file line carries as many inputs as a synchronous request may; a batch as many as its limits allow.
    const { maxInputsPerBatch, maxRequestsPerFile } = this.coreOptions.batch;
    const batchRequests = Math.ceil(wouldEmbed / this.provider.maxInputsPerRequest);
    const byMode: MigrationModeEstimate[] = [
      {
        mode: 'sync',
        available: true,
        estimatedCostUsd: usd('sync'),
        estimatedRequests,
        estimatedBatches: null,
        estimatedDuration: duration.seconds === null ? null : isoDuration(duration.seconds),
        durationBasis: duration.basis,
      },
      {
        mode: 'batch',
        available: this.batches.supported(),
        estimatedCostUsd: usd('batch'),
        estimatedRequests: batchRequests,
        estimatedBatches: Math.max(Math.ceil(wouldEmbed / maxInputsPerBatch), Math.ceil(batchRequests / maxRequestsPerFile)),
        estimatedDuration: wouldEmbed === 0 ? 'PT0S' : isoDuration(BATCH_WINDOW_SECONDS),
        durationBasis: 'batch-window',
      },
    ];
    const chosen = byMode.find((m) => m.mode === validated.mode)!;
    return {
      entityType: validated.entityType,
      matching,
      wouldSkip,
      wouldEmbed,
      estimatedTokens,
      tokenCountBasis,
      estimatedCostUsd: chosen.estimatedCostUsd,
      estimatedRequests: chosen.estimatedRequests,
      estimatedDuration: chosen.estimatedDuration,
      durationBasis: chosen.durationBasis,
      mode: validated.mode,
      byMode,
    };
  }

  /**
   * How long embedding would take: the slowest of the job's rate limit, the provider's requests and tokens
   * per minute (this instance's), and the rate the last completed backfill of the entity type reached
   * (which shows what the machine and the provider do when no limit binds). Without such a job and with
   * no limit that takes a second, the duration is unknown rather than zero.
   */
  private async estimateDuration(
    entityType: string,
    entities: number,
    requests: number,
    tokens: number,
    rateLimit: number,
  ): Promise<{ seconds: number | null; basis: MigrationEstimate['durationBasis'] }> {
    const { requestsPerMinute, tokensPerMinute } = this.coreOptions.rateLimit;
    const bounds: Array<{ seconds: number; basis: MigrationEstimate['durationBasis'] }> = [{ seconds: (requests / rateLimit) * 60, basis: 'job-rate-limit' }];
    if (requestsPerMinute > 0) bounds.push({ seconds: (requests / requestsPerMinute) * 60, basis: 'provider-requests-per-minute' });
    if (tokensPerMinute > 0) bounds.push({ seconds: (tokens / tokensPerMinute) * 60, basis: 'provider-tokens-per-minute' });
    const measured = await this.jobs.lastBackfillRate(entityType);
    if (measured !== null) bounds.push({ seconds: entities / measured, basis: 'measured' });
    const slowest = bounds.sort((a, b) => b.seconds - a.seconds)[0];
    if (measured === null && slowest.seconds < 1 && entities > 0) return { seconds: null, basis: 'unknown' };
    return slowest;
  }

  /** USD of `tokens` of the current model (see migrationCost). */
  private costOf(tokens: number, pricing: UsagePricing = 'sync'): number {
    return migrationCost(this.usage, this.options, this.provider.model, tokens, pricing);
  }

  /** Entities of the job that were dead-lettered, with their last error. */
  async getFailures(jobId: string): Promise<MigrationFailure[]> {
    await this.getJob(jobId);
    const dead = await this.queue.deadLetters({ owner: jobId, limit: MIGRATION_REQUEST_LIMITS.entityIds.maxItems });
    return dead.map((d) => ({ entityId: d.entityId, error: d.lastError, attempts: d.attempts, lastAttemptAt: d.updatedAt }));
  }

  /**
   * Gives the job's failed entities (all, or `entityIds`) fresh attempts. A COMPLETED job runs again
   * until they are done; a CANCELLED one cannot be retried. Returns how many were re-queued.
   */
  async retryFailed(jobId: string, entityIds?: string[], options: MigrationActionOptions = {}): Promise<number> {
    const actor = validateActor(options.actor);
    validateEntityIdList(entityIds);
    const retried = await this.dataSource.transaction(async (manager) => {
      // Serialises with starts (a COMPLETED job becomes active again) before the job row is locked, in the
      // same order startMigration takes them; the row lock then holds off pause, resume, cancel and completion.
      await this.jobs.lockActivations(manager);
      const job = await this.lockJob(jobId, manager);
      const ids = entityIds && normalizeEntityIds(entityIds, 'entityIds', job.entityType, this.requestContext.idKind(job.entityType));
      if (job.status === MigrationStatus.CANCELLED || job.status === MigrationStatus.FAILED) {
        throw new InvalidMigrationStateError(jobId, job.status, 'retry the failures of', [
          MigrationStatus.RUNNING,
          MigrationStatus.PAUSED,
          MigrationStatus.COMPLETED,
        ]);
      }
      if (job.status === MigrationStatus.COMPLETED) {
        // The job becomes active again: the same limits as a start apply.
        await this.assertCanActivate(manager, job.entityType, jobId);
      }
      const n = await this.queue.retryDeadLetters({ owner: jobId, entityIds: ids }, manager);
      if (n === 0) return 0;
      await this.jobs.reopenForRetry(manager, jobId, n);
      if (job.status === MigrationStatus.PAUSED) await this.queue.holdPending(jobId, manager);
      await appendAuditEntry(manager, {
        jobId,
        action: MigrationAuditAction.RETRY_FAILED,
        actor,
        fromStatus: job.status,
        toStatus: job.status === MigrationStatus.COMPLETED ? MigrationStatus.RUNNING : job.status,
        details: { retried: n, ...(ids ? { entityIds: ids.length } : {}) },
      });
      return n;
    });
    this.wakeup.notify();
    return retried;
  }

  /** Backfills every entity of a type (skipping those already indexed with their current content). */
  indexAllEntities(entityType: string): Promise<MigrationJob> {
    return this.startMigration({ entityType });
  }

  /** Creates a RUNNING job; at most one active job per entity type and `maxConcurrentJobs` in all. */
  async startMigration(request: MigrationRequest): Promise<MigrationJob> {
    const validated = this.validate(request);
    const actor = validateActor(request.createdBy, 'createdBy');
    const job = await this.dataSource.transaction(async (manager) => {
      await this.jobs.lockActivations(manager);
      await this.assertCanActivate(manager, validated.entityType);
      const generation = await this.targetGeneration(validated.entityType, validated.generationId, manager);
      const total = await this.pages.count(validated.entityType, toPageFilters(validated.filters), manager);
      const now = new Date();
      const created = await this.jobs.create(manager, {
        entityType: validated.entityType,
        generationId: generation.id,
        kind: 'BACKFILL',
        status: MigrationStatus.RUNNING,
        totalEntities: total,
        batchSize: validated.batchSize,
        rateLimit: validated.rateLimit,
        reindexExisting: validated.reindexExisting,
        filterConfig: validated.filters ?? null,
        startedAt: now,
        lastUpdatedAt: now,
        createdBy: actor ?? null,
        maxTokens: validated.maxTokens ?? this.options.budgets.maxTokensPerJob,
        maxCost: validated.maxCost ?? this.options.budgets.maxCostPerJob,
        mode: validated.mode,
      });
      await appendAuditEntry(manager, {
        jobId: created.id,
        action: MigrationAuditAction.START,
        actor,
        fromStatus: null,
        toStatus: created.status,
        details: {
          batchSize: validated.batchSize,
          rateLimit: validated.rateLimit,
          reindexExisting: validated.reindexExisting,
          filters: validated.filters ?? null,
          generationId: generation.id,
          maxTokens: created.maxTokens,
          maxCost: created.maxCost,
          mode: validated.mode,
        },
      });
      return created;
    });
    this.wakeup.notify();
    return job;
  }

  /**
   * The generation a job fills (or verifies): the one asked for, which must be maintained (BUILDING, READY
   * or SERVING) and of the entity type, or the serving one.
   */
  private async targetGeneration(
    entityType: string,
    generationId: number | undefined,
    manager: EntityManager,
    purpose: 'fill' | 'verify' = 'fill',
  ): Promise<IndexGeneration> {
    if (generationId === undefined) return this.generations.serving(entityType, manager);
    const generation = await this.generations.get(generationId, manager);
    if (generation.entityType !== entityType) {
      throw new InvalidMigrationRequestError(`"generationId" ${generationId} is a generation of "${generation.entityType}", not of "${entityType}".`, 'generationId');
    }
    if (!MAINTAINED_GENERATION_STATES.includes(generation.state)) {
      throw new InvalidMigrationRequestError(
        purpose === 'fill'
          ? `"generationId" ${generationId} is ${generation.state}; a job can fill a BUILDING, READY or SERVING generation only (create a new one instead).`
          : `"generationId" ${generationId} is ${generation.state}; a BUILDING, READY or SERVING generation can be verified, not a ${generation.state} one (its vectors are deleted by the maintenance).`,
        'generationId',
      );
    }
    return generation;
  }

  /**
   * Starts a verification job (`kind` VERIFY) of a generation (default: the serving one): it reads the
   * entity table and then the generation's vectors by keyset pages, like a backfill, and counts the rows
   * without a vector (missing), with a vector of other content (stale), the vectors without a row
   * (orphaned) and the entity type's vectors in generations that are not maintained (foreign), listing up
   * to 10,000 of each. With `fix`, missing and stale entities are re-queued at LOW priority owned by the
   * job (at its rate limit) and orphaned vectors deleted; the job completes when the re-queued entities
   * are done. It is an active job of its entity type (one at a time, like backfills) and can be paused,
   * resumed and cancelled. Audited as `verify`. Read the result with {@link getVerifyReport} and
   * {@link getVerifyFindings}.
   */
  async startVerification(request: VerificationRequest): Promise<MigrationJob> {
    if (!request || typeof request !== 'object') {
      throw new InvalidMigrationRequestError('"entityType" is required: the entity type to verify, e.g. "product".');
    }
    const validated = this.validate({
      entityType: request.entityType,
      batchSize: request.batchSize,
      rateLimit: request.rateLimit,
      generationId: request.generationId,
    });
    const fix = validateFix(request.fix);
    const actor = validateActor(request.createdBy, 'createdBy');
    const job = await this.dataSource.transaction(async (manager) => {
      await this.jobs.lockActivations(manager);
      await this.assertCanActivate(manager, validated.entityType);
      const generation = await this.targetGeneration(validated.entityType, validated.generationId, manager, 'verify').catch((error: unknown) => {
        // An id that names no generation is a mistake in the request.
        if (error instanceof GenerationNotFoundError && validated.generationId !== undefined) {
          throw new InvalidMigrationRequestError(
            `"generationId" ${validated.generationId} is not an index generation; list them with GET /api/ai/migration/generations, or leave it out to verify the serving one.`,
            'generationId',
          );
        }
        throw error;
      });
      const total = await this.pages.count(validated.entityType, undefined, manager);
      const now = new Date();
      const created = await this.jobs.create(manager, {
        entityType: validated.entityType,
        generationId: generation.id,
        kind: 'VERIFY',
        verifyFix: fix,
        status: MigrationStatus.RUNNING,
        totalEntities: total,
        batchSize: validated.batchSize,
        rateLimit: validated.rateLimit,
        reindexExisting: false,
        filterConfig: null,
        startedAt: now,
        lastUpdatedAt: now,
        createdBy: actor ?? null,
      });
      await appendAuditEntry(manager, {
        jobId: created.id,
        generationId: generation.id,
        action: MigrationAuditAction.VERIFY,
        actor,
        fromStatus: null,
        toStatus: created.status,
        details: { fix, generationId: generation.id, batchSize: validated.batchSize, rateLimit: validated.rateLimit },
      });
      return created;
    });
    this.wakeup.notify();
    return job;
  }

  /** What a verification job found so far; `done` once both of its passes are over (the counts are then final). */
  async getVerifyReport(jobId: string): Promise<VerifyReport> {
    const job = await this.getVerifyJob(jobId);
    const finished = job.status === MigrationStatus.CANCELLED || job.status === MigrationStatus.FAILED;
    return {
      jobId: job.id,
      status: job.status,
      generationId: job.generationId,
      fix: job.verifyFix,
      sourceRows: job.totalEntities,
      ...(job.generationId !== null ? { vectors: await this.vectorStore.count(job.entityType, job.generationId) } : {}),
      missing: job.missingEntities,
      stale: job.staleEntities,
      orphaned: job.orphanedEntities,
      foreign: job.foreignEntities,
      done: job.producerDone && !finished,
    };
  }

  /**
   * A page of the entities a verification job found (optionally of one `kind`), by kind then entity id:
   * `limit` 1..1000 (default 100), `offset` from 0. At most 10,000 are listed per kind; the report's counts
   * are exact.
   */
  async getVerifyFindings(jobId: string, query: VerifyFindingsQuery = {}): Promise<VerifyFindingsPage> {
    const validated = validateFindingsQuery(query);
    const job = await this.getVerifyJob(jobId);
    return listFindings(this.dataSource.manager, job.id, validated);
  }

  /** A VERIFY job; throws {@link MigrationJobNotFoundError}, or {@link InvalidMigrationRequestError} for a backfill job. */
  private async getVerifyJob(jobId: string): Promise<MigrationJob> {
    const job = await this.getJob(jobId);
    if (job.kind !== 'VERIFY') {
      throw new InvalidMigrationRequestError(
        `Migration job "${jobId}" is a ${job.kind} job, not a verification; start one with startVerification() (POST /api/ai/migration/verify).`,
        'jobId',
      );
    }
    return job;
  }

  /**
   * Throws when another job may not become active: one active job per entity type (also enforced by a
   * partial unique index) and `maxConcurrentJobs` in all. Call under {@link MigrationJobRepository.lockActivations}.
   */
  private async assertCanActivate(manager: EntityManager, entityType: string, exceptJobId?: string): Promise<void> {
    const active = await this.jobs.activeJobs(manager, exceptJobId);
    const same = active.find((j) => j.entityType === entityType);
    if (same) throw new ActiveMigrationExistsError(entityType, same.id);
    if (active.length >= this.options.maxConcurrentJobs) {
      throw new TooManyActiveMigrationsError(this.options.maxConcurrentJobs, active.map((j) => j.id));
    }
  }

  /** The job row, locked for the rest of the transaction; throws {@link MigrationJobNotFoundError}. */
  private async lockJob(jobId: string, manager: EntityManager): Promise<MigrationJob> {
    const job = await this.jobs.lock(jobId, manager);
    if (!job) throw new MigrationJobNotFoundError(jobId);
    return job;
  }

  /** Progress of a job in the spec's shape. */
  async getProgress(jobId: string): Promise<MigrationProgress> {
    const job = await this.getJob(jobId);
    const batches = job.mode === 'batch' ? (await this.batches.summaryOf([jobId])).get(jobId) : undefined;
    return toProgress(job, new Date(), this.progressLimits(), batches);
  }

  /** What bounds a job's rate besides the machine: items per request, and the provider limits of this instance. */
  private progressLimits(): ProgressLimits {
    return {
      itemsPerRequest: this.perRequest(),
      defaultRateLimit: this.options.defaultRateLimit,
      requestsPerMinute: this.coreOptions.rateLimit.requestsPerMinute,
      tokensPerMinute: this.coreOptions.rateLimit.tokensPerMinute,
    };
  }

  /** A job row; throws {@link MigrationJobNotFoundError}. Pass `manager` to read it inside your transaction. */
  async getJob(jobId: string, manager?: EntityManager): Promise<MigrationJob> {
    const job = await this.jobs.find(jobId, manager);
    if (!job) throw new MigrationJobNotFoundError(jobId);
    return job;
  }

  /** Jobs, newest first, optionally by status and entity type, paginated (`limit` default 50, at most 500). */
  async getAllJobs(query: MigrationJobQuery = {}): Promise<MigrationJob[]> {
    return this.jobs.list(validateJobQuery(query));
  }

  /** How many jobs match the query's status and entity type (for pagination). */
  async countJobs(query: Pick<MigrationJobQuery, 'status' | 'entityType'> = {}): Promise<number> {
    return this.jobs.count(validateJobFilter(query));
  }

  /** The job's audit entries (who started, paused, resumed, cancelled, rethrottled or retried it), oldest first. */
  async getAuditLog(jobId: string): Promise<MigrationAuditEntry[]> {
    await this.getJob(jobId);
    return this.dataSource.getRepository(MigrationAuditEntry).find({ where: { jobId }, order: { id: 'ASC' } });
  }

  /**
   * RUNNING → PAUSED: the job's queued items are held back, so no new provider calls are made for it
   * (items already claimed finish). `reason` (at most 500 characters) is kept in `errorMessage` (e.g. an
   * exhausted quota) until the job resumes.
   */
  async pauseMigration(jobId: string, options: MigrationActionOptions & { reason?: string; code?: MigrationPauseReason } = {}): Promise<MigrationJob> {
    const reason = validatePauseReason(options.reason);
    return this.transition(jobId, MigrationAuditAction.PAUSE, { actor: options.actor, reason }, [MigrationStatus.RUNNING], MigrationStatus.PAUSED, async (manager) => {
      await this.queue.holdPending(jobId, manager);
      if (reason) await this.jobs.setErrorMessage(manager, jobId, reason);
      await this.jobs.setPauseReason(manager, jobId, options.code ?? MigrationPauseReason.OPERATOR);
    });
  }

  /**
   * PAUSED → RUNNING: held items are released at the job's rate from now (the first request's worth at
   * once) and the producer continues from its checkpoint. Resuming says the provider is usable again (a
   * job paused for an exhausted quota or an outage): this instance's provider back-off is lifted, so the
   * next request is sent at once and backs off again only if the provider still refuses it.
   */
  async resumeMigration(jobId: string, options: MigrationActionOptions = {}): Promise<MigrationJob> {
    const resumed = await this.transition(jobId, MigrationAuditAction.RESUME, options, [MigrationStatus.PAUSED], MigrationStatus.RUNNING, async (manager) => {
      const job = await this.getJob(jobId, manager);
      await this.jobs.setErrorMessage(manager, jobId, null);
      await this.jobs.setPauseReason(manager, jobId, null);
      await this.jobs.restartRate(manager, jobId);
      await this.releaseItems(manager, jobId, job.rateLimit ?? this.options.defaultRateLimit, job.mode);
    });
    // Committed: the items are runnable; wake this instance's idle workers instead of waiting for their poll.
    this.providers.clearBackOff();
    this.queue.notifyWorkers();
    return resumed;
  }

  /**
   * Changes the job's rate limit (provider requests per minute) while it runs or is paused, like
   * Elasticsearch's `_rethrottle`: its waiting items are re-spaced at once, so the next provider request
   * already follows the new limit.
   */
  async updateRateLimit(jobId: string, rateLimit: number, options: MigrationActionOptions = {}): Promise<MigrationJob> {
    const actor = validateActor(options.actor);
    validateRateLimit(rateLimit);
    const job = await this.dataSource.transaction(async (manager) => {
      // Locked, so a pause cannot commit between the status check and the re-spacing (which would release
      // the paused job's items again).
      const current = await this.lockJob(jobId, manager);
      if (current.status !== MigrationStatus.RUNNING && current.status !== MigrationStatus.PAUSED) {
        throw new InvalidMigrationStateError(jobId, current.status, 'change the rate limit of', [MigrationStatus.RUNNING, MigrationStatus.PAUSED]);
      }
      if (current.mode === 'batch') {
        throw new InvalidMigrationRequestError(
          `"rateLimit" does not apply to migration job ${jobId}: it runs in mode "batch", which the provider paces within its completion window. Cancel it and start a "sync" job to control its rate.`,
          'rateLimit',
        );
      }
      await this.jobs.setRateLimit(manager, jobId, rateLimit);
      if (current.status === MigrationStatus.RUNNING) await this.releaseItems(manager, jobId, rateLimit);
      await appendAuditEntry(manager, {
        jobId,
        action: MigrationAuditAction.RETHROTTLE,
        actor,
        fromStatus: current.status,
        toStatus: current.status,
        details: { from: current.rateLimit, to: rateLimit },
      });
      return this.getJob(jobId, manager);
    });
    this.wakeup.notify();
    return job;
  }

  /**
   * Changes the budget of a job that is not finished: `maxTokens`/`maxCost` set a limit, null removes one, an
   * absent field keeps it. A job paused with BUDGET_EXCEEDED stays paused: resume it once the budget allows
   * the next request (otherwise it pauses again before sending it).
   */
  async updateBudget(jobId: string, update: MigrationBudgetUpdate, options: MigrationActionOptions = {}): Promise<MigrationJob> {
    const actor = validateActor(options.actor);
    const budget = validateBudgetUpdate(update);
    const job = await this.dataSource.transaction(async (manager) => {
      const current = await this.lockJob(jobId, manager);
      if (!ACTIVE_MIGRATION_STATUSES.includes(current.status)) {
        throw new InvalidMigrationStateError(jobId, current.status, 'change the budget of', ACTIVE_MIGRATION_STATUSES);
      }
      await this.jobs.setBudget(manager, jobId, budget);
      await appendAuditEntry(manager, {
        jobId,
        action: MigrationAuditAction.BUDGET,
        actor,
        fromStatus: current.status,
        toStatus: current.status,
        details: {
          from: { maxTokens: current.maxTokens, maxCost: current.maxCost },
          to: { maxTokens: budget.maxTokens === undefined ? current.maxTokens : budget.maxTokens, maxCost: budget.maxCost === undefined ? current.maxCost : budget.maxCost },
        },
      });
      return this.getJob(jobId, manager);
    });
    this.wakeup.notify();
    return job;
  }

  /** PENDING | RUNNING | PAUSED → CANCELLED: the producer stops and pending items are removed; stored vectors stay. */
  async cancelMigration(jobId: string, options: MigrationActionOptions = {}): Promise<MigrationJob> {
    const cancelled = await this.transition(jobId, MigrationAuditAction.CANCEL, options, ACTIVE_MIGRATION_STATUSES, MigrationStatus.CANCELLED, async (manager) => {
      await this.queue.deletePending(jobId, manager);
      await this.jobs.setPauseReason(manager, jobId, null);
    });
    // Committed: a batch job's batches at the provider are cancelled too (what already ran is still applied).
    if (cancelled.mode === 'batch') await this.batches.cancelOwner(jobId);
    return cancelled;
  }

  /**
   * Re-spaces the job's pending items from now at `rateLimit` (after resume or a rethrottle) and resets its
   * rate budget to the end of that schedule, in the caller's transaction.
   */
  private async releaseItems(manager: EntityManager, jobId: string, rateLimit: number, mode: MigrationMode = 'sync'): Promise<void> {
    if (mode === 'batch') {
      // No pacing: the provider's batch queue paces a batch job.
      await this.queue.releasePending(jobId, { groupSize: 1_000_000_000, spacingSeconds: 0 }, manager);
      return;
    }
    const perRequest = this.perRequest();
    const pacing = requestPacing(rateLimit, perRequest);
    const pending = await this.queue.releasePending(jobId, pacing, manager);
    await this.jobs.setNextRelease(manager, jobId, (pending / perRequest) * pacing.spacingSeconds);
  }

  private perRequest(): number {
    return itemsPerRequest(this.provider, this.coreOptions.worker.batchSize);
  }

  private async transition(
    jobId: string,
    action: MigrationAuditAction,
    options: MigrationActionOptions & { reason?: string },
    from: MigrationStatus[],
    to: MigrationStatus,
    effect: (manager: EntityManager) => Promise<void>,
  ): Promise<MigrationJob> {
    const actor = validateActor(options.actor);
    if (!isUuid(jobId)) throw new MigrationJobNotFoundError(jobId);
    const job = await this.dataSource.transaction(async (manager) => {
      const fromStatus = await this.jobs.transition(manager, jobId, from, to);
      if (fromStatus === null) {
        const current = await this.getJob(jobId, manager);
        throw new InvalidMigrationStateError(jobId, current.status, action, from);
      }
      await effect(manager);
      await appendAuditEntry(manager, {
        jobId,
        action,
        actor,
        fromStatus,
        toStatus: to,
        details: options.reason ? { reason: options.reason } : undefined,
      });
      return this.getJob(jobId, manager);
    });
    this.wakeup.notify();
    return job;
  }

  private validate(request: MigrationRequest): ValidatedMigrationRequest {
    return validateMigrationRequest(request, { batchSize: this.options.defaultBatchSize, rateLimit: this.options.defaultRateLimit }, this.requestContext);
  }
}
