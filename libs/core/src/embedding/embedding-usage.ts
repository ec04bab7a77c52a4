/**
 * What embedding some input (or some owner's inputs) cost at the provider: its share of every request that
 * carried it. A request of n inputs counts 1/n per input, and the tokens the provider reported for the
 * request are shared by the inputs' token counts, so the shares of an owner's inputs add up to its
 * requests and tokens however requests mixed owners.
 */
export interface EmbeddingUsage {
  /** Requests sent, including failed attempts. */
  requests: number;
  /** The part of `requests` that failed (5xx, timeouts, 429s, rejected inputs). */
  failedRequests: number;
  /**
   * Tokens billed: the provider's reported usage of the requests that succeeded, plus the counted tokens of
   * requests that timed out (the provider may have processed and billed them) and of answers without usage.
   */
  tokens: number;
  /** The part of `tokens` that is this library's count rather than the provider's report. */
  estimatedTokens: number;
}

/** Usage of nothing. */
export function emptyUsage(): EmbeddingUsage {
  return { requests: 0, failedRequests: 0, tokens: 0, estimatedTokens: 0 };
}

/** Adds `more` into `into` and returns `into`. */
export function addUsage(into: EmbeddingUsage, more: EmbeddingUsage): EmbeddingUsage {
  into.requests += more.requests;
  into.failedRequests += more.failedRequests;
  into.tokens += more.tokens;
  into.estimatedTokens += more.estimatedTokens;
  return into;
}

/** Whether `usage` counts anything at all. */
export function hasUsage(usage: EmbeddingUsage): boolean {
  return usage.requests > 0 || usage.tokens > 0;
}
