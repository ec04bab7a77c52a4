import type { EmbeddingUsage } from '@ai-infrastructure/core';
import type { MigrationPauseReason } from './migration-pause-reason.enum';
import { type IndexingInsertGate } from '@ai-infrastructure/core';
import { AI_DATA_SOURCE } from '@ai-infrastructure/core/internal';
import { isUuid, returnedRows } from '@ai-infrastructure/core/internal';
import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { MigrationJobEvents } from './migration-job.events';
import { MigrationJob, type MigrationJobKind } from './migration-job.entity';
import type { MigrationFilters, MigrationJobQuery, MigrationMode } from './migration-request.interface';
import { ACTIVE_MIGRATION_STATUSES, MigrationStatus } from './migration-status.enum';

/** A job whose producer lease an instance holds, as the producer needs it. */
export interface LeasedJob {
  id: string;
  entityType: string;
  /** The generation the job fills or verifies; null for jobs from before generations (the serving one). */
  generationId: number | null;
  kind: MigrationJobKind;
  verifyFix: boolean;
  vectorCheckpoint: string | null;
  checkpoint: string | null;
  batchSize: number;
  reindexExisting: boolean;
  filterConfig: MigrationFilters | null;
  startedAt: number;
  mode: MigrationMode;
}

/** A job that {@link MigrationJobRepository.complete} completed. */
export interface CompletedJob {
  id: string;
  kind: MigrationJobKind;
  generationId: number | null;
  /** It covered the whole table (no filters): a generation it filled is then loaded. */
  wholeTable: boolean;
}

/** A page's move of a job's checkpoint, fenced by the lease and the checkpoint the page was read from. */
export interface CheckpointMove {
  jobId: string;
  /** The instance holding the producer lease. */
  instanceId: string;
  /** The checkpoint the page was read from (null for the first page). */
  from: string | null;
  /** The page's last key. */
  to: string;
  /** Rows of the page already up to date. */
  skipped: number;
  /** Rows of the page handed to the queue. */
  enqueued: number;
  leaseMs: number;
  /** Items per provider request (see job pacing). */
  perRequest: number;
  /** The rate limit of a job that has none. */
  defaultRateLimit: number;
}

/** A verification's rows-pass page move: the backfill's move plus what the page found. */
export interface VerifyRowsMove extends CheckpointMove {
  /** Rows of the page without a vector in the generation. */
  missing: number;
  /** Rows of the page whose vector holds another content hash. */
  stale: number;
}

/** A verification's vectors-pass page move, fenced by the lease and the vector checkpoint it was read from. */
export interface VerifyVectorsMove {
  jobId: string;
  instanceId: string;
  /** The vector checkpoint the page was read from ({@link VECTOR_PASS_START} for the first page). */
  from: string;
  /** The page's last entity id. */
  to: string;
  /** Orphaned vectors of the page. */
  orphaned: number;
  leaseMs: number;
}

/** When a moved page's items become runnable: the first request's worth at `releaseAt`, then one every `spacingSeconds`. */
export interface PageRelease {
  releaseAt: Date;
  spacingSeconds: number;
}

/** Counts of the workers' outcomes for one job, added in the workers' transaction. */
export interface JobOutcomeCounts {
  processed: number;
  skipped: number;
  failed: number;
}

/**
 * The fence of a page's write: the job must still be RUNNING, leased by this instance ($2) and at the
 * checkpoint the page was read from ($3); pause, cancel and takeover stop the page here.
 */
const PAGE_FENCE = `id = $1 AND status = 'RUNNING' AND lease_owner = $2 AND NOT producer_done AND checkpoint IS NOT DISTINCT FROM $3::text`;

/**
 * Fence, checkpoint and pacing of a page. The page becomes runnable when the job's rate budget allows
 * (see job pacing): one request's worth of items at a time, spaced by the job's rate, read under the job
 * row's lock, so a rethrottle committed before the statement applies to this page.
 * The page's rows are counted as scanned, and the total is raised to the scanned rows when they are more
 * (rows created during the job past the checkpoint), in the statement that enqueues them: every item a
 * worker can count is covered by the total before it can be claimed, so processed + skipped + failed never
 * exceeds the total.
 * Returns, as the queue's insert gate expects, when the page's first request's worth of items is released
 * (`release_at`) and the seconds between two requests (`spacing_secs`).
 * Parameters: $1 job, $2 instance, $3 checkpoint read from, $4 new checkpoint, $5 skipped, $6 enqueued,
 * $7 lease ms, $8 items per request, $9 default rate limit.
 */
