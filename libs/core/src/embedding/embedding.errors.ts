/**
 * The provider answered 429 (too many requests). Work is rescheduled after `retryAfterMs`
 * without consuming a retry attempt.
 */
export class EmbeddingRateLimitError extends Error {
  constructor(
    readonly provider: string,
    readonly retryAfterMs: number,
    detail?: string,
  ) {
    super(
      `Embedding provider "${provider}" is rate limiting requests (HTTP 429)${detail ? `: ${detail}` : ''}. ` +
        `The work is retried after ${retryAfterMs} ms without consuming a retry attempt; lower the request rate if this persists.`,
    );
    this.name = 'EmbeddingRateLimitError';
  }
}

/**
 * The provider account has no quota left (OpenAI `insufficient_quota`). Retrying will not help until
 * someone adds credit or raises the quota; backfill jobs pause on this error.
 */
export class EmbeddingQuotaExceededError extends Error {
  constructor(
    readonly provider: string,
    detail?: string,
  ) {
    super(
      `Embedding provider "${provider}" refused the request because the account quota is exhausted` +
        `${detail ? ` (${detail})` : ''}. Add credit or raise the quota, then resume the work.`,
    );
    this.name = 'EmbeddingQuotaExceededError';
  }
}

/** Any other provider failure. `retryable` says whether trying the same input again may succeed. */
export class EmbeddingProviderError extends Error {
  constructor(
    readonly provider: string,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'EmbeddingProviderError';
  }
}

/**
 * The provider has answered nothing but transient failures (5xx, timeouts, resets) for longer than the
 * configured outage time (`providerRetry.outagePauseMs`). The work stays queued without using an attempt;
 * backfill jobs pause on this error with it as their reason.
 */
export class EmbeddingProviderUnavailableError extends Error {
  constructor(
    readonly provider: string,
    readonly failingSinceMs: number,
    readonly lastError: Error,
  ) {
    super(
      `Embedding provider "${provider}" has failed every request for ${Math.round((Date.now() - failingSinceMs) / 1000)} s ` +
        `(since ${new Date(failingSinceMs).toISOString()}); last error: ${lastError.message} ` +
        'The work stays queued and is retried; check the provider, then resume paused jobs.',
    );
    this.name = 'EmbeddingProviderUnavailableError';
  }
}
