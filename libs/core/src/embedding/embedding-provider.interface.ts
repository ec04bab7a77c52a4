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
  /** The provider's Batch API, when it has one (backfills with `mode: 'batch'` need it). */
  readonly batches?: EmbeddingBatchApi;
}

/** One request of a provider batch: the inputs of one embeddings call, under an id unique in its batch. */
export interface EmbeddingBatchRequest {
  customId: string;
  texts: string[];
}

/**
 * Where a provider batch is: `pending` (validating, running or finalizing), or finished — `completed`,
 * `expired` (the completion window ended first: some requests did not run), `cancelled`, `failed` (the
 * input was rejected as a whole).
 */
export type EmbeddingBatchState = 'pending' | 'completed' | 'expired' | 'cancelled' | 'failed';

/** A provider batch's status as {@link EmbeddingBatchApi.status} reads it. */
export interface EmbeddingBatchStatus {
  id: string;
  state: EmbeddingBatchState;
  /** The provider's own status word (`validating`, `in_progress`, `finalizing`, ...). */
  providerStatus: string;
  /** Why a `failed` batch failed, from the provider's errors. */
  error?: string;
  outputFileId: string | null;
  errorFileId: string | null;
  /** Requests done and failed so far, when the provider says. */
  completedRequests?: number;
  failedRequests?: number;
}

/**
 * The result of one request of a finished batch: its vectors in input order and the tokens the provider
 * billed, or why it has none. `notRun`: the provider never ran it (expired, cancelled, or the batch failed
 * validation) — not the input's fault. `retryable`: a server-side failure worth another try.
 */
export type EmbeddingBatchResult =
  | { vectors: Float32Array[]; tokens?: number }
  | { error: string; retryable: boolean; notRun: boolean };

/**
 * A provider's asynchronous Batch API for embeddings (OpenAI: Files + Batches, 24h window, half the
 * price). Used for backfills of `mode: 'batch'` jobs; live indexing and search stay synchronous. Like
 * `embed()`, no method retries on its own.
 */
export interface EmbeddingBatchApi {
  /**
   * Uploads the requests and starts a batch; returns the provider's batch id. `metadata` is stored with the
   * batch, so {@link find} can find it again after a crash between this call and recording its id.
   */
  submit(requests: EmbeddingBatchRequest[], metadata: Record<string, string>, signal?: AbortSignal): Promise<string>;
  /** The id of a batch submitted with `metadata` (all its entries), searching the most recent ones; undefined when none. */
  find(metadata: Record<string, string>): Promise<string | undefined>;
  /** The batch's current status. */
  status(batchId: string): Promise<EmbeddingBatchStatus>;
  /**
   * Results of a finished batch by custom id; `inputs` gives each request's input count, to check the
   * vectors. Every custom id of `inputs` is in the answer (requests absent from the provider's files as
   * `notRun`).
   */
  results(status: EmbeddingBatchStatus, inputs: Map<string, number>): Promise<Map<string, EmbeddingBatchResult>>;
  /** Asks the provider to cancel the batch; requests already done stay in its output. */
  cancel(batchId: string): Promise<void>;
}
