import { Client } from 'pg';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';
import { bootIndexingApp, generatedProducts, insertProducts, truncateTables, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';

const DIMENSIONS = 64;

/**
 * Shutdown with `app.close()` while a batch waits on the provider. A request that answers within
 * `worker.shutdownGraceMs` is used (the provider bills it either way): its vectors are written, and no
 * further request is sent. One slower than the grace is aborted and its items go back to the queue at
 * once — no item left ACTIVE behind an expiring lease, no attempt used, nothing dead-lettered — and a fresh
 * app indexes them all. A batch waiting for rate-limit capacity does not sit the wait out.
 */
describeEachEngine('Graceful shutdown', ({ getUrl }) => {
  let server: FakeOpenAiServer;
  let ctx: IndexingApp | undefined;

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: DIMENSIONS });
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  const boot = (shutdownGraceMs = 1_000, rateLimit = {}) =>
    bootIndexingApp({
      databaseUrl: getUrl(),
      logger: false,
      core: {
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: DIMENSIONS },
        liveIndexing: false,
        rateLimit,
        worker: { concurrency: 1, liveConcurrency: 0, batchSize: 100, leaseMs: 60_000, shutdownGraceMs },
      },
    });

  async function queueRows(): Promise<Array<{ status: string; attempts: number; lease_token: string | null }>> {
    const client = new Client({ connectionString: getUrl() });
    await client.connect();
    try {
      return (await client.query(`SELECT status, attempts, lease_token FROM ai_indexing_queue ORDER BY id`)).rows;
    } finally {
      await client.end();
    }
  }

  async function vectorCount(): Promise<number> {
    const client = new Client({ connectionString: getUrl() });
    await client.connect();
    try {
      return (await client.query(`SELECT count(*)::int AS n FROM ai_searchable_entities`)).rows[0].n;
    } finally {
      await client.end();
    }
  }

  // Each test leaves its last app running; the next one must not share the queue with it.
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
    server.reset();
  });

  it('waits for a request in flight within the grace, writes its vectors, and sends no further request', async () => {
    ctx = await boot(15_000);
    await truncateTables(ctx.dataSource);
    server.reset();
    server.delayMs = 1_500;
    const ids = await insertProducts(ctx.dataSource, generatedProducts(250, 'drain'));
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
    await waitUntil('the provider received the first batch', () => server.embeddingRequests.length > 0, 10_000);

    await ctx.close();
    ctx = undefined;
    // The request sent before the shutdown was answered and used; the batches after it were never sent.
    expect(server.embeddingRequests.map((r) => r.status)).toEqual([200]);
    expect(server.embeddingRequests[0].inputs).toHaveLength(100);
    expect(await vectorCount()).toBe(100);
    const rows = await queueRows();
    expect(rows).toHaveLength(150);
    expect(rows.every((r) => r.status === 'PENDING' && r.attempts === 0 && r.lease_token === null)).toBe(true);

    server.delayMs = 0;
    ctx = await boot();
    await ctx.worker.waitForIdle(30_000);
    expect(await vectorCount()).toBe(250);
    // Each text was embedded once across the two apps.
    const sent = server.embeddingRequests.flatMap((r) => r.inputs ?? []);
    expect(sent).toHaveLength(250);
    expect(new Set(sent).size).toBe(250);
  });

  it('does not sit out a rate-limit wait at shutdown: the waiting batch is released at once', async () => {
    ctx = await boot(15_000, { requestsPerMinute: 1, scope: 'instance' });
    await truncateTables(ctx.dataSource);
    server.reset();
    const ids = await insertProducts(ctx.dataSource, generatedProducts(150, 'waiting'));
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
    await waitUntil('the first batch was embedded and the second claimed', async () => (await vectorCount()) === 100 && (await queueRows()).some((r) => r.status === 'ACTIVE'), 10_000);

    const started = Date.now();
    await ctx.close();
    ctx = undefined;
    // Far below both the minute the limiter would make the batch wait and the 15 s grace.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.embeddingRequests).toHaveLength(1);
    const rows = await queueRows();
    expect(rows).toHaveLength(50);
    expect(rows.every((r) => r.status === 'PENDING' && r.attempts === 0 && r.lease_token === null)).toBe(true);
  });

  it('aborts a request slower than the grace, releases its items without consuming attempts, and a restarted app indexes every one', async () => {
    ctx = await boot();
    await truncateTables(ctx.dataSource);
    server.delayMs = 30_000;
    const ids = await insertProducts(ctx.dataSource, generatedProducts(40, 'shutdown'));
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
    await waitUntil('the provider received the batch', () => server.embeddingRequests.length > 0, 10_000);

    const started = Date.now();
    await ctx.close();
    ctx = undefined;
    // The 30 s provider delay was not waited for: the request was aborted when the 1 s grace ran out.
    expect(Date.now() - started).toBeLessThan(20_000);

    const client = new Client({ connectionString: getUrl() });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT status, attempts, lease_token FROM ai_indexing_queue ORDER BY id`,
      );
      expect(rows).toHaveLength(40);
      expect(rows.every((r) => r.status === 'PENDING' && r.attempts === 0 && r.lease_token === null)).toBe(true);
      const { rows: vectors } = await client.query(`SELECT count(*)::int AS n FROM ai_searchable_entities`);
      expect(vectors[0].n).toBe(0);
    } finally {
      await client.end();
    }

    server.delayMs = 0;
    ctx = await boot();
    await ctx.worker.waitForIdle(30_000);
    const [{ n }] = await ctx.dataSource.query(`SELECT count(*)::int AS n FROM ai_searchable_entities`);
    expect(n).toBe(40);
    const [{ left }] = await ctx.dataSource.query(`SELECT count(*)::int AS left FROM ai_indexing_queue`);
    expect(left).toBe(0);
  });
});
