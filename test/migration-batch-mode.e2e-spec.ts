import { MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, truncateTables, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { AS_ADMIN, AS_VIEWER, webTestOptions } from './fixtures/web-auth.fixture';
import { CapturedLogger } from './support/captured-logger';
import { FAKE_OPENAI_API_KEY, fakeEmbedding, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const BASE = '/api/ai/migration';
const MODEL = 'text-embedding-3-small';
const DIMENSIONS = 32;
/** USD per 1M tokens (OpenAI's list price of the model); the Batch API bills half. */
const PRICE = 0.02;
const BATCH_TABLES = ['ai_embedding_batch_items', 'ai_embedding_batches', 'ai_migration_jobs', 'ai_provider_usage'];

/**
 * Issue 14, part 3: `mode: 'batch'` sends a backfill through the provider's Batch API (the fake server's
 * Files + Batches on an accelerated clock) with the synchronous path's guarantees: every entity embedded
 * once, across partial errors, expiry and a restart between submission and completion; an entity changed
 * while its batch was out is not overwritten with the old text's vector; pause stops new batches, cancel
 * cancels them; usage is billed at half the price.
 */
describeEachEngine('Migration in batch mode', ({ getUrl }) => {
  let server: FakeOpenAiServer;
  let ctx: IndexingApp;
  let http: ReturnType<IndexingApp['app']['getHttpServer']>;

  const boot = async (batch: Record<string, number> = {}) => {
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: new CapturedLogger(),
      migration: {},
      web: webTestOptions(),
      core: {
        // Ten inputs per request: a batch of 100 items is a file of ten lines.
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: MODEL, dimensions: DIMENSIONS, maxInputsPerRequest: 10 },
        pricing: { [MODEL]: PRICE },
        queue: { maxRetries: 3, backoffBaseMs: 0 },
        worker: { batchSize: 50 },
        batch: { pollIntervalMs: 50, gatherMs: 100, submitTimeoutMs: 1_000, maxInputsPerBatch: 100, ...batch },
      },
    });
    http = ctx.app.getHttpServer();
  };

  const start = async (body: Record<string, unknown> = {}) =>
    (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', mode: 'batch', ...body }).expect(201)).body as { id: string; mode: string };
  const progressOf = async (id: string) => (await request(http).get(`${BASE}/jobs/${id}`).set(AS_VIEWER).expect(200)).body;
  const waitForStatus = (id: string, status: MigrationStatus, timeoutMs = 60_000) =>
    waitUntil(`job ${id} is ${status}`, async () => (await progressOf(id)).status === status, timeoutMs, 50);
  const batchRows = (status: string) => countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_embedding_batches WHERE status = $1`, [status]);
  /** How many times the server embedded each text successfully in a batch line. */
  const embeddedTimes = () => {
    const times = new Map<string, number>();
    for (const line of server.batchLines.filter((l) => l.status === 200)) for (const text of line.inputs ?? []) times.set(text, (times.get(text) ?? 0) + 1);
    return times;
  };

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: DIMENSIONS, batchTiming: { validateMs: 20, processMs: 50, finalizeMs: 20 } });
    await boot();
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  beforeEach(async () => {
    await truncateTables(ctx.dataSource, BATCH_TABLES);
    server.reset();
  });

  it('embeds every entity once through the Batch API, at half the price, and shows its batches', async () => {
    await insertProducts(ctx.dataSource, generatedProducts(250, 'batch item'));
    const job = await start();
    expect(job.mode).toBe('batch');
    await waitForStatus(job.id, MigrationStatus.COMPLETED);

    const progress = await progressOf(job.id);
    expect(progress.progress.processed).toBe(250);
    expect(progress.mode).toBe('batch');
    // 250 items at most 100 per batch: three batches at least, all applied.
    expect(progress.batches.applied).toBeGreaterThanOrEqual(3);
    expect(progress.batches.inFlight).toBe(0);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_type = 'product'`)).toBe(250);
    // Nothing went through the synchronous endpoint; every text was embedded exactly once in a batch.
    expect(server.embeddingRequests).toHaveLength(0);
    const times = embeddedTimes();
    expect(times.size).toBe(250);
    expect([...times.values()].every((n) => n === 1)).toBe(true);
    // Metering: the tokens the server billed, at the batch price.
    const stats = server.batchStats();
    expect(progress.usage.tokensUsed).toBe(stats.tokensBilled);
    expect(progress.usage.estimatedCost).toBeCloseTo((stats.tokensBilled * PRICE * 0.5) / 1_000_000, 6);
    const [day] = await ctx.dataSource.query(`SELECT tokens, cost FROM ai_provider_usage WHERE scope = 'backfill'`);
    expect(Number(day.tokens)).toBe(stats.tokensBilled);
    expect(Number(day.cost)).toBeCloseTo((stats.tokensBilled * PRICE * 0.5) / 1_000_000, 9);
  });

  it('retries failed lines in a later batch and re-queues the lines of an expired batch without using an attempt', async () => {
    await insertProducts(ctx.dataSource, generatedProducts(120, 'flaky item'));
    // The first batch expires after running one of its ten lines; the first line of the next two fails with a 500.
    const failedOnce = new Set<string>();
    server.failBatchRequests((customId) => {
      if (customId !== '2-0' && customId !== '3-0') return undefined;
      failedOnce.add(customId);
      return { status: 500, message: 'The server had an error while processing your request.' };
    });
    server.expireNextBatch(1);
    const job = await start();
    await waitForStatus(job.id, MigrationStatus.COMPLETED);

    const progress = await progressOf(job.id);
    expect(progress.progress.processed).toBe(120);
    expect(progress.progress.failed).toBe(0);
    expect(failedOnce.size).toBe(2);
    expect([...server.batches.values()].some((b) => b.status === 'expired')).toBe(true);
    const times = embeddedTimes();
    expect(times.size).toBe(120);
    expect([...times.values()].every((n) => n === 1)).toBe(true);
    // The expired batch's unrun lines used no attempt: no item needed more than the failed line's retry.
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    expect(await batchRows('EXPIRED')).toBe(1);
  });

  it('finds its batches again after a restart between submission and completion, and applies them once', async () => {
    await insertProducts(ctx.dataSource, generatedProducts(150, 'restart item'));
    server.holdBatches(true);
    const job = await start();
    await waitUntil('both batches are in flight', async () => (await batchRows('IN_FLIGHT')) === 2, 30_000, 50);
    const created = server.batchStats().batchesCreated;

    await ctx.close();
    await boot();
    server.holdBatches(false);
    await waitForStatus(job.id, MigrationStatus.COMPLETED);

    expect(server.batchStats().batchesCreated).toBe(created);
    const times = embeddedTimes();
    expect(times.size).toBe(150);
    expect([...times.values()].every((n) => n === 1)).toBe(true);
    expect((await progressOf(job.id)).progress.processed).toBe(150);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_type = 'product'`)).toBe(150);
  });

  it('does not write a batch result over an entity that changed while its batch was out', async () => {
    const [first] = await insertProducts(ctx.dataSource, generatedProducts(20, 'versioned item'));
    server.holdBatches(true);
    const job = await start();
    await waitUntil('the batch is in flight', async () => (await batchRows('IN_FLIGHT')) === 1, 30_000, 50);
    await ctx.dataSource.query(`UPDATE products SET name = 'renamed while in flight' WHERE id = $1`, [first]);
    server.holdBatches(false);
    await waitForStatus(job.id, MigrationStatus.COMPLETED);

    // The stale item went back to the queue and was embedded from its new text in a second batch.
    const renamed = server.batchLines.filter((l) => l.status === 200).flatMap((l) => l.inputs ?? []).filter((t) => t.includes('renamed while in flight'));
    expect(renamed).toHaveLength(1);
    const [row] = await ctx.dataSource.query(`SELECT embedding::text AS v FROM ai_searchable_entities WHERE entity_type = 'product' AND entity_id = $1`, [String(first)]);
    const stored = JSON.parse(row.v) as number[];
    const expected = Array.from(fakeEmbedding(renamed[0], DIMENSIONS));
    stored.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 5));
    expect((await progressOf(job.id)).progress.processed).toBe(20);
  });

  it('pause sends no new batch while the one in flight is applied; resume finishes the job', async () => {
    await ctx.close();
    await boot({ maxInputsPerBatch: 40, maxInFlight: 1 });
    try {
      await insertProducts(ctx.dataSource, generatedProducts(100, 'paused item'));
      server.holdBatches(true);
      const job = await start();
      await waitUntil('a batch is in flight', async () => (await batchRows('IN_FLIGHT')) === 1, 30_000, 50);
      await request(http).post(`${BASE}/jobs/${job.id}/pause`).set(AS_ADMIN).send({}).expect(200);
      server.holdBatches(false);
      await waitUntil('the batch in flight is applied', async () => (await batchRows('DONE')) === 1, 30_000, 50);
      await new Promise((r) => setTimeout(r, 500));
      expect(server.batchStats().batchesCreated).toBe(1);
      const paused = await progressOf(job.id);
      expect(paused.status).toBe(MigrationStatus.PAUSED);
      expect(paused.progress.processed).toBe(40);

      await request(http).post(`${BASE}/jobs/${job.id}/resume`).set(AS_ADMIN).send({}).expect(200);
      await waitForStatus(job.id, MigrationStatus.COMPLETED);
      expect((await progressOf(job.id)).progress.processed).toBe(100);
      expect(server.batchStats().batchesCreated).toBe(3);
    } finally {
      await ctx.close();
      await boot();
    }
  });

  it("cancel cancels the job's batches at the provider and drops what they did not run", async () => {
    await insertProducts(ctx.dataSource, generatedProducts(60, 'cancelled item'));
    server.holdBatches(true);
    const job = await start();
    await waitUntil('the batch is in flight', async () => (await batchRows('IN_FLIGHT')) === 1, 30_000, 50);
    await request(http).delete(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).expect(204);

    expect(server.batchStats().batchesCancelled).toBe(1);
    await waitUntil('the cancelled batch is closed', async () => (await batchRows('CANCELLED')) === 1, 30_000, 50);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    expect((await progressOf(job.id)).status).toBe(MigrationStatus.CANCELLED);
    expect(server.batchStats().linesExecuted).toBe(0);
  });

  it("sends no batch that would take the job over its budget, and pauses it with BUDGET_EXCEEDED", async () => {
    await insertProducts(ctx.dataSource, generatedProducts(50, 'budgeted item'));
    const job = await start({ maxTokens: 100 });
    await waitForStatus(job.id, MigrationStatus.PAUSED);
    const paused = await progressOf(job.id);
    expect(paused.pauseReason).toBe('BUDGET_EXCEEDED');
    expect(paused.errorMessage).toContain('maxTokens budget of 100 tokens');
    expect(server.batchStats().batchesCreated).toBe(0);
    expect(paused.usage.tokensUsed).toBe(0);

    await request(http).patch(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).send({ maxTokens: null }).expect(200);
    await request(http).post(`${BASE}/jobs/${job.id}/resume`).set(AS_ADMIN).send({}).expect(200);
    await waitForStatus(job.id, MigrationStatus.COMPLETED);
    expect((await progressOf(job.id)).progress.processed).toBe(50);
  });

  it('estimates both modes, and rejects a batch request with a rate limit or an unknown mode, naming the field', async () => {
    await insertProducts(ctx.dataSource, generatedProducts(30, 'estimated item'));
    const estimate = (await request(http).post(`${BASE}/estimate`).set(AS_ADMIN).send({ entityType: 'product', mode: 'batch' }).expect(200)).body;
    expect(estimate.mode).toBe('batch');
    const sync = estimate.byMode.find((m: { mode: string }) => m.mode === 'sync');
    const batch = estimate.byMode.find((m: { mode: string }) => m.mode === 'batch');
    expect(batch.available).toBe(true);
    expect(batch.estimatedCostUsd).toBeCloseTo(sync.estimatedCostUsd / 2, 4);
    expect(batch.estimatedDuration).toBe('PT24H');
    expect(batch.durationBasis).toBe('batch-window');
    expect(estimate.estimatedCostUsd).toBe(batch.estimatedCostUsd);

    const withRate = await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', mode: 'batch', rateLimit: 60 }).expect(400);
    expect(JSON.stringify(withRate.body)).toContain('rateLimit');
    const unknown = await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', mode: 'bulk' }).expect(400);
    expect(JSON.stringify(unknown.body)).toContain('mode');
  });
});
