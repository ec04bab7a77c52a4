import type { EmbeddingProvider, ResolvedAiCoreOptions } from '@ai-infrastructure/core';
import type { EntityManager } from 'typeorm';

/**
 * Per-job rate limit. A job's `rateLimit` is in provider requests per minute; one request carries up to
 * `itemsPerRequest` of its items (the workers' batch, capped by the provider's inputs per request). The
 * producer releases each page at `next_release_at` (the items' `run_after`) and pushes that instant on by
 * the page's share of requests, so the job never asks for more than its limit, whichever instance runs
 * its producer or its items. The core's provider-wide limiter still applies on top.
 */
export function itemsPerRequest(provider: EmbeddingProvider, core: ResolvedAiCoreOptions): number {
  return Math.max(1, Math.min(provider.maxInputsPerRequest, core.worker.batchSize));
}

/** Seconds of the job's budget that `items` items use at `rateLimit` requests per minute. */
export function secondsFor(items: number, perRequest: number, rateLimit: number): number {
  return ((items / perRequest) * 60) / rateLimit;
}

/**
 * Re-spaces the job's pending items from now at `rateLimit` (after resume or a rethrottle) and resets its
 * bucket to the end of that schedule, in the caller's transaction.
 *
 * A job's pending items are found as `coalesce(owner, '') = id`: the form of the queue's unique index of
 * pending items, which leads with it.
 */
export async function repacePendingItems(
  manager: EntityManager,
  jobId: string,
  rateLimit: number,
  perRequest: number,
): Promise<void> {
  const seconds = ((1 / perRequest) * 60) / rateLimit;
  await manager.query(
    `WITH pending AS (
       SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM ai_indexing_queue WHERE coalesce(owner, '') = $1 AND status = 'PENDING')
     UPDATE ai_indexing_queue q
        SET run_after = now() + make_interval(secs => floor(pending.k / $3::float8) * $3::float8 * $2::float8)
       FROM pending WHERE q.id = pending.id`,
    [jobId, seconds, perRequest],
  );
  await manager.query(
    `UPDATE ai_migration_jobs
        SET next_release_at = now() + make_interval(secs => (SELECT count(*) FROM ai_indexing_queue WHERE coalesce(owner, '') = $3 AND status = 'PENDING') * $2::float8)
      WHERE id = $1::uuid`,
    [jobId, seconds, jobId],
  );
}
