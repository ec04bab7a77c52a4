import {
  AI_CORE_RESOLVED_OPTIONS,
  AI_DATA_SOURCE,
  AiEntityRegistry,
  describeEntityIdKind,
  EMBEDDING_PROVIDER,
  EmbeddingService,
  EntityPageReader,
  IndexingQueueService,
  isUuid,
  normalizeEntityId,
  returnedRows,
  type EmbeddingProvider,
  type ResolvedAiCoreOptions,
} from '@ai-infrastructure/core';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { MigrationAuditAction } from '../audit/migration-audit-action.enum';
import { MigrationAuditEntry } from '../audit/migration-audit-entry.entity';
import { appendAuditEntry, type MigrationActionOptions } from '../audit/migration-audit.writer';
import { isIsoDate } from '../job/iso-date';
import { MigrationJob } from '../job/migration-job.entity';
import type { MigrationEstimate, MigrationFailure, MigrationProgress } from '../job/migration-progress.interface';
import type { MigrationFilters, MigrationJobQuery, MigrationRequest } from '../job/migration-request.interface';
import { ACTIVE_MIGRATION_STATUSES, MigrationStatus } from '../job/migration-status.enum';
import { MIGRATION_RESOLVED_OPTIONS } from '../migration.constants';
import {
  ActiveMigrationExistsError,
  InvalidMigrationRequestError,
  InvalidMigrationStateError,
  MigrationJobNotFoundError,
  TooManyActiveMigrationsError,
} from '../migration.errors';
import type { ResolvedMigrationOptions } from '../migration-options.resolver';
import { EntityRepositoryRegistry } from '../registry/entity-repository.registry';
import { MigrationWakeup } from '../runner/migration-wakeup';
import { itemsPerRequest, repacePendingItems } from '../runner/job-pacing';
import { isoDuration, toProgress } from './migration-progress';

