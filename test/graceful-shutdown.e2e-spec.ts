import { Client } from 'pg';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';
import { bootIndexingApp, generatedProducts, insertProducts, truncateTables, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';

const DIMENSIONS = 64;

/**
 * Shutdown with `app.close()` while a batch waits on a slow provider: the in-flight request is aborted and
 * its items go back to the queue at once — no item left ACTIVE behind an expiring lease, no attempt used,
 * nothing dead-lettered — and a fresh app indexes them all.
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

  const boot = () =>
    bootIndexingApp({
      databaseUrl: getUrl(),
      logger: false,
      core: {
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: DIMENSIONS },
        liveIndexing: false,
        worker: { concurrency: 1, batchSize: 100, leaseMs: 60_000 },
      },
    });

  it('releases in-flight items without consuming attempts, and a restarted app indexes every one', async () => {
    ctx = await boot();
    await truncateTables(ctx.dataSource);
    server.delayMs = 30_000;
    const ids = await insertProducts(ctx.dataSource, generatedProducts(40, 'shutdown'));
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
    await waitUntil('the provider received the batch', () => server.embeddingRequests.length > 0, 10_000);

    const started = Date.now();
    await ctx.close();
    ctx = undefined;
    // The 30 s provider delay was not waited for: the request was aborted.
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