/**
 * Time constant of a job's recent rate (`rate_done`), in seconds: long enough to smooth a job whose
 * requests finish in bursts (one every 30 s at 2 requests per minute), short enough to follow a rethrottle
 * within a few minutes. Must match RATE_TIME_CONSTANT_S of the progress view.
 */
export const RATE_TIME_CONSTANT_S = 120;

/** Adds `count` finished entities to the job's decaying recent count (see MigrationJob.rateDone). */
function rateSet(count: string): string {
  return `rate_done = rate_done * exp(-greatest(0, extract(epoch FROM now() - coalesce(rate_at, now()))::float8) / ${RATE_TIME_CONSTANT_S}) + ${count},
        rate_at = now(), rate_since = coalesce(rate_since, started_at, now())`;
}

const MOVE_SET = `${rateSet('$5')},
        checkpoint = $4, skipped_entities = skipped_entities + $5, enqueued_entities = enqueued_entities + $6,
        scanned_entities = scanned_entities + $5 + $6,
        total_entities = greatest(total_entities, scanned_entities + $5 + $6),
        lease_expires_at = now() + make_interval(secs => $7::float8 / 1000), last_updated_at = now(),
        next_release_at = greatest(coalesce(next_release_at, now()), now())
          + make_interval(secs => $6::float8 / $8::float8 * 60 / coalesce(rate_limit, $9::int))`;
const MOVE_RETURNING = `next_release_at - make_interval(secs => $6::float8 / $8::float8 * 60 / coalesce(rate_limit, $9::int)) AS release_at,
           60::float8 / coalesce(rate_limit, $9::int) AS spacing_secs`;
const MOVE_CHECKPOINT = `UPDATE ai_migration_jobs
    SET ${MOVE_SET}
  WHERE ${PAGE_FENCE}
 RETURNING ${MOVE_RETURNING}`;

/**
 * A verification's rows-pass page: the backfill's move (rows not re-queued count as skipped, the fixes
 * as enqueued and paced by the rate limit), plus the page's missing ($10) and stale ($11) rows, behind
 * the same fence and only while the rows pass lasts. Returns the counters as they were before the page,
 * so the caller knows how many findings the cap still lets it record.
 */
const MOVE_VERIFY_CHECKPOINT = `UPDATE ai_migration_jobs
    SET ${MOVE_SET}, missing_entities = missing_entities + $10, stale_entities = stale_entities + $11
  WHERE ${PAGE_FENCE} AND kind = 'VERIFY' AND vector_checkpoint IS NULL
 RETURNING ${MOVE_RETURNING}, missing_entities - $10 AS missing_before, stale_entities - $11 AS stale_before`;

/**
 * The fence of a verification's vectors-pass page: RUNNING, leased by this instance ($2), and at the vector
 * checkpoint the page was read from ($3; the empty text before the first vector page).
 */
const VECTOR_PAGE_FENCE = `id = $1 AND status = 'RUNNING' AND lease_owner = $2 AND NOT producer_done AND kind = 'VERIFY'
    AND vector_checkpoint IS NOT DISTINCT FROM $3::text`;

/** The vector checkpoint of a verification whose rows pass is over and whose vectors pass has read nothing yet. */
export const VECTOR_PASS_START = '';

/**
 * Every statement on `ai_migration_jobs`: the job rows' state changes (each one conditional UPDATE), the
 * producer's lease, checkpoint and pacing, and the counters. Methods that take an `EntityManager` run in
 * the caller's transaction; the others run on their own.
 */