/**
 * Starts, watches and controls backfill jobs. Jobs run in the background (the runner of any instance
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
  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(MIGRATION_RESOLVED_OPTIONS) private readonly options: ResolvedMigrationOptions,
    private readonly registry: EntityRepositoryRegistry,
    private readonly pages: EntityPageReader,
    private readonly wakeup: MigrationWakeup,
    private readonly queue: IndexingQueueService,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly coreOptions: ResolvedAiCoreOptions,
    private readonly entities: AiEntityRegistry,
    private readonly embedding: EmbeddingService,
  ) {}

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
    let estimatedTokens = 0;
    for (;;) {
      const rows = await this.pages.readPage(validated.entityType, { afterId, limit: 5000, filters });
      if (rows.length === 0) break;
      for (const row of rows) {
        matching++;
        if (!validated.reindexExisting && row.storedHash === row.hash) wouldSkip++;
        else estimatedTokens += row.tokens;
      }
      afterId = rows[rows.length - 1].entityId;
    }
    const wouldEmbed = matching - wouldSkip;
    // One provider request carries a worker batch (capped by the provider), as the job's pacing assumes.
    const estimatedRequests = Math.ceil(wouldEmbed / itemsPerRequest(this.provider, this.coreOptions));
    return {
      entityType: validated.entityType,
      matching,
      wouldSkip,
      wouldEmbed,
      estimatedTokens,
      estimatedCostUsd: Math.round(((estimatedTokens * this.options.pricePerMillionTokens) / 1_000_000) * 10_000) / 10_000,
      estimatedRequests,
      estimatedDuration: isoDuration((estimatedRequests / validated.rateLimit) * 60),
    };
  }

  /** Entities of the job that were dead-lettered, with their last error. */
  async getFailures(jobId: string): Promise<MigrationFailure[]> {
    await this.getJob(jobId);
    const dead = await this.queue.deadLetters({ owner: jobId, limit: 10_000 });
    return dead.map((d) => ({ entityId: d.entityId, error: d.lastError, attempts: d.attempts, lastAttemptAt: d.updatedAt }));
  }

  /**
   * Gives the job's failed entities (all, or `entityIds`) fresh attempts. A COMPLETED job runs again
   * until they are done; a CANCELLED one cannot be retried. Returns how many were re-queued.
   */
  async retryFailed(jobId: string, entityIds?: string[], options: MigrationActionOptions = {}): Promise<number> {
    const actor = validActor(options.actor);
    if (entityIds !== undefined && (!Array.isArray(entityIds) || entityIds.length === 0 || entityIds.length > 10_000)) {
      throw new InvalidMigrationRequestError('"entityIds" must be a list of 1 to 10000 entity ids, or left out to retry every failure.');
    }
    const retried = await this.dataSource.transaction(async (manager) => {
      // Serialises with starts (a COMPLETED job becomes active again) before the job row is locked, in the
      // same order startMigration takes them; the row lock then holds off pause, resume, cancel and completion.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('ai_migration_jobs.start'))`);
      const job = await this.lockJob(jobId, manager);
      if (entityIds) entityIds = this.normalizeIds(job.entityType, entityIds, 'entityIds');
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
      const n = await this.queue.retryDeadLetters({ owner: jobId, entityIds }, manager);
      if (n === 0) return 0;
      await manager.query(
        `UPDATE ai_migration_jobs
            SET failed_entities = greatest(failed_entities - $2, 0), version = version + 1, last_updated_at = now(),
                status = CASE WHEN status = 'COMPLETED' THEN 'RUNNING' ELSE status END,
                completed_at = CASE WHEN status = 'COMPLETED' THEN NULL ELSE completed_at END
          WHERE id = $1`,
        [jobId, n],
      );
      if (job.status === MigrationStatus.PAUSED) {
        await manager.query(`UPDATE ai_indexing_queue SET run_after = 'infinity' WHERE coalesce(owner, '') = $1 AND status = 'PENDING'`, [jobId]);
      }
      await appendAuditEntry(manager, {
        jobId,
        action: MigrationAuditAction.RETRY_FAILED,
        actor,
        fromStatus: job.status,
        toStatus: job.status === MigrationStatus.COMPLETED ? MigrationStatus.RUNNING : job.status,
        details: { retried: n, ...(entityIds ? { entityIds: entityIds.length } : {}) },
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
    const actor = validActor(request.createdBy, 'createdBy');
    const job = await this.dataSource.transaction(async (manager) => {
      // Serialises starts (and reactivations by retryFailed), so the limits cannot be raced past.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('ai_migration_jobs.start'))`);
      await this.assertCanActivate(manager, validated.entityType);
      const total = await this.pages.count(validated.entityType, toPageFilters(validated.filters), manager);
      const now = new Date();
      const created = await manager.getRepository(MigrationJob).save(
        manager.getRepository(MigrationJob).create({
          entityType: validated.entityType,
          status: MigrationStatus.RUNNING,
          totalEntities: total,
          batchSize: validated.batchSize,
          rateLimit: validated.rateLimit,
          reindexExisting: validated.reindexExisting,
          filterConfig: validated.filters ?? null,
          startedAt: now,
          lastUpdatedAt: now,
          createdBy: request.createdBy ?? null,
        }),
      );
      await appendAuditEntry(manager, {
        jobId: created.id,
        action: MigrationAuditAction.START,
        actor,
        fromStatus: null,
        toStatus: created.status,
        details: { batchSize: validated.batchSize, rateLimit: validated.rateLimit, reindexExisting: validated.reindexExisting, filters: validated.filters ?? null },
      });
      return created;
    });
    this.wakeup.notify();
    return job;
  }

  /**
   * Throws when another job may not become active: one active job per entity type (also enforced by a
   * partial unique index) and `maxConcurrentJobs` in all. Call under the start advisory lock.
   */
  private async assertCanActivate(manager: EntityManager, entityType: string, exceptJobId?: string): Promise<void> {
    const active: Array<{ id: string; entity_type: string }> = await manager.query(
      `SELECT id, entity_type FROM ai_migration_jobs WHERE status = ANY($1) AND ($2::uuid IS NULL OR id <> $2::uuid) ORDER BY started_at`,
      [ACTIVE_MIGRATION_STATUSES, exceptJobId ?? null],
    );
    const same = active.find((j) => j.entity_type === entityType);
    if (same) throw new ActiveMigrationExistsError(entityType, same.id);
    if (active.length >= this.options.maxConcurrentJobs) {
      throw new TooManyActiveMigrationsError(this.options.maxConcurrentJobs, active.map((j) => j.id));
    }
  }

  /** The job row, locked for the rest of the transaction; throws {@link MigrationJobNotFoundError}. */
  private async lockJob(jobId: string, manager: EntityManager): Promise<MigrationJob> {
    const job = isUuid(jobId)
      ? await manager.getRepository(MigrationJob).createQueryBuilder('j').setLock('pessimistic_write').where('j.id = :id', { id: jobId }).getOne()
      : null;
    if (!job) throw new MigrationJobNotFoundError(jobId);
    return job;
  }

  /** Progress of a job in the spec's shape. */
  async getProgress(jobId: string): Promise<MigrationProgress> {
    return toProgress(await this.getJob(jobId));
  }

  /** A job row; throws {@link MigrationJobNotFoundError}. */
  async getJob(jobId: string, manager: EntityManager = this.dataSource.manager): Promise<MigrationJob> {
    const job = isUuid(jobId) ? await manager.getRepository(MigrationJob).findOneBy({ id: jobId }) : null;
    if (!job) throw new MigrationJobNotFoundError(jobId);
    return job;
  }

  /** Jobs, newest first, optionally by status and entity type, paginated. */
  async getAllJobs(query: MigrationJobQuery = {}): Promise<MigrationJob[]> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new InvalidMigrationRequestError(`"limit" is ${limit}; use an integer from 1 to 500.`);
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidMigrationRequestError(`"offset" is ${offset}; use a non-negative integer.`);
    validateStatus(query.status);
    const qb = this.dataSource.getRepository(MigrationJob).createQueryBuilder('j').orderBy('j.startedAt', 'DESC').addOrderBy('j.id', 'DESC');
    if (query.status) qb.andWhere('j.status = :status', { status: query.status });
    if (query.entityType) qb.andWhere('j.entityType = :entityType', { entityType: query.entityType });
    return qb.take(limit).skip(offset).getMany();
  }

  /** How many jobs match the query's status and entity type (for pagination). */
  async countJobs(query: Pick<MigrationJobQuery, 'status' | 'entityType'> = {}): Promise<number> {
    validateStatus(query.status);
    const qb = this.dataSource.getRepository(MigrationJob).createQueryBuilder('j');
    if (query.status) qb.andWhere('j.status = :status', { status: query.status });
    if (query.entityType) qb.andWhere('j.entityType = :entityType', { entityType: query.entityType });
    return qb.getCount();
  }

  /** The job's audit entries (who started, paused, resumed, cancelled, rethrottled or retried it), oldest first. */
  async getAuditLog(jobId: string): Promise<MigrationAuditEntry[]> {
    await this.getJob(jobId);
    return this.dataSource.getRepository(MigrationAuditEntry).find({ where: { jobId }, order: { id: 'ASC' } });
  }

  /**
   * RUNNING → PAUSED: the job's queued items are held back, so no new provider calls are made for it
   * (items already claimed finish). `reason` is kept in `errorMessage` (e.g. an exhausted quota).
   */
  async pauseMigration(jobId: string, options: MigrationActionOptions & { reason?: string } = {}): Promise<MigrationJob> {
    const reason = options.reason;
    return this.transition(jobId, MigrationAuditAction.PAUSE, options, [MigrationStatus.RUNNING], MigrationStatus.PAUSED, async (manager) => {
      await manager.query(`UPDATE ai_indexing_queue SET run_after = 'infinity' WHERE coalesce(owner, '') = $1 AND status = 'PENDING'`, [jobId]);
      if (reason) await manager.query(`UPDATE ai_migration_jobs SET error_message = $2 WHERE id = $1`, [jobId, reason]);
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
      await manager.query(`UPDATE ai_migration_jobs SET error_message = NULL WHERE id = $1`, [jobId]);
      await repacePendingItems(manager, jobId, job.rateLimit ?? this.options.defaultRateLimit, itemsPerRequest(this.provider, this.coreOptions));
    });
    // Committed: the items are runnable; wake this instance's idle workers instead of waiting for their poll.
    this.embedding.clearBackOff();
    this.queue.notifyWorkers();
    return resumed;
  }

  /**
   * Changes the job's rate limit (provider requests per minute) while it runs or is paused, like
   * Elasticsearch's `_rethrottle`: its waiting items are re-spaced at once, so the next provider request
   * already follows the new limit.
   */
  async updateRateLimit(jobId: string, rateLimit: number, options: MigrationActionOptions = {}): Promise<MigrationJob> {
    const actor = validActor(options.actor);
    if (!Number.isInteger(rateLimit) || rateLimit < 1 || rateLimit > 1_000_000) {
      throw new InvalidMigrationRequestError(`"rateLimit" is ${JSON.stringify(rateLimit)}; use an integer number of requests per minute from 1 to 1000000.`);
    }
    const job = await this.dataSource.transaction(async (manager) => {
      // Locked, so a pause cannot commit between the status check and the re-spacing (which would release
      // the paused job's items again).
      const current = await this.lockJob(jobId, manager);
      if (current.status !== MigrationStatus.RUNNING && current.status !== MigrationStatus.PAUSED) {
        throw new InvalidMigrationStateError(jobId, current.status, 'change the rate limit of', [MigrationStatus.RUNNING, MigrationStatus.PAUSED]);
      }
      await manager.query(`UPDATE ai_migration_jobs SET rate_limit = $2, version = version + 1, last_updated_at = now() WHERE id = $1`, [jobId, rateLimit]);
      if (current.status === MigrationStatus.RUNNING) {
        await repacePendingItems(manager, jobId, rateLimit, itemsPerRequest(this.provider, this.coreOptions));
      }
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

  /** PENDING | RUNNING | PAUSED → CANCELLED: the producer stops and pending items are removed; stored vectors stay. */
  async cancelMigration(jobId: string, options: MigrationActionOptions = {}): Promise<MigrationJob> {
    return this.transition(
      jobId,
      MigrationAuditAction.CANCEL,
      options,
      ACTIVE_MIGRATION_STATUSES,
      MigrationStatus.CANCELLED,
      async (manager) => {
        await manager.query(`DELETE FROM ai_indexing_queue WHERE coalesce(owner, '') = $1 AND status = 'PENDING'`, [jobId]);
      },
    );
  }

  private async transition(
    jobId: string,
    action: MigrationAuditAction,
    options: MigrationActionOptions & { reason?: string },
    from: MigrationStatus[],
    to: MigrationStatus,
    effect: (manager: EntityManager) => Promise<void>,
  ): Promise<MigrationJob> {
    const actor = validActor(options.actor);
    if (!isUuid(jobId)) throw new MigrationJobNotFoundError(jobId);
    const job = await this.dataSource.transaction(async (manager) => {
      const terminal = to === MigrationStatus.CANCELLED;
      // The old status comes from the locked row the UPDATE replaced, so the audit entry cannot be raced.
      const rows: unknown = await manager.query(
        `UPDATE ai_migration_jobs j
            SET status = $2, version = j.version + 1, last_updated_at = now()
                ${terminal ? ', completed_at = now(), lease_owner = NULL, lease_expires_at = NULL' : ''}
           FROM (SELECT id, status FROM ai_migration_jobs WHERE id = $1 FOR UPDATE) old
          WHERE j.id = old.id AND old.status = ANY($3) RETURNING old.status AS from_status`,
        [jobId, to, from],
      );
      const [changed] = returnedRows<{ from_status: string }>(rows);
      if (!changed) {
        const current = await this.getJob(jobId, manager);
        throw new InvalidMigrationStateError(jobId, current.status, action, from);
      }
      await effect(manager);
      await appendAuditEntry(manager, {
        jobId,
        action,
        actor,
        fromStatus: changed.from_status,
        toStatus: to,
        details: options.reason ? { reason: options.reason } : undefined,
      });
      return this.getJob(jobId, manager);
    });
    this.wakeup.notify();
    return job;
  }

  /** Ids in the primary key's canonical text form; a value that is not a valid key is a request error, not a SQL error. */
  private normalizeIds(entityType: string, ids: unknown[], field: string): string[] {
    const descriptor = this.entities.find(entityType);
    return ids.map((raw, index) => {
      const id = typeof raw === 'string' || typeof raw === 'number' ? normalizeEntityId(descriptor ?? { idKind: 'text' }, String(raw)) : undefined;
      if (id === undefined || id.length === 0 || id.length > 255) {
        const kind = descriptor ? describeEntityIdKind(descriptor.idKind) : 'a text';
        throw new InvalidMigrationRequestError(
          `"${field}[${index}]" is ${JSON.stringify(raw)?.slice(0, 100)}; ids of "${entityType}" are ${kind} (the entity's primary key).`,
        );
      }
      return id;
    });
  }

  private validate(request: MigrationRequest) {
    if (!request || typeof request.entityType !== 'string') {
      throw new InvalidMigrationRequestError('"entityType" is required: the entity type to migrate, e.g. "product".');
    }
    this.registry.getRegistration(request.entityType);
    const batchSize = request.batchSize ?? this.options.defaultBatchSize;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) {
      throw new InvalidMigrationRequestError(`"batchSize" is ${JSON.stringify(request.batchSize)}; use an integer from 1 to 5000.`);
    }
    const rateLimit = request.rateLimit ?? this.options.defaultRateLimit;
    if (!Number.isInteger(rateLimit) || rateLimit < 1 || rateLimit > 1_000_000) {
      throw new InvalidMigrationRequestError(`"rateLimit" is ${JSON.stringify(request.rateLimit)}; use an integer number of requests per minute from 1 to 1000000.`);
    }
    if (request.reindexExisting !== undefined && typeof request.reindexExisting !== 'boolean') {
      throw new InvalidMigrationRequestError(`"reindexExisting" is ${JSON.stringify(request.reindexExisting)}; use true or false.`);
    }
    const filters = request.filters ? { ...request.filters } : undefined;
    if (filters) {
      for (const key of ['createdBefore', 'createdAfter'] as const) {
        if (filters[key] !== undefined && !isIsoDate(filters[key])) {
          throw new InvalidMigrationRequestError(`"filters.${key}" is ${JSON.stringify(filters[key])}; use an ISO-8601 date such as "2024-01-01".`);
        }
      }
      if (filters.ids !== undefined && (!Array.isArray(filters.ids) || filters.ids.length === 0 || filters.ids.length > 10_000)) {
        throw new InvalidMigrationRequestError('"filters.ids" must be a list of 1 to 10000 entity ids.');
      }
      if (filters.ids !== undefined) filters.ids = this.normalizeIds(request.entityType, filters.ids, 'filters.ids');
      if ((filters.createdBefore || filters.createdAfter) && !this.pages.hasCreatedDate(request.entityType)) {
        throw new InvalidMigrationRequestError(
          `"filters.createdBefore/createdAfter" need a @CreateDateColumn on the entity of "${request.entityType}"; filter by ids instead.`,
        );
      }
    }
    return { entityType: request.entityType, batchSize, rateLimit, reindexExisting: request.reindexExisting ?? false, filters };
  }
}

function validateStatus(status: string | undefined): void {
  if (status !== undefined && !Object.values(MigrationStatus).includes(status as MigrationStatus)) {
    throw new InvalidMigrationRequestError(`"status" is "${status}"; use one of ${Object.values(MigrationStatus).join(', ')}.`);
  }
}

/** The actor to record; bounded so it fits the audit and job columns. */
function validActor(actor: unknown, field = 'actor'): string | undefined {
  if (actor === undefined || actor === null) return undefined;
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > 255) {
    throw new InvalidMigrationRequestError(`"${field}" is ${JSON.stringify(actor)}; use a name of 1 to 255 characters.`);
  }
  return actor;
}

/** The job's stored filters as page-reader filters. */
export function toPageFilters(filters: MigrationFilters | null | undefined) {
  if (!filters) return undefined;
  return {
    createdBefore: filters.createdBefore ? new Date(filters.createdBefore) : undefined,
    createdAfter: filters.createdAfter ? new Date(filters.createdAfter) : undefined,
    ids: filters.ids,
  };
}
