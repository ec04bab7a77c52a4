import { randomUUID } from 'node:crypto';
import { IndexingPriority, IndexingQueueError, type IndexingRequest } from '@ai-infrastructure/core';
import { isPendingTwinConflict, type IndexingOutcome } from '@ai-infrastructure/core/internal';
import { IndexingClaimsRepository } from '@ai-infrastructure/core/worker/indexing-claims.repository';
import {
  bootIndexingApp,
  countOf,
  generatedProducts,
  insertProducts,
  truncateTables,
  waitUntil,
  type IndexingApp,
} from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

/** A deterministic uuid per index, so tests can enqueue ids of entities that need not exist. */
const uuidFor = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

describeEachEngine('IndexingQueueService', ({ getUrl }) => {
  let ctx: IndexingApp;

  beforeAll(async () => {
    // Workers off: every test drives processing itself with runOnce.
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), core: { worker: { enabled: false }, liveIndexing: false } });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  beforeEach(async () => {
    await truncateTables(ctx.dataSource);
  });

  it('enqueues 20,000 requests in one call, coalescing duplicates per entity and owner', async () => {
    const requests: IndexingRequest[] = [];
    for (let i = 0; i < 8_000; i++) requests.push({ entityType: 'product', entityId: uuidFor(i), priority: IndexingPriority.LOW });
    // Duplicates of the first 4,000 (same owner: none), at a higher priority and forced: merged into the same rows.
    for (let i = 0; i < 4_000; i++) requests.push({ entityType: 'product', entityId: uuidFor(i), priority: IndexingPriority.HIGH, force: true });
    // The same entities for another owner stay separate items.
    for (let i = 0; i < 8_000; i++) requests.push({ entityType: 'product', entityId: uuidFor(i), owner: 'job-a', priority: IndexingPriority.LOW });
    expect(requests).toHaveLength(20_000);
    // 16,000 distinct rows x 6 parameters is far over PostgreSQL's 65,535 bind parameters: the insert must be chunked.
    expect(16_000 * 6).toBeGreaterThan(65_535);

    expect(await ctx.queue.enqueue(requests)).toBe(20_000);

    const groups = await ctx.dataSource.query(
      `SELECT coalesce(owner, '-') AS owner, priority, force, status, count(*)::int AS n, count(DISTINCT entity_id)::int AS ids
         FROM ai_indexing_queue GROUP BY 1, 2, 3, 4 ORDER BY 1, 2`,
    );
    expect(groups).toEqual([
      { owner: '-', priority: IndexingPriority.LOW, force: false, status: 'PENDING', n: 4_000, ids: 4_000 },
      { owner: '-', priority: IndexingPriority.HIGH, force: true, status: 'PENDING', n: 4_000, ids: 4_000 },
      { owner: 'job-a', priority: IndexingPriority.LOW, force: false, status: 'PENDING', n: 8_000, ids: 8_000 },
    ]);

    // Enqueueing again coalesces in the database (ON CONFLICT), across calls: still one pending row per entity and owner.
    expect(await ctx.queue.enqueue(requests.slice(0, 8_000).map((r) => ({ ...r, priority: IndexingPriority.NORMAL })))).toBe(8_000);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(16_000);
    expect(
      await ctx.dataSource.query(
        `SELECT priority, count(*)::int AS n FROM ai_indexing_queue WHERE owner IS NULL GROUP BY 1 ORDER BY 1`,
      ),
    ).toEqual([
      { priority: IndexingPriority.NORMAL, n: 4_000 },
      { priority: IndexingPriority.HIGH, n: 4_000 },
    ]);
    expect(await ctx.queue.stats()).toMatchObject({ pending: 16_000, delayed: 0, active: 0, dead: 0 });
  });

  it('isPendingTwinConflict recognises a plain insert of a pending twin (what a backfill page meets), and enqueue merges it', async () => {
    await ctx.queue.enqueue(Array.from({ length: 10 }, (_, i) => ({ entityType: 'product', entityId: uuidFor(i), owner: 'job-b' })));
    const insert = (owner: string, ids: string[]) =>
      ctx.dataSource.query(
        `INSERT INTO ai_indexing_queue (entity_type, entity_id, owner) SELECT 'product', id, $1 FROM unnest($2::text[]) AS t(id)`,
        [owner, ids],
      );
    const overlapping = Array.from({ length: 20 }, (_, i) => uuidFor(i));
    const failure = await insert('job-b', overlapping).then(() => null, (error: unknown) => error);
    expect(isPendingTwinConflict(failure)).toBe(true);
    expect(isPendingTwinConflict(new Error('other'))).toBe(false);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(10);

    // Another owner's items are not twins; enqueue merges the overlap.
    await insert('job-c', overlapping);
    expect(await ctx.queue.enqueue(overlapping.map((entityId) => ({ entityType: 'product', entityId, owner: 'job-b' })))).toBe(20);
    expect(await ctx.dataSource.query(`SELECT owner, count(*)::int AS n FROM ai_indexing_queue GROUP BY 1 ORDER BY 1`)).toEqual([
      { owner: 'job-b', n: 20 },
      { owner: 'job-c', n: 20 },
    ]);
  });

  it('a new pending item may coexist with an ACTIVE one of the same entity, and coalesces again once pending', async () => {
    const [id] = await insertProducts(ctx.dataSource, generatedProducts(1));
    await ctx.queue.enqueue({ entityType: 'product', entityId: id });
    const claims = new IndexingClaimsRepository(ctx.dataSource);
    expect(await claims.claim(10, randomUUID(), 'test', 60_000)).toHaveLength(1);
    await ctx.queue.enqueue({ entityType: 'product', entityId: id });
    await ctx.queue.enqueue({ entityType: 'product', entityId: id });
    expect(await ctx.dataSource.query(`SELECT status FROM ai_indexing_queue ORDER BY id`)).toEqual([
      { status: 'ACTIVE' },
      { status: 'PENDING' },
    ]);
  });

  it('claims HIGH items before LOW ones, whatever the order they were enqueued in', async () => {
    const ids = await insertProducts(ctx.dataSource, generatedProducts(20));
    const low = ids.slice(0, 10);
    const high = ids.slice(10);
    await ctx.queue.enqueue(low.map((entityId) => ({ entityType: 'product', entityId, priority: IndexingPriority.LOW })));
    await ctx.queue.enqueue(high.map((entityId) => ({ entityType: 'product', entityId, priority: IndexingPriority.HIGH })));

    const outcomes: IndexingOutcome[] = [];
    const off = ctx.hooks.onOutcomes(async (_manager, batch) => void outcomes.push(...batch));
    try {
      expect(await ctx.worker.runOnce(10)).toBe(10);
    } finally {
      off();
    }

    expect(outcomes.map((o) => o.entityId).sort()).toEqual([...high].sort());
    expect(outcomes.every((o) => o.result === 'indexed')).toBe(true);
    expect([...(await ctx.vectorStore.existsByIds('product', ids))].sort()).toEqual([...high].sort());
    const remaining = await ctx.dataSource.query(`SELECT entity_id, priority, status FROM ai_indexing_queue ORDER BY id`);
    expect(remaining).toEqual(low.map((entity_id) => ({ entity_id, priority: IndexingPriority.LOW, status: 'PENDING' })));

    expect(await ctx.worker.runOnce(10)).toBe(10);
    expect(await ctx.vectorStore.count('product')).toBe(20);
    expect(await ctx.worker.runOnce(10)).toBe(0);
  });

  it('rejects invalid requests with an IndexingQueueError naming the field, and enqueues nothing of the call', async () => {
    const valid: IndexingRequest = { entityType: 'product', entityId: '00000000-0000-4000-8000-000000000001' };
    const someId = '00000000-0000-4000-8000-000000000002';
    const cases: Array<[IndexingRequest, RegExp]> = [
      [{ entityType: '', entityId: someId }, /request #1 has an invalid "entityType"/],
      [{ entityType: 'x'.repeat(101), entityId: someId }, /"entityType"/],
      [{ entityType: 'order', entityId: someId }, /request #1 has entityType "order", which this application does not know; known types: product/],
      [{ entityType: 'product', entityId: 'p-1' }, /request #1 for entity type "product" has "entityId" "p-1", which is not a uuid/],
      [{ entityType: 'product', entityId: '' }, /request #1 for entity type "product" has an invalid "entityId"/],
      [{ entityType: 'product', entityId: null as unknown as string }, /"entityId"/],
      [{ entityType: 'product', entityId: 'y'.repeat(256) }, /"entityId"/],
      [{ entityType: 'product', entityId: someId, priority: 1.5 }, /request #1 has priority 1.5/],
      [{ entityType: 'product', entityId: someId, priority: 40_000 }, /priority 40000/],
      [{ entityType: 'product', entityId: someId, maxRetries: 0 }, /request #1 has maxRetries 0/],
      [{ entityType: 'product', entityId: someId, maxRetries: 101 }, /maxRetries 101/],
    ];
    for (const [bad, message] of cases) {
      const attempt = ctx.queue.enqueue([valid, bad]);
      await expect(attempt).rejects.toThrow(IndexingQueueError);
      await expect(ctx.queue.enqueue([valid, bad])).rejects.toThrow(message);
    }
    await expect(ctx.queue.enqueue(undefined as unknown as IndexingRequest)).rejects.toThrow(/request #0 .*"entityType"/);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    expect(await ctx.queue.enqueue([])).toBe(0);
    // Ids are stored in PostgreSQL's canonical text form, so one entity is always one queue/vector key.
    expect(await ctx.queue.enqueue({ entityType: 'product', entityId: 'ABCDEF01-0000-4000-8000-00000000000A' })).toBe(1);
    expect(await ctx.dataSource.query(`SELECT entity_id FROM ai_indexing_queue`)).toEqual([{ entity_id: 'abcdef01-0000-4000-8000-00000000000a' }]);
  });

  it('stats() counts pending, delayed, active and dead items and the age of the oldest runnable one', async () => {
    expect(await ctx.queue.stats()).toEqual({ pending: 0, delayed: 0, active: 0, dead: 0, oldestPendingAgeSeconds: null });

    const ids = await insertProducts(ctx.dataSource, generatedProducts(6));
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
    // One item of an entity type this app does not know: dead-lettered by the worker without retries.
    // (Written directly: enqueue() refuses unknown types; another instance with another config may not.)
    await ctx.dataSource.query(`INSERT INTO ai_indexing_queue (entity_type, entity_id, priority) VALUES ('ghost', 'g-1', $1)`, [IndexingPriority.HIGH]);
    expect(await ctx.worker.runOnce(1)).toBe(1);
    // Two items claimed by some other worker, one pushed into the future, one backdated to have waited.
    await new IndexingClaimsRepository(ctx.dataSource).claim(2, randomUUID(), 'other-worker', 60_000);
    await ctx.dataSource.query(
      `UPDATE ai_indexing_queue SET run_after = now() + interval '1 hour' WHERE id = (SELECT max(id) FROM ai_indexing_queue WHERE status = 'PENDING')`,
    );
    await ctx.dataSource.query(
      `UPDATE ai_indexing_queue SET created_at = now() - interval '120 seconds' WHERE id = (SELECT min(id) FROM ai_indexing_queue WHERE status = 'PENDING')`,
    );

    const stats = await ctx.queue.stats();
    expect(stats).toEqual({ pending: 3, delayed: 1, active: 2, dead: 1, oldestPendingAgeSeconds: expect.any(Number) });
    expect(stats.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(120);

    const [dead] = await ctx.queue.deadLetters();
    expect(dead).toMatchObject({ entityType: 'ghost', entityId: 'g-1', attempts: 1, owner: null });
    expect(dead.lastError).toContain('"ghost" is not configured');
  });

  // Regression: stop() used to leave its aborted signal in place, so runOnce() released batches unprocessed.
  it('runOnce() still processes a batch after the worker loops were started and stopped', async () => {
    const ids = await insertProducts(ctx.dataSource, generatedProducts(3));
    ctx.worker.start();
    await ctx.worker.stop();
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));

    expect(await ctx.worker.runOnce(10)).toBe(3);
    expect(await ctx.vectorStore.count('product')).toBe(3);
    expect(await ctx.dataSource.query(`SELECT status, last_error FROM ai_indexing_queue`)).toEqual([]);
  });
});

describeEachEngine('Worker capacity kept for live work', ({ getUrl }) => {
  it('loops reserved by worker.liveShare claim only HIGH items, so backfill items wait for the other loops', async () => {
    // liveShare 1: every loop of this instance is reserved for live work (a live-only instance).
    const ctx = await bootIndexingApp({ databaseUrl: getUrl(), core: { liveIndexing: false, worker: { concurrency: 2, liveShare: 1 } } });
    try {
      const ids = await insertProducts(ctx.dataSource, generatedProducts(40, 'share'));
      await ctx.queue.enqueue(ids.slice(0, 20).map((entityId) => ({ entityType: 'product', entityId, priority: IndexingPriority.LOW, owner: 'backfill' })));
      await ctx.queue.enqueue(ids.slice(20).map((entityId) => ({ entityType: 'product', entityId, priority: IndexingPriority.HIGH })));
      await waitUntil('the live items are indexed', async () => (await ctx.vectorStore.count('product')) === 20, 20_000);
      // Give the loops several more polls: the backfill items stay untouched.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await ctx.vectorStore.count('product')).toBe(20);
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = 'backfill' AND status = 'PENDING' AND attempts = 0`)).toBe(20);
    } finally {
      await ctx.close();
    }
  });
});
