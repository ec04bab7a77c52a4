import { MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import { bootIndexingApp, generatedProducts, insertProducts, truncateTables, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { AS_ADMIN, AS_VIEWER, webTestOptions } from './fixtures/web-auth.fixture';
import { CapturedLogger } from './support/captured-logger';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const BASE = '/api/ai/migration';
/** Items per provider request (the worker batch), so the job's pacing unit is small and its rate easy to reason about. */
const PER_REQUEST = 5;

/** Seconds of an ISO-8601 duration of hours, minutes and seconds. */
function seconds(iso: string): number {
  const [, h, m, s] = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso)!;
  return Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issue 14: the remaining time follows the limit that binds now. Before, a job rethrottled to a low rate
 * showed the average since its start (`PT1M13S` with 9.5 minutes left), and an unthrottled estimate said
 * `PT0S`. Each test reads the ETA of a steady job, then measures how long the job really took to finish.
 */
describeEachEngine('ETA and duration estimates follow the binding limit', ({ getUrl }) => {
  let ctx: IndexingApp;
  let server: FakeOpenAiServer;
  let http: ReturnType<IndexingApp['app']['getHttpServer']>;

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32 });
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: new CapturedLogger(),
      migration: {},
      web: webTestOptions(),
      core: {
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: 32 },
        liveIndexing: false,
        worker: { batchSize: PER_REQUEST, concurrency: 1 },
      },
    });
    http = ctx.app.getHttpServer();
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  beforeEach(async () => {
    await truncateTables(ctx.dataSource, ['ai_migration_jobs']);
    server.delayPerInputMs = 0;
  });

  const progressOf = async (id: string) => (await request(http).get(`${BASE}/jobs/${id}`).set(AS_VIEWER).expect(200)).body;

  /** Reads the ETA now, waits for the job to complete, and returns the ETA with the time it really took. */
  async function etaAgainstReality(id: string): Promise<{ eta: number; actual: number; basis: string }> {
    const progress = await progressOf(id);
    const readAt = Date.now();
    await waitUntil('the job completes', async () => (await progressOf(id)).status === MigrationStatus.COMPLETED, 120_000, 100);
    return { eta: seconds(progress.progress.estimatedTimeRemaining), actual: (Date.now() - readAt) / 1000, basis: progress.progress.estimatedTimeRemainingBasis };
  }

  it('a job rethrottled to a lower rate shows the time its new limit needs, within 15 %', async () => {
    await insertProducts(ctx.dataSource, generatedProducts(240, 'eta item'));
    // 120 requests/min of 5 items: 10 entities/s; after the rethrottle 60/min: 5/s.
    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 120 }).expect(201)).body;
    await sleep(6_000);
    await request(http).patch(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).send({ rateLimit: 60 }).expect(200);
    await sleep(6_000);

    const { eta, actual, basis } = await etaAgainstReality(job.id);
    expect(basis).toBe('job-rate-limit');
    expect(actual).toBeGreaterThan(10);
    // One request of slack: the last request's items complete a moment after its release.
    expect(Math.abs(eta - actual)).toBeLessThanOrEqual(0.15 * actual + 1);
  }, 150_000);

  it('a job the provider slows down (no limit binds) shows the time at its measured rate, within 15 %; estimates say how they were derived', async () => {
    await insertProducts(ctx.dataSource, generatedProducts(300, 'slow item'));
    const estimate = async () => (await request(http).post(`${BASE}/estimate`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1_000_000, reindexExisting: true }).expect(200)).body;
    // Nothing measured yet and no limit that takes a second: unknown, not PT0S.
    expect(await estimate()).toMatchObject({ wouldEmbed: 300, estimatedDuration: null, durationBasis: 'unknown' });

    // 100 ms per input: a request of 5 takes 0.5 s, one worker, so about 10 entities/s whatever the job's limit.
    server.delayPerInputMs = 100;
    const started = Date.now();
    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1_000_000 }).expect(201)).body;
    await sleep(12_000);
    const { eta, actual, basis } = await etaAgainstReality(job.id);
    const took = (Date.now() - started) / 1000;
    expect(basis).toBe('measured');
    expect(Math.abs(eta - actual)).toBeLessThanOrEqual(0.15 * actual + 1);

    // The next estimate follows what that job measured.
    const next = await estimate();
    expect(next.durationBasis).toBe('measured');
    expect(Math.abs(seconds(next.estimatedDuration) - took)).toBeLessThanOrEqual(0.15 * took + 1);
  }, 150_000);
});
