import type { MigrationJob } from '../job/migration-job.entity';
import type { MigrationProgress, MigrationUsage } from '../job/migration-progress.interface';
import { MigrationStatus } from '../job/migration-status.enum';

/** Formats seconds as an ISO-8601 duration (`PT1H2M3S`). */
export function isoDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${s}S` : ''}`;
}

/**
 * The progress view of a job row at `now`.
 *
 * `total` is what the job covers (see MigrationJob.totalEntities): the rows matching its filters at the
 * start, raised to the rows its producer has read, and exactly processed + skipped + failed once
 * COMPLETED. The runner keeps processed + skipped + failed ≤ total; `percentComplete` is their ratio,
 * rounded down to one decimal (so 100 only when everything counted is done) and never above 100, and the
 * remaining time is (total − done) at the rate since the start.
 */
export function toProgress(job: MigrationJob, now = new Date()): MigrationProgress {
  const done = job.processedEntities + job.skippedEntities + job.failedEntities;
  const total = job.totalEntities;
  const finished = job.status === MigrationStatus.COMPLETED || job.status === MigrationStatus.FAILED || job.status === MigrationStatus.CANCELLED;
  // A finished job's rate is fixed at its end; it must not decay while the job is looked at later.
  const end = finished && job.completedAt ? job.completedAt : now;
  const elapsed = job.startedAt ? (end.getTime() - job.startedAt.getTime()) / 1000 : 0;
  const throughput = elapsed > 0 ? done / elapsed : 0;
  const remaining = Math.max(0, total - done);
  const eta = job.status === MigrationStatus.RUNNING && throughput > 0 && remaining > 0 ? isoDuration(remaining / throughput) : finished ? 'PT0S' : null;
  return {
    jobId: job.id,
    status: job.status,
    progress: {
      total,
      processed: job.processedEntities,
      failed: job.failedEntities,
      percentComplete: percentOf(done, total, finished),
      estimatedTimeRemaining: job.status === MigrationStatus.PAUSED ? null : eta,
    },
    skipped: job.skippedEntities,
    throughput: Math.round(throughput * 10) / 10,
    startedAt: job.startedAt,
    lastUpdatedAt: job.lastUpdatedAt,
    completedAt: job.completedAt,
    errorMessage: job.errorMessage,
    pauseReason: job.status === MigrationStatus.PAUSED ? job.pauseReason : null,
    usage: usageOf(job, done, finished),
  };
}

/**
 * A job's provider usage, cost, projection and budget, as {@link MigrationProgress.usage} shows them.
 *
 * @example
 * ```ts
 * const { tokensUsed, estimatedCost } = migrationUsage(await migrations.getJob(id));
 * ```
 */
export function migrationUsage(job: MigrationJob): MigrationUsage {
  return toProgress(job).usage;
}

/**
 * The job's usage figures, rounded for display, with the projection: what the entities done so far cost per
 * entity (the skipped ones, which cost nothing, included, as the rest of the table will have its share of
 * them too), times the entities the job covers. A finished job's projection is what it used.
 */
function usageOf(job: MigrationJob, done: number, finished: boolean): MigrationUsage {
  const scale = done > 0 ? Math.max(job.totalEntities, done) / done : null;
  const project = (used: number) => (finished ? used : scale === null ? null : used * scale);
  const projectedTokens = project(job.tokensUsed);
  const projectedCost = project(job.costUsed);
  return {
    requests: round(job.providerRequests, 2),
    failedRequests: round(job.failedRequests, 2),
    tokensUsed: Math.round(job.tokensUsed),
    estimatedTokens: Math.round(job.estimatedTokens),
    estimatedCost: round(job.costUsed, 6),
    projectedTokens: projectedTokens === null ? null : Math.round(projectedTokens),
    projectedCost: projectedCost === null ? null : round(projectedCost, 6),
    maxTokens: job.maxTokens,
    maxCost: job.maxCost,
  };
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** done / total in percent, one decimal rounded down, within 0..100; a finished job with nothing to do is 100. */
function percentOf(done: number, total: number, finished: boolean): number {
  if (total <= 0) return finished ? 100 : 0;
  // done × 1000 is an exact integer, so a whole ratio such as 57 / 100 floors to 57, not 56.9.
  return Math.min(100, Math.max(0, Math.floor((done * 1000) / total) / 10));
}
