import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AICapable } from '@ai-infrastructure/core';
import {
  ActiveMigrationExistsError,
  DataMigrationService,
  MigrationStatus,
  TooManyActiveMigrationsError,
  type MigrationProgress,
} from '@ai-infrastructure/migration-core';
import { EntitySnapshotCache } from '@ai-infrastructure/core/entity/entity-snapshot.cache';
import { forwardRef, Injectable, Module } from '@nestjs/common';
import { Column, DataSource, Entity, PrimaryColumn, Repository } from 'typeorm';
import { bootIndexingApp, countOf, SAMPLE_ENTITY_CONFIG, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

/** An entity type with a numeric primary key. */
@Entity('test_articles')
@AICapable({ entityType: 'article', migrationRepository: forwardRef(() => ArticleRepository) })
class Article {
  @PrimaryColumn({ type: 'int' })
  id: number;

  @Column({ type: 'text' })
  body: string;
}

/** An entity type with a uuid primary key. */
@Entity('test_tickets')
@AICapable({ entityType: 'ticket', migrationRepository: forwardRef(() => TicketRepository) })
class Ticket {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'text' })
  subject: string;
}

@Injectable()
class ArticleRepository extends Repository<Article> {
  constructor(dataSource: DataSource) {
    super(Article, dataSource.createEntityManager());
  }
}

@Injectable()
class TicketRepository extends Repository<Ticket> {
  constructor(dataSource: DataSource) {
    super(Ticket, dataSource.createEntityManager());
  }
}

@Module({ providers: [ArticleRepository, TicketRepository] })
class SupportRepositoriesModule {}

const ARTICLES = 1200;
const TICKETS = 900;
const PAGE = 100;
/** The runner keeps at most this many pages of a job waiting in the queue (MAX_PAGES_IN_FLIGHT). */
const PAGES_IN_FLIGHT = 8;

/**
 * Several entity types backfilled at once: `maxConcurrentJobs` is enforced, every active job's producer
 * makes progress (none waits for another to finish), each is held to its own back-pressure bound, and the
 * jobs' counts stay exact. Rows that change after the producer read them are embedded as they are now.
 */
