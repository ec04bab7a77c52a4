/**
 * Rate-limit hints a provider read from a response (OpenAI's `x-ratelimit-*` headers).
 * Every field is optional: providers report what they know.
 */
export interface RateLimitHints {
  /** Requests left in the provider's current window. */
  remainingRequests?: number;
  /** Tokens left in the provider's current window. */
  remainingTokens?: number;
  /** Milliseconds until the request window resets. */
  resetRequestsMs?: number;
  /** Milliseconds until the token window resets. */
  resetTokensMs?: number;
}

/** What one `embed()` call returns: one vector per input, in input order. */
export interface EmbeddingResult {
  vectors: Float32Array[];
  /** Tokens the provider says it consumed, when it says so. */
  totalTokens?: number;
  rateLimit?: RateLimitHints;
}

/**
 * An embedding model behind an API (or computed locally).
 *
 * Implementations embed a batch in one call and never retry on their own: retries, backoff and rate
 * limiting belong to the indexing queue and the shared {@link ProviderRateLimiter}, which must see every
 * attempt to keep their accounting right.
 *
 * Errors: throw {@link EmbeddingRateLimitError} for a 429, {@link EmbeddingQuotaExceededError} when the
 * account is out of quota, {@link EmbeddingProviderError} (with `retryable`) for anything else.
 *
 * @example
 * ```ts
 * AiCoreModule.forRoot({ embedding: { provider: 'custom', useFactory: () => new MyProvider() } })
 * ```
 */
export interface EmbeddingProvider {
  /** Short name shown in logs and health output (`openai`, `hashing`, ...). */
  readonly name: string;
  /** Model identifier; part of every content hash, so changing it re-embeds everything. */
  readonly model: string;
  /** Length of every vector this provider returns; part of every content hash. */
  readonly dimensions: number;
  /** Most inputs one request may carry (OpenAI: 2048). */
  readonly maxInputsPerRequest: number;
  /** Most tokens one request may carry, all inputs together (OpenAI: 300,000). */
  readonly maxTokensPerRequest: number;
  /** Most tokens one input may have (OpenAI text-embedding-3-*: 8191). */
  readonly maxTokensPerInput: number;
  /**
   * Embeds `texts` in one request. The caller keeps each request within the limits above. `signal` aborts
   * the request at shutdown so in-flight work is released at once instead of waiting for a slow provider.
   */
  embed(texts: string[], signal?: AbortSignal): Promise<EmbeddingResult>;
  /** Optional cheap reachability check for health endpoints; throws when unreachable. */
  checkHealth?(): Promise<void>;
  /** Optional exact token count; the default estimate is used when absent. */
  countTokens?(text: string): number;
}
