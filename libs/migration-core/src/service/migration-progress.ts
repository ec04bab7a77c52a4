import type { MigrationJob } from '../job/migration-job.entity';
import { RATE_TIME_CONSTANT_S } from '../job/migration-job.repository';
import type { MigrationBatches, MigrationProgress, MigrationRateBasis, MigrationUsage } from '../job/migration-progress.interface';
import { MigrationStatus } from '../job/migration-status.enum';

/** Formats seconds as an ISO-8601 duration (`PT1H2M3S`). */
export function isoDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${s}S` : ''}`;
}

/** What bounds a job's rate besides the machine (see {@link toProgress}). */
export interface ProgressLimits {
  /** Items one provider request carries (the job's pacing unit). */
  itemsPerRequest: number;
  /** The rate limit of jobs that have none. */
  defaultRateLimit: number;
  /** The provider's requests per minute configured for this instance; 0 for none. */
  requestsPerMinute: number;
  /** The provider's tokens per minute configured for this instance; 0 for none. */
  tokensPerMinute: number;
}

/** How far below a limit's rate the measured rate may be for the limit to count as the one that binds. */
const BINDING_SHARE = 0.7;

/**
 * The job's remaining time and what it follows:
 * - the measured rate is the job's recent rate (entities finished, decaying with a 2-minute time constant,
 *   corrected for a window shorter than that), so a rethrottle or a slower provider shows within minutes
 *   instead of being averaged with the whole run;
 * - each limit gives a rate in entities per second: the job's rate limit and the provider's requests per
 *   minute (× items per request), the provider's tokens per minute (÷ tokens per entity so far), all
 *   divided by the share of entities that need the provider (the others are skipped for free);
 * - when the measured rate reaches BINDING_SHARE of the lowest limit's, that limit binds and the ETA is
 *   exact at its rate (requests finishing in bursts would otherwise swing it); otherwise the machine or
 *   the provider's speed binds and the ETA follows the measured rate. Without a measured rate it is unknown.
 */
function remaining(job: MigrationJob, remainingEntities: number, now: Date, limits?: ProgressLimits): { seconds: number | null; basis: MigrationRateBasis } {
  const measured = recentRate(job, now);
  if (measured === null || measured <= 0) return { seconds: null, basis: 'unknown' };
  const bounds: Array<{ rate: number; basis: MigrationRateBasis }> = [];
  const needingProvider = job.scannedEntities > 0 ? job.enqueuedEntities / job.scannedEntities : 1;
  if (limits && needingProvider > 0) {
    const perSecond = (requestsPerMinute: number) => (requestsPerMinute / 60) * limits.itemsPerRequest / needingProvider;
    bounds.push({ rate: perSecond(job.rateLimit ?? limits.defaultRateLimit), basis: 'job-rate-limit' });
    if (limits.requestsPerMinute > 0) bounds.push({ rate: perSecond(limits.requestsPerMinute), basis: 'provider-requests-per-minute' });
    const tokensPerEntity = job.processedEntities > 0 ? job.tokensUsed / job.processedEntities : 0;
    if (limits.tokensPerMinute > 0 && tokensPerEntity > 0) {
      bounds.push({ rate: limits.tokensPerMinute / 60 / tokensPerEntity / needingProvider, basis: 'provider-tokens-per-minute' });
    }
  }
  const binding = bounds.sort((a, b) => a.rate - b.rate)[0];
  if (binding && measured >= BINDING_SHARE * binding.rate) return { seconds: remainingEntities / binding.rate, basis: binding.basis };
  return { seconds: remainingEntities / measured, basis: 'measured' };
}

/** Entities per second recently (see MigrationJob.rateDone), or null before anything was measured. */
function recentRate(job: MigrationJob, now: Date): number | null {
  if (!job.rateAt || !job.rateSince) return null;
  const tau = RATE_TIME_CONSTANT_S;
  const window = (now.getTime() - job.rateSince.getTime()) / 1000;
  if (window < 1) return null;
  const decayed = job.rateDone * Math.exp(-Math.max(0, now.getTime() - job.rateAt.getTime()) / 1000 / tau);
  // A window shorter than the time constant has not filled the decaying count yet.
  return decayed / (tau * (1 - Math.exp(-window / tau)));
}

/**
 * The progress view of a job row at `now`.
 *
 * `total` is what the job covers (see MigrationJob.totalEntities): the rows matching its filters at the
 * start, raised to the rows its producer has read, and exactly processed + skipped + failed once
 * COMPLETED. The runner keeps processed + skipped + failed ≤ total; `percentComplete` is their ratio,
 * rounded down to one decimal (so 100 only when everything counted is done) and never above 100; the
 * remaining time is (total − done) at the rate that binds now (see `remaining`), and `throughput` stays the
 * average since the start. `limits` (the service passes them) let the ETA follow a binding limit. A
 * `batch` job's results arrive a batch at a time within the provider's completion window: its remaining time
 * is not estimated (null, basis `batch-window`); `batches` (the service passes them) shows where they are.
 */
export function toProgress(job: MigrationJob, now = new Date(), limits?: ProgressLimits, batches?: MigrationBatches): MigrationProgress {
  const done = job.processedEntities + job.skippedEntities + job.failedEntities;
  const total = job.totalEntities;
  const finished = job.status === MigrationStatus.COMPLETED || job.status === MigrationStatus.FAILED || job.status === MigrationStatus.CANCELLED;
  // A finished job's rate is fixed at its end; it must not decay while the job is looked at later.
  const end = finished && job.completedAt ? job.completedAt : now;
  const elapsed = job.startedAt ? (end.getTime() - job.startedAt.getTime()) / 1000 : 0;
  const throughput = elapsed > 0 ? done / elapsed : 0;
  const left = Math.max(0, total - done);
  const running = job.status === MigrationStatus.RUNNING && left > 0;
  const estimate: { seconds: number | null; basis: MigrationRateBasis } = !running
    ? { seconds: finished ? 0 : null, basis: finished ? 'measured' : 'unknown' }
    : job.mode === 'batch'
      ? { seconds: null, basis: 'batch-window' }
      : remaining(job, left, now, limits);
  const eta = estimate.seconds === null ? null : isoDuration(estimate.seconds);
  return {
    jobId: job.id,
    status: job.status,
    mode: job.mode,
    batches: job.mode === 'batch' ? (batches ?? { inFlight: 0, applied: 0, failed: 0, inputsInFlight: 0 }) : null,
    progress: {
      total,
      processed: job.processedEntities,
      failed: job.failedEntities,
      percentComplete: percentOf(done, total, finished),
      estimatedTimeRemaining: job.status === MigrationStatus.PAUSED ? null : eta,
      estimatedTimeRemainingBasis: job.status === MigrationStatus.PAUSED ? 'unknown' : estimate.basis,
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
