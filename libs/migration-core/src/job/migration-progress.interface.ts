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
