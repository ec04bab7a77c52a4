/**
 * Types of the owner-scoped operations of `IndexingQueueService`: a library that tags queue items with an
 * owner (the migration module tags them with a job id) holds, releases, counts and removes its items
 * through these, never through the queue's table.
 */

/**
 * How an owner's items are spread over time: `groupSize` items become runnable together, one group every
 * `spacingSeconds`, in the order they were queued (a job's rate limit: one provider request's worth of
 * items per interval).
 */
export interface IndexingItemPacing {
  /** Items released together; a positive integer. */
  groupSize: number;
  /** Seconds between two groups; zero or more. */
  spacingSeconds: number;
}

/**
 * A statement that decides, in the statement that inserts them, whether new items go in and when they
 * become runnable (see `IndexingQueueService.enqueueNew`). It runs as a data-modifying CTE of that
 * statement, so the caller's own write (a job's checkpoint) and the insert commit together or not at all,
 * without a transaction and its round trips.
 *
 * @example
 * ```ts
 * const gate: IndexingInsertGate = {
 *   sql: `UPDATE my_jobs SET cursor = $2 WHERE id = $1 AND cursor = $3
 *          RETURNING now() AS release_at, 0.5::float8 AS spacing_secs`,
 *   params: [jobId, nextCursor, cursor],
 * };
 * ```
 */
export interface IndexingInsertGate {
  /**
   * One SQL statement (`UPDATE … RETURNING`, `INSERT … RETURNING` or `SELECT`) using parameters `$1` to
   * `$n` of {@link params}. It returns no row to refuse the insert, or exactly one row with the columns
   * `release_at` (timestamptz: when the first group of items becomes runnable) and `spacing_secs` (float8:
   * seconds between two groups).
   */
  sql: string;
  /** The values of `$1` … `$n` of {@link sql}. */
  params: unknown[];
}

/** Items of one owner that are known not to be pending for it yet (a page past a backfill's checkpoint). */
export interface NewOwnedItems {
  /** A configured entity type. */
  entityType: string;
  /**
   * Primary keys in PostgreSQL's text form, as `EntityPageReader` returns them (they are not normalised
   * again, which is what makes this path fast), each at most once.
   */
  entityIds: string[];
  /** The accounting tag of the items, e.g. a migration job id (1-255 characters). */
  owner: string;
  /** Default NORMAL. */
  priority?: number;
  /** Re-embed even when the stored content hash matches. Default false. */
  force?: boolean;
  /** Attempts before dead-lettering. Default: the queue's `maxRetries` option. */
  maxRetries?: number;
  /** Items released together, one group every `spacing_secs` of the gate. */
  groupSize: number;
}

/**
 * What `IndexingQueueService.enqueueNew` did:
 * - `queued`: the gate admitted the items and `queued` of them were inserted (in the same statement);
 * - `refused`: the gate returned no row, nothing was written;
 * - `conflict`: one of the entities already had a pending item of the owner, so the statement (the gate's
 *   write included) failed whole; enqueue such items with `enqueue()`, which merges them. Only outside a
 *   transaction of the caller's: inside one, the conflict has aborted it and `enqueueNew` throws instead.
 */
export type NewOwnedItemsResult = { status: 'queued'; queued: number } | { status: 'refused' } | { status: 'conflict' };
