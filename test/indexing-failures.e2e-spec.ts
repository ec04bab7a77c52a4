import request from 'supertest';
import { IndexingPriority, type AiCoreModuleOptions } from '@ai-infrastructure/core';
import { buildEntityText, computeContentHash, parseAiEntityConfig, type IndexingOutcome } from '@ai-infrastructure/core/internal';
import { readFileSync } from 'node:fs';
import {
  bootIndexingApp,
  countOf,
  insertProducts,
  SAMPLE_ENTITY_CONFIG,
  truncateTables,
  waitForQueueSettled,
  waitUntil,
  type IndexingApp,
} from './fixtures/indexing-app.fixture';
import {
  FAKE_OPENAI_API_KEY,
  fakeTokenCount,
  INSUFFICIENT_QUOTA_BODY,
  startFakeOpenAiServer,
  type FakeOpenAiServer,
} from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const MODEL = 'text-embedding-3-small';
const DIMENSIONS = 384;
/** Small per-input limit so an overlong text is cheap to build: 60 tokens ~ 180 bytes. */
const MAX_TOKENS_PER_INPUT = 60;
const productConfig = parseAiEntityConfig(readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8'), SAMPLE_ENTITY_CONFIG).get('product')!;

const SHORT = { name: 'Mug', description: 'Tea mug.', category: 'Kitchen', price: 8 };
const LONG = {
  name: 'Atlas',
  description: Array.from({ length: 40 }, (_, i) => `chapter ${i} describes another mountain range`).join(', '),
  category: 'Office',
  price: 30,
};

describeEachEngine('Indexing failures with the openai provider', ({ getUrl }) => {
  let server: FakeOpenAiServer;

  const coreOptions = (overlongInput: 'fail' | 'truncate'): AiCoreModuleOptions => ({
    embedding: {
      provider: 'openai',
      apiKey: FAKE_OPENAI_API_KEY,
      baseURL: server.url,
      model: MODEL,
      dimensions: DIMENSIONS,
      maxTokensPerInput: MAX_TOKENS_PER_INPUT,
    },
    overlongInput,
    liveIndexing: false,
    queue: { maxRetries: 2, backoffBaseMs: 0 },
    providerRetry: { backoffBaseMs: 10, backoffMaxMs: 50, outagePauseMs: 300 },
  });
  const serverStatuses = () => server.embeddingRequests.map((r) => r.status);

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: DIMENSIONS });
  });

  afterAll(async () => {
    await server?.close();
  });

  describe('with overlongInput "fail"', () => {
    let ctx: IndexingApp;
    let outcomes: IndexingOutcome[];

    beforeAll(async () => {
      // Silent: this configuration provokes provider errors on purpose, which the workers log.
      ctx = await bootIndexingApp({ databaseUrl: getUrl(), core: coreOptions('fail'), logger: false });
      ctx.hooks.onOutcomes(async (_manager, batch) => void outcomes.push(...batch));
    });

    afterAll(async () => {
      // Leave nothing behind for the next configuration's workers (quota-delayed items, for one).
      if (ctx) await truncateTables(ctx.dataSource);
      await ctx?.close();
    });

    beforeEach(async () => {
      // Workers keep running between tests; every test waits until its items are final.
      await truncateTables(ctx.dataSource);
      server.reset();
      outcomes = [];
    });

    it('never uses an attempt on server errors: after outagePauseMs of nothing but 500s the item is re-queued (not dead), the owner reported, and indexed once the server is healthy', async () => {
      const message = 'Fake upstream exploded (injected for the outage test)';
      server.failNext(100_000, { status: 500, body: { error: { message, type: 'server_error', param: null, code: null } } });
      const reports: Array<{ owners: Array<string | null>; error: Error }> = [];
      const off = ctx.hooks.onProviderUnavailable((owners, error) => void reports.push({ owners, error }));
      try {
        const [id] = await insertProducts(ctx.dataSource, [SHORT]);
        await ctx.queue.enqueue({ entityType: 'product', entityId: id, owner: 'job-7', maxRetries: 1 });
        await waitUntil('the outage is reported', () => reports.length > 0);
        expect(reports[0].owners).toEqual(['job-7']);
        expect(reports[0].error.name).toBe('EmbeddingProviderUnavailableError');
        expect(reports[0].error.message).toContain(message);
        // Many 500s, and still not dead: transient errors use no attempt (maxRetries is 1).
        expect(serverStatuses().length).toBeGreaterThan(1);
        expect(await ctx.queue.deadLetters()).toEqual([]);

        server.reset();
        await waitForQueueSettled(ctx.dataSource);
        expect([...(await ctx.vectorStore.existsByIds('product', [id]))]).toEqual([id]);
        expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
        expect(outcomes.map((o) => [o.entityId, o.result])).toEqual([[id, 'indexed']]);
      } finally {
        off();
      }
    });

    it('dead-letters an item after maxRetries permanent errors (401) with the reason, and a retry indexes it once the provider is fixed', async () => {
      const message = 'Incorrect API key (injected for the dead-letter test)';
      server.failNext(1_000, { status: 401, body: { error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } });
      const [id] = await insertProducts(ctx.dataSource, [SHORT]);
      await ctx.queue.enqueue({ entityType: 'product', entityId: id, owner: 'job-7' });
      await waitForQueueSettled(ctx.dataSource);

      const [row] = await ctx.dataSource.query(`SELECT status, attempts, last_error, lease_token FROM ai_indexing_queue`);
      expect(row).toMatchObject({ status: 'DEAD', attempts: 2, lease_token: null });
      expect(row.last_error).toContain(message);
      expect(row.last_error).toContain('HTTP 401');
      expect(serverStatuses()).toEqual([401, 401]);
      expect(outcomes).toEqual([
        {
          itemId: expect.any(String),
          entityType: 'product',
          entityId: id,
          owner: 'job-7',
          result: 'dead',
          error: expect.stringContaining(message),
          priority: IndexingPriority.NORMAL,
          enqueuedAt: expect.any(Date),
        },
      ]);

      const dead = await ctx.queue.deadLetters();
      expect(dead).toEqual([
        {
          id: expect.any(String),
          entityType: 'product',
          entityId: id,
          owner: 'job-7',
          attempts: 2,
          lastError: expect.stringContaining(message),
          updatedAt: expect.any(Date),
        },
      ]);
      expect(await ctx.queue.deadLetters({ owner: 'other-job' })).toEqual([]);
      expect(await ctx.vectorStore.count()).toBe(0);

      server.reset();
      expect(await ctx.queue.retryDeadLetters({ owner: 'job-7' })).toBe(1);
      await waitForQueueSettled(ctx.dataSource);

      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
      expect([...(await ctx.vectorStore.existsByIds('product', [id]))]).toEqual([id]);
      expect(await ctx.queue.deadLetters()).toEqual([]);
      expect(outcomes.map((o) => o.result)).toEqual(['dead', 'indexed']);
    });

    it('reschedules on 429 without consuming attempts (maxRetries 1 survives three 429s)', async () => {
      server.failNext(3, { status: 429, headers: { 'retry-after-ms': '30' } });
      const [id] = await insertProducts(ctx.dataSource, [SHORT]);
      await ctx.queue.enqueue({ entityType: 'product', entityId: id, maxRetries: 1 });
      await waitForQueueSettled(ctx.dataSource);

      expect(serverStatuses()).toEqual([429, 429, 429, 200]);
      expect([...(await ctx.vectorStore.existsByIds('product', [id]))]).toEqual([id]);
      expect(await ctx.queue.deadLetters()).toEqual([]);
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
      expect(outcomes.map((o) => [o.entityId, o.result])).toEqual([[id, 'indexed']]);
    });

    it('dead-letters a text over the per-input token limit at once, naming the limit, and still indexes the rest of the batch', async () => {
      const [shortId, longId] = await insertProducts(ctx.dataSource, [SHORT, LONG]);
      await ctx.queue.enqueue([shortId, longId].map((entityId) => ({ entityType: 'product', entityId })));
      await waitForQueueSettled(ctx.dataSource);

      const dead = await ctx.queue.deadLetters();
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ entityId: longId, attempts: 1 });
      expect(dead[0].lastError).toContain(`more than the ${MAX_TOKENS_PER_INPUT}-token limit per input`);
      expect(dead[0].lastError).toContain(MODEL);
      expect([...(await ctx.vectorStore.existsByIds('product', [shortId, longId]))]).toEqual([shortId]);
      // The overlong text was never sent.
      expect(server.embeddingRequests).toHaveLength(1);
      expect(server.embeddingRequests[0].inputs).toHaveLength(1);
      expect(outcomes.map((o) => [o.entityId, o.result]).sort()).toEqual([[longId, 'dead'], [shortId, 'indexed']].sort());
    });

    // Last in this configuration: after a quota error the shared limiter holds every caller back for a minute.
    it('on insufficient_quota keeps the items (not dead, no attempt used) and tells onQuotaExceeded listeners the owner', async () => {
      server.failNext(10, { status: 429, body: INSUFFICIENT_QUOTA_BODY });
      const ids = await insertProducts(ctx.dataSource, [SHORT, { ...SHORT, name: 'Cup' }]);
      const calls: Array<{ owners: Array<string | null>; error: Error }> = [];
      const off = ctx.hooks.onQuotaExceeded((owners, error) => void calls.push({ owners, error }));
      try {
        // One statement makes both items visible at once, so one worker claims them as one batch.
        await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId, owner: 'job-42', maxRetries: 1 })));
        await waitUntil('the quota listener is called', () => calls.length > 0);
        await waitUntil('both items are delayed', async () => (await ctx.queue.stats()).delayed === 2);
      } finally {
        off();
      }

      expect(calls).toHaveLength(1);
      expect(calls[0].owners).toEqual(['job-42']);
      expect(calls[0].error.name).toBe('EmbeddingQuotaExceededError');
      expect(calls[0].error.message).toContain('exceeded your current quota');
      const rows = await ctx.dataSource.query(
        `SELECT status, attempts, last_error, run_after > now() + interval '30 seconds' AS later FROM ai_indexing_queue ORDER BY id`,
      );
      expect(rows).toEqual([
        { status: 'PENDING', attempts: 0, last_error: expect.stringContaining('quota'), later: true },
        { status: 'PENDING', attempts: 0, last_error: expect.stringContaining('quota'), later: true },
      ]);
      expect(await ctx.queue.deadLetters()).toEqual([]);
      expect(await ctx.queue.stats()).toMatchObject({ pending: 0, delayed: 2, active: 0, dead: 0 });
      expect(outcomes).toEqual([]);
      expect(serverStatuses()).toEqual([429]);
    });

  });

  describe('with overlongInput "truncate"', () => {
    let ctx: IndexingApp;

    beforeAll(async () => {
      ctx = await bootIndexingApp({ databaseUrl: getUrl(), core: coreOptions('truncate'), web: true });
    });

    afterAll(async () => {
      await ctx?.close();
    });

    beforeEach(async () => {
      await truncateTables(ctx.dataSource);
      server.reset();
    });

    it('indexes a text over the per-input token limit by sending a prefix within the limit', async () => {
      const [id] = await insertProducts(ctx.dataSource, [LONG]);
      await ctx.queue.enqueue({ entityType: 'product', entityId: id });
      await waitUntil('the long product is indexed', async () => (await ctx.vectorStore.count()) === 1);
      await ctx.worker.waitForIdle();

      const fullText = buildEntityText({ ...LONG }, productConfig);
      expect(fakeTokenCount(fullText)).toBeGreaterThan(MAX_TOKENS_PER_INPUT);
      const [sent] = server.embeddingRequests;
      expect(sent.status).toBe(200);
      expect(sent.inputs).toHaveLength(1);
      expect(fakeTokenCount(sent.inputs![0])).toBeLessThanOrEqual(MAX_TOKENS_PER_INPUT);
      expect(fullText.startsWith(sent.inputs![0])).toBe(true);
      // The hash stays the hash of the whole text, so an unchanged row is not re-embedded.
      expect((await ctx.vectorStore.contentHashes('product', [id])).get(id)).toBe(computeContentHash(fullText, MODEL, DIMENSIONS));
      expect(await ctx.queue.deadLetters()).toEqual([]);
    });

    it('answers a search whose query the provider rate-limits beyond its retry budget with 503 and the reason, not a 500', async () => {
      // A search retries for 3 s at most; a Retry-After beyond that is answered at once.
      server.failNext(1, { status: 429, headers: { 'retry-after-ms': '3500' } });
      const res = await request(ctx.app.getHttpServer())
        .get('/api/ai/search')
        .query({ entityType: 'product', q: 'anything' })
        .expect(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(res.body.message).toContain('rate limiting');
      // Once the provider recovers the same search works.
      await request(ctx.app.getHttpServer()).get('/api/ai/search').query({ entityType: 'product', q: 'anything' }).expect(200);
    });
  });
});
