import type { MigrationPauseReason } from './migration-pause-reason.enum';
import type { MigrationStatus } from './migration-status.enum';

/**
 * What a remaining time or a duration follows: the limit that binds (`job-rate-limit`,
 * `provider-requests-per-minute`, `provider-tokens-per-minute`), a `measured` rate, or `unknown`.
 */
export const MIGRATION_RATE_BASES = ['job-rate-limit', 'provider-requests-per-minute', 'provider-tokens-per-minute', 'measured', 'unknown'] as const;
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

/** Progress of a job, in the spec's shape plus skipped, throughput and timestamps. */
export interface MigrationProgress {
  jobId: string;
  status: MigrationStatus;
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
  /** estimatedTokens at the model's price (`AiCoreModule` `pricing`, else `pricePerMillionTokens`), in USD. */
  estimatedCostUsd: number;
  /** Provider requests needed at the provider's inputs-per-request limit. */
  estimatedRequests: number;
  /** ISO-8601 duration at the slowest of the limits and the measured rate; null when unknown. */
  estimatedDuration: string | null;
  /**
   * What the duration follows: the binding limit (`job-rate-limit`, `provider-requests-per-minute`,
   * `provider-tokens-per-minute`), the rate the last completed backfill of the entity type reached
   * (`measured`), or `unknown` (no limit that takes a second and nothing measured yet).
   */
  durationBasis: MigrationRateBasis;
}

/** One dead-lettered entity of a job. */
export interface MigrationFailure {
  entityId: string;
  error: string | null;
  attempts: number;
  lastAttemptAt: Date;
}
