import { AiIndexPurgeError, AiIndexPurgeService, AiSearchService, IndexingPriority } from '@ai-infrastructure/core';
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
 * AiIndexPurgeService removes an entity type's index — its vectors and every queue item, whatever the
 * status — so that nobody deletes from the library's tables by hand (issue 12). Other entity types are
 * left alone, and indexing works as before afterwards.
 */
describeEachEngine('AiIndexPurgeService', ({ getUrl }) => {
  let ctx: IndexingApp;
  let purge: AiIndexPurgeService;

  const vectors = (entityType: string) => countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_type = $1`, [entityType]);
  const items = (entityType: string) => countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE entity_type = $1`, [entityType]);

  /**
   * Six products indexed, four queued (one of them claimed by a worker, one dead-lettered), and the index
   * of another entity type, "retired", that the configuration no longer has: a vector and a dead letter.
   */
  async function indexedCatalogue(): Promise<string[]> {
    const ids = await insertProducts(ctx.dataSource, generatedProducts(10, 'purge'));
    await ctx.queue.enqueue(ids.slice(0, 6).map((entityId) => ({ entityType: 'product', entityId })));
    expect(await ctx.worker.runOnce(6)).toBe(6);
    await ctx.queue.enqueue(ids.slice(6).map((entityId) => ({ entityType: 'product', entityId, priority: IndexingPriority.LOW })));
    await ctx.dataSource.query(`UPDATE ai_indexing_queue SET status = 'ACTIVE', lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 minute' WHERE entity_id = $1`, [ids[6]]);
    await ctx.dataSource.query(`UPDATE ai_indexing_queue SET status = 'DEAD', last_error = 'gave up' WHERE entity_id = $1`, [ids[7]]);
    await ctx.dataSource.query(
      `INSERT INTO ai_searchable_entities (entity_type, entity_id, embedding, content_hash, model, dimensions, metadata, generation_id)
       VALUES ('retired', '1', '[1,0,0]', repeat('a', 64), 'old-model', 3, '{}', 999)`,
    );
    await ctx.dataSource.query(`INSERT INTO ai_indexing_queue (entity_type, entity_id, status, last_error) VALUES ('retired', '1', 'DEAD', 'gone')`);
    return ids;
  }

  beforeAll(async () => {
    // Workers and live indexing off: the test decides what is indexed and when.
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, core: { worker: { enabled: false }, liveIndexing: false }, logger: false });
    purge = ctx.app.get(AiIndexPurgeService);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  beforeEach(async () => {
    await truncateTables(ctx.dataSource);
  });

  it('removes the vectors and every queue item of the type and nothing of another type; search then finds nothing', async () => {
    await indexedCatalogue();
    const search = ctx.app.get(AiSearchService);
    expect(await search.search({ entityType: 'product', query: 'purge 3', limit: 3 })).toHaveLength(3);

    expect(await purge.purgeEntityType('product')).toEqual({ entityType: 'product', vectors: 6, queueItems: 4 });

    expect(await vectors('product')).toBe(0);
    expect(await items('product')).toBe(0);
    expect(await search.search({ entityType: 'product', query: 'purge 3', limit: 3 })).toEqual([]);
    expect(await vectors('retired')).toBe(1);
    expect(await items('retired')).toBe(1);
    // Nothing left to do for the type: the products themselves are untouched.
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM products`)).toBe(10);
  });

  it('purges a type the configuration no longer has', async () => {
    await indexedCatalogue();
    expect(await purge.purgeEntityType('retired')).toEqual({ entityType: 'retired', vectors: 1, queueItems: 1 });
    expect(await vectors('product')).toBe(6);
    expect(await items('product')).toBe(4);
  });

  it("joins the caller's transaction: rolled back with it, committed with it", async () => {
    await indexedCatalogue();
    const rollback = new Error('rolled back on purpose');
    await expect(
      ctx.dataSource.transaction(async (manager) => {
        await manager.query(`DELETE FROM products`);
        expect(await purge.purgeEntityType('product', manager)).toMatchObject({ vectors: 6, queueItems: 4 });
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(await vectors('product')).toBe(6);
    expect(await items('product')).toBe(4);

    await ctx.dataSource.transaction(async (manager) => {
      await manager.query(`DELETE FROM products`);
      await purge.purgeEntityType('product', manager);
    });
    expect(await vectors('product')).toBe(0);
    expect(await items('product')).toBe(0);
  });

  it('indexing works as before after a purge', async () => {
    const ids = await indexedCatalogue();
    await purge.purgeEntityType('product');
    await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
    expect(await ctx.worker.runOnce(10)).toBe(10);
    expect(await vectors('product')).toBe(10);
    expect(await items('product')).toBe(0);
  });

  it('rejects an entity type that is not a name, saying what to give', async () => {
    await expect(purge.purgeEntityType('')).rejects.toThrow(
      new AiIndexPurgeError('AiIndexPurgeService.purgeEntityType: "entityType" is ""; give the entity type name (1-100 characters), as in @AICapable.'),
    );
    await expect(purge.purgeEntityType(undefined as never)).rejects.toThrow(AiIndexPurgeError);
    await expect(purge.purgeEntityType('x'.repeat(101))).rejects.toThrow(AiIndexPurgeError);
    await expect(purge.purgeEntityType('prod\u0000uct')).rejects.toThrow(/"entityType" contains a NUL character/);
  });
});