describeEachEngine('Concurrent migration jobs', ({ getUrl }) => {
  let ctx: IndexingApp;
  let migrations: DataMigrationService;
  let dir: string;

  const finish = async (jobId: string): Promise<MigrationProgress> => {
    await waitUntil(`job ${jobId} finished`, async () => (await migrations.getProgress(jobId)).status !== MigrationStatus.RUNNING, 60_000);
    return migrations.getProgress(jobId);
  };

  const waitingPerJob = async (jobIds: string[]): Promise<Record<string, number>> => {
    const rows: Array<{ owner: string; n: number }> = await ctx.dataSource.query(
      `SELECT owner, count(*)::int AS n FROM ai_indexing_queue WHERE owner = ANY($1::text[]) GROUP BY owner`,
      [jobIds],
    );
    return Object.fromEntries(jobIds.map((id) => [id, rows.find((r) => r.owner === id)?.n ?? 0]));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ai-concurrent-jobs-'));
    const config = join(dir, 'ai-entity-config.yml');
    writeFileSync(
      config,
      `${readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8')}
  article:
    embeddable-fields: [body]
  ticket:
    embeddable-fields: [subject]
`,
    );
    // The entities' tables exist before the app starts (the core checks them at startup), as a migration
    // of the application would have created them.
    const client = new Client({ connectionString: getUrl() });
    await client.connect();
    try {
      await client.query(`CREATE TABLE test_articles (id int PRIMARY KEY, body text NOT NULL)`);
      await client.query(`CREATE TABLE test_tickets (id uuid PRIMARY KEY, subject text NOT NULL)`);
    } finally {
      await client.end();
    }
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      extraEntities: [Article, Ticket],
      imports: [SupportRepositoriesModule],
      migration: { maxConcurrentJobs: 2 },
      // Workers start later, by hand: first the producers alone show where they stop.
      core: { entityConfigPath: config, liveIndexing: false, worker: { enabled: false, batchSize: PAGE } },
    });
    migrations = ctx.app.get(DataMigrationService);
    await ctx.dataSource.query(`INSERT INTO test_articles SELECT g, 'article number ' || g FROM generate_series(1, $1::int) g`, [ARTICLES]);
    await ctx.dataSource.query(`INSERT INTO test_tickets SELECT gen_random_uuid(), 'ticket about case ' || g FROM generate_series(1, $1::int) g`, [TICKETS]);
  });

  afterAll(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs maxConcurrentJobs jobs side by side, each within its back-pressure bound, and refuses one more', async () => {
    const articles = await migrations.startMigration({ entityType: 'article', batchSize: PAGE });
    const tickets = await migrations.startMigration({ entityType: 'ticket', batchSize: PAGE });
    const ids = [articles.id, tickets.id];

    // A third job would exceed maxConcurrentJobs; the error names the limit and both active jobs.
    const refused = await migrations.startMigration({ entityType: 'product' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TooManyActiveMigrationsError);
    expect((refused as TooManyActiveMigrationsError).activeJobIds.sort()).toEqual([...ids].sort());
    expect((refused as Error).message).toMatch(/maxConcurrentJobs is 2/);
    // One active job per entity type still holds.
    await expect(migrations.startMigration({ entityType: 'article' })).rejects.toThrow(ActiveMigrationExistsError);

    // With no worker running, both producers fill the queue up to their own bound: the older job does not
    // hold back the younger one, and neither exceeds PAGES_IN_FLIGHT pages.
    const bound = PAGES_IN_FLIGHT * PAGE;
    await waitUntil('both jobs enqueued up to their back-pressure bound', async () => {
      const waiting = await waitingPerJob(ids);
      return ids.every((id) => waiting[id] === bound);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await waitingPerJob(ids)).toEqual({ [articles.id]: bound, [tickets.id]: bound });
    // The producers handed what they read to this process's workers...
    const handedOver = ctx.app.get(EntitySnapshotCache);
    expect(handedOver.size).toBe(2 * bound);
    // ...and some of those rows change before a worker gets to them: the workers must embed the rows as
    // they are now, not as the producer read them.
    await ctx.dataSource.query(`UPDATE test_articles SET body = 'rewritten article ' || id WHERE id <= 5`);
    await ctx.dataSource.query(`UPDATE test_tickets SET subject = 'rewritten ' || subject WHERE id IN (SELECT id FROM test_tickets ORDER BY id LIMIT 5)`);

    ctx.worker.start();
    const [articleJob, ticketJob] = await Promise.all([finish(articles.id), finish(tickets.id)]);
    expect(articleJob).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { total: ARTICLES, processed: ARTICLES, failed: 0 } });
    expect(ticketJob).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { total: TICKETS, processed: TICKETS, failed: 0 } });
    const vectors = (type: string) => countOf(ctx.dataSource, `SELECT count(*) AS n FROM ai_searchable_entities WHERE entity_type = $1`, [type]);
    expect(await vectors('article')).toBe(ARTICLES);
    expect(await vectors('ticket')).toBe(TICKETS);
    expect(await countOf(ctx.dataSource, `SELECT count(*) AS n FROM ai_indexing_queue`)).toBe(0);
    expect(handedOver.size).toBe(0);
    // Every stored hash is the hash of the row as it is now: a second job of each type skips every row.
    const [articlesAgain, ticketsAgain] = await Promise.all([
      migrations.startMigration({ entityType: 'article', batchSize: PAGE }).then((job) => finish(job.id)),
      migrations.startMigration({ entityType: 'ticket', batchSize: PAGE }).then((job) => finish(job.id)),
    ]);
    expect(articlesAgain).toMatchObject({ status: MigrationStatus.COMPLETED, skipped: ARTICLES, progress: { processed: 0 } });
    expect(ticketsAgain).toMatchObject({ status: MigrationStatus.COMPLETED, skipped: TICKETS, progress: { processed: 0 } });

    // The slots are free again.
    const product = await migrations.startMigration({ entityType: 'product' });
    expect((await finish(product.id)).status).toBe(MigrationStatus.COMPLETED);
  });
});
