import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AICapable } from '@ai-infrastructure/core';
import { DataMigrationService, MigrationStatus } from '@ai-infrastructure/migration-core';
import { Client } from 'pg';
import { Column, Entity, PrimaryColumn, Repository } from 'typeorm';
import { bootIndexingApp, SAMPLE_ENTITY_CONFIG, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

/**
 * An entity declared the way TypeOrmModule.forFeature users write it: no custom repository class, just
 * `migrationRepository: Repository` — the entity's standard repository from the application's DataSource.
 */
@Entity('test_memos')
@AICapable({ entityType: 'memo', migrationRepository: Repository })
class Memo {
  @PrimaryColumn({ type: 'int' })
  id: number;

  @Column({ type: 'text' })
  body: string;
}

describeEachEngine('A backfill through the standard TypeORM repository (migrationRepository: Repository)', ({ getUrl }) => {
  let ctx: IndexingApp;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ai-standard-repository-'));
    const config = join(dir, 'ai-entity-config.yml');
    writeFileSync(config, `${readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8')}\n  memo:\n    embeddable-fields: [body]\n`);
    // The table exists before the app starts, as the application's own migration would have made it.
    const client = new Client({ connectionString: getUrl() });
    await client.connect();
    try {
      await client.query(`CREATE TABLE test_memos (id int PRIMARY KEY, body text NOT NULL)`);
      await client.query(`INSERT INTO test_memos SELECT g, 'memo number ' || g FROM generate_series(1, 25) g`);
    } finally {
      await client.end();
    }
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      // The sample's products come with their own repository class (ProductsModule); the memos need none.
      products: true,
      extraEntities: [Memo],
      migration: {},
      core: { entityConfigPath: config, liveIndexing: false },
    });
  });

  afterAll(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('backfills every row of the entity and counts them, with no repository class registered anywhere', async () => {
    const migrations = ctx.app.get(DataMigrationService);
    const job = await migrations.indexAllEntities('memo');
    await waitUntil('the memo backfill completes', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED, 60_000);

    expect(await migrations.getProgress(job.id)).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { total: 25, processed: 25, failed: 0 } });
    expect(await ctx.vectorStore.count('memo')).toBe(25);
  });
});
