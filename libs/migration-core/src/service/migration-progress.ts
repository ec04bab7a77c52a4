import type { MigrationJob } from '../job/migration-job.entity';
import type { MigrationProgress } from '../job/migration-progress.interface';
import { MigrationStatus } from '../job/migration-status.enum';

/** Formats seconds as an ISO-8601 duration (`PT1H2M3S`). */
export function isoDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${s}S` : ''}`;
}

/** The progress view of a job row at `now`. */
export function toProgress(job: MigrationJob, now = new Date()): MigrationProgress {
  const done = job.processedEntities + job.skippedEntities + job.failedEntities;
  const total = job.totalEntities;
  const finished = job.status === MigrationStatus.COMPLETED || job.status === MigrationStatus.FAILED || job.status === MigrationStatus.CANCELLED;
  // A finished job's rate is fixed at its end; it must not decay while the job is looked at later.
  const end = finished && job.completedAt ? job.completedAt : now;
  const elapsed = job.startedAt ? (end.getTime() - job.startedAt.getTime()) / 1000 : 0;
  const throughput = elapsed > 0 ? done / elapsed : 0;
  const eta =
    job.status === MigrationStatus.RUNNING && throughput > 0 && total > done ? isoDuration((total - done) / throughput) : finished ? 'PT0S' : null;
  return {
    jobId: job.id,
    status: job.status,
    progress: {
      total,
      processed: job.processedEntities,
      failed: job.failedEntities,
      percentComplete: total > 0 ? Math.min(100, Math.round((done / total) * 1000) / 10) : finished ? 100 : 0,
      estimatedTimeRemaining: job.status === MigrationStatus.PAUSED ? null : eta,
    },
    skipped: job.skippedEntities,
    throughput: Math.round(throughput * 10) / 10,
    startedAt: job.startedAt,
    lastUpdatedAt: job.lastUpdatedAt,
    completedAt: job.completedAt,
    errorMessage: job.errorMessage,
  };
}
