import { DataMigrationService, MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import { generatedProducts, insertProducts, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { bootOpenAiWebApp, OPENAI_TEST_MODEL as MODEL } from './fixtures/openai-web-app.fixture';
import { AS_ADMIN, AS_SEARCH, AS_VIEWER } from './fixtures/web-auth.fixture';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const MIGRATION = '/api/ai/migration';
const QUEUE = '/api/ai/monitoring/queue';
const PROVIDER = '/api/ai/monitoring/provider';
const AUDIT = '/api/ai/audit/entries';

/**
 * Issue 15, part 4: `GET /api/ai/monitoring/queue` (depth by priority and state, dead letters by reason,
 * leases per worker process), `GET /api/ai/monitoring/provider` (limiter, outcomes, recent errors) and
 * `GET /api/ai/audit/entries` (the audit log across jobs, filtered and paginated), through real HTTP with
 * the real openai client and a local OpenAI-compatible server, on both engines.
 */
describeEachEngine('Monitoring: queue, provider and audit endpoints', ({ getUrl }) => {
  let ctx: IndexingApp;
  let server: FakeOpenAiServer;
  let http: ReturnType<IndexingApp['app']['getHttpServer']>;
  let ids: string[];

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32 });
    ctx = await bootOpenAiWebApp(getUrl(), server, {
      worker: { batchSize: 10, leaseMs: 60_000 },
      rateLimit: { requestsPerMinute: 6000, tokensPerMinute: 5_000_000 },
      liveIndexing: false,
    });
    http = ctx.app.getHttpServer();
    ids = await insertProducts(ctx.dataSource, generatedProducts(120, 'monitored item'));
  }, 120_000);

  afterEach(() => {
    server.delayMs = 0;
    server.injectFaults(null);
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  it('queue: items by priority and state and the leases of the worker process while a backfill runs; the answering instance\'s workers', async () => {
    server.delayMs = 400;
    const job = (await request(http).post(`${MIGRATION}/start`).set(AS_ADMIN).send({ entityType: 'product' }).expect(201)).body;
    let during: { depth: Array<{ priority: string; state: string; items: number }>; leases: Array<{ owner: string; items: number; nextExpirySeconds: number; expired: number }> } | undefined;
    await waitUntil('a worker holds leases', async () => {
      const body = (await request(http).get(QUEUE).set(AS_VIEWER).expect(200)).body;
      if (body.leases.length > 0) during = body;
      return during !== undefined;
    }, 30_000);
    const { workerId } = ctx.worker.status();
    expect(during!.leases).toEqual([{ owner: workerId, items: expect.any(Number), nextExpirySeconds: expect.any(Number), expired: 0 }]);
    expect(during!.leases[0].items).toBeGreaterThan(0);
    expect(during!.leases[0].nextExpirySeconds).toBeGreaterThan(0);
    expect(during!.leases[0].nextExpirySeconds).toBeLessThanOrEqual(60);
    expect(during!.depth).toEqual(expect.arrayContaining([expect.objectContaining({ priority: 'low', state: 'active' })]));
    server.delayMs = 0;
    await waitUntil('the backfill completed', async () => (await ctx.app.get(DataMigrationService).getProgress(job.id)).status === MigrationStatus.COMPLETED, 60_000);

    const after = (await request(http).get(QUEUE).set(AS_VIEWER).expect(200)).body;
    expect(after).toEqual({
      depth: [],
      oldestPendingAgeSeconds: null,
      deadLetters: [],
      leases: [],
      instance: { workerId, running: true, loops: expect.any(Number), liveLoops: expect.any(Number) },
    });
  });

  it('queue: dead letters grouped by reason (the provider refused the key; it refused an input), with the last error', async () => {
    // One item fails with 401 until its attempts are used up; another's input is refused (400).
    server.failNext(1_000, { status: 401, body: { error: { message: 'Incorrect API key (injected for the monitoring test)', type: 'invalid_request_error', code: 'invalid_api_key' } } });
    await ctx.queue.enqueue({ entityType: 'product', entityId: ids[0], owner: 'monitoring-test', maxRetries: 1, force: true });
    await waitUntil('the first item is dead', async () => (await ctx.queue.deadLetters({ owner: 'monitoring-test' })).length === 1, 30_000);
    server.reset();
    server.injectFaults({ poisoned: ['number 1 for'] });
    await ctx.queue.enqueue({ entityType: 'product', entityId: ids[1], owner: 'monitoring-test', maxRetries: 1, force: true });
    await waitUntil('the second item is dead', async () => (await ctx.queue.deadLetters({ owner: 'monitoring-test' })).length === 2, 30_000);

    const body = (await request(http).get(QUEUE).set(AS_VIEWER).expect(200)).body;
    expect(body.deadLetters).toEqual([
      { reason: 'auth', items: 1, lastAt: expect.any(String), lastError: expect.stringContaining('HTTP 401') },
      { reason: 'rejected-input', items: 1, lastAt: expect.any(String), lastError: expect.stringContaining('HTTP 400') },
    ]);
    expect(body.depth).toEqual(expect.arrayContaining([{ priority: 'normal', state: 'dead', items: 2, oldestAgeSeconds: expect.any(Number) }]));
    await ctx.queue.deleteDeadLetters(['monitoring-test']);
  });

  it('provider: model, limiter, outcomes since start and the recent failed requests with their errors, newest first', async () => {
    // Each search's first attempt fails; the retry answers.
    server.failNext(1, { status: 500, body: { error: { message: 'Injected server error', type: 'server_error' } } });
    await request(http).get('/api/ai/search').set(AS_SEARCH).query({ entityType: 'product', q: 'first failing query' }).expect(200);
    server.failNext(1, { status: 429, headers: { 'retry-after-ms': '10' }, body: { error: { message: 'Rate limit reached (injected)', type: 'requests', code: 'rate_limit_exceeded' } } });
    await request(http).get('/api/ai/search').set(AS_SEARCH).query({ entityType: 'product', q: 'second failing query' }).expect(200);

    const body = (await request(http).get(PROVIDER).set(AS_VIEWER).expect(200)).body;
    expect(body).toMatchObject({
      provider: 'openai',
      model: MODEL,
      dimensions: 32,
      limiter: { scope: 'cluster', requestsPerMinute: 6000, tokensPerMinute: 5_000_000, waiting: { interactive: 0, bulk: 0 }, blockedSeconds: expect.any(Number) },
      tokenCounting: 'tokenizer',
      since: expect.any(String),
    });
    expect(body.outcomes.success).toBeGreaterThan(0);
    expect(body.outcomes).toMatchObject({ transient_error: expect.any(Number), rate_limited: expect.any(Number) });
    const [latest, previous] = body.recentErrors;
    expect(latest).toMatchObject({ outcome: 'rate_limited', lane: 'interactive', model: MODEL, inputs: 1, error: expect.stringContaining('HTTP 429') });
    expect(previous).toMatchObject({ outcome: 'transient_error', lane: 'interactive', error: expect.stringContaining('HTTP 500') });
    expect(Date.parse(latest.at)).toBeGreaterThanOrEqual(Date.parse(previous.at));
    expect(body.recentErrors.length).toBeLessThanOrEqual(50);
  });

  it('audit: entries of every job, newest first, filtered by actor, action, job, entity type and time, paginated; any token reads them', async () => {
    const migrations = ctx.app.get(DataMigrationService);
    const before = new Date();
    await new Promise((done) => setTimeout(done, 5));
    server.delayMs = 1_000;
    const job = (await request(http).post(`${MIGRATION}/start`).set(AS_ADMIN).send({ entityType: 'product', reindexExisting: true }).expect(201)).body;
    await request(http).post(`${MIGRATION}/jobs/${job.id}/pause`).set(AS_ADMIN).send({ reason: 'audit test' }).expect(200);
    await migrations.resumeMigration(job.id, { actor: 'nightly-script' });
    await request(http).delete(`${MIGRATION}/jobs/${job.id}`).set(AS_ADMIN).expect(204);

    const page = (query: Record<string, string | number>) => request(http).get(AUDIT).query(query).set(AS_VIEWER).expect(200).then((res) => res.body);
    const mine = await page({ jobId: job.id });
    expect(mine).toMatchObject({ total: 4, limit: 50, offset: 0 });
    expect(mine.items.map((e: { action: string; actor: string; entityType: string }) => [e.action, e.actor, e.entityType])).toEqual([
      ['cancel', 'ops-admin', 'product'],
      ['resume', 'nightly-script', 'product'],
      ['pause', 'ops-admin', 'product'],
      ['start', 'ops-admin', 'product'],
    ]);
    expect(mine.items[2]).toMatchObject({ jobId: job.id, generationId: null, fromStatus: 'RUNNING', toStatus: 'PAUSED', details: { reason: 'audit test' }, at: expect.any(String) });

    expect((await page({ actor: 'nightly-script' })).items.map((e: { action: string }) => e.action)).toEqual(['resume']);
    expect((await page({ action: 'pause', jobId: job.id })).total).toBe(1);
    expect((await page({ entityType: 'product', from: before.toISOString() })).total).toBe(4);
    expect((await page({ entityType: 'ticket' })).total).toBe(0);
    expect((await page({ to: before.toISOString(), jobId: job.id })).total).toBe(0);
    const second = await page({ jobId: job.id, limit: 2, offset: 2 });
    expect(second.items.map((e: { action: string }) => e.action)).toEqual(['pause', 'start']);
    // Everything recorded so far in this app, across jobs (the earlier tests' backfill included).
    const all = await page({ limit: 500 });
    expect(all.total).toBeGreaterThan(4);
    expect(all.items.map((e: { at: string }) => Date.parse(e.at))).toEqual([...all.items.map((e: { at: string }) => Date.parse(e.at))].sort((a, b) => b - a));

    await request(http).get(AUDIT).expect(401);
    for (const [query, field] of [
      [{ jobId: 'abc' }, 'jobId'],
      [{ action: 'drop' }, 'action'],
      [{ from: 'yesterday' }, 'from'],
      [{ limit: 501 }, 'limit'],
      [{ generationId: 0 }, 'generationId'],
      [{ entityType: '../x' }, 'entityType'],
    ] as const) {
      const res = await request(http).get(AUDIT).query(query).set(AS_VIEWER).expect(400);
      expect({ field, details: res.body.details.map((d: { field: string }) => d.field) }).toEqual({ field, details: [field] });
    }
  });

  it('every monitoring and audit route needs a token (401 without one); a viewer may read them all', async () => {
    for (const path of [QUEUE, PROVIDER, AUDIT, '/api/ai/monitoring/metrics', '/api/ai/auth/me']) {
      const none = await request(http).get(path);
      expect({ path, status: none.status, auth: none.headers['www-authenticate'] }).toEqual({ path, status: 401, auth: expect.stringMatching(/^Bearer/) });
      expect({ path, status: (await request(http).get(path).set(AS_VIEWER)).status }).toEqual({ path, status: 200 });
    }
  });
});
