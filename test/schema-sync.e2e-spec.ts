import {
  AI_CORE_ENTITIES,
  AI_CORE_MIGRATIONS,
  AiCoreConfigurationError,
  AiCoreModule,
  createAiDataSource,
} from '@ai-infrastructure/core';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Product } from '../apps/sample/src/products/product.entity';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { bootIndexingApp, testCoreOptions } from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

/**
 * The schema comes from migrations; TypeORM's schema builder (what `synchronize` and
 * `migration:generate` run) must find nothing of the core tables to change — in particular it must not
 * drop the HNSW index, the partial queue indexes or the status check, which it cannot express itself.
 */
describeEachEngine('Core schema vs TypeORM schema sync', ({ getUrl }) => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await createAiDataSource(
      { entities: AI_CORE_ENTITIES, migrations: AI_CORE_MIGRATIONS, migrationsRun: true, logging: false },
      { DATABASE_URL: getUrl() },
    );
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  it('the migrations created the indexes and the check the entities declare', async () => {
    const indexes: Array<{ indexname: string }> = await dataSource.query(
      `SELECT indexname FROM pg_indexes
        WHERE tablename IN ('ai_indexing_queue', 'ai_searchable_entities', 'ai_index_generations', 'ai_index_aliases') ORDER BY 1`,
    );
    const names = indexes.map((i) => i.indexname);
    expect(names).toEqual(
      expect.arrayContaining([
        'ai_indexing_queue_pending_uq',
        'ai_indexing_queue_claim_idx',
        'ai_indexing_queue_lease_idx',
        'ai_indexing_queue_dead_idx',
        'ai_searchable_entities_generation_idx',
        'ai_index_generations_entity_type_idx',
        'ai_index_generations_building_uq',
      ]),
    );
    const checks = await dataSource.query(`SELECT conname FROM pg_constraint WHERE conname = 'ai_indexing_queue_status_ck'`);
    expect(checks).toHaveLength(1);
  });

  it('schema sync would not drop or alter anything of the core tables', async () => {
    const sql = await dataSource.driver.createSchemaBuilder().log();
    const statements = sql.upQueries.map((q) => q.query);
    const touchingCore = statements.filter((q) => /ai_indexing_queue|ai_searchable_entities|ai_index_generations|ai_index_aliases|ai_provider_capacity/.test(q));
    expect(touchingCore).toEqual([]);
  });
});

describeEachEngine('Startup without the core migrations', ({ getUrl }) => {
  it('fails with a sentence that says which tables are missing and how to create them', async () => {
    // No migrations run: the core tables are never created.
    const failure = await bootIndexingApp({ databaseUrl: getUrl(), logger: false, migrationsRun: false }).then(
      async (ctx) => {
        await ctx.close();
        return undefined;
      },
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(AiCoreConfigurationError);
    expect(failure!.message).toMatch(/ai_indexing_queue, ai_searchable_entities, ai_index_generations, ai_index_aliases\) do not exist.*AI_CORE_MIGRATIONS.*migrationsRun: true/);
  });
});

describeEachEngine('Startup without the core entities in the DataSource', ({ getUrl }) => {
  it("fails with a sentence naming the entities and the fix (before: a TypeORM 'No metadata' error on the first backfill page)", async () => {
    @Module({
      imports: [
        TypeOrmModule.forRootAsync({
          // The core's tables exist (its migrations run), but its entities are left out of `entities`.
          useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions({}), entities: [Product], migrationsRun: true, retryAttempts: 1 }),
          dataSourceFactory: (options) => createAiDataSource(options!, { DATABASE_URL: getUrl() }),
        }),
        AiCoreModule.forRoot(testCoreOptions({ worker: { enabled: false }, liveIndexing: false })),
      ],
    })
    class WithoutCoreEntitiesModule {}

    // NestFactory.create does not initialise: init() runs the startup checks, and close() releases the pool.
    const app = await NestFactory.create(WithoutCoreEntitiesModule, { logger: false, abortOnError: false });
    const failure = await app.init().then(
      () => undefined,
      (error: Error) => error,
    );
    await app.close().catch(() => undefined);
    expect(failure).toBeInstanceOf(AiCoreConfigurationError);
    expect(failure!.message).toContain('The AI core entities (SearchableEntityRecord, IndexingQueueItem, IndexGeneration, IndexAlias, ProviderUsageRecord, ProviderCapacityRecord, EmbeddingBatchRecord, EmbeddingBatchItemRecord) are not in your DataSource\'s entities');
    expect(failure!.message).toContain('entities: [YourEntity, ...AI_CORE_ENTITIES]');
  });
});

describeEachEngine('Startup with shared provider limits but without their table', ({ getUrl }) => {
  it('fails with a sentence naming rateLimit.scope, the missing table and both fixes', async () => {
    // The migrations ran, then the table of the shared limits went missing (a migration left out or reverted).
    const first = await bootIndexingApp({ databaseUrl: getUrl(), logger: false, core: { worker: { enabled: false }, liveIndexing: false } });
    await first.dataSource.query(`DROP TABLE ai_provider_capacity`);
    await first.close();

    const failure = await bootIndexingApp({
      databaseUrl: getUrl(),
      logger: false,
      migrationsRun: false,
      core: { worker: { enabled: false }, liveIndexing: false, rateLimit: { requestsPerMinute: 3_000 } },
    }).then(
      async (ctx) => {
        await ctx.close();
        return undefined;
      },
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(AiCoreConfigurationError);
    expect(failure!.message).toMatch(/"rateLimit.scope" is "cluster" \(the default\).*ai_provider_capacity.*does not exist.*AiProviderCapacity1732100000980.*rateLimit.scope to "instance"/);

    // Per-instance limits need no table: the same database starts.
    const perInstance = await bootIndexingApp({
      databaseUrl: getUrl(),
      logger: false,
      migrationsRun: false,
      core: { worker: { enabled: false }, liveIndexing: false, rateLimit: { requestsPerMinute: 3_000, scope: 'instance' } },
    });
    await perInstance.close();
  });
});
