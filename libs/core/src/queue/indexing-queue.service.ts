import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE } from '../ai-core.constants';
import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import {
  IndexingPriority,
  type DeadLetter,
  type IndexingQueueStats,
  type IndexingRequest,
} from './indexing-request.interface';
import { IndexingQueueError } from './indexing-queue.errors';
import { IndexingWakeup } from './indexing-wakeup';
import { AiEntityRegistry } from '../entity/ai-entity-registry.service';
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

  private toRow(request: IndexingRequest, index: number): unknown[] {
    const where = `IndexingQueueService.enqueue: request #${index}`;
    if (typeof request?.entityType !== 'string' || request.entityType.length === 0 || request.entityType.length > 100) {
      throw new IndexingQueueError(`${where} has an invalid "entityType"; give the entity type name (1-100 characters).`);
    }
    const descriptor = this.registry.find(request.entityType);
    if (!descriptor) {
      throw new IndexingQueueError(
        `${where} has entityType "${request.entityType}", which this application does not know; known types: ${this.registry.entityTypes().join(', ') || '(none)'}.`,
      );
    }
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
    const priority = request.priority ?? IndexingPriority.NORMAL;
    if (!Number.isInteger(priority) || priority < -32768 || priority > 32767) {
      throw new IndexingQueueError(`${where} has priority ${priority}; use IndexingPriority.LOW/NORMAL/HIGH or an integer.`);
    }
    const maxRetries = request.maxRetries ?? this.options.queue.maxRetries;
    if (!Number.isInteger(maxRetries) || maxRetries < 1 || maxRetries > 100) {
      throw new IndexingQueueError(`${where} has maxRetries ${maxRetries}; use an integer from 1 to 100.`);
    }
    return [request.entityType, entityId, priority, request.owner || null, request.force === true, maxRetries];
  }
}

/**
 * Whether `error` is the unique violation of the queue's pending items: a plain `INSERT` (one without
 * enqueue()'s `ON CONFLICT`, which a backfill uses for rows it knows to be new, about a quarter cheaper)
 * met an entity that already had a pending item of the same owner. Enqueue those requests with
 * {@link IndexingQueueService.enqueue} to merge them.
 */
export function isPendingTwinConflict(error: unknown): boolean {
  const cause = (error as { driverError?: { code?: string; constraint?: string } } | null)?.driverError ?? (error as { code?: string; constraint?: string } | null);
  return cause?.code === '23505' && cause.constraint === 'ai_indexing_queue_pending_uq';
}
