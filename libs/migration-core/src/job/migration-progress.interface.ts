import type { MigrationPauseReason } from './migration-pause-reason.enum';
import type { MigrationStatus } from './migration-status.enum';
import type { MigrationMode } from './migration-request.interface';

/**
 * What a remaining time or a duration follows: the limit that binds (`job-rate-limit`,
 * `provider-requests-per-minute`, `provider-tokens-per-minute`), a `measured` rate, the provider's batch
 * completion window (`batch-window`: a `mode: 'batch'` job finishes within it), or `unknown`.
 */
export const MIGRATION_RATE_BASES = ['job-rate-limit', 'provider-requests-per-minute', 'provider-tokens-per-minute', 'measured', 'batch-window', 'unknown'] as const;
/**
 * How an estimate counted tokens: `tokenizer` — the model's own tokenizer (OpenAI's embedding models);
 * `calibrated-estimate` — the byte estimate corrected by the ratio of the tokens the provider reported to
 * the estimate for the requests this instance sent so far; `byte-estimate` — `ceil(utf8 bytes / 3)` alone
 * (nothing reported yet; typically a quarter to a third high on English text).
 */
export const MIGRATION_TOKEN_COUNT_BASES = ['tokenizer', 'calibrated-estimate', 'byte-estimate'] as const;
/** One of {@link MIGRATION_TOKEN_COUNT_BASES}. */
export type MigrationTokenCountBasis = (typeof MIGRATION_TOKEN_COUNT_BASES)[number];

/** One of {@link MIGRATION_RATE_BASES}. */
export type MigrationRateBasis = (typeof MIGRATION_RATE_BASES)[number];

/** What a job has cost at the embedding provider so far, its projection, and its budget. */
export interface MigrationUsage {
  /** Provider requests sent for the job's items (failed attempts included; a shared request by the job's share). */
  requests: number;
  /** The part of `requests` that failed. */
  failedRequests: number;
  /** Tokens billed: the provider's reported usage (the library's count where it reported none). */
  tokensUsed: number;
  /** The part of `tokensUsed` that is the library's count rather than the provider's report. */
  estimatedTokens: number;
  /** USD so far, at the configured price of the model. */
  estimatedCost: number;
  /** tokensUsed projected to the whole job (by the tokens per entity so far); null before any entity is done. */
  projectedTokens: number | null;
  /** estimatedCost projected the same way; null before any entity is done. */
  projectedCost: number | null;
  /** The job's token budget; null for none. */
  maxTokens: number | null;
  /** The job's budget in USD; null for none. */
  maxCost: number | null;
}

/** A `mode: 'batch'` job's provider batches. */
export interface MigrationBatches {
  /** Batches being submitted or running at the provider. */
  inFlight: number;
  /** Batches whose results were applied. */
  applied: number;
  /** Batches the provider rejected or that were never submitted (their items were re-queued). */
  failed: number;
  /** Embedding inputs in the batches in flight (counted in `processed` once applied). */
  inputsInFlight: number;
}

/** Progress of a job, in the spec's shape plus skipped, throughput and timestamps. */
export interface MigrationProgress {
  jobId: string;
  status: MigrationStatus;
  /** How the job's texts reach the provider: `sync` or `batch` (the provider's Batch API). */
  mode: MigrationMode;
  /** For a `batch` job, its provider batches; null for `sync`. */
  batches: MigrationBatches | null;
  progress: {
    total: number;
    processed: number;
    failed: number;
    percentComplete: number;
    /** ISO-8601 duration (e.g. `PT45M`); `PT0S` once finished; null while paused or before a rate is known. */
    estimatedTimeRemaining: string | null;
    /**
     * What the remaining time follows: the limit that binds now (`job-rate-limit`,
     * `provider-requests-per-minute`, `provider-tokens-per-minute`), the job's recent `measured` rate (the
     * machine or the provider's speed binds), or `unknown` (nothing measured yet, or paused).
     */
    estimatedTimeRemainingBasis: MigrationRateBasis;
  };
  skipped: number;
  /** Entities per second (processed + skipped + failed) since the start. */
  throughput: number;
  startedAt: Date | null;
  lastUpdatedAt: Date;
  completedAt: Date | null;
  errorMessage: string | null;
  /** Why the job is PAUSED (BUDGET_EXCEEDED, QUOTA_EXHAUSTED, ...); null otherwise. */
  pauseReason: MigrationPauseReason | null;
  /** Provider usage, cost, projection and budget. */
  usage: MigrationUsage;
}

/** A dry run's answer: what a job with this request would do, computed without provider calls or writes. */
export interface MigrationEstimate {
  entityType: string;
  /** Rows matching the filters. */
  matching: number;
  /** Rows already indexed with their current content (skipped unless reindexExisting). */
  wouldSkip: number;
  /** Rows that would be embedded. */
  wouldEmbed: number;
  /** Estimated tokens of the texts to embed. */
  estimatedTokens: number;
  /** How `estimatedTokens` was counted (see {@link MIGRATION_TOKEN_COUNT_BASES}). */
  tokenCountBasis: MigrationTokenCountBasis;
  /** estimatedTokens at the model's price (`AiCoreModule` `pricing`, else `pricePerMillionTokens`), in USD. */
  estimatedCostUsd: number;
  /** Provider requests needed at the provider's inputs-per-request limit. */
  estimatedRequests: number;
  /**
   * ISO-8601 duration in the requested mode: synchronous — the slowest of the limits and the measured rate,
   * null when unknown; batch — the provider's completion window (an upper bound).
   */
  estimatedDuration: string | null;
  /**
   * What the duration follows: the binding limit (`job-rate-limit`, `provider-requests-per-minute`,
   * `provider-tokens-per-minute`), the rate the last completed backfill of the entity type reached
   * (`measured`), or `unknown` (no limit that takes a second and nothing measured yet).
   */
  durationBasis: MigrationRateBasis;
  /** The mode these figures are for (the request's). */
  mode: MigrationMode;
  /** Cost and duration of the same work in each mode, to compare. */
  byMode: MigrationModeEstimate[];
}

/** What the estimated work costs and takes in one mode. */
export interface MigrationModeEstimate {
  mode: MigrationMode;
  /** Whether this application can run the mode (`batch` needs a provider with a Batch API). */
  available: boolean;
  /** USD: the synchronous price, or the batch price (half of it at OpenAI). */
  estimatedCostUsd: number;
  /** Embeddings requests (synchronous requests, or the lines of the batch files). */
  estimatedRequests: number;
  /** Provider batches needed (batch mode); null for sync. */
  estimatedBatches: number | null;
  /** ISO-8601 duration (see {@link MigrationEstimate.estimatedDuration}). */
  estimatedDuration: string | null;
  durationBasis: MigrationRateBasis;
}

/** One dead-lettered entity of a job. */
export interface MigrationFailure {
  entityId: string;
  error: string | null;
  attempts: number;
  lastAttemptAt: Date;
}
