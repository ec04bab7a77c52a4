import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE } from '../ai-core.constants';
import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import { affectedCount, returnedRows } from '../common/query-result';
import {
  IndexingPriority,
  type DeadLetter,
  type DeadLetterGroup,
  type DeadLetterReason,
  type IndexingLeaseOwner,
  type IndexingQueueDepth,
  type IndexingQueueStats,
  type IndexingRequest,
} from './indexing-request.interface';
import type { IndexingInsertGate, IndexingItemPacing, NewOwnedItems, NewOwnedItemsResult } from './owned-items.interface';
import { IndexingQueueError } from './indexing-queue.errors';
import { IndexingWakeup } from './indexing-wakeup';
import { AiEntityRegistry, type AiEntityDescriptor } from '../entity/ai-entity-registry.service';
import { describeEntityIdKind, normalizeEntityId } from '../entity/entity-id';

/** Rows per INSERT: bounds the size of one statement's arrays. */
const ROWS_PER_STATEMENT = 5_000;

/**
 * The indexing queue: a PostgreSQL table in the application's own database, so enqueueing can join the
 * caller's transaction (an entity write and its indexing work commit or roll back together).
 *
 * @example
 * ```ts
 * await queue.enqueue({ entityType: 'product', entityId: id, priority: IndexingPriority.HIGH });
 * await dataSource.transaction((manager) => queue.enqueue(requests, manager));
 * ```
 */
/**
 * The {@link DeadLetterReason} of a queue row, from `last_error`: the messages are this library's own
 * (EmbeddingRateLimitError, EmbeddingQuotaExceededError, the OpenAI provider's "HTTP <status>" errors, the
 * lease sweep, the processor's "no text" failure), so the patterns follow their wording.
 */
const DEAD_LETTER_REASON_SQL = `CASE
    WHEN last_error ILIKE 'The lease expired%' THEN 'lease-expired'
    WHEN last_error ILIKE '%has no text in its embeddable fields%' THEN 'no-text'
    WHEN last_error ILIKE '%(HTTP 429)%' THEN 'rate-limited'
    WHEN last_error ILIKE '%quota is exhausted%' THEN 'quota'
    WHEN last_error ~ 'HTTP 40[13]([^0-9]|$)' THEN 'auth'
    WHEN last_error ~ 'HTTP (400|404|413|422)([^0-9]|$)' THEN 'rejected-input'
    WHEN last_error ~ 'HTTP 5[0-9][0-9]([^0-9]|$)' OR last_error ~* '(unavailable|timed out|timeout|ECONNREFUSED|ECONNRESET)' THEN 'provider-error'
    ELSE 'other'
  END`;

