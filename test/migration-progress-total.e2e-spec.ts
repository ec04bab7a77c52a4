import { IndexingPriority } from '@ai-infrastructure/core';
import { DataMigrationService, MigrationRunnerService, MigrationStatus, type MigrationProgress } from '@ai-infrastructure/migration-core';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

/** Ids that sort after every random uuid: rows created during a job past its checkpoint. */
const lateId = (n: number) => `ffffffff-ffff-4fff-8fff-${n.toString(16).padStart(12, '0')}`;
/** Ids that sort before every random uuid: the first page of a job. */
const earlyId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const done = (p: MigrationProgress) => p.progress.processed + p.skipped + p.progress.failed;

/**
 * Records every progress sample that breaks the progress contract: percentComplete within 0..100,
 * processed + skipped + failed ≤ total, and a COMPLETED job exactly at its total and 100 %.
 */
class ProgressChecker {
  readonly violations: string[] = [];
  samples = 0;
  maxDone = 0;

  check(p: MigrationProgress): MigrationProgress {
    this.samples++;
    this.maxDone = Math.max(this.maxDone, done(p));
    const where = `${p.status} total=${p.progress.total} processed=${p.progress.processed} skipped=${p.skipped} failed=${p.progress.failed} percent=${p.progress.percentComplete}`;
    if (p.progress.percentComplete > 100 || p.progress.percentComplete < 0) this.violations.push(`percentComplete out of range: ${where}`);
    if (done(p) > p.progress.total) this.violations.push(`done exceeds total: ${where}`);
    if (p.status === MigrationStatus.COMPLETED && (done(p) !== p.progress.total || p.progress.percentComplete !== 100)) {
      this.violations.push(`completed but not at its total: ${where}`);
    }
    return p;
  }

