/**
 * Backfill benchmark: `npm run bench:migration -- [--rows 100000[,1000000]] [--engines postgres,pglite]
 * [--baseline-seconds 60]`, hashing provider.
 *
 * Per engine and size, in one run:
 * - end to end: seed N products (not indexed), `indexAllEntities('product')`, wait for COMPLETED →
 *   entities/s; the producer's batch (page) time over the first and the last 10 % of the table (their
 *   ratio shows whether reading gets slower as the job goes deeper, which OFFSET paging does), and the
 *   time the whole pipeline took for the first and the last 10 % of the rows (on PostgreSQL this includes
 *   HNSW inserts, which get slower as the graph grows); the process's peak RSS;
 * - the raw ceiling: the same vectors written with binary multi-row INSERTs only, and the ratio;
 * - a baseline implementing the spec's literal algorithm (OFFSET pages, one enqueue statement per entity,
 *   a sleep of 60 s / rateLimit per page, counting enqueued rows as processed), run for
 *   `--baseline-seconds` from the start of the table. Its rate at the start of the table is its best rate
 *   (OFFSET pages get slower with depth), so the ratio against it understates our advantage.
 * Figures, not assertions: see docs/performance.md.
 */
import 'reflect-metadata';
import { AiCoreModule, createAiDataSource, IndexingHooks, IndexingPriority, IndexingQueueService } from '@ai-infrastructure/core';
import { DataMigrationService, MigrationModule, MigrationRunnerService, MigrationStatus } from '@ai-infrastructure/migration-core';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ProductsModule } from '../apps/sample/src/products/products.module';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { arg, benchDatabase, CONFIG_PATH, engineList, insertBenchProducts, positiveInt, rawVectorCeiling, type Engine } from './bench-support';

@Module({})
class MigrationBenchModule {
  static with(env: NodeJS.ProcessEnv): DynamicModule {
    return {
      module: MigrationBenchModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions({}), poolSize: 8 }),
          dataSourceFactory: (options) => createAiDataSource(options!, env),
        }),
        AiCoreModule.forRoot({ entityConfigPath: CONFIG_PATH, embedding: { provider: 'hashing' }, liveIndexing: false, worker: { pollIntervalMs: 20 } }),
        MigrationModule.forRoot({ pollIntervalMs: 20, defaultBatchSize: 1000, defaultRateLimit: 1_000_000 }),
        ProductsModule,
      ],
    };
  }
}

/** The spec's literal algorithm, for comparison; runs until `seconds` have passed or the table ends. */
async function literalBaseline(dataSource: DataSource, queue: IndexingQueueService, seconds: number, pageSize = 500, rateLimit = 100): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let page = 0;
  let processed = 0;
  const started = performance.now();
  while (performance.now() < deadline) {
    const rows: Array<{ id: string }> = await dataSource.query(`SELECT * FROM products ORDER BY id OFFSET $1 LIMIT $2`, [page * pageSize, pageSize]);
    if (rows.length === 0) break;
    for (const row of rows) {
      // "Check if entity already has embeddings", then one enqueue per entity.
      await dataSource.query(`SELECT 1 FROM ai_searchable_entities WHERE entity_type = 'product' AND entity_id = $1`, [row.id]);
      await queue.enqueue({ entityType: 'product', entityId: row.id, priority: IndexingPriority.LOW, owner: 'baseline' });
      processed++;
      if (performance.now() >= deadline) break;
    }
    page++;
    await new Promise((resolve) => setTimeout(resolve, 60_000 / rateLimit));
  }
  const rate = processed / ((performance.now() - started) / 1000);
  await dataSource.query(`DELETE FROM ai_indexing_queue WHERE owner = 'baseline'`);
  return rate;
}

