import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  EmbeddingService,
  HashingEmbeddingProvider,
  ProviderUsageService,
  IndexingPriority,
  type EmbeddingProvider,
} from '@ai-infrastructure/core';
import {
  AI_CORE_RESOLVED_OPTIONS,
  AiEntityRegistry,
  buildEntityText,
  computeContentHash,
  parseAiEntityConfig,
  VECTOR_STORE,
  EmbeddingProviderRegistry,
  IndexGenerationCatalog,
  type IndexingOutcome,
} from '@ai-infrastructure/core/internal';
import { EntitySnapshotCache } from '@ai-infrastructure/core/entity/entity-snapshot.cache';
import { IndexingBatchProcessor } from '@ai-infrastructure/core/worker/indexing-batch.processor';
import { IndexingClaimsRepository } from '@ai-infrastructure/core/worker/indexing-claims.repository';
import {
  bootIndexingApp,
  countOf,
  generatedProducts,
  insertProducts,
  SAMPLE_ENTITY_CONFIG,
  truncateTables,
  waitUntil,
  type IndexingApp,
} from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

const productConfig = parseAiEntityConfig(readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8'), SAMPLE_ENTITY_CONFIG).get('product')!;

/** The queue rows with every column a fenced-out worker must leave alone. */
const queueState = (ctx: IndexingApp) =>
  ctx.dataSource.query(
    `SELECT id::text, entity_id, status, attempts, lease_token, lease_owner, lease_expires_at, run_after, last_error, updated_at
       FROM ai_indexing_queue ORDER BY id`,
  );

describeEachEngine('Leases, fencing and stale content', ({ getUrl }) => {
  describe('lease expiry and fencing', () => {
    let ctx: IndexingApp;
    let claims: IndexingClaimsRepository;
    let outcomes: IndexingOutcome[];

    beforeAll(async () => {
      // Workers off: the tests play the workers themselves.
      ctx = await bootIndexingApp({ databaseUrl: getUrl(), core: { worker: { enabled: false }, liveIndexing: false } });
      claims = new IndexingClaimsRepository(ctx.dataSource);
      ctx.hooks.onOutcomes(async (_manager, batch) => void outcomes.push(...batch));
    });

    afterAll(async () => {
      await ctx?.close();
    });

    beforeEach(async () => {
      await truncateTables(ctx.dataSource);
      outcomes = [];
    });

    it('a crashed worker\'s expired lease is swept back to PENDING with the attempt counted, and another worker indexes the items', async () => {
      const ids = await insertProducts(ctx.dataSource, generatedProducts(3));
      await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
      const crashed = await claims.claim(10, randomUUID(), 'crashed-worker', 300);
      expect(crashed.map((i) => i.entityId).sort()).toEqual([...ids].sort());

      // While the lease runs, the sweep leaves the items alone and nobody else can claim them.
      expect(await ctx.worker.sweepExpiredLeases()).toBe(0);
      expect(await ctx.worker.runOnce(10)).toBe(0);
      await waitUntil(
        'the lease expires',
        async () => (await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE lease_expires_at < now()`)) === 3,
      );

      expect(await ctx.worker.sweepExpiredLeases()).toBe(0);
      const rows = await ctx.dataSource.query(
        `SELECT status, attempts, lease_token, lease_owner, lease_expires_at, last_error, run_after <= now() AS runnable FROM ai_indexing_queue`,
      );
      expect(rows).toHaveLength(3);
      for (const row of rows) {
        expect(row).toEqual({
          status: 'PENDING',
          attempts: 1,
          lease_token: null,
          lease_owner: null,
          lease_expires_at: null,
          last_error: expect.stringContaining('lease expired'),
          runnable: true,
        });
      }

      expect(await ctx.worker.runOnce(10)).toBe(3);
      expect(await ctx.vectorStore.count('product')).toBe(3);
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
      expect(outcomes.map((o) => o.result)).toEqual(['indexed', 'indexed', 'indexed']);
    });

    it('the sweep dead-letters an item whose attempts are exhausted and reports it, and requeues the others', async () => {
      const [exhausted, fresh] = await insertProducts(ctx.dataSource, generatedProducts(2));
      await ctx.queue.enqueue([
        { entityType: 'product', entityId: exhausted, maxRetries: 1, owner: 'job-1' },
        { entityType: 'product', entityId: fresh, maxRetries: 3, owner: 'job-1' },
      ]);
      expect(await claims.claim(10, randomUUID(), 'crashed-worker', 60_000)).toHaveLength(2);
      await ctx.dataSource.query(`UPDATE ai_indexing_queue SET lease_expires_at = now() - interval '1 second'`);

      expect(await ctx.worker.sweepExpiredLeases()).toBe(1);

      const rows = await ctx.dataSource.query(`SELECT entity_id, status, attempts, last_error FROM ai_indexing_queue ORDER BY entity_id`);
      expect(rows).toEqual(
        [
          { entity_id: exhausted, status: 'DEAD', attempts: 1, last_error: expect.stringContaining('lease expired') },
          { entity_id: fresh, status: 'PENDING', attempts: 1, last_error: expect.stringContaining('lease expired') },
        ].sort((a, b) => a.entity_id.localeCompare(b.entity_id)),
      );
      expect(outcomes).toEqual([
        { itemId: expect.any(String), entityType: 'product', entityId: exhausted, owner: 'job-1', result: 'dead', error: expect.stringContaining('lease expired') },
      ]);
      expect((await ctx.queue.deadLetters()).map((d) => d.entityId)).toEqual([exhausted]);
    });

    // Regression: requeue used to drop the merged item's priority and force flag.
    it('a swept item merged into a newer pending item of the same entity keeps the higher priority and force', async () => {
      const [id] = await insertProducts(ctx.dataSource, generatedProducts(1));
      await ctx.queue.enqueue({ entityType: 'product', entityId: id, priority: IndexingPriority.HIGH, force: true });
      expect(await claims.claim(10, randomUUID(), 'crashed-worker', 60_000)).toHaveLength(1);
      // While it is ACTIVE, a LOW request for the same entity and owner queues a second, pending item.
      await ctx.queue.enqueue({ entityType: 'product', entityId: id, priority: IndexingPriority.LOW });
      await ctx.dataSource.query(`UPDATE ai_indexing_queue SET lease_expires_at = now() - interval '1 second' WHERE status = 'ACTIVE'`);

      expect(await ctx.worker.sweepExpiredLeases()).toBe(0);

      expect(await ctx.dataSource.query(`SELECT entity_id, status, priority, force FROM ai_indexing_queue`)).toEqual([
        { entity_id: id, status: 'PENDING', priority: IndexingPriority.HIGH, force: true },
      ]);
    });

    it('a stale worker whose lease was taken over writes nothing; the new holder writes each vector once', async () => {
      const ids = await insertProducts(ctx.dataSource, generatedProducts(4));
      await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
      const processor = new IndexingBatchProcessor(
        ctx.dataSource,
        ctx.app.get(AI_CORE_RESOLVED_OPTIONS),
        ctx.app.get(AiEntityRegistry),
        ctx.app.get(EmbeddingService),
        ctx.app.get(VECTOR_STORE),
        new IndexingClaimsRepository(ctx.dataSource),
        ctx.hooks,
        new EntitySnapshotCache(),
        ctx.app.get(EmbeddingProviderRegistry),
        ctx.app.get(IndexGenerationCatalog),
        ctx.app.get(ProviderUsageService),
      );
      const live = () => new AbortController().signal;

      const t1 = randomUUID();
      const batchA = { token: t1, items: await claims.claim(10, t1, 'worker-A', 60_000) };
      expect(batchA.items).toHaveLength(4);
      // A stalls past its lease; the sweep puts the items back.
      await ctx.dataSource.query(`UPDATE ai_indexing_queue SET lease_expires_at = now() - interval '1 second'`);
      expect(await ctx.worker.sweepExpiredLeases()).toBe(0);

      // A wakes up while the items are pending: fenced out, nothing changes.
      const pending = await queueState(ctx);
      await processor.process(batchA, live());
      expect(await queueState(ctx)).toEqual(pending);
      expect(await ctx.vectorStore.count()).toBe(0);

      const t2 = randomUUID();
      const batchB = { token: t2, items: await claims.claim(10, t2, 'worker-B', 60_000) };
      // The same entities (the sweep re-inserts items, so their queue ids are new).
      expect(batchB.items.map((i) => i.entityId).sort()).toEqual(batchA.items.map((i) => i.entityId).sort());
      const heldByB = await queueState(ctx);
      expect(heldByB.every((r: { status: string; lease_token: string }) => r.status === 'ACTIVE' && r.lease_token === t2)).toBe(true);

      // A completes its stale batch while B holds the lease: no vector, B's rows untouched, no outcome.
      await processor.process(batchA, live());
      expect(await ctx.vectorStore.count()).toBe(0);
      expect(await queueState(ctx)).toEqual(heldByB);
      expect(outcomes).toEqual([]);
      // A's failure path (here: aborted at shutdown) is fenced too: it cannot release B's items.
      const aborted = new AbortController();
      aborted.abort();
      await processor.process(batchA, aborted.signal);
      expect(await queueState(ctx)).toEqual(heldByB);

      // B completes normally.
      await processor.process(batchB, live());
      expect(await ctx.vectorStore.count('product')).toBe(4);
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
      expect(outcomes.map((o) => o.result)).toEqual(['indexed', 'indexed', 'indexed', 'indexed']);
      expect(new Set(outcomes.map((o) => o.entityId))).toEqual(new Set(ids));

      // A late retry of A's batch after B finished rewrites nothing.
      const written = await ctx.dataSource.query(`SELECT entity_id, indexed_at, content_hash FROM ai_searchable_entities ORDER BY entity_id`);
      await processor.process(batchA, live());
      expect(await ctx.dataSource.query(`SELECT entity_id, indexed_at, content_hash FROM ai_searchable_entities ORDER BY entity_id`)).toEqual(written);
      expect(outcomes).toHaveLength(4);
    });
  });

  describe('stale-content guard', () => {
    let ctx: IndexingApp;
    /** Runs once, inside the next provider call: between planning and completion of the batch. */
    let duringEmbed: (() => Promise<unknown>) | undefined;
    const hashing = new HashingEmbeddingProvider(384);
    const provider: EmbeddingProvider = {
      name: 'hashing-with-hook',
      model: hashing.model,
      dimensions: hashing.dimensions,
      maxInputsPerRequest: hashing.maxInputsPerRequest,
      maxTokensPerRequest: hashing.maxTokensPerRequest,
      maxTokensPerInput: hashing.maxTokensPerInput,
      async embed(texts) {
        const hook = duringEmbed;
        duringEmbed = undefined;
        if (hook) await hook();
        return hashing.embed(texts);
      },
    };
    const hashOf = (row: Record<string, unknown>) =>
      computeContentHash(buildEntityText(row, productConfig), provider.model, provider.dimensions);
    const productRow = async (id: string) =>
      (await ctx.dataSource.query(`SELECT name, description, category FROM products WHERE id = $1`, [id]))[0];

    beforeAll(async () => {
      ctx = await bootIndexingApp({
        databaseUrl: getUrl(),
        core: { worker: { enabled: false }, liveIndexing: false, embedding: { provider: 'custom', useFactory: () => provider } },
      });
    });

    afterAll(async () => {
      await ctx?.close();
    });

    beforeEach(async () => {
      await truncateTables(ctx.dataSource);
      duringEmbed = undefined;
    });

    it('re-queues an item whose row changed while it was embedded, then stores the hash of the final content', async () => {
      const [id] = await insertProducts(ctx.dataSource, [{ name: 'Lantern', description: 'Original text.', category: 'Outdoor', price: 20 }]);
      const original = await productRow(id);
      await ctx.queue.enqueue({ entityType: 'product', entityId: id });
      duringEmbed = () => ctx.dataSource.query(`UPDATE products SET description = 'Rewritten while it was embedded.' WHERE id = $1`, [id]);

      expect(await ctx.worker.runOnce(10)).toBe(1);
      expect(duringEmbed).toBeUndefined();
      expect(await ctx.vectorStore.count()).toBe(0);
      expect(await ctx.dataSource.query(`SELECT status, attempts, lease_token, last_error FROM ai_indexing_queue`)).toEqual([
        { status: 'PENDING', attempts: 0, lease_token: null, last_error: expect.stringContaining('changed while it was being embedded') },
      ]);

      expect(await ctx.worker.runOnce(10)).toBe(1);
      const final = await productRow(id);
      const stored = (await ctx.vectorStore.contentHashes('product', [id])).get(id);
      expect(stored).toBe(hashOf(final));
      expect(stored).not.toBe(hashOf(original));
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    });

    it('re-queues an item whose row was deleted while it was embedded, then removes its vector', async () => {
      const [id] = await insertProducts(ctx.dataSource, [{ name: 'Compass', description: 'Old text.', category: 'Outdoor', price: 12 }]);
      await ctx.queue.enqueue({ entityType: 'product', entityId: id });
      expect(await ctx.worker.runOnce(10)).toBe(1);
      expect(await ctx.vectorStore.count()).toBe(1);

      await ctx.dataSource.query(`UPDATE products SET description = 'New text.' WHERE id = $1`, [id]);
      await ctx.queue.enqueue({ entityType: 'product', entityId: id });
      duringEmbed = () => ctx.dataSource.query(`DELETE FROM products WHERE id = $1`, [id]);
      expect(await ctx.worker.runOnce(10)).toBe(1);
      // The vector of the deleted row was not overwritten with the embedding of its last text...
      expect(await ctx.dataSource.query(`SELECT status, attempts FROM ai_indexing_queue`)).toEqual([{ status: 'PENDING', attempts: 0 }]);
      expect(await ctx.vectorStore.count()).toBe(1);

      // ...and the retry sees the row gone and removes the vector.
      expect(await ctx.worker.runOnce(10)).toBe(1);
      expect(await ctx.vectorStore.count()).toBe(0);
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    });
  });
});
