import { MigrationJob } from '../job/migration-job.entity';
import { MigrationStatus } from '../job/migration-status.enum';
import { RATE_TIME_CONSTANT_S } from '../job/migration-job.repository';
import { isoDuration, toProgress, type ProgressLimits } from './migration-progress';

const START = new Date('2026-01-01T00:00:00Z');

function job(fields: Partial<MigrationJob>): MigrationJob {
  return Object.assign(new MigrationJob(), {
    id: '3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10',
    entityType: 'product',
    status: MigrationStatus.RUNNING,
    totalEntities: 0,
    processedEntities: 0,
    skippedEntities: 0,
    failedEntities: 0,
    enqueuedEntities: 0,
    scannedEntities: 0,
    startedAt: START,
    completedAt: null,
    lastUpdatedAt: START,
    errorMessage: null,
    ...fields,
  });
}

const at = (seconds: number) => new Date(START.getTime() + seconds * 1000);

/** The recent-rate fields of a job that has finished `rate` entities per second steadily for `seconds` since `since`. */
function steady(rate: number, seconds: number, since = 0): Partial<MigrationJob> {
  const tau = RATE_TIME_CONSTANT_S;
  return { rateDone: rate * tau * (1 - Math.exp(-seconds / tau)), rateAt: at(since + seconds), rateSince: at(since) };
}

const LIMITS: ProgressLimits = { itemsPerRequest: 25, defaultRateLimit: 100, requestsPerMinute: 0, tokensPerMinute: 0 };