async function run(engine: Engine, rows: number, baselineSeconds: number) {
  const { env, cleanup } = await benchDatabase(engine);
  const app = await NestFactory.createApplicationContext(MigrationBenchModule.with(env), { logger: ['error', 'warn'] });
  try {
    const dataSource = app.get(DataSource);
    await insertBenchProducts(dataSource, rows);
    await dataSource.query('ANALYZE');

    // Progress marks: when the job's processed count passed 10 % and 90 % of the rows.
    const marks: Array<{ at: number; processed: number }> = [];
    let processed = 0;
    app.get(IndexingHooks).onOutcomes(async (_m, outcomes) => {
      processed += outcomes.filter((o) => o.owner && o.result === 'indexed').length;
      marks.push({ at: performance.now(), processed });
    });
    const pageMs: number[] = [];
    app.get(MigrationRunnerService).onPage((page) => pageMs.push(page.durationMs));
    // RSS is the whole process, so with PGlite it includes the embedded database's worker thread. The
    // main thread's live heap (measured right after a full GC, every 2 s) is the memory the job itself
    // (runner, workers, pages in flight) keeps; peak heapUsed without a GC would mostly measure garbage.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('Run with node --expose-gc (npm run bench:migration does).');
    gc();
    let peakRss = process.memoryUsage().rss;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    const heapSampler = setInterval(() => {
      gc();
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }, 2000);

    const migrations = app.get(DataMigrationService);
    const started = performance.now();
    const job = await migrations.indexAllEntities('product');
    for (;;) {
      const p = await migrations.getProgress(job.id);
      if (p.status !== MigrationStatus.RUNNING) {
        if (p.status !== MigrationStatus.COMPLETED || p.progress.processed !== rows) throw new Error(`Job ended ${p.status} with ${p.progress.processed}/${rows}.`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    clearInterval(heapSampler);
    const at = (n: number) => marks.find((m) => m.processed >= n)?.at ?? performance.now();
    const firstTenth = at(rows * 0.1) - started;
    const lastTenth = at(rows) - at(rows * 0.9);
    const tenthOfPages = Math.max(1, Math.floor(pageMs.length / 10));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const firstPages = mean(pageMs.slice(0, tenthOfPages));
    const lastPages = mean(pageMs.slice(-tenthOfPages));

    const ceilingSeconds = await rawVectorCeiling(dataSource, rows, 1000);
    const baseline = baselineSeconds > 0 ? await literalBaseline(dataSource, app.get(IndexingQueueService), baselineSeconds) : NaN;
    return { engine, rows, seconds, rate: rows / seconds, ceiling: rows / ceilingSeconds, firstTenth, lastTenth, firstPages, lastPages, pages: pageMs.length, peakRss, peakHeap, baseline };
  } finally {
    await app.close();
    await cleanup();
  }
}

async function main() {
  const sizes = arg('rows', '100000').split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1000) throw new Error(`--rows takes integers of at least 1000 separated by commas, got "${s}".`);
    return n;
  });
  const baselineSeconds = positiveInt('baseline-seconds', 60);
  console.log(`bench:migration — rows ${sizes.join(', ')}, hashing provider (384-d), page 1000, worker batch 1000; baseline ${baselineSeconds} s`);
  for (const engine of engineList()) {
    const results = [];
    for (const rows of sizes) {
      const r = await run(engine, rows, baselineSeconds);
      results.push(r);
      console.log(
        [
          `\n[${engine}, ${rows} rows]`,
          `  end to end            ${r.seconds.toFixed(1)} s → ${Math.round(r.rate)} entities/s`,
          `  raw ceiling           ${Math.round(r.ceiling)} entities/s → ratio ${(r.rate / r.ceiling).toFixed(2)} (goal ${engine === 'postgres' ? '>= 0.5' : '>= 0.4'})`,
          `  producer batch time   first 10 % of ${r.pages} pages ${r.firstPages.toFixed(1)} ms, last 10 % ${r.lastPages.toFixed(1)} ms → ratio ${(r.lastPages / r.firstPages).toFixed(2)} (goal <= 1.15)`,
          `  pipeline, by rows     first 10 % ${(r.firstTenth / 1000).toFixed(2)} s; last 10 % ${(r.lastTenth / 1000).toFixed(2)} s → ratio ${(r.lastTenth / r.firstTenth).toFixed(2)}`,
          `  peak RSS              ${(r.peakRss / 1024 / 1024).toFixed(0)} MiB (process); main thread's live heap ${(r.peakHeap / 1024 / 1024).toFixed(0)} MiB`,
          `  spec's literal algorithm (first ${baselineSeconds} s, OFFSET pages, per-entity enqueue, sleep per page): ${r.baseline.toFixed(1)} entities/s → ours is ${(r.rate / r.baseline).toFixed(1)}x`,
        ].join('\n'),
      );
    }
    if (results.length > 1) {
      const [small, large] = [results[0], results[results.length - 1]];
      console.log(
        `\n[${engine}] peak RSS ${large.rows} vs ${small.rows} rows: ratio ${(large.peakRss / small.peakRss).toFixed(2)} (goal <= 1.2); ` +
          `main thread's live heap: ratio ${(large.peakHeap / small.peakHeap).toFixed(2)}`,
      );
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
