import { AiSearchService, ProviderUsageService } from '@ai-infrastructure/core';
import { DataMigrationService, MigrationPauseReason, MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, truncateTables, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { AS_ADMIN, AS_VIEWER, webTestOptions } from './fixtures/web-auth.fixture';
import { CapturedLogger } from './support/captured-logger';
import { FAKE_OPENAI_API_KEY, fakeTokenCount, startFakeOpenAiServer, type FakeOpenAiServer, type RecordedRequest } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const BASE = '/api/ai/migration';
const MODEL = 'text-embedding-3-small';
/** USD per 1M tokens in these apps (OpenAI's list price of the model). */
const PRICE = 0.02;

/** Tokens the fake server billed: its own (gpt-tokenizer) count of every input of the requests it answered 200. */
function billed(requests: RecordedRequest[]): number {
  return requests.filter((r) => r.status === 200).reduce((sum, r) => sum + r.inputs!.reduce((s, text) => s + fakeTokenCount(text), 0), 0);
}

/** How many times each input text reached the server in a request it answered 200. */
function embeddedTimes(requests: RecordedRequest[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const r of requests.filter((r) => r.status === 200)) for (const text of r.inputs!) times.set(text, (times.get(text) ?? 0) + 1);
  return times;
}

function openAiCore(server: FakeOpenAiServer) {
  return {
    embedding: { provider: 'openai' as const, apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: MODEL, dimensions: 32 },
    pricing: { [MODEL]: PRICE },
    worker: { batchSize: 25 },
    queue: { maxRetries: 5, backoffBaseMs: 0 },
    providerRetry: { backoffBaseMs: 10, backoffMaxMs: 200, outagePauseMs: 60_000 },
  };
}

/**
 * Issue 14, metering: every provider request's usage is accounted to its owner in the transaction that
 * records the items it paid for — a job's tokens, requests and cost equal what the (independent) server
 * billed for it, failed requests included as requests but not as tokens; live indexing and search are
 * totalled per day in ai_provider_usage.
 */
describeEachEngine('Provider spend: metering', ({ getUrl }) => {
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
      core: openAiCore(server),
    });
    http = ctx.app.getHttpServer();
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  beforeEach(async () => {
    await truncateTables(ctx.dataSource, ['ai_provider_usage']);
    server.reset();
  });

  it("a job's tokens, requests and cost are what the server billed for it, with 10 % of requests failing", async () => {
    await insertProducts(ctx.dataSource, generatedProducts(300, 'metered item'));
    server.injectFaults({ errorRate: 0.1, seed: 14 });

    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1_000_000 }).expect(201)).body;
    const progressOf = async () => (await request(http).get(`${BASE}/jobs/${job.id}`).set(AS_VIEWER).expect(200)).body;
    await waitUntil('the job completes', async () => (await progressOf()).status === MigrationStatus.COMPLETED, 60_000, 100);
    server.injectFaults(null);

    const requests = server.embeddingRequests;
    const failed = requests.filter((r) => r.status !== 200).length;
    expect(failed).toBeGreaterThan(0);
    const tokens = billed(requests);
    const progress = await progressOf();
    expect(progress.progress).toMatchObject({ total: 300, processed: 300, failed: 0 });
    expect(progress.usage).toEqual({
      requests: requests.length,
      failedRequests: failed,
      tokensUsed: tokens,
      estimatedTokens: 0,
      // Summed per chunk in floating point, then rounded to a millionth of a dollar.
      estimatedCost: expect.closeTo((tokens * PRICE) / 1e6, 5),
      projectedTokens: tokens,
      projectedCost: expect.closeTo((tokens * PRICE) / 1e6, 5),
      maxTokens: null,
      maxCost: null,
    });
    // The job list shows the same figures, and the day's backfill total holds them too.
    const listed = (await request(http).get(`${BASE}/jobs`).set(AS_VIEWER).expect(200)).body.items.find((j: { id: string }) => j.id === job.id);
    expect(listed.usage.tokensUsed).toBe(tokens);
    const totals = await ctx.app.get(ProviderUsageService).totals({ scope: 'backfill' });
    expect(totals).toEqual([expect.objectContaining({ scope: 'backfill', provider: 'openai', model: MODEL, tokens, requests: expect.closeTo(requests.length, 6) })]);
    expect(totals[0].cost).toBeCloseTo((tokens * PRICE) / 1e6, 12);
  }, 90_000);

  it('live indexing and search queries are totalled in their own scopes, never in a job', async () => {
    const product = await ctx.products!.save(ctx.products!.create({ name: 'Live metered boots', description: 'Waterproof leather boots.', category: 'Footwear', price: 99 }));
    await waitUntil('the live write is indexed', async () => (await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_id = $1`, [product.id])) === 1, 20_000);
    const liveTokens = billed(server.embeddingRequests);
    server.reset();
    await ctx.app.get(AiSearchService).search({ entityType: 'product', query: 'leather boots for rain', limit: 3 });
    const searchTokens = billed(server.embeddingRequests);

    const usage = ctx.app.get(ProviderUsageService);
    const [live] = await usage.totals({ scope: 'live' });
    const [search] = await usage.totals({ scope: 'search' });
    expect(live).toMatchObject({ tokens: liveTokens, requests: 1, estimatedTokens: 0 });
    expect(search).toMatchObject({ tokens: searchTokens, requests: 1, estimatedTokens: 0 });
    expect(searchTokens).toBe(fakeTokenCount('leather boots for rain'));
    expect(await usage.totals({ scope: 'backfill' })).toEqual([]);
  }, 60_000);
});

/**
 * Issue 14, budgets: a job with maxTokens pauses with BUDGET_EXCEEDED (the amounts in errorMessage) before
 * a request that would exceed it, overshooting by at most one request per worker; PATCH raises it, resume
 * finishes the job with every entity embedded once; live indexing is never blocked by a backfill budget.
 */
describeEachEngine('Provider spend: budgets', ({ getUrl }) => {
  const WORKERS = 2;
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
      core: { ...openAiCore(server), worker: { batchSize: 25, concurrency: WORKERS } },
    });
    http = ctx.app.getHttpServer();
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  beforeEach(async () => {
    await truncateTables(ctx.dataSource, ['ai_provider_usage']);
    server.reset();
  });

  it('pauses at the budget with the amounts, keeps live indexing going, and a raised budget plus resume finishes every entity once', async () => {
    const products = generatedProducts(400, 'budget item');
    await insertProducts(ctx.dataSource, products);
    const maxTokens = 2_000;

    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1_000_000, maxTokens }).expect(201)).body;
    expect(job.usage).toMatchObject({ maxTokens, maxCost: null, tokensUsed: 0 });
    const progressOf = async () => (await request(http).get(`${BASE}/jobs/${job.id}`).set(AS_VIEWER).expect(200)).body;
    await waitUntil('the job pauses', async () => (await progressOf()).status === MigrationStatus.PAUSED, 60_000, 100);

    const paused = await progressOf();
    expect(paused.pauseReason).toBe(MigrationPauseReason.BUDGET_EXCEEDED);
    expect(paused.errorMessage).toMatch(/^Paused \(BUDGET_EXCEEDED\): Migration job .* has used [\d,]+ tokens of its maxTokens budget of 2,000 tokens; its next provider request needs [\d,]+ tokens more\. Raise maxTokens \(PATCH \/api\/ai\/migration\/jobs\/.*\) and resume the job\.$/);
    // Work stopped before the budget, give or take the requests already on their way (one per worker).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const settled = await progressOf();
    const perRequest = Math.max(...server.embeddingRequests.map((r) => billed([r])));
    expect(settled.usage.tokensUsed).toBe(billed(server.embeddingRequests));
    expect(settled.usage.tokensUsed).toBeGreaterThan(maxTokens - 2 * perRequest);
    expect(settled.usage.tokensUsed).toBeLessThanOrEqual(maxTokens + (WORKERS - 1) * perRequest);
    expect(settled.progress.processed).toBeLessThan(400);

    // Live indexing is never blocked by a backfill budget.
    const live = await ctx.products!.save(ctx.products!.create({ name: 'Live during budget pause', description: 'Still indexed at once.', category: 'Outdoor', price: 5 }));
    await waitUntil('the live write is indexed', async () => (await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_id = $1`, [live.id])) === 1, 20_000);
    expect((await progressOf()).status).toBe(MigrationStatus.PAUSED);

    const raised = (await request(http).patch(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).send({ maxTokens: 1_000_000 }).expect(200)).body;
    expect(raised.usage.maxTokens).toBe(1_000_000);
    expect(raised.status).toBe(MigrationStatus.PAUSED);
    await request(http).post(`${BASE}/jobs/${job.id}/resume`).set(AS_ADMIN).expect(200);
    await waitUntil('the job completes', async () => (await progressOf()).status === MigrationStatus.COMPLETED, 60_000, 100);

    const done = await progressOf();
    expect(done.pauseReason).toBeNull();
    expect(done.progress).toMatchObject({ processed: 400, failed: 0 });
    const times = embeddedTimes(server.embeddingRequests);
    expect([...times.values()].every((n) => n === 1)).toBe(true);
    expect(times.size).toBe(401);
    // The live write was billed to live indexing, not to the job.
    const liveRequests = server.embeddingRequests.filter((r) => r.inputs!.some((text) => text.includes('Live during budget pause')));
    expect(liveRequests.map((r) => r.inputs!.length)).toEqual([1]);
    expect(done.usage.tokensUsed).toBe(billed(server.embeddingRequests) - billed(liveRequests));
    const audit = (await request(http).get(`${BASE}/jobs/${job.id}/audit`).set(AS_VIEWER).expect(200)).body;
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['start', 'pause', 'budget', 'resume']);
  }, 120_000);

  it('rejects bad budgets naming the field, and a PATCH with nothing to change', async () => {
    const bad = async (body: object, field: string) => {
      const res = await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', ...body }).expect(400);
      expect(JSON.stringify(res.body)).toContain(field);
    };
    await bad({ maxTokens: 0 }, 'maxTokens');
    await bad({ maxTokens: 1.5 }, 'maxTokens');
    await bad({ maxCost: -1 }, 'maxCost');
    await bad({ maxCost: 'ten' }, 'maxCost');
    await insertProducts(ctx.dataSource, generatedProducts(5, 'patch item'));
    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', maxCost: 1 }).expect(201)).body;
    const empty = await request(http).patch(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).send({}).expect(400);
    expect(JSON.stringify(empty.body)).toContain('rateLimit');
    await waitUntil('the job ends', async () => (await request(http).get(`${BASE}/jobs/${job.id}`).set(AS_VIEWER)).body.status !== MigrationStatus.RUNNING, 30_000, 100);
    const finished = await request(http).patch(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).send({ maxCost: null }).expect(409);
    expect(JSON.stringify(finished.body)).toContain('COMPLETED');
  }, 60_000);
});