@Injectable()
export class MigrationJobRepository {
  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly events: MigrationJobEvents,
  ) {}

  // ---- reading ----

  /** The job, or null when no job has this id (a text that is not a uuid included). */
  async find(jobId: string, manager: EntityManager = this.dataSource.manager): Promise<MigrationJob | null> {
    return isUuid(jobId) ? manager.getRepository(MigrationJob).findOneBy({ id: jobId }) : null;
  }

  /** The job row, locked for the rest of the caller's transaction; null when it does not exist. */
  async lock(jobId: string, manager: EntityManager): Promise<MigrationJob | null> {
    if (!isUuid(jobId)) return null;
    return manager.getRepository(MigrationJob).createQueryBuilder('j').setLock('pessimistic_write').where('j.id = :id', { id: jobId }).getOne();
  }

  /** Jobs, newest first, by status and entity type, paginated. */
  async list(query: Required<Pick<MigrationJobQuery, 'limit' | 'offset'>> & Pick<MigrationJobQuery, 'status' | 'entityType'>): Promise<MigrationJob[]> {
    const qb = this.dataSource.getRepository(MigrationJob).createQueryBuilder('j').orderBy('j.startedAt', 'DESC').addOrderBy('j.id', 'DESC');
    if (query.status) qb.andWhere('j.status = :status', { status: query.status });
    if (query.entityType) qb.andWhere('j.entityType = :entityType', { entityType: query.entityType });
    return qb.take(query.limit).skip(query.offset).getMany();
  }

  /** How many jobs have this status and entity type. */
  async count(query: Pick<MigrationJobQuery, 'status' | 'entityType'>): Promise<number> {
    const qb = this.dataSource.getRepository(MigrationJob).createQueryBuilder('j');
    if (query.status) qb.andWhere('j.status = :status', { status: query.status });
    if (query.entityType) qb.andWhere('j.entityType = :entityType', { entityType: query.entityType });
    return qb.getCount();
  }

  // ---- operator actions ----

  /**
   * Serialises the transactions that make a job active (starts, and retries of a COMPLETED job) until the
   * caller's transaction ends, so the limits on active jobs cannot be raced past. Take it before any job
   * row lock.
   */
  async lockActivations(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('ai_migration_jobs.start'))`);
  }

  /** The active jobs (PENDING, RUNNING, PAUSED), oldest first, optionally but one. */
  async activeJobs(manager: EntityManager, exceptJobId?: string): Promise<Array<{ id: string; entityType: string }>> {
    const rows: Array<{ id: string; entity_type: string }> = await manager.query(
      `SELECT id, entity_type FROM ai_migration_jobs WHERE status = ANY($1) AND ($2::uuid IS NULL OR id <> $2::uuid) ORDER BY started_at`,
      [ACTIVE_MIGRATION_STATUSES, exceptJobId ?? null],
    );
    return rows.map((r) => ({ id: r.id, entityType: r.entity_type }));
  }

  /** Inserts a new job row. */
  async create(manager: EntityManager, fields: Partial<MigrationJob>): Promise<MigrationJob> {
    const repository = manager.getRepository(MigrationJob);
    const job = await repository.save(repository.create(fields));
    this.events.emit({ jobId: job.id, from: null, to: job.status });
    return job;
  }

  /**
   * Moves the job from one of `from` to `to` in one conditional UPDATE under the row's lock (a terminal
   * `to` also ends it and gives up its lease). Returns the status it came from, or null when it was in
   * none of `from` (nothing changed).
   */
  async transition(manager: EntityManager, jobId: string, from: MigrationStatus[], to: MigrationStatus): Promise<MigrationStatus | null> {
    const terminal = to === MigrationStatus.CANCELLED || to === MigrationStatus.FAILED;
    // The old status comes from the locked row the UPDATE replaced, so the caller's audit entry cannot be raced.
    const rows: unknown = await manager.query(
      `UPDATE ai_migration_jobs j
          SET status = $2, version = j.version + 1, last_updated_at = now()
              ${terminal ? ', completed_at = now(), lease_owner = NULL, lease_expires_at = NULL' : ''}
         FROM (SELECT id, status FROM ai_migration_jobs WHERE id = $1 FOR UPDATE) old
        WHERE j.id = old.id AND old.status = ANY($3) RETURNING old.status AS from_status`,
      [jobId, to, from],
    );
    const [changed] = returnedRows<{ from_status: MigrationStatus }>(rows);
    if (changed) this.events.emit({ jobId, from: changed.from_status, to });
    return changed?.from_status ?? null;
  }

  /** Sets (or clears, with null) the message shown with the job, e.g. why it is paused. */
  async setErrorMessage(manager: EntityManager, jobId: string, message: string | null): Promise<void> {
    await manager.query(`UPDATE ai_migration_jobs SET error_message = $2 WHERE id = $1`, [jobId, message]);
  }

  /**
   * Adds provider usage (and its cost) to the job, in the worker's transaction that recorded the items it
   * paid for.
   */
  async addUsage(manager: EntityManager, jobId: string, usage: EmbeddingUsage, cost: number): Promise<void> {
    await manager.query(
      `UPDATE ai_migration_jobs
          SET provider_requests = provider_requests + $2, failed_requests = failed_requests + $3,
              tokens_used = tokens_used + $4, estimated_tokens = estimated_tokens + $5, cost_used = cost_used + $6,
              last_updated_at = now()
        WHERE id = $1`,
      [jobId, usage.requests, usage.failedRequests, usage.tokens, usage.estimatedTokens, cost],
    );
  }

  /** Usage so far and budgets of these jobs (those that exist), for the workers' budget check. */
  async budgetsOf(jobIds: string[], manager?: EntityManager): Promise<Array<{ id: string; tokensUsed: number; costUsed: number; maxTokens: number | null; maxCost: number | null }>> {
    const rows: Array<{ id: string; tokens_used: number; cost_used: number; max_tokens: string | null; max_cost: number | null }> = await (
      manager ?? this.dataSource.manager
    ).query(`SELECT id, tokens_used, cost_used, max_tokens, max_cost FROM ai_migration_jobs WHERE id = ANY($1::uuid[])`, [jobIds]);
    return rows.map((r) => ({
      id: r.id,
      tokensUsed: Number(r.tokens_used),
      costUsed: Number(r.cost_used),
      maxTokens: r.max_tokens === null ? null : Number(r.max_tokens),
      maxCost: r.max_cost === null ? null : Number(r.max_cost),
    }));
  }

  /** Sets the job's budget; an undefined field keeps its value, null removes the limit. */
  async setBudget(manager: EntityManager, jobId: string, budget: { maxTokens?: number | null; maxCost?: number | null }): Promise<void> {
    await manager.query(
      `UPDATE ai_migration_jobs
          SET max_tokens = CASE WHEN $2 THEN $3::bigint ELSE max_tokens END,
              max_cost = CASE WHEN $4 THEN $5::float8 ELSE max_cost END,
              version = version + 1, last_updated_at = now()
        WHERE id = $1`,
      [jobId, budget.maxTokens !== undefined, budget.maxTokens ?? null, budget.maxCost !== undefined, budget.maxCost ?? null],
    );
  }

  /**
   * Entities per second the last completed backfill of `entityType` embedded (processed + failed over its
   * run), when it embedded at least 100 (fewer say little about the machine); null otherwise.
   */
  async lastBackfillRate(entityType: string): Promise<number | null> {
    const [row]: Array<{ rate: number | null }> = await this.dataSource.query(
      `SELECT (processed_entities + failed_entities) / greatest(extract(epoch FROM completed_at - started_at)::float8, 0.001) AS rate
         FROM ai_migration_jobs
        WHERE entity_type = $1 AND kind = 'BACKFILL' AND status = 'COMPLETED' AND processed_entities + failed_entities >= 100
          AND started_at IS NOT NULL AND completed_at IS NOT NULL
        ORDER BY completed_at DESC LIMIT 1`,
      [entityType],
    );
    return row?.rate === undefined || row.rate === null ? null : Number(row.rate);
  }

  /** Starts measuring the job's recent rate afresh (a resume: the paused time is not a rate). */
  async restartRate(manager: EntityManager, jobId: string): Promise<void> {
    await manager.query(`UPDATE ai_migration_jobs SET rate_done = 0, rate_at = now(), rate_since = now() WHERE id = $1`, [jobId]);
  }

  /** Sets (or clears) why the job is paused. */
  async setPauseReason(manager: EntityManager, jobId: string, reason: MigrationPauseReason | null): Promise<void> {
    await manager.query(`UPDATE ai_migration_jobs SET pause_reason = $2 WHERE id = $1`, [jobId, reason]);
  }

  /** Sets the job's rate limit (provider requests per minute). */
  async setRateLimit(manager: EntityManager, jobId: string, rateLimit: number): Promise<void> {
    await manager.query(`UPDATE ai_migration_jobs SET rate_limit = $2, version = version + 1, last_updated_at = now() WHERE id = $1`, [jobId, rateLimit]);
  }

  /** Resets the job's rate budget: its next page is released `seconds` from now (after its waiting items). */
  async setNextRelease(manager: EntityManager, jobId: string, seconds: number): Promise<void> {
    await manager.query(`UPDATE ai_migration_jobs SET next_release_at = now() + make_interval(secs => $2::float8) WHERE id = $1::uuid`, [jobId, seconds]);
  }

  /**
   * Takes `retried` failures back from the job's counters; a COMPLETED job becomes RUNNING again until they
   * are done.
   */
  async reopenForRetry(manager: EntityManager, jobId: string, retried: number): Promise<void> {
    const rows: unknown = await manager.query(
      `UPDATE ai_migration_jobs j
          SET failed_entities = greatest(j.failed_entities - $2, 0), version = j.version + 1, last_updated_at = now(),
              status = CASE WHEN old.status = 'COMPLETED' THEN 'RUNNING' ELSE old.status END,
              completed_at = CASE WHEN old.status = 'COMPLETED' THEN NULL ELSE j.completed_at END
         FROM (SELECT id, status FROM ai_migration_jobs WHERE id = $1 FOR UPDATE) old
        WHERE j.id = old.id RETURNING old.status AS from_status`,
      [jobId, retried],
    );
    const [row] = returnedRows<{ from_status: MigrationStatus }>(rows);
    if (row?.from_status === MigrationStatus.COMPLETED) this.events.emit({ jobId, from: MigrationStatus.COMPLETED, to: MigrationStatus.RUNNING });
  }

  // ---- the producer ----

  /**
   * Takes (or renews) the leases of up to `limit` RUNNING jobs with pages left whose lease is free, expired
   * or `instanceId`'s, oldest first.
   */
  async lease(instanceId: string, leaseMs: number, limit: number): Promise<LeasedJob[]> {
    const rows = await this.dataSource.query(
      `UPDATE ai_migration_jobs j
          SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2::float8 / 1000)
        WHERE j.id IN (SELECT id FROM ai_migration_jobs
                        WHERE status = 'RUNNING' AND NOT producer_done
                          AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at < now())
                        ORDER BY started_at
                        LIMIT $3
                        FOR UPDATE SKIP LOCKED)
        RETURNING j.id::text AS id, j.entity_type, j.checkpoint, j.batch_size, j.reindex_existing, j.mode, j.filter_config, j.started_at,
                  j.generation_id, j.kind, j.verify_fix, j.vector_checkpoint`,
      [instanceId, leaseMs, limit],
    );
    return returnedRows<Record<string, unknown>>(rows)
      .map((r) => ({
        id: r.id as string,
        entityType: r.entity_type as string,
        generationId: (r.generation_id as number | null) ?? null,
        kind: r.kind as MigrationJobKind,
        verifyFix: r.verify_fix === true,
        vectorCheckpoint: r.vector_checkpoint as string | null,
        checkpoint: r.checkpoint as string | null,
        batchSize: Number(r.batch_size),
        reindexExisting: r.reindex_existing === true,
        mode: (r.mode === 'batch' ? 'batch' : 'sync') as MigrationMode,
        filterConfig: r.filter_config as MigrationFilters | null,
        startedAt: new Date(r.started_at as string).getTime(),
      }))
      .sort((a, b) => a.startedAt - b.startedAt);
  }

  /** Gives up `instanceId`'s producer leases, so another instance can take over at once. */
  async releaseLeases(instanceId: string): Promise<void> {
    await this.dataSource.query(`UPDATE ai_migration_jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1`, [instanceId]);
  }

  /**
   * The page's checkpoint move as the gate of the queue's single-statement insert
   * (`IndexingQueueService.enqueueNew`): the items go in only when the move passes its fence, in the
   * statement that moves it, with the release times it computes.
   */
  checkpointGate(move: CheckpointMove): IndexingInsertGate {
    return { sql: MOVE_CHECKPOINT, params: moveParams(move) };
  }

  /** Moves the checkpoint in the caller's transaction (locking the job row until it ends); null when the fence stopped it. */
  async moveCheckpoint(manager: EntityManager, move: CheckpointMove): Promise<PageRelease | null> {
    const [moved] = returnedRows<{ release_at: Date | string; spacing_secs: number }>(await manager.query(MOVE_CHECKPOINT, moveParams(move)));
    return moved ? { releaseAt: new Date(moved.release_at), spacingSeconds: Number(moved.spacing_secs) } : null;
  }

  /** Records that the producer read the last page (behind the same fence); false when the fence stopped it. */
  async markProducerDone(manager: EntityManager, jobId: string, instanceId: string, checkpoint: string | null): Promise<boolean> {
    const done = await manager.query(
      `UPDATE ai_migration_jobs SET producer_done = true, last_updated_at = now(), version = version + 1 WHERE ${PAGE_FENCE} RETURNING id`,
      [jobId, instanceId, checkpoint],
    );
    return returnedRows(done).length > 0;
  }

  // ---- the producer of a verification ----

  /**
   * Moves a verification's rows-pass checkpoint and adds the page's counts, in the caller's transaction
   * (locking the job row until it ends); null when the fence stopped it. `missingBefore` / `staleBefore`
   * are the counters before this page.
   */
  async moveVerifyCheckpoint(manager: EntityManager, move: VerifyRowsMove): Promise<(PageRelease & { missingBefore: number; staleBefore: number }) | null> {
    const [moved] = returnedRows<{ release_at: Date | string; spacing_secs: number; missing_before: string; stale_before: string }>(
      await manager.query(MOVE_VERIFY_CHECKPOINT, [...moveParams(move), move.missing, move.stale]),
    );
    if (!moved) return null;
    return {
      releaseAt: new Date(moved.release_at),
      spacingSeconds: Number(moved.spacing_secs),
      missingBefore: Number(moved.missing_before),
      staleBefore: Number(moved.stale_before),
    };
  }

  /**
   * Ends a verification's rows pass (it read its last page from `checkpoint`): its vectors pass starts at
   * {@link VECTOR_PASS_START}. Behind the rows-pass fence; false when the fence stopped it.
   */
  async startVectorPass(manager: EntityManager, jobId: string, instanceId: string, checkpoint: string | null, leaseMs: number): Promise<boolean> {
    const moved = await manager.query(
      `UPDATE ai_migration_jobs
          SET vector_checkpoint = '${VECTOR_PASS_START}', last_updated_at = now(), lease_expires_at = now() + make_interval(secs => $4::float8 / 1000)
        WHERE ${PAGE_FENCE} AND kind = 'VERIFY' AND vector_checkpoint IS NULL RETURNING id`,
      [jobId, instanceId, checkpoint, leaseMs],
    );
    return returnedRows(moved).length > 0;
  }

  /**
   * Moves a verification's vector checkpoint and adds the page's orphans, in the caller's transaction; the
   * orphan counter before this page, or null when the fence stopped it.
   */
  async moveVectorCheckpoint(manager: EntityManager, move: VerifyVectorsMove): Promise<{ orphanedBefore: number } | null> {
    const [moved] = returnedRows<{ orphaned_before: string }>(
      await manager.query(
        `UPDATE ai_migration_jobs
            SET vector_checkpoint = $4, orphaned_entities = orphaned_entities + $5, last_updated_at = now(),
                lease_expires_at = now() + make_interval(secs => $6::float8 / 1000)
          WHERE ${VECTOR_PAGE_FENCE}
         RETURNING orphaned_entities - $5 AS orphaned_before`,
        [move.jobId, move.instanceId, move.from, move.to, move.orphaned, move.leaseMs],
      ),
    );
    return moved ? { orphanedBefore: Number(moved.orphaned_before) } : null;
  }

  /**
   * Records that a verification read its last vector page (from `vectorCheckpoint`), with the count of
   * foreign vectors; behind the vectors-pass fence. False when the fence stopped it.
   */
  async markVerifyDone(manager: EntityManager, jobId: string, instanceId: string, vectorCheckpoint: string, foreign: number): Promise<boolean> {
    const done = await manager.query(
      `UPDATE ai_migration_jobs SET producer_done = true, foreign_entities = $4, last_updated_at = now(), version = version + 1
        WHERE ${VECTOR_PAGE_FENCE} RETURNING id`,
      [jobId, instanceId, vectorCheckpoint, foreign],
    );
    return returnedRows(done).length > 0;
  }

  // ---- completion, counting, cleanup ----

  /** Whether any RUNNING job has read its last page (a plain read: the common answer is no). */
  async anyProducerDone(): Promise<boolean> {
    const [row] = await this.dataSource.query(`SELECT 1 FROM ai_migration_jobs WHERE status = 'RUNNING' AND producer_done LIMIT 1`);
    return Boolean(row);
  }

  /** Locks the RUNNING jobs that have read their last page and are not locked by another transaction; returns their ids. */
  async lockProducerDone(manager: EntityManager): Promise<string[]> {
    return returnedRows<{ id: string }>(
      await manager.query(`SELECT id::text AS id FROM ai_migration_jobs WHERE status = 'RUNNING' AND producer_done FOR UPDATE SKIP LOCKED`),
    ).map((row) => row.id);
  }

  /**
   * Completes these RUNNING jobs. Their total becomes what they covered, processed + skipped + failed:
   * every row the producer read has its outcome by then, and rows deleted before the producer reached
   * them no longer count. A verification counts the same way (the rows it did not re-queue as skipped,
   * its fixes by their outcomes), so its total ends at the rows it read and its progress at 100 %.
   */
  async complete(manager: EntityManager, jobIds: string[]): Promise<CompletedJob[]> {
    if (jobIds.length === 0) return [];
    const rows = await manager.query(
      `UPDATE ai_migration_jobs
          SET status = 'COMPLETED', completed_at = now(), last_updated_at = now(), version = version + 1,
              lease_owner = NULL, lease_expires_at = NULL,
              total_entities = processed_entities + skipped_entities + failed_entities
        WHERE id = ANY($1::uuid[]) AND status = 'RUNNING'
        RETURNING id::text AS id, kind, generation_id, filter_config`,
      [jobIds],
    );
    const completed = returnedRows<Record<string, unknown>>(rows);
    for (const r of completed) this.events.emit({ jobId: r.id as string, from: MigrationStatus.RUNNING, to: MigrationStatus.COMPLETED });
    return completed.map((r) => ({
      id: r.id as string,
      kind: r.kind as MigrationJobKind,
      generationId: (r.generation_id as number | null) ?? null,
      wholeTable: r.filter_config === null,
    }));
  }

  /** The generation each of these jobs targets (jobs without one are absent). */
  async generationsOf(jobIds: string[]): Promise<Map<string, number>> {
    const rows: Array<{ id: string; generation_id: number }> = await this.dataSource.query(
      `SELECT id::text AS id, generation_id FROM ai_migration_jobs WHERE id = ANY($1::uuid[]) AND generation_id IS NOT NULL`,
      [jobIds],
    );
    return new Map(rows.map((r) => [r.id, r.generation_id]));
  }

  /**
   * Adds the workers' outcomes to the job's counters, in the workers' transaction. The total is raised when
   * the counts would pass it (an item of the job queued some other way), so processed + skipped + failed
   * never exceeds it.
   */
  async addOutcomes(manager: EntityManager, jobId: string, counts: JobOutcomeCounts): Promise<void> {
    await manager.query(
      `UPDATE ai_migration_jobs
          SET processed_entities = processed_entities + $2, skipped_entities = skipped_entities + $3,
              failed_entities = failed_entities + $4, last_updated_at = now(), ${rateSet('($2 + $3 + $4)')},
              total_entities = greatest(total_entities, processed_entities + skipped_entities + failed_entities + $2 + $3 + $4)
        WHERE id = $1`,
      [jobId, counts.processed, counts.skipped, counts.failed],
    );
  }

  /**
   * Takes the cleanup's turn for the caller's transaction: true on one instance at a time, false at once on
   * the others.
   */
  async tryLockCleanup(manager: EntityManager): Promise<boolean> {
    const [{ locked }] = await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext('ai_migration_jobs.cleanup')) AS locked`);
    return locked === true;
  }

  /** Deletes COMPLETED, FAILED and CANCELLED jobs that ended more than `days` days ago; returns their ids. */
  async deleteFinishedBefore(manager: EntityManager, days: number): Promise<string[]> {
    const deleted: unknown = await manager.query(
      `DELETE FROM ai_migration_jobs
        WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED')
          AND completed_at < now() - make_interval(days => $1::int)
        RETURNING id::text AS id`,
      [days],
    );
    return returnedRows<{ id: string }>(deleted).map((r) => r.id);
  }
}

function moveParams(move: CheckpointMove): unknown[] {
  return [move.jobId, move.instanceId, move.from, move.to, move.skipped, move.enqueued, move.leaseMs, move.perRequest, move.defaultRateLimit];
}