describe('toProgress', () => {
  it('reports done / total, rounded down to one decimal, and the time left for total − done at the rate so far', () => {
    const p = toProgress(job({ totalEntities: 1000, processedEntities: 200, skippedEntities: 45, failedEntities: 5, ...steady(25, 10) }), at(10));
    expect(p.progress).toEqual({
      total: 1000,
      processed: 200,
      failed: 5,
      percentComplete: 25,
      estimatedTimeRemaining: 'PT30S',
      estimatedTimeRemainingBasis: 'measured',
    });
    expect(p.skipped).toBe(45);
    expect(p.throughput).toBe(25);
  });

  it('never shows 100 % before everything counted is done', () => {
    // 99,999 of 100,000 is 99.999 %: rounded it would read 100.0 while the job still runs.
    const p = toProgress(job({ totalEntities: 100_000, processedEntities: 99_999, ...steady(1000, 100) }), at(100));
    expect(p.progress.percentComplete).toBe(99.9);
    expect(p.progress.estimatedTimeRemaining).toBe('PT0S');
    expect(toProgress(job({ totalEntities: 100, processedEntities: 57 }), at(1)).progress.percentComplete).toBe(57);
  });

  it('stays within 100 % and gives no negative time left even if a row said done > total', () => {
    const p = toProgress(job({ totalEntities: 100_000, processedEntities: 100_000, skippedEntities: 84 }), at(100));
    expect(p.progress.percentComplete).toBe(100);
    expect(p.progress.estimatedTimeRemaining).toBeNull();
  });

  it('a completed job is 100 % with nothing left, and its rate is fixed at its end', () => {
    const completed = job({
      status: MigrationStatus.COMPLETED,
      totalEntities: 1084,
      processedEntities: 1000,
      skippedEntities: 80,
      failedEntities: 4,
      completedAt: at(10),
    });
    const p = toProgress(completed, at(1000));
    expect(p.progress).toMatchObject({ total: 1084, percentComplete: 100, estimatedTimeRemaining: 'PT0S' });
    expect(p.throughput).toBe(108.4);
  });

  it('a finished job with nothing to do is 100 %; a running one with nothing counted yet is 0 % with no estimate', () => {
    expect(toProgress(job({ status: MigrationStatus.COMPLETED, completedAt: at(1) }), at(2)).progress.percentComplete).toBe(100);
    expect(toProgress(job({ totalEntities: 0 }), at(2)).progress).toMatchObject({ percentComplete: 0, estimatedTimeRemaining: null });
    expect(toProgress(job({ totalEntities: 10 }), at(2)).progress).toMatchObject({ percentComplete: 0, estimatedTimeRemaining: null });
  });

  it('follows the recent rate, not the average since the start: a job that slowed down shows it', () => {
    // 100 s at 50/s, then 600 s at 5/s: the average since the start (11.4/s) would promise 2.3× too soon; the
    // recent rate has forgotten the fast start after a few time constants.
    const tau = RATE_TIME_CONSTANT_S;
    const fast = 50 * tau * (1 - Math.exp(-100 / tau));
    const rateDone = fast * Math.exp(-600 / tau) + 5 * tau * (1 - Math.exp(-600 / tau));
    const slowed = job({ totalEntities: 21_500, processedEntities: 8_000, scannedEntities: 8_000, enqueuedEntities: 8_000, rateDone, rateAt: at(700), rateSince: at(0) });
    const p = toProgress(slowed, at(700), { ...LIMITS, defaultRateLimit: 1_000_000 });
    expect(p.progress.estimatedTimeRemainingBasis).toBe('measured');
    const seconds = (13_500 / 5) * 1.15;
    expect(durationSeconds(p.progress.estimatedTimeRemaining!)).toBeLessThanOrEqual(seconds);
    expect(durationSeconds(p.progress.estimatedTimeRemaining!)).toBeGreaterThanOrEqual(13_500 / 5 / 1.15);
  });

  it('follows the job rate limit as soon as it binds — a rethrottle to 2 requests/min shows at once', () => {
    // 25/s for 60 s, then rethrottled to 2 requests of 25 items per minute (0.83/s): 9,500 left take 190 min.
    const p = toProgress(
      job({ totalEntities: 11_000, processedEntities: 1_500, scannedEntities: 1_600, enqueuedEntities: 1_600, rateLimit: 2, ...steady(25, 60) }),
      at(61),
      LIMITS,
    );
    expect(p.progress).toMatchObject({ estimatedTimeRemaining: 'PT3H10M', estimatedTimeRemainingBasis: 'job-rate-limit' });
    // Requests finishing in bursts: the measured rate swings around the limit's, the estimate does not.
    const bursty = job({ totalEntities: 11_000, processedEntities: 1_500, scannedEntities: 1_600, enqueuedEntities: 1_600, rateLimit: 2, ...steady(0.6, 600) });
    expect(toProgress(bursty, at(600), LIMITS).progress.estimatedTimeRemaining).toBe('PT3H10M');
  });

  it("follows the provider's tokens per minute when they bind, and only the entities that need the provider", () => {
    // 200 tokens per entity at 60,000 tokens/min: 5 entities/s; half the rows are skipped for free, so 10/s.
    const fields = { totalEntities: 10_000, processedEntities: 1_000, skippedEntities: 1_000, scannedEntities: 2_000, enqueuedEntities: 1_000, tokensUsed: 200_000 };
    const p = toProgress(job({ ...fields, ...steady(9.5, 200) }), at(200), { ...LIMITS, defaultRateLimit: 1_000_000, tokensPerMinute: 60_000 });
    expect(p.progress).toMatchObject({ estimatedTimeRemaining: 'PT13M20S', estimatedTimeRemainingBasis: 'provider-tokens-per-minute' });
  });

  it('says "unknown" instead of zero while nothing has been measured', () => {
    const p = toProgress(job({ totalEntities: 20_000 }), at(1), LIMITS);
    expect(p.progress).toMatchObject({ estimatedTimeRemaining: null, estimatedTimeRemainingBasis: 'unknown' });
  });

  it('a paused job has no estimate', () => {
    const p = toProgress(job({ status: MigrationStatus.PAUSED, totalEntities: 10, processedEntities: 5 }), at(5));
    expect(p.progress).toMatchObject({ percentComplete: 50, estimatedTimeRemaining: null });
  });
});

/** Seconds of an ISO-8601 duration of hours, minutes and seconds. */
function durationSeconds(iso: string): number {
  const [, h, m, sec] = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso)!;
  return Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(sec ?? 0);
}

describe('isoDuration', () => {
  it('formats seconds as an ISO-8601 duration', () => {
    expect(isoDuration(0)).toBe('PT0S');
    expect(isoDuration(59.6)).toBe('PT1M');
    expect(isoDuration(3723)).toBe('PT1H2M3S');
    expect(isoDuration(-5)).toBe('PT0S');
  });
});
