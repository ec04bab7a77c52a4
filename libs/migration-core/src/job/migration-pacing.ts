import type { EmbeddingProvider, IndexingItemPacing } from '@ai-infrastructure/core';

/*
 * Per-job rate limit. A job's `rateLimit` is in provider requests per minute; one request carries up to
 * `itemsPerRequest` of its items (the workers' batch, capped by the provider's inputs per request). The
 * producer releases each page at the job's `next_release_at` (the items' run_after) and pushes that instant
 * on by the page's share of requests, so the job never asks for more than its limit, whichever instance
 * runs its producer or its items. The core's provider-wide limiter still applies on top.
 */

/** Items one provider request carries: the workers' batch, capped by the provider's inputs per request. */
export function itemsPerRequest(provider: Pick<EmbeddingProvider, 'maxInputsPerRequest'>, workerBatchSize: number): number {
  return Math.max(1, Math.min(provider.maxInputsPerRequest, workerBatchSize));
}

/** Seconds of the job's budget that `items` items use at `rateLimit` requests per minute. */
export function secondsFor(items: number, perRequest: number, rateLimit: number): number {
  return ((items / perRequest) * 60) / rateLimit;
}

/** The queue pacing of a job's items: one request's worth of items every 60 / rateLimit seconds. */
export function requestPacing(rateLimit: number, perRequest: number): IndexingItemPacing {
  return { groupSize: perRequest, spacingSeconds: secondsFor(perRequest, perRequest, rateLimit) };
}