/** The module's daily cap of all backfills pauses a job with the cap's amounts in the message. */
describeEachEngine('Provider spend: daily backfill cap', ({ getUrl }) => {
  let ctx: IndexingApp;
  let server: FakeOpenAiServer;
  let http: ReturnType<IndexingApp['app']['getHttpServer']>;

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32 });
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: new CapturedLogger(),
      migration: { budgets: { dailyMaxTokens: 1_500 } },
      web: webTestOptions(),
      core: { ...openAiCore(server), worker: { batchSize: 25, concurrency: 1 } },
    });
    http = ctx.app.getHttpServer();
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  it('pauses the job once the day of backfills would exceed the cap', async () => {
    await truncateTables(ctx.dataSource, ['ai_provider_usage']);
    await insertProducts(ctx.dataSource, generatedProducts(300, 'capped item'));
    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1_000_000 }).expect(201)).body;
    const progressOf = async () => (await request(http).get(`${BASE}/jobs/${job.id}`).set(AS_VIEWER).expect(200)).body;
    await waitUntil('the job pauses', async () => (await progressOf()).status === MigrationStatus.PAUSED, 60_000, 100);

    const paused = await progressOf();
    expect(paused.pauseReason).toBe(MigrationPauseReason.BUDGET_EXCEEDED);
    expect(paused.errorMessage).toContain('of the daily cap of 1,500 tokens (MigrationModule option budgets.dailyMaxTokens, UTC day)');
    // One worker: the cap is never exceeded.
    const [today] = await ctx.app.get(ProviderUsageService).totals({ scope: 'backfill' });
    expect(today.tokens).toBeLessThanOrEqual(1_500);
    expect(today.tokens).toBe(paused.usage.tokensUsed);
  }, 90_000);
});