  /** Samples the job's progress as often as the database answers until `stop()` is called. */
  sampleContinuously(read: () => Promise<MigrationProgress>): { stop(): Promise<void> } {
    let running = true;
    const loop = (async () => {
      while (running) {
        this.check(await read());
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }
}

/**
 * Issue 11, part 4: rows inserted during a backfill past its checkpoint are read by its later pages. The
 * job covers them (its total grows to what the producer read) and its total ends at exactly what it
 * covered, so progress never passes 100 % and processed + skipped + failed never passes the total.
 */
describeEachEngine('Migration progress total, stepped by hand', ({ getUrl }) => {
  let ctx: IndexingApp;
  let migrations: DataMigrationService;
  let runner: MigrationRunnerService;

  beforeAll(async () => {
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      migration: {},
      // Workers off: the test decides when items are processed; overlong texts fail (dead letters to retry).
      core: { liveIndexing: false, overlongInput: 'fail', worker: { enabled: false } },
    });
    migrations = ctx.app.get(DataMigrationService);
    runner = ctx.app.get(MigrationRunnerService);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('covers rows created past the checkpoint, drops rows deleted before they were read, and ends at 100 % exactly', async () => {
    const originals = (await insertProducts(ctx.dataSource, generatedProducts(300, 'total item'))).sort();
    // Three rows whose text is too long to embed: read in the first page, dead-lettered, retried later.
    const overlong = [1, 2, 3].map(earlyId);
    await insertProducts(
      ctx.dataSource,
      overlong.map((id, i) => ({ id, name: `overlong ${i}`, description: 'lorem ipsum dolor '.repeat(100_000), category: 'Office', price: 1 })),
    );
    // 60 rows already indexed with their current content: the producer skips them.
    const indexed = originals.slice(0, 60);
    await ctx.queue.enqueue(indexed.map((entityId) => ({ entityType: 'product', entityId })));
    while ((await ctx.worker.runOnce(100)) > 0);
    expect(await ctx.vectorStore.count('product')).toBe(60);

    const checker = new ProgressChecker();
    const job = await migrations.startMigration({ entityType: 'product', batchSize: 10 });
    const progress = async () => checker.check(await migrations.getProgress(job.id));
    expect(job.totalEntities).toBe(303);
    const pending = () => countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = $1 AND status = 'PENDING'`, [job.id]);
    // The producer holds back after 8 pages' worth of items (its back-pressure) while nothing is processed.
    await waitUntil('the producer held back by its queued pages', async () => (await pending()) >= 80, 20_000);
    // A restart of the instance: the producer gives up its lease and continues from the checkpoint later.
    await runner.stop();
    await progress();

    // Meanwhile: 25 rows the producer has not read are deleted, 40 rows are created past the checkpoint.
    const [{ checkpoint }] = await ctx.dataSource.query(`SELECT checkpoint FROM ai_migration_jobs WHERE id = $1`, [job.id]);
    const deleted = originals.slice(-25);
    expect(deleted.every((id) => id > checkpoint)).toBe(true);
    await ctx.dataSource.query(`DELETE FROM products WHERE id = ANY($1::uuid[])`, [deleted]);
    const late = Array.from({ length: 40 }, (_, i) => lateId(i));
    await insertProducts(ctx.dataSource, generatedProducts(40, 'late item').map((p, i) => ({ ...p, id: late[i] })));
    // Five queued entities of the job are indexed live first: the workers then find them unchanged.
    const liveIds: string[] = (
      await ctx.dataSource.query(`SELECT entity_id FROM ai_indexing_queue WHERE owner = $1 AND status = 'PENDING' ORDER BY id DESC LIMIT 5`, [job.id])
    ).map((r: { entity_id: string }) => r.entity_id);
    await ctx.queue.enqueue(liveIds.map((entityId) => ({ entityType: 'product', entityId, priority: IndexingPriority.HIGH })));
    expect(await ctx.worker.runOnce(5, IndexingPriority.HIGH)).toBe(5);
    runner.start();

    const sampler = checker.sampleContinuously(() => migrations.getProgress(job.id));
    let retried = false;
    try {
      await waitUntil(
        `job ${job.id} completed`,
        async () => {
          await ctx.worker.runOnce(7);
          const p = await progress();
          if (!retried && p.progress.failed === 3) {
            // Two of the failures are fixed and retried while the job runs.
            await ctx.dataSource.query(`UPDATE products SET description = 'fixed' WHERE id = ANY($1::uuid[])`, [overlong.slice(0, 2)]);
            expect(await migrations.retryFailed(job.id, overlong.slice(0, 2))).toBe(2);
            retried = true;
            await progress();
          }
          return p.status === MigrationStatus.COMPLETED;
        },
        60_000,
        0,
      );
    } finally {
      await sampler.stop();
    }
    expect(retried).toBe(true);

    // 303 at the start − 25 deleted unread + 40 created past the checkpoint = 318 covered.
    const completed = await progress();
    expect(completed).toMatchObject({
      status: MigrationStatus.COMPLETED,
      progress: { total: 318, processed: 318 - 65 - 1, failed: 1, percentComplete: 100, estimatedTimeRemaining: 'PT0S' },
      skipped: 65,
    });
    expect(checker.maxDone).toBeGreaterThan(job.totalEntities);
    expect(await ctx.vectorStore.count('product')).toBe(317);

    // The last failure is fixed after completion: the job runs again and completes at the same total.
    await ctx.dataSource.query(`UPDATE products SET description = 'fixed' WHERE id = $1`, [overlong[2]]);
    expect(await migrations.retryFailed(job.id)).toBe(1);
    const again = await progress();
    expect(again.status).toBe(MigrationStatus.RUNNING);
    await waitUntil(
      `job ${job.id} completed again`,
      async () => {
        await ctx.worker.runOnce(7);
        return (await progress()).status === MigrationStatus.COMPLETED;
      },
      30_000,
      0,
    );
    expect(await progress()).toMatchObject({ progress: { total: 318, processed: 318 - 65, failed: 0, percentComplete: 100 }, skipped: 65 });
    expect(await ctx.vectorStore.count('product')).toBe(318);
    expect(checker.samples).toBeGreaterThan(20);
    expect(checker.violations).toEqual([]);
  });
});

/** The same contract with the workers running and rows created and deleted while the job runs. */
describeEachEngine('Migration progress total, with running workers and writes during the job', ({ getUrl }) => {
  let ctx: IndexingApp;
  let migrations: DataMigrationService;

  beforeAll(async () => {
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      migration: {},
      // 20 items per provider request, paced by the job's rate limit, so the job lasts a few seconds.
      core: { liveIndexing: false, worker: { batchSize: 20 } },
    });
    migrations = ctx.app.get(DataMigrationService);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('keeps processed + skipped + failed within the total and percentComplete within 100 % at every sample', async () => {
    const N = 600;
    const BATCH = 25;
    const originals = (await insertProducts(ctx.dataSource, generatedProducts(N, 'busy item'))).sort();
    const checker = new ProgressChecker();
    const job = await migrations.startMigration({ entityType: 'product', batchSize: BATCH, rateLimit: 1_200 });
    expect(job.totalEntities).toBe(N);
    const sampler = checker.sampleContinuously(() => migrations.getProgress(job.id));
    let background: Promise<void> | undefined;
    let writing = true;
    try {
      // Under the job row's lock the checkpoint cannot move: delete the last 20 rows, which no page has
      // read (a page read in flight covers at most BATCH rows past the checkpoint), and create 50 past them.
      const deleted = originals.slice(-20);
      await ctx.dataSource.transaction(async (manager) => {
        const [{ checkpoint }] = await manager.query(`SELECT checkpoint FROM ai_migration_jobs WHERE id = $1 FOR UPDATE`, [job.id]);
        const read = checkpoint === null ? 0 : originals.filter((id) => id <= checkpoint).length;
        expect(read + BATCH).toBeLessThan(N - deleted.length);
        await manager.query(`DELETE FROM products WHERE id = ANY($1::uuid[])`, [deleted]);
        await manager.query(
          `INSERT INTO products (id, name, description, category, price)
           SELECT ('ffffffff-ffff-4fff-8fff-' || lpad(to_hex(n), 12, '0'))::uuid, 'late ' || n, 'Created during the job ' || n, 'Outdoor', 5
             FROM generate_series(0, 49) AS n`,
        );
      });
      // And while the job runs: more rows created at the end and rows deleted anywhere, read or not.
      background = (async () => {
        for (let round = 0; writing && round < 40; round++) {
          await insertProducts(ctx.dataSource, generatedProducts(3, `later ${round}`).map((p, i) => ({ ...p, id: lateId(1000 + round * 3 + i) })));
          await ctx.dataSource.query(`DELETE FROM products WHERE id = $1`, [originals[(round * 37) % (N - 20)]]);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      })();
      await waitUntil(`job ${job.id} finished`, async () => (await migrations.getProgress(job.id)).status !== MigrationStatus.RUNNING, 60_000);
    } finally {
      writing = false;
      await background;
      await sampler.stop();
    }
    const completed = checker.check(await migrations.getProgress(job.id));
    expect(completed).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { failed: 0, percentComplete: 100 } });
    expect(done(completed)).toBe(completed.progress.total);
    // The 50 rows created past the checkpoint were covered, and rows read before their deletion count as processed.
    expect(completed.progress.total).toBeGreaterThanOrEqual(N - 20 + 50);
    const lateVectors = `SELECT count(*)::int AS n FROM ai_searchable_entities
                          WHERE entity_type = 'product' AND entity_id LIKE 'ffffffff-ffff-4fff-8fff-0000000000%'`;
    expect(await countOf(ctx.dataSource, lateVectors)).toBe(50);
    expect(checker.samples).toBeGreaterThan(20);
    expect(checker.violations).toEqual([]);
  });
});
