import { MigrationJob } from '../job/migration-job.entity';
import { MigrationStatus } from '../job/migration-status.enum';
import { isoDuration, toProgress } from './migration-progress';

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

describe('toProgress', () => {
  it('reports done / total, rounded down to one decimal, and the time left for total − done at the rate so far', () => {
    const p = toProgress(job({ totalEntities: 1000, processedEntities: 200, skippedEntities: 45, failedEntities: 5 }), at(10));
    expect(p.progress).toEqual({ total: 1000, processed: 200, failed: 5, percentComplete: 25, estimatedTimeRemaining: 'PT30S' });
    expect(p.skipped).toBe(45);
    expect(p.throughput).toBe(25);
  });

  it('never shows 100 % before everything counted is done', () => {
    // 99,999 of 100,000 is 99.999 %: rounded it would read 100.0 while the job still runs.
    const p = toProgress(job({ totalEntities: 100_000, processedEntities: 99_999 }), at(100));
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

  it('a paused job has no estimate', () => {
    const p = toProgress(job({ status: MigrationStatus.PAUSED, totalEntities: 10, processedEntities: 5 }), at(5));
    expect(p.progress).toMatchObject({ percentComplete: 50, estimatedTimeRemaining: null });
  });
});

describe('isoDuration', () => {
  it('formats seconds as an ISO-8601 duration', () => {
    expect(isoDuration(0)).toBe('PT0S');
    expect(isoDuration(59.6)).toBe('PT1M');
    expect(isoDuration(3723)).toBe('PT1H2M3S');
    expect(isoDuration(-5)).toBe('PT0S');
  });
});
