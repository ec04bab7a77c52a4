import type { IndexingOutcome } from '@ai-infrastructure/core/internal';
import {
  bootIndexingApp,
  countOf,
  generatedProducts,
  insertProducts,
  truncateTables,
  type IndexingApp,
} from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

/**
 * A batch commits its results in transactions of `worker.commitChunkSize` items (issue 11: a live write then
 * waits for one chunk of a backfill batch, not the whole batch). Each chunk is atomic and fenced by the
 * lease; a chunk that fails leaves only its own items (and later chunks') for the retry.
 */
describeEachEngine('Completion in chunks of worker.commitChunkSize', ({ getUrl }) => {
  let ctx: IndexingApp;
  /** The outcomes reported by each completion transaction, one array per transaction. */
  let transactions: IndexingOutcome[][];
  let failTransaction: number | undefined;

  beforeAll(async () => {
    // Workers off: the test runs batches itself. The hook fails the chosen transaction from inside it.
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      core: { worker: { enabled: false, commitChunkSize: 3 }, liveIndexing: false, queue: { backoffBaseMs: 0 } },
      logger: false,
    });
    ctx.hooks.onOutcomes(async (_manager, outcomes) => {
      transactions.push(outcomes);
      if (transactions.length === failTransaction) throw new Error('Injected failure in the second completion transaction.');
    });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  beforeEach(async () => {
    await truncateTables(ctx.dataSource);
    transactions = [];
    failTransaction = undefined;
  });

  it('a batch of 10 commits in 4 transactions of at most 3 items, each item indexed exactly once', async () => {
    const ids = await insertProducts(ctx.dataSource, generatedProducts(10));
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));

    expect(await ctx.worker.runOnce(10)).toBe(10);

    expect(transactions.map((t) => t.length)).toEqual([3, 3, 3, 1]);
    const indexed = transactions.flat().map((o) => o.entityId);
    expect(indexed.sort()).toEqual([...ids].sort());
    expect(await ctx.vectorStore.count('product')).toBe(10);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
  });

  it('a failing chunk keeps the chunks committed before it; its items and the later ones are retried and indexed once', async () => {
    const ids = await insertProducts(ctx.dataSource, generatedProducts(7));
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
    failTransaction = 2;

    expect(await ctx.worker.runOnce(10)).toBe(7);

    // The first chunk committed; the second rolled back (its outcomes were reported inside it, then undone).
    const committedFirst = transactions[0].map((o) => o.entityId);
    expect(committedFirst).toHaveLength(3);
    expect(await ctx.vectorStore.count('product')).toBe(3);
    const retried = await ctx.dataSource.query(`SELECT entity_id, status, attempts, last_error FROM ai_indexing_queue`);
    expect(retried).toHaveLength(4);
    for (const row of retried) {
      expect(row).toEqual({ entity_id: expect.any(String), status: 'PENDING', attempts: 1, last_error: expect.stringContaining('Injected failure') });
    }
    expect(retried.map((r: { entity_id: string }) => r.entity_id).sort()).toEqual(ids.filter((id) => !committedFirst.includes(id)).sort());

    expect(await ctx.worker.runOnce(10)).toBe(4);
    expect(await ctx.vectorStore.count('product')).toBe(7);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    // Committed outcomes: the first chunk, then the retry's two chunks (transaction 2 rolled back).
    const committed = [...transactions.slice(0, 1), ...transactions.slice(2)].flat().map((o) => o.entityId);
    expect(committed.sort()).toEqual([...ids].sort());
    expect(new Set(committed).size).toBe(7);
  });
});
