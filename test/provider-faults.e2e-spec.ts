import { MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { AS_ADMIN, AS_VIEWER, webTestOptions } from './fixtures/web-auth.fixture';
import { CapturedLogger } from './support/captured-logger';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const N = 1_000;
const BASE = '/api/ai/migration';
/** The word only the poisoned product's text contains; the server answers 400 to any request carrying it. */
const POISON = 'zqxpoisonwordzqx';

/**
 * Issue 11, part 2: a backfill through the REST API, with the real openai client against a server that
 * answers 10 % of requests with 500, leaves 5 % hanging past the request timeout, rate-limits (429) for a
 * stretch of every few seconds, and always rejects (400) requests with one poisoned product. Transient
 * faults must never dead-letter anything: exactly N − 1 vectors, one failure with a readable reason, and
 * no input embedded twice.
 */
describeEachEngine('Provider faults during a backfill', ({ getUrl }) => {
  let ctx: IndexingApp;
  let server: FakeOpenAiServer;
  let http: ReturnType<IndexingApp['app']['getHttpServer']>;
  const logs = new CapturedLogger();

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32 });
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: logs,
      migration: {},
      web: webTestOptions(),
      core: {
        // A request that hangs is given up after 1 s (the test's cap; the adaptive floor is never above it).
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: 32, timeoutMs: 1_000 },
        liveIndexing: false,
        worker: { batchSize: 50 },
        queue: { maxRetries: 2, backoffBaseMs: 0 },
        providerRetry: { backoffBaseMs: 20, backoffMaxMs: 500, outagePauseMs: 60_000 },
      },
    });
    http = ctx.app.getHttpServer();
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  it('the fault mix dead-letters only the poisoned entity, with the provider\'s reason; every other entity gets one vector and no input is embedded twice', async () => {
    const products = generatedProducts(N, 'fault item');
    products[N - 7] = { ...products[N - 7], description: `A product whose text the provider refuses: ${POISON}.` };
    const ids = await insertProducts(ctx.dataSource, products);
    const poisonedId = ids[N - 7];
    server.injectFaults({ errorRate: 0.1, hangRate: 0.05, rateLimitWindow: { everyMs: 3_000, forMs: 500 }, poisoned: [POISON], seed: 11 });

    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1_000_000 }).expect(201)).body;
    const progressOf = async () => (await request(http).get(`${BASE}/jobs/${job.id}`).set(AS_VIEWER).expect(200)).body;
    await waitUntil('the job ends', async () => (await progressOf()).status !== MigrationStatus.RUNNING, 110_000, 200);

    const stats = server.faultStats;
    expect(await progressOf()).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { total: N, processed: N - 1, failed: 1 } });
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_type = 'product'`)).toBe(N - 1);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_id = $1`, [poisonedId])).toBe(0);

    const failures = (await request(http).get(`${BASE}/jobs/${job.id}/failures`).set(AS_VIEWER).expect(200)).body;
    expect(failures).toEqual([expect.objectContaining({ entityId: poisonedId, error: expect.stringContaining('rejected this input') })]);
    expect(failures[0].error).toContain('HTTP 400');
    expect(failures[0].error).toContain('rejected by the safety system');

    // The mix did happen, and cost nothing but the requests it failed.
    expect(stats.errors).toBeGreaterThan(0);
    expect(stats.hangs).toBeGreaterThan(0);
    expect(stats.poisoned).toBeGreaterThan(0);
    expect(stats.duplicateInputs).toBe(0);
    expect(stats.embeddedInputs).toBe(N - 1);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(1);
  }, 120_000);
});

/**
 * A provider that answers nothing but 500s for longer than `providerRetry.outagePauseMs`: the job pauses
 * with the reason, nothing is dead-lettered, and a resume once the provider is back sends the next request
 * at once and completes the job.
 */
describeEachEngine('Provider outage during a backfill', ({ getUrl }) => {
  const COUNT = 200;
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
        worker: { batchSize: 50 },
        queue: { maxRetries: 1, backoffBaseMs: 0 },
        // The provider's back-off after the outage is long, so a resume that waited for it would show.
        providerRetry: { backoffBaseMs: 20, backoffMaxMs: 60_000, outagePauseMs: 500 },
      },
    });
    http = ctx.app.getHttpServer();
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  it('pauses the job with the reason after outagePauseMs of 500s, dead-letters nothing, and a resume completes it at once', async () => {
    await insertProducts(ctx.dataSource, generatedProducts(COUNT, 'outage item'));
    server.failNext(1_000_000, { status: 500 });
    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1_000_000 }).expect(201)).body;
    const progressOf = async () => (await request(http).get(`${BASE}/jobs/${job.id}`).set(AS_VIEWER).expect(200)).body;
    await waitUntil('the job pauses', async () => (await progressOf()).status === MigrationStatus.PAUSED, 30_000, 50);

    const paused = await progressOf();
    expect(paused.errorMessage).toMatch(/Paused because the embedding provider has been unavailable/);
    expect(paused.errorMessage).toContain('HTTP 500');
    expect(paused.progress.failed).toBe(0);
    expect((await request(http).get(`${BASE}/jobs/${job.id}/failures`).set(AS_VIEWER).expect(200)).body).toEqual([]);
    // Transient failures used no attempt (maxRetries is 1), so nothing is dead.
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE status = 'DEAD'`)).toBe(0);

    // Let the batches that were in flight settle, then bring the provider back and resume.
    await waitUntil('no item in flight', async () => (await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE status = 'ACTIVE'`)) === 0);
    server.reset();
    const resumedAt = Date.now();
    await request(http).post(`${BASE}/jobs/${job.id}/resume`).set(AS_ADMIN).expect(200);
    await waitUntil('the job completes', async () => (await progressOf()).status === MigrationStatus.COMPLETED, 30_000, 50);
    const firstAnswered = server.embeddingRequests.find((r) => r.status === 200);
    // Without lifting the back-off, the first request would wait for providerRetry.backoffMaxMs (60 s).
    expect(firstAnswered!.time - resumedAt).toBeLessThan(5_000);
    expect(await progressOf()).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: COUNT, failed: 0 } });
    expect(await ctx.vectorStore.count('product')).toBe(COUNT);
  }, 60_000);
});
