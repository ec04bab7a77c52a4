import type { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '../common/query-result';
import { IndexingPriority } from '../queue/indexing-request.interface';

/** The lowest priority the synchronous workers claim: the Batch API's lane and below are not theirs. */
const SYNC_MIN_PRIORITY = IndexingPriority.BATCH + 1;

/** A queue item claimed by a worker. */
export interface ClaimedItem {
  id: string;
  entityType: string;
  entityId: string;
  owner: string | null;
  force: boolean;
  priority: number;
  attempts: number;
  maxRetries: number;
  /** When the item was queued (absent where the claim did not read it). */
  enqueuedAt?: Date;
}

/** A dead-lettered item as returned by requeue/sweep, for outcome reporting. */
export interface DeadItem {
  id: string;
  entityType: string;
  entityId: string;
  owner: string | null;
  lastError: string | null;
}

/** How a requeue delays the items and whether the attempt counts. */
export interface RequeuePolicy {
  /** Keep the attempt consumed at claim time (and dead-letter exhausted items). */
  consumeAttempt: boolean;
  /** Fixed delay in ms; when absent, exponential backoff with full jitter from `backoff`. */
  delayMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  error: string;
}

/**
 * SQL of the claim/lease protocol. Claims use `FOR UPDATE SKIP LOCKED` so concurrent workers never take
 * the same item; every claim gets a fresh lease token, and every later step is fenced by it, so a worker
 * whose lease expired and was taken over changes nothing.
 * @internal
 */
export class IndexingClaimsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` runnable items with a priority from `minPriority` (default: above the Batch API's
   * lane) to `maxPriority`, highest priority first, under a new lease.
   */
  async claim(limit: number, token: string, workerId: string, leaseMs: number, minPriority = SYNC_MIN_PRIORITY, maxPriority = 32767): Promise<ClaimedItem[]> {
    const rows = await this.dataSource.query(
      // `= ANY(ARRAY(subquery))` makes the update find the picked rows by primary key; a join with the
      // picked set let the planner hash-join against a sequential scan of the whole queue (measured 2.5x slower).
      `UPDATE ai_indexing_queue q
          SET status = 'ACTIVE', lease_token = $2, lease_owner = $3,
              lease_expires_at = now() + make_interval(secs => $4::float8 / 1000),
              attempts = q.attempts + 1, updated_at = now()
        WHERE q.id = ANY(ARRAY(
                SELECT id FROM ai_indexing_queue
                 WHERE status = 'PENDING' AND run_after <= now() AND priority BETWEEN $5 AND $6
                 ORDER BY priority DESC, id
                 LIMIT $1
                 FOR UPDATE SKIP LOCKED))
       RETURNING q.id::text AS id, q.entity_type, q.entity_id, q.owner, q.force, q.priority, q.attempts, q.max_retries, q.created_at`,
      [limit, token, workerId, leaseMs, minPriority, maxPriority],
    );
    return returnedRows(rows).map(toClaimed);
  }

  /**
   * Extends the lease of a batch; returns how many items are still held under `token`. A lease is never
   * shortened: items a provider batch already holds for two days keep that while the rest of their claim
   * is still being prepared.
   */
  async heartbeat(token: string, leaseMs: number): Promise<number> {
    const rows = await this.dataSource.query(
      `UPDATE ai_indexing_queue SET lease_expires_at = greatest(lease_expires_at, now() + make_interval(secs => $2::float8 / 1000))
        WHERE lease_token = $1 AND status = 'ACTIVE' RETURNING id`,
      [token, leaseMs],
    );
    return returnedRows(rows).length;
  }

  /**
   * The fence of every completion: deletes the items of the batch that are still held under `token` and
   * returns their ids. A worker whose lease was taken over deletes (and so completes) nothing. Items that
   * turn out not to be complete are put back with {@link reinsert} in the same transaction.
   */
  async takeOwned(manager: EntityManager, ids: string[], token: string): Promise<Set<string>> {
    const result = await manager.query(
      `DELETE FROM ai_indexing_queue WHERE id = ANY($1::bigint[]) AND lease_token = $2 AND status = 'ACTIVE' RETURNING id::text AS id`,
      [ids, token],
    );
    return new Set(returnedRows(result).map((r: { id: string }) => r.id));
  }

  /**
   * Puts back items taken by {@link takeOwned}: as DEAD with their error, or as PENDING (merged into a
   * pending twin if one exists), runnable after `delayMs` (default at once), with the claim's attempt
   * given back unless `consumeAttempt`.
   */
  async reinsert(
    manager: EntityManager,
    items: Array<{ item: ClaimedItem; error: string; delayMs?: number; consumeAttempt?: boolean }>,
    status: 'PENDING' | 'DEAD',
  ): Promise<void> {
    if (items.length === 0) return;
    const conflict =
      status === 'PENDING'
        ? `ON CONFLICT (entity_type, entity_id, (coalesce(owner, ''))) WHERE status = 'PENDING'
           DO UPDATE SET priority = GREATEST(ai_indexing_queue.priority, EXCLUDED.priority),
                         force = ai_indexing_queue.force OR EXCLUDED.force,
                         max_retries = GREATEST(ai_indexing_queue.max_retries, EXCLUDED.max_retries),
                         updated_at = now()`
        : '';
    await manager.query(
      `INSERT INTO ai_indexing_queue (entity_type, entity_id, priority, owner, force, status, attempts, max_retries, last_error, run_after)
       SELECT t.entity_type, t.entity_id, t.priority, t.owner, t.force, $1, t.attempts, t.max_retries, t.last_error,
              now() + make_interval(secs => t.delay_ms / 1000)
         FROM unnest($2::text[], $3::text[], $4::smallint[], $5::text[], $6::boolean[], $7::int[], $8::int[], $9::text[], $10::float8[])
              AS t(entity_type, entity_id, priority, owner, force, attempts, max_retries, last_error, delay_ms)
       ${conflict}`,
      [
        status,
        items.map((i) => i.item.entityType),
        items.map((i) => i.item.entityId),
        items.map((i) => i.item.priority),
        items.map((i) => i.item.owner),
        items.map((i) => i.item.force),
        items.map((i) => (status === 'PENDING' && !i.consumeAttempt ? Math.max(0, i.item.attempts - 1) : i.item.attempts)),
        items.map((i) => i.item.maxRetries),
        items.map((i) => i.error),
        items.map((i) => i.delayMs ?? 0),
      ],
    );
  }

  /**
   * Puts claimed items back to PENDING (or DEAD when their attempts are exhausted and the attempt counts).
   * `where` selects the items: ids under a lease token, or expired leases (the sweep).
   *
   * The items are deleted and inserted again with `ON CONFLICT … DO UPDATE`: an entity that already has a
   * PENDING item of the same owner — even one inserted by a transaction that has not committed yet — is
   * merged into it (highest priority wins, `force` is kept), where an in-place status change would fail
   * on the unique index of pending items. `created_at` is kept so queue-age figures stay honest.
   */
  async requeue(
    manager: EntityManager,
    where: { ids: string[]; token: string } | { expired: true },
    policy: RequeuePolicy,
  ): Promise<DeadItem[]> {
    const params: unknown[] = [policy.consumeAttempt, policy.error, policy.delayMs ?? null, policy.backoff?.baseMs ?? 0, policy.backoff?.maxMs ?? 0];
    let condition: string;
    if ('expired' in where) {
      condition = `status = 'ACTIVE' AND lease_expires_at < now()`;
    } else {
      params.push(where.ids, where.token);
      condition = `id = ANY($6::bigint[]) AND lease_token = $7 AND status = 'ACTIVE'`;
    }
    const rows = await manager.query(
      `WITH taken AS (
         DELETE FROM ai_indexing_queue
          WHERE id = ANY(ARRAY(SELECT id FROM ai_indexing_queue WHERE ${condition} FOR UPDATE SKIP LOCKED))
         RETURNING entity_type, entity_id, priority, owner, force, attempts, max_retries, created_at,
                   ($1::boolean AND attempts >= max_retries) AS exhausted),
       requeued AS (
         INSERT INTO ai_indexing_queue
                (entity_type, entity_id, priority, owner, force, status, attempts, max_retries, run_after, last_error, created_at)
         SELECT entity_type, entity_id, max(priority), owner, bool_or(force), 'PENDING',
                CASE WHEN $1::boolean THEN max(attempts) ELSE greatest(max(attempts) - 1, 0) END,
                max(max_retries),
                now() + make_interval(secs => coalesce($3::float8,
                  least($5::float8, $4::float8 * power(2, greatest(max(attempts) - 1, 0))) * random()) / 1000),
                $2, min(created_at)
           FROM taken WHERE NOT exhausted
          GROUP BY entity_type, entity_id, owner
         ON CONFLICT (entity_type, entity_id, (coalesce(owner, ''))) WHERE status = 'PENDING'
         DO UPDATE SET priority = GREATEST(ai_indexing_queue.priority, EXCLUDED.priority),
                       force = ai_indexing_queue.force OR EXCLUDED.force,
                       max_retries = GREATEST(ai_indexing_queue.max_retries, EXCLUDED.max_retries),
                       updated_at = now()
         RETURNING id)
       INSERT INTO ai_indexing_queue
              (entity_type, entity_id, priority, owner, force, status, attempts, max_retries, last_error, created_at)
       SELECT entity_type, entity_id, priority, owner, force, 'DEAD', attempts, max_retries, $2, created_at
         FROM taken WHERE exhausted
       RETURNING id::text AS id, entity_type, entity_id, owner, last_error`,
      params,
    );
    return returnedRows(rows).map((r) => ({ id: r.id, entityType: r.entity_type, entityId: r.entity_id, owner: r.owner, lastError: r.last_error }));
  }
}

/** A claimed item from a row of the queue's columns (`id` as text). */
export function toClaimed(r: any): ClaimedItem {
  return {
    id: r.id,
    entityType: r.entity_type,
    entityId: r.entity_id,
    owner: r.owner,
    force: r.force,
    priority: r.priority,
    attempts: r.attempts,
    maxRetries: r.max_retries,
    enqueuedAt: r.created_at ? new Date(r.created_at) : undefined,
  };
}