/**
 * Issue 14, billing across deploys: an app closed while provider requests are in flight lets them answer
 * (worker.shutdownGraceMs) and writes and counts what they returned, so a job restarted twice pays for
 * each text once and its progress and usage still add up to what the server saw.
 */
describeEachEngine('Provider spend: restarts', ({ getUrl }) => {
  let ctx: IndexingApp | undefined;
  let server: FakeOpenAiServer;

  const boot = () =>
    bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: new CapturedLogger(),
      migration: {},
      core: { ...openAiCore(server), worker: { batchSize: 25, shutdownGraceMs: 15_000 } },
    });

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32 });
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  it('a job restarted twice with requests in flight bills every text once and counts every entity', async () => {
    ctx = await boot();
    await truncateTables(ctx.dataSource, ['ai_provider_usage']);
    server.reset();
    await insertProducts(ctx.dataSource, generatedProducts(300, 'restarted item'));
    server.injectFaults({ errorRate: 0.1, seed: 15 });
    // Slow answers: at each restart some request has been sent and not yet answered.
    server.delayMs = 300;

    const job = await ctx.app.get(DataMigrationService).startMigration({ entityType: 'product', rateLimit: 1_000_000 });
    const progressOf = () => ctx!.app.get(DataMigrationService).getProgress(job.id);
    for (const share of [0.3, 0.6]) {
      await waitUntil(`${share * 100} % of the job is done`, async () => (await progressOf()).progress.processed >= share * 300, 60_000, 50);
      await ctx.close();
      ctx = await boot();
    }
    await waitUntil('the job completes', async () => (await progressOf()).status === MigrationStatus.COMPLETED, 60_000, 100);
    server.injectFaults(null);

    const times = embeddedTimes(server.embeddingRequests);
    expect(times.size).toBe(300);
    expect([...times.values()].every((n) => n === 1)).toBe(true);
    const progress = await progressOf();
    expect(progress.progress).toMatchObject({ total: 300, processed: 300, failed: 0 });
    expect(progress.usage.tokensUsed).toBe(billed(server.embeddingRequests));
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities`)).toBe(300);
  }, 180_000);
});

/**
 * Issue 14, the token estimate of a model without a known tokenizer: the byte estimate counts high, and
 * once the provider has reported usage for some requests the estimate is corrected by the ratio, to within
 * 5 % of what the (independent) server counts for the same texts.
 */
describeEachEngine('Provider spend: estimate without a tokenizer', ({ getUrl }) => {
  let ctx: IndexingApp;
  let server: FakeOpenAiServer;

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32, models: ['local-embedder'] });
    const core = openAiCore(server);
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: new CapturedLogger(),
      migration: {},
      core: { ...core, embedding: { ...core.embedding, model: 'local-embedder', tokenizer: 'estimate' }, pricing: { 'local-embedder': PRICE } },
    });
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  it('states the byte estimate as such, then estimates within 5 % of the server once usage was reported', async () => {
    await truncateTables(ctx.dataSource, ['ai_provider_usage']);
    server.reset();
    await insertProducts(ctx.dataSource, generatedProducts(400, 'estimated item'));
    const migrations = ctx.app.get(DataMigrationService);

    const before = await migrations.estimateMigration({ entityType: 'product' });
    const job = await migrations.startMigration({ entityType: 'product', rateLimit: 1_000_000 });
    await waitUntil('the job completes', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED, 60_000, 100);
    const serverTokens = billed(server.embeddingRequests);
    expect(embeddedTimes(server.embeddingRequests).size).toBe(400);
    expect(before.tokenCountBasis).toBe('byte-estimate');
    expect(before.estimatedTokens / serverTokens).toBeGreaterThan(1.1);
    // The job's usage is what the server reported, whatever the estimate.
    expect((await migrations.getProgress(job.id)).usage.tokensUsed).toBe(serverTokens);

    const after = await migrations.estimateMigration({ entityType: 'product', reindexExisting: true });
    expect(after.tokenCountBasis).toBe('calibrated-estimate');
    expect(Math.abs(after.estimatedTokens / serverTokens - 1)).toBeLessThan(0.05);
    expect(after.estimatedCostUsd).toBeCloseTo((after.estimatedTokens * PRICE) / 1e6, 4);
  }, 90_000);
});