@Injectable()
export class IndexingQueueService {
  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly options: ResolvedAiCoreOptions,
    private readonly wakeup: IndexingWakeup,
    private readonly registry: AiEntityRegistry,
  ) {}

  /**
   * Enqueues one or many requests in bulk (thousands per statement). A request for an entity that already
   * has a pending item of the same owner is coalesced into it (highest priority wins). Pass `manager` to
   * enqueue inside your transaction, and `options.runAfter` to make the items runnable only from that
   * instant (backfills pace their pages this way). `options.wake: false` leaves waking the workers to the
   * caller (who wakes them at commit). Returns the number of requests accepted.
   */
  async enqueue(
    requests: IndexingRequest | IndexingRequest[],
    manager?: EntityManager,
    options: { runAfter?: Date; wake?: boolean } = {},
  ): Promise<number> {
    const list = Array.isArray(requests) ? requests : [requests];
    if (list.length === 0) return 0;
    // One statement cannot touch the same conflict target twice, so coalesce duplicates here first.
    const unique = new Map<string, unknown[]>();
    list.forEach((request, index) => {
      const row = this.toRow(request, index);
      const key = `${row[0]}\u0000${row[1]}\u0000${row[3] ?? ''}`;
      const previous = unique.get(key);
      if (previous) {
        previous[2] = Math.max(previous[2] as number, row[2] as number);
        previous[4] = (previous[4] as boolean) || (row[4] as boolean);
      } else {
        unique.set(key, row);
      }
    });
    const runner = manager ?? this.dataSource.manager;
    const rows = [...unique.values()];
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
      // One array parameter per column: PostgreSQL parses and plans a statement of 7 parameters instead of
      // one of 7 per row (a page of 1000 took 40 ms on the embedded database with those, 22 ms with these).
      const columns = [0, 1, 2, 3, 4, 5].map((column) => chunk.map((row) => row[column]));
      await runner.query(
        `INSERT INTO ai_indexing_queue (entity_type, entity_id, priority, owner, force, max_retries, run_after)
         SELECT t.entity_type, t.entity_id, t.priority, t.owner, t.force, t.max_retries, coalesce($7::timestamptz, now())
           FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::boolean[], $6::int[])
                AS t(entity_type, entity_id, priority, owner, force, max_retries)
         ON CONFLICT (entity_type, entity_id, (coalesce(owner, ''))) WHERE status = 'PENDING'
         DO UPDATE SET priority = GREATEST(ai_indexing_queue.priority, EXCLUDED.priority),
                       force = ai_indexing_queue.force OR EXCLUDED.force,
                       max_retries = GREATEST(ai_indexing_queue.max_retries, EXCLUDED.max_retries),
                       run_after = LEAST(ai_indexing_queue.run_after, EXCLUDED.run_after),
                       updated_at = now()`,
        [...columns, options.runAfter ?? null],
      );
    }
    // Work enqueued inside a caller's transaction is invisible until commit; the wake-up only shortens the
    // idle poll, and a worker that finds nothing simply polls again.
    if (options.wake !== false) this.wakeup.notify();
    return list.length;
  }

  /**
   * Wakes this instance's idle workers now. Work enqueued inside a caller's transaction becomes visible
   * only at commit, so a caller that enqueues in bulk calls this after committing: workers woken by
   * {@link enqueue} itself may have looked before the commit and gone back to sleep for a poll interval.
   */
  notifyWorkers(): void {
    this.wakeup.notify();
  }

  /**
   * Wakes the loops reserved for live items (every loop when there are none) after a transaction that
   * enqueued live (HIGH) work committed; the live indexing subscriber calls it.
   */
  notifyLiveWorkers(): void {
    this.wakeup.notifyLive();
  }

  /** Queue depth, dead letters and the age of the oldest runnable item (for health checks and dashboards). */
  async stats(): Promise<IndexingQueueStats> {
    const [row] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'PENDING' AND run_after <= now())::int AS pending,
              count(*) FILTER (WHERE status = 'PENDING' AND run_after > now())::int AS delayed,
              count(*) FILTER (WHERE status = 'ACTIVE')::int AS active,
              count(*) FILTER (WHERE status = 'DEAD')::int AS dead,
              extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'PENDING' AND run_after <= now()))::float8 AS oldest
         FROM ai_indexing_queue`,
    );
    return {
      pending: row.pending,
      delayed: row.delayed,
      active: row.active,
      dead: row.dead,
      oldestPendingAgeSeconds: row.oldest === null ? null : Math.max(0, Number(row.oldest)),
    };
  }

  /**
   * Items per priority and state, with the age of the oldest in each (for metrics: every instance reads the
   * same figures from the database). Only combinations that have items are returned.
   */
  async depth(): Promise<IndexingQueueDepth[]> {
    const rows: Array<{ priority: number; state: IndexingQueueDepth['state']; items: number; oldest: number | null }> = await this.dataSource.query(
      `SELECT priority::int AS priority,
              CASE WHEN status = 'PENDING' AND run_after > now() THEN 'delayed' ELSE lower(status) END AS state,
              count(*)::int AS items,
              extract(epoch FROM now() - min(created_at))::float8 AS oldest
         FROM ai_indexing_queue
        GROUP BY 1, 2
        ORDER BY 1 DESC, 2`,
    );
    return rows.map((r) => ({ priority: Number(r.priority), state: r.state, items: Number(r.items), oldestAgeSeconds: Math.max(0, Number(r.oldest ?? 0)) }));
  }

  /**
   * Dead-lettered items grouped by {@link DeadLetterReason}, most items first. The reason is read from the
   * last error, whose wording this library writes (see `DEAD_LETTER_REASON_SQL`).
   */
  async deadLettersByReason(): Promise<DeadLetterGroup[]> {
    const rows: Array<{ reason: DeadLetterReason; items: number; last_at: Date; last_error: string | null }> = await this.dataSource.query(
      `SELECT reason, count(*)::int AS items, max(updated_at) AS last_at,
              (array_agg(last_error ORDER BY updated_at DESC, id DESC))[1] AS last_error
         FROM (SELECT id, updated_at, last_error, ${DEAD_LETTER_REASON_SQL} AS reason FROM ai_indexing_queue WHERE status = 'DEAD') dead
        GROUP BY reason
        ORDER BY items DESC, reason`,
    );
    return rows.map((r) => ({ reason: r.reason, items: Number(r.items), lastAt: new Date(r.last_at), lastError: r.last_error }));
  }

  /** Claimed items per worker process (lease owner), with when their leases expire. */
  async leasesByOwner(): Promise<IndexingLeaseOwner[]> {
    const rows: Array<{ owner: string; items: number; next: number; expired: number }> = await this.dataSource.query(
      `SELECT coalesce(lease_owner, '?') AS owner, count(*)::int AS items,
              extract(epoch FROM min(lease_expires_at) - now())::float8 AS next,
              count(*) FILTER (WHERE lease_expires_at <= now())::int AS expired
         FROM ai_indexing_queue
        WHERE status = 'ACTIVE'
        GROUP BY 1
        ORDER BY 1`,
    );
    return rows.map((r) => ({ owner: r.owner, items: Number(r.items), nextExpirySeconds: Number(r.next ?? 0), expired: Number(r.expired) }));
  }

  /** Dead-lettered items, newest first, optionally of one owner or entity type. */
  async deadLetters(filter: { owner?: string; entityType?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = await this.dataSource.query(
      `SELECT id::text, entity_type, entity_id, owner, attempts, last_error, updated_at
         FROM ai_indexing_queue
        WHERE status = 'DEAD' AND ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR entity_type = $2)
        ORDER BY updated_at DESC, id DESC
        LIMIT $3`,
      [filter.owner ?? null, filter.entityType ?? null, filter.limit ?? 1000],
    );
    return rows.map((r: Record<string, unknown>) => ({
      id: r.id as string,
      entityType: r.entity_type as string,
      entityId: r.entity_id as string,
      owner: r.owner as string | null,
      attempts: r.attempts as number,
      lastError: r.last_error as string | null,
      updatedAt: r.updated_at as Date,
    }));
  }

  /**
   * Gives dead-lettered items a fresh set of attempts. Returns how many were re-queued; an item whose
   * entity already has a pending item is merged into it.
   */
  async retryDeadLetters(filter: { owner?: string; entityType?: string; entityIds?: string[] } = {}, manager?: EntityManager): Promise<number> {
    const runner = manager ?? this.dataSource.manager;
    const rows = await runner.query(
      `WITH dead AS (
         SELECT id, entity_type, entity_id, owner, force FROM ai_indexing_queue
          WHERE status = 'DEAD' AND ($1::text IS NULL OR owner = $1) AND ($2::text IS NULL OR entity_type = $2)
            AND ($3::text[] IS NULL OR entity_id = ANY($3))
          FOR UPDATE),
       removed AS (DELETE FROM ai_indexing_queue q USING dead WHERE q.id = dead.id RETURNING dead.*)
       INSERT INTO ai_indexing_queue (entity_type, entity_id, priority, owner, force, max_retries)
       SELECT entity_type, entity_id, ${IndexingPriority.NORMAL}, owner, force, $4 FROM removed
       ON CONFLICT (entity_type, entity_id, (coalesce(owner, ''))) WHERE status = 'PENDING' DO NOTHING
       RETURNING id`,
      [filter.owner ?? null, filter.entityType ?? null, filter.entityIds ?? null, this.options.queue.maxRetries],
    );
    this.wakeup.notify();
    return rows.length;
  }

  // Owner-scoped operations: a library that tags items with an owner (the migration module tags them with
  // a job id) controls its items through these. Pending items of an owner are found through the unique
  // index of pending items, which leads with `coalesce(owner, '')`; items in flight through the lease index.

  /**
   * Removes dead-lettered items of these owners (e.g. when the jobs that own them are deleted). Returns how
   * many were removed.
   */
  async deleteDeadLetters(owners: string[], manager?: EntityManager): Promise<number> {
    if (owners.length === 0) return 0;
    const runner = manager ?? this.dataSource.manager;
    return affectedCount(await runner.query(`DELETE FROM ai_indexing_queue WHERE owner = ANY($1::text[]) AND status = 'DEAD'`, [owners]));
  }

  /**
   * Inserts items of one owner that are not pending for it yet, in ONE statement together with `gate`, the
   * caller's own write that decides whether they go in and when they become runnable (see
   * {@link IndexingInsertGate}): item k (from 0) becomes runnable at the gate's `release_at` plus
   * floor(k / groupSize) × `spacing_secs`. No coalescing: about a quarter cheaper than {@link enqueue},
   * which is what a backfill producer needs; an entity that is already pending for the owner makes the
   * whole statement fail, reported as `conflict`. Ids are taken as given (PostgreSQL's text form of the
   * key, as `EntityPageReader` returns them). Wakes this instance's workers unless `options.wake` is false.
   */
  async enqueueNew(
    items: NewOwnedItems,
    gate: IndexingInsertGate,
    manager?: EntityManager,
    options: { wake?: boolean } = {},
  ): Promise<NewOwnedItemsResult> {
    const where = 'IndexingQueueService.enqueueNew';
    this.requireEntityType(items.entityType, where);
    const owner = this.requireOwner(items.owner, where);
    if (!Number.isInteger(items.groupSize) || items.groupSize < 1) {
      throw new IndexingQueueError(`${where} has groupSize ${items.groupSize}; give the number of items released together, a positive integer.`);
    }
    if (!Array.isArray(items.entityIds) || items.entityIds.some((id) => typeof id !== 'string' || id.length === 0 || id.length > 255)) {
      throw new IndexingQueueError(`${where} for entity type "${items.entityType}" has an invalid "entityIds"; give the primary keys as texts of 1-255 characters.`);
    }
    const priority = this.checkPriority(items.priority ?? IndexingPriority.NORMAL, where);
    const maxRetries = this.checkMaxRetries(items.maxRetries ?? this.options.queue.maxRetries, where);
    const n = gate.params.length;
    const runner = manager ?? this.dataSource.manager;
    let result: unknown;
    try {
      result = await runner.query(
        `WITH gate AS (${gate.sql}),
         queued AS (
           INSERT INTO ai_indexing_queue (entity_type, entity_id, priority, owner, force, max_retries, run_after)
           SELECT $${n + 1}::text, t.entity_id, $${n + 2}::smallint, $${n + 3}::text, $${n + 4}::boolean, $${n + 5}::int,
                  gate.release_at + make_interval(secs => floor((t.k - 1) / $${n + 6}::float8) * gate.spacing_secs)
             FROM gate, unnest($${n + 7}::text[]) WITH ORDINALITY AS t(entity_id, k)
           RETURNING 1)
         SELECT (SELECT count(*) FROM gate)::int AS admitted, (SELECT count(*) FROM queued)::int AS queued`,
        [...gate.params, items.entityType, priority, owner, items.force === true, maxRetries, items.groupSize, items.entityIds],
      );
    } catch (error) {
      // Inside the caller's transaction the conflict has aborted it, so "conflict" would invite statements
      // that cannot run: the error goes to the caller, whose transaction rolls back as a whole.
      if (isPendingTwinConflict(error) && !manager?.queryRunner?.isTransactionActive) return { status: 'conflict' };
      throw error;
    }
    const [row] = returnedRows<{ admitted: number; queued: number }>(result);
    if (!row || row.admitted === 0) return { status: 'refused' };
    if (options.wake !== false) this.wakeup.notify();
    return { status: 'queued', queued: row.queued };
  }

  /**
   * Holds the owner's pending items back (they are not claimed until released): a paused job. Items
   * already claimed finish. Returns how many were newly held.
   */
  async holdPending(owner: string, manager?: EntityManager): Promise<number> {
    const runner = manager ?? this.dataSource.manager;
    return affectedCount(
      await runner.query(
        `UPDATE ai_indexing_queue SET run_after = 'infinity'
          WHERE coalesce(owner, '') = $1 AND status = 'PENDING' AND run_after <> 'infinity'`,
        [this.requireOwner(owner, 'IndexingQueueService.holdPending')],
      ),
    );
  }

  /**
   * Makes the owner's pending items (held or not) runnable from now at `pacing`, in the order they were
   * queued: a resumed job, or a new rate limit applied to the items already waiting. Returns how many
   * pending items the owner has (so the caller can tell when the last group is released).
   */
  async releasePending(owner: string, pacing: IndexingItemPacing, manager?: EntityManager): Promise<number> {
    const where = 'IndexingQueueService.releasePending';
    if (!Number.isInteger(pacing.groupSize) || pacing.groupSize < 1 || !(pacing.spacingSeconds >= 0) || !Number.isFinite(pacing.spacingSeconds)) {
      throw new IndexingQueueError(
        `${where} has groupSize ${pacing.groupSize} and spacingSeconds ${pacing.spacingSeconds}; give a positive integer groupSize and a finite spacingSeconds of 0 or more.`,
      );
    }
    const runner = manager ?? this.dataSource.manager;
    const rows = await runner.query(
      `WITH pending AS (
         SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM ai_indexing_queue WHERE coalesce(owner, '') = $1 AND status = 'PENDING')
       UPDATE ai_indexing_queue q
          SET run_after = now() + make_interval(secs => floor(pending.k / $2::float8) * $3::float8)
         FROM pending WHERE q.id = pending.id`,
      [this.requireOwner(owner, where), pacing.groupSize, pacing.spacingSeconds],
    );
    return affectedCount(rows);
  }

  /** Removes the owner's pending items (a cancelled job); items already claimed finish. Returns how many were removed. */
  async deletePending(owner: string, manager?: EntityManager): Promise<number> {
    const runner = manager ?? this.dataSource.manager;
    return affectedCount(
      await runner.query(`DELETE FROM ai_indexing_queue WHERE coalesce(owner, '') = $1 AND status = 'PENDING'`, [
        this.requireOwner(owner, 'IndexingQueueService.deletePending'),
      ]),
    );
  }

  /**
   * Items of each owner still to be done: pending (held or not) plus claimed by a worker. Every owner asked
   * for is in the map, with 0 when it has none.
   */
  async countWaiting(owners: string[], manager?: EntityManager): Promise<Map<string, number>> {
    if (owners.length === 0) return new Map();
    const runner = manager ?? this.dataSource.manager;
    const rows = returnedRows<{ owner: string; waiting: number }>(
      await runner.query(
        `SELECT o.owner,
                (SELECT count(*)::int FROM ai_indexing_queue q WHERE coalesce(q.owner, '') = o.owner AND q.status = 'PENDING')
                + (SELECT count(*)::int FROM ai_indexing_queue q WHERE q.status = 'ACTIVE' AND q.owner = o.owner) AS waiting
           FROM unnest($1::text[]) AS o(owner)`,
        [owners],
      ),
    );
    return new Map(rows.map((r) => [r.owner, Number(r.waiting)]));
  }

  private requireEntityType(entityType: unknown, where: string): AiEntityDescriptor {
    if (typeof entityType !== 'string' || entityType.length === 0 || entityType.length > 100) {
      throw new IndexingQueueError(`${where} has an invalid "entityType"; give the entity type name (1-100 characters).`);
    }
    const descriptor = this.registry.find(entityType);
    if (!descriptor) {
      throw new IndexingQueueError(
        `${where} has entityType "${entityType}", which this application does not know; known types: ${this.registry.entityTypes().join(', ') || '(none)'}.`,
      );
    }
    return descriptor;
  }

  private requireOwner(owner: unknown, where: string): string {
    if (typeof owner !== 'string' || owner.length === 0 || owner.length > 255) {
      throw new IndexingQueueError(`${where} has owner ${JSON.stringify(owner)}; give the owner tag the items were queued with (1-255 characters).`);
    }
    return owner;
  }

  private checkPriority(priority: number, where: string): number {
    if (!Number.isInteger(priority) || priority < -32768 || priority > 32767) {
      throw new IndexingQueueError(`${where} has priority ${priority}; use IndexingPriority.LOW/NORMAL/HIGH or an integer.`);
    }
    return priority;
  }

  private checkMaxRetries(maxRetries: number, where: string): number {
    if (!Number.isInteger(maxRetries) || maxRetries < 1 || maxRetries > 100) {
      throw new IndexingQueueError(`${where} has maxRetries ${maxRetries}; use an integer from 1 to 100.`);
    }
    return maxRetries;
  }

  private toRow(request: IndexingRequest, index: number): unknown[] {
    const where = `IndexingQueueService.enqueue: request #${index}`;
    const descriptor = this.requireEntityType(request?.entityType, where);
    const raw = request.entityId === undefined || request.entityId === null ? '' : String(request.entityId);
    if (raw.length === 0 || raw.length > 255) {
      throw new IndexingQueueError(
        `${where} for entity type "${request.entityType}" has an invalid "entityId"; give the entity's primary key (1-255 characters).`,
      );
    }
    const entityId = normalizeEntityId(descriptor, raw);
    if (entityId === undefined) {
      throw new IndexingQueueError(
        `${where} for entity type "${request.entityType}" has "entityId" ${JSON.stringify(raw)}, which is not ${describeEntityIdKind(descriptor.idKind)} like the entity's primary key; give the primary key value.`,
      );
    }
    const priority = this.checkPriority(request.priority ?? IndexingPriority.NORMAL, where);
    const maxRetries = this.checkMaxRetries(request.maxRetries ?? this.options.queue.maxRetries, where);
    return [request.entityType, entityId, priority, request.owner || null, request.force === true, maxRetries];
  }
}

/**
 * Whether `error` is the unique violation of the queue's pending items: a plain `INSERT` (one without
 * enqueue()'s `ON CONFLICT`, as {@link IndexingQueueService.enqueueNew} runs it) met an entity that already
 * had a pending item of the same owner. Enqueue those requests with {@link IndexingQueueService.enqueue} to
 * merge them.
 */
export function isPendingTwinConflict(error: unknown): boolean {
  const cause = (error as { driverError?: { code?: string; constraint?: string } } | null)?.driverError ?? (error as { code?: string; constraint?: string } | null);
  return cause?.code === '23505' && cause.constraint === 'ai_indexing_queue_pending_uq';
}
