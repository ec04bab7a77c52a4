import { IndexingPriority } from '@ai-infrastructure/core';
import { buildEntityText, computeContentHash, parseAiEntityConfig } from '@ai-infrastructure/core/internal';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { Product } from '../apps/sample/src/products/product.entity';
import {
  bootIndexingApp,
  countOf,
  insertProducts,
  SAMPLE_ENTITY_CONFIG,
  truncateTables,
  type IndexingApp,
} from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

const productConfig = parseAiEntityConfig(readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8'), SAMPLE_ENTITY_CONFIG).get('product')!;

describeEachEngine('Live indexing through the sample app', ({ getUrl }) => {
  let ctx: IndexingApp;

  const queueRows = () =>
    ctx.dataSource.query(
      `SELECT entity_type, entity_id, priority, status, owner FROM ai_indexing_queue ORDER BY id`,
    ) as Promise<Array<{ entity_type: string; entity_id: string; priority: number; status: string; owner: string | null }>>;
  const storedHash = async (id: string): Promise<string | undefined> =>
    (await ctx.vectorStore.contentHashes('product', [id])).get(id);
  const expectedHash = (product: Record<string, unknown>) =>
    computeContentHash(buildEntityText(product, productConfig), ctx.embeddingProvider.model, ctx.embeddingProvider.dimensions);
  /** Lets the workers run until the queue is drained, then stops them so the next step can inspect the queue. */
  const drain = async () => {
    ctx.worker.start();
    await ctx.worker.waitForIdle(30_000);
    await ctx.worker.stop();
  };
  const search = (query: Record<string, string | number>) =>
    request(ctx.app.getHttpServer()).get('/api/ai/search').query(query);

  beforeAll(async () => {
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), web: true, products: true });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  beforeEach(async () => {
    // Each test decides when workers run, so that queue contents can be asserted before they drain it.
    await ctx.worker.stop();
    await truncateTables(ctx.dataSource);
  });

  it('POST /products is searchable after the workers drain the queue, first, with its metadata', async () => {
    await insertProducts(ctx.dataSource, [
      { name: 'Cast iron skillet', description: 'Heavy pan for searing steak.', category: 'Kitchen', price: 39.5 },
      { name: 'Office chair', description: 'Ergonomic mesh chair with lumbar support.', category: 'Office', price: 220 },
    ]);
    await ctx.queue.enqueue(
      (await ctx.dataSource.query(`SELECT id FROM products`)).map((r: { id: string }) => ({ entityType: 'product', entityId: r.id })),
    );
    ctx.worker.start();

    const created = await request(ctx.app.getHttpServer())
      .post('/products')
      .send({ name: 'Trail Runner GTX', description: 'Waterproof trail running shoe with a grippy outsole.', category: 'Footwear', price: 129.9 })
      .expect(201);
    const id = created.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    await ctx.worker.waitForIdle(30_000);
    expect(await ctx.vectorStore.count('product')).toBe(3);

    const res = await search({ entityType: 'product', q: 'waterproof trail running shoe' }).expect(200);
    expect(res.body.entityType).toBe('product');
    expect(res.body.results).toHaveLength(3);
    expect(res.body.results[0]).toEqual({
      entityId: id,
      score: expect.any(Number),
      metadata: { category: 'Footwear', price: 129.9 },
    });
    expect(res.body.results[0].score).toBeGreaterThan(res.body.results[1].score);

    const fetched = await request(ctx.app.getHttpServer()).get(`/products/${id}`).expect(200);
    expect(fetched.body).toMatchObject({ id, name: 'Trail Runner GTX', category: 'Footwear', price: 129.9 });
  });

  it('an update whose content hash is unchanged enqueues nothing', async () => {
    const product = await ctx.products!.save(
      ctx.products!.create({ name: 'Desk lamp', description: 'LED lamp with a dimmer.', category: 'Office', price: 25 }),
    );
    await drain();
    const hash = await storedHash(product.id);
    expect(hash).toBe(expectedHash(product as unknown as Record<string, unknown>));

    // Saving the loaded entity as is, and a purely cosmetic change (whitespace collapses in the text), both leave the hash alone.
    const loaded = await ctx.products!.findOneByOrFail({ id: product.id });
    await ctx.products!.save(loaded);
    expect(await queueRows()).toEqual([]);
    loaded.description = 'LED   lamp with a\n dimmer.';
    await ctx.products!.save(loaded);
    expect(await ctx.dataSource.query(`SELECT description FROM products WHERE id = $1`, [product.id])).toEqual([
      { description: 'LED   lamp with a\n dimmer.' },
    ]);
    expect(await queueRows()).toEqual([]);
    expect(await storedHash(product.id)).toBe(hash);
  });

  it('an update with changed content enqueues exactly one HIGH item, and the stored hash follows after draining', async () => {
    const product = await ctx.products!.save(
      ctx.products!.create({ name: 'Tent', description: 'Two-person tent.', category: 'Outdoor', price: 150 }),
    );
    await drain();
    const before = await storedHash(product.id);
    expect(before).toBeDefined();

    product.description = 'Two-person tent, storm proof, with a vestibule.';
    await ctx.products!.save(product);
    expect(await queueRows()).toEqual([
      { entity_type: 'product', entity_id: product.id, priority: IndexingPriority.HIGH, status: 'PENDING', owner: null },
    ]);
    expect(await storedHash(product.id)).toBe(before);

    await drain();
    const after = await storedHash(product.id);
    expect(after).not.toBe(before);
    expect(after).toBe(expectedHash(product as unknown as Record<string, unknown>));
    expect(await queueRows()).toEqual([]);
  });

  it('two writes of the same entity before a worker runs leave one pending item (dedupe)', async () => {
    const product = await ctx.products!.save(
      ctx.products!.create({ name: 'Kettle', description: 'Electric kettle.', category: 'Kitchen', price: 30 }),
    );
    product.description = 'Electric kettle, 1.7 litres.';
    await ctx.products!.save(product);
    product.name = 'Steel kettle';
    await ctx.products!.save(product);

    expect(await queueRows()).toEqual([
      { entity_type: 'product', entity_id: product.id, priority: IndexingPriority.HIGH, status: 'PENDING', owner: null },
    ]);
    await drain();
    expect(await storedHash(product.id)).toBe(expectedHash(product as unknown as Record<string, unknown>));
  });

  it('repository.remove deletes the vector in the same transaction, before any worker runs', async () => {
    const [keep, gone] = await ctx.products!.save([
      ctx.products!.create({ name: 'Hiking boots', description: 'Leather boots.', category: 'Footwear', price: 180 }),
      ctx.products!.create({ name: 'Sandals', description: 'Summer sandals.', category: 'Footwear', price: 40 }),
    ]);
    await drain();
    expect(await ctx.vectorStore.count('product')).toBe(2);

    // A removal that rolls back keeps the vector: the delete belongs to the entity's transaction.
    await expect(
      ctx.dataSource.transaction(async (manager) => {
        await manager.remove(await manager.findOneByOrFail(Product, { id: gone.id }));
        // Same connection: the vector is already gone inside the removing transaction.
        expect(await manager.query(`SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_id = $1`, [gone.id])).toEqual([{ n: 0 }]);
        throw new Error('roll the removal back');
      }),
    ).rejects.toThrow('roll the removal back');
    expect((await ctx.vectorStore.existsByIds('product', [gone.id])).has(gone.id)).toBe(true);

    await ctx.products!.remove(await ctx.products!.findOneByOrFail({ id: gone.id }));
    expect(await ctx.vectorStore.count('product')).toBe(1);
    expect([...(await ctx.vectorStore.existsByIds('product', [keep.id, gone.id]))]).toEqual([keep.id]);
    expect(await queueRows()).toEqual([]);
    const res = await search({ entityType: 'product', q: 'summer sandals' }).expect(200);
    expect(res.body.results.map((r: { entityId: string }) => r.entityId)).toEqual([keep.id]);
  });

  it('a write that rolls back leaves no queue item', async () => {
    await expect(
      ctx.dataSource.transaction(async (manager) => {
        await manager.save(manager.create(Product, { name: 'Ghost', description: 'Never committed.', category: 'Office', price: 1 }));
        // Inside the transaction the work is enqueued...
        expect(await manager.query(`SELECT count(*)::int AS n FROM ai_indexing_queue`)).toEqual([{ n: 1 }]);
        throw new Error('abort the write');
      }),
    ).rejects.toThrow('abort the write');
    // ...and it disappears with the write.
    expect(await queueRows()).toEqual([]);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM products`)).toBe(0);
  });

  describe('GET /api/ai/search validation and filters', () => {
    let ids: string[];

    beforeEach(async () => {
      ids = await insertProducts(ctx.dataSource, [
        { name: 'Rain jacket', description: 'Waterproof jacket for hiking.', category: 'Outdoor', price: 90 },
        { name: 'Rain boots', description: 'Waterproof rubber boots.', category: 'Footwear', price: 45 },
        { name: 'Rain cover', description: 'Waterproof cover for a backpack.', category: 'Outdoor', price: 15 },
      ]);
      await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId })));
      await drain();
    });

    it('an unknown entity type is a 400 naming the known types', async () => {
      const res = await search({ entityType: 'order', q: 'anything' }).expect(400);
      expect(res.body.message).toContain('"order"');
      expect(res.body.message).toContain('known types: product');
    });

    it('an unknown filter field is a 400 naming the field and the filterable ones', async () => {
      const res = await search({ entityType: 'product', q: 'rain', filter: JSON.stringify({ colour: 'red' }) }).expect(400);
      expect(res.body.message).toContain('"colour"');
      expect(res.body.message).toContain('category, price');
    });

    it('malformed parameters are a 400 from validation', async () => {
      await search({ entityType: 'product', q: 'rain', limit: 0 }).expect(400);
      await search({ entityType: 'product', q: 'rain', filter: 'not json' }).expect(400);
      await search({ entityType: 'product' }).expect(400);
    });

    it('a metadata filter narrows the results to matching entities', async () => {
      const res = await search({ entityType: 'product', q: 'waterproof rain', filter: JSON.stringify({ category: 'Outdoor' }) }).expect(200);
      expect(res.body.results.map((r: { entityId: string }) => r.entityId).sort()).toEqual([ids[0], ids[2]].sort());
      res.body.results.forEach((r: { metadata: Record<string, unknown> }) => expect(r.metadata.category).toBe('Outdoor'));

      const byPrice = await search({ entityType: 'product', q: 'waterproof rain', filter: JSON.stringify({ category: 'Outdoor', price: 15 }) }).expect(200);
      expect(byPrice.body.results).toEqual([{ entityId: ids[2], score: expect.any(Number), metadata: { category: 'Outdoor', price: 15 } }]);

      const limited = await search({ entityType: 'product', q: 'waterproof rain', limit: 1 }).expect(200);
      expect(limited.body.results).toHaveLength(1);
    });

    // Regression: a metadata-only change used to leave stale filter values in the vector row.
    it('a metadata-only change (price) is reflected in search metadata and filters after draining', async () => {
      const product = await ctx.products!.findOneByOrFail({ id: ids[1] });
      product.price = 55;
      await ctx.products!.save(product);
      await drain();

      const res = await search({ entityType: 'product', q: 'rain boots', filter: JSON.stringify({ price: 55 }) }).expect(200);
      expect(res.body.results).toEqual([{ entityId: ids[1], score: expect.any(Number), metadata: { category: 'Footwear', price: 55 } }]);
      const stale = await search({ entityType: 'product', q: 'rain boots', filter: JSON.stringify({ price: 45 }) }).expect(200);
      expect(stale.body.results).toEqual([]);
    });
  });

  it('GET /api/ai/monitoring/health reports database, queue and provider up', async () => {
    const res = await request(ctx.app.getHttpServer()).get('/api/ai/monitoring/health').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info).toMatchObject({
      database: { status: 'up' },
      indexingQueue: { status: 'up', pending: 0, dead: 0, maxQueueAgeSeconds: 900 },
      embeddingProvider: { status: 'up', name: 'hashing', dimensions: 384 },
    });
  });
});
