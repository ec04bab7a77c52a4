import { IndexingPriority } from '@ai-infrastructure/core';
import { type IndexingOutcome } from '@ai-infrastructure/core/internal';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, truncateTables, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { CapturedLogger } from './support/captured-logger';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

/** Backfill items in flight when the live write happens: two 1000-item batches of 2 s each at the server. */
const BACKFILL = 3_000;
/** The server takes this long per input, so a 1000-input backfill request takes 2 s and a live one 2 ms. */
const MS_PER_INPUT = 2;

/**
 * Issue 11, part 1: with the default configuration a live write is indexed by the loop reserved for live
 * items while the backfill loops are busy with their 1000-item batches; with the reservation off (the
 * behaviour before) it waits for one of those batches to finish.
 */
describeEachEngine('Live items during a backfill', ({ getUrl }) => {
  let server: FakeOpenAiServer;

  beforeAll(async () => {
    // The server runs on this test's event loop; its billing count (js-tiktoken, ~80 ms per 1000 texts) would
    // add CPU to the scheduling this test measures, and no figure here depends on what it bills.
    server = await startFakeOpenAiServer({ dimensions: 32, delayPerInputMs: MS_PER_INPUT, countTokens: (text) => Math.ceil(text.length / 4) });
  });

  afterAll(async () => {
    await server?.close();
  });

  /** Boots an app, fills the backfill loops, saves one product live and returns how long its vector took. */
  async function liveLatencyDuringBackfill(liveConcurrency: number): Promise<{ latencyMs: number; backfillInFlight: number }> {
    const ctx: IndexingApp = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: new CapturedLogger(),
      core: {
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: 32 },
        worker: { concurrency: 2, batchSize: 1000, liveConcurrency },
      },
    });
    try {
      await truncateTables(ctx.dataSource);
      const indexedAt = new Map<string, number>();
      ctx.hooks.onOutcomes(async (_manager, outcomes: IndexingOutcome[]) => {
        for (const o of outcomes) if (o.result === 'indexed') indexedAt.set(o.entityId, Date.now());
      });
      const ids = await insertProducts(ctx.dataSource, generatedProducts(BACKFILL, 'backfill item'));
      await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId, priority: IndexingPriority.LOW, owner: 'backfill' })));
      await waitUntil('both backfill loops hold a batch', async () =>
        (await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE status = 'ACTIVE'`)) >= 2_000,
      );
      const savedAt = Date.now();
      const product = await ctx.products!.save(ctx.products!.create({ name: 'Live kettle', description: 'Saved during the backfill.', category: 'Kitchen', price: 30 }));
      await waitUntil('the live product is indexed', () => indexedAt.has(product.id), 30_000, 5);
      const backfillInFlight = await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE status = 'ACTIVE' AND owner = 'backfill'`);
      await waitUntil('the backfill is done', async () => (await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)) === 0, 60_000);
      expect(await ctx.vectorStore.count('product')).toBe(BACKFILL + 1);
      return { latencyMs: indexedAt.get(product.id)! - savedAt, backfillInFlight };
    } finally {
      await ctx.close();
    }
  }

  it('by default a live write is indexed while both backfill loops are still busy with their batches', async () => {
    const { latencyMs, backfillInFlight } = await liveLatencyDuringBackfill(1);
    // Indexed by the live loop, not behind a backfill batch: the batches it would have waited for are still in flight.
    expect(backfillInFlight).toBeGreaterThanOrEqual(1_000);
    expect(latencyMs).toBeLessThan(1_500);
  }, 90_000);

  it('with the reservation off (liveConcurrency 0) the same write waits for a backfill batch to finish', async () => {
    const { latencyMs } = await liveLatencyDuringBackfill(0);
    // A 1000-input request takes 2 s at the server: the live item waited for at least the rest of one.
    expect(latencyMs).toBeGreaterThanOrEqual(1_000);
  }, 90_000);
});
