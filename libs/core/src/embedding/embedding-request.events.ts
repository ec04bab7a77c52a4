import { SyncEvents } from '../common/sync-events';
import type { ProviderRequestLane } from './provider-rate-limiter';

/** How one provider request ended, as metrics count it. */
export type EmbeddingRequestOutcome = 'success' | 'rate_limited' | 'quota_exceeded' | 'timeout' | 'rejected' | 'transient_error' | 'error';

/** One embeddings request this instance sent (each attempt of a retried request is one). */
export interface EmbeddingRequestEvent {
  provider: string;
  model: string;
  /** `interactive` (live indexing, search) or `bulk` (backfills). */
  lane: ProviderRequestLane;
  outcome: EmbeddingRequestOutcome;
  /** From sending to the answer (or the failure), in seconds. */
  durationSeconds: number;
  /** Inputs the request carried. */
  inputs: number;
  /** Why a request that did not succeed failed: the error's message, at most 500 characters. */
  error?: string;
}

/**
 * The provider requests of this application, for metrics and logs: every embedding service reports each
 * attempt here once it has ended (requests aborted at shutdown are not reported). Listeners run
 * synchronously on the request's path, so they must be cheap (increment a counter); one that throws is
 * logged and skipped.
 *
 * @example
 * ```ts
 * app.get(EmbeddingRequestEvents).on((e) => histogram.observe({ outcome: e.outcome }, e.durationSeconds));
 * ```
 */
export class EmbeddingRequestEvents extends SyncEvents<EmbeddingRequestEvent> {
  constructor() {
    super('EmbeddingRequestEvents', 'embedding requests');
  }
}
