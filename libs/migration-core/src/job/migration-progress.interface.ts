import type { MigrationStatus } from './migration-status.enum';

/** Progress of a job, in the spec's shape plus skipped, throughput and timestamps. */
export interface MigrationProgress {
  jobId: string;
  status: MigrationStatus;
  progress: {
    total: number;
    processed: number;
    failed: number;
    percentComplete: number;
    /** ISO-8601 duration (e.g. `PT45M`); null while paused, finished or before a rate is known. */
    estimatedTimeRemaining: string | null;
  };
  skipped: number;
  /** Entities per second (processed + skipped + failed) since the start. */
  throughput: number;
  startedAt: Date | null;
  lastUpdatedAt: Date;
  completedAt: Date | null;
  errorMessage: string | null;
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
  /** estimatedTokens × pricePerMillionTokens / 1M, in USD. */
  estimatedCostUsd: number;
  /** Provider requests needed at the provider's inputs-per-request limit. */
  estimatedRequests: number;
  /** ISO-8601 duration at the job's rate limit (requests per minute). */
  estimatedDuration: string;
}

/** One dead-lettered entity of a job. */
export interface MigrationFailure {
  entityId: string;
  error: string | null;
  attempts: number;
  lastAttemptAt: Date;
}
