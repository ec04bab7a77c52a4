/**
 * Backfill benchmark: `npm run bench:migration -- [--rows 100000[,1000000]] [--engines postgres,pglite]
 * [--baseline-samples 2] [--ceiling-rows n]`, hashing provider.
 *
 * Per engine and size, in one run:
 * - end to end: seed N products (not indexed), `indexAllEntities('product')`, wait for COMPLETED →
 *   entities/s; the producer's batch (page) time over the first and the last 10 % of the table (their
 *   ratio shows whether reading gets slower as the job goes deeper, which OFFSET paging does), and the
 *   time the whole pipeline took for the first and the last 10 % of the rows (on PostgreSQL this includes
 *   HNSW inserts, which get slower as the graph grows);
 * - memory: the seeding runs in one child process and the job in a fresh one, as an application would
 *   run it, so the job's process RSS is not inflated by the benchmark's own seeding (or by an earlier size);
 *   before the job's clock starts, that process writes and truncates 10,000 vectors, a warm-up like the
 *   one each ceiling run gets;
 * - the raw ceiling: the same vectors written with binary multi-row INSERTs only, measured before the job
 *   (in the seeding process) and after it, and the ratio to their mean (`--ceiling-rows` writes only the
 *   first n: the fastest stretch, so the ratio can only come out lower);
 * - a baseline implementing the spec's literal algorithm (Spring Data `findAll(PageRequest.of(page, 500))`,
 *   i.e. `LIMIT/OFFSET` plus the count query a `Page` runs; one "already indexed?" query and one enqueue
 *   per entity; a sleep of 60 s / rateLimit per page). OFFSET pages get slower with depth, so a run from
 *   the start of the table alone would flatter it: `--baseline-samples` pages are run at 0 %, 10 %, …,
 *   90 % and at the end of the table, and the time of every page is interpolated between them.
 *
 * `--rebuild` (PostgreSQL only) runs another comparison instead: rebuilding every entity into a new index
 * generation whose HNSW index is built after the load, against re-embedding them in place with the index
 * maintained row by row, plus the serving generation's search latency meanwhile; see
 * bench/rebuild-comparison.ts for its flags and method.
 * Figures, not assertions: see docs/performance.md.
 */
import 'reflect-metadata';
import { AiCoreModule, createAiDataSource, IndexingPriority, IndexingQueueService } from '@ai-infrastructure/core';
import { EntityPageReader, IndexGenerationMaintenance, IndexingHooks } from '@ai-infrastructure/core/internal';
import { DataMigrationService, MigrationModule, MigrationRunnerService, MigrationStatus } from '@ai-infrastructure/migration-core';
import { fork } from 'node:child_process';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ProductsModule } from '../apps/sample/src/products/products.module';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { arg, benchDatabase, CONFIG_PATH, engineList, insertBenchProducts, positiveInt } from './bench-support';
import { servingGenerationId, vectorCeiling } from './generation-vectors';
import { rebuildBench } from './rebuild-comparison';

/** Rows per producer page (the jobs' batchSize) and items per worker batch. */
const PAGE_ROWS = 1000;
/** Vectors written (and truncated) in the job's process before its clock starts. */
const WARM_UP_ROWS = 10_000;

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
        AiCoreModule.forRoot({ entityConfigPath: CONFIG_PATH, embedding: { provider: 'hashing' }, liveIndexing: false, worker: { pollIntervalMs: 20, batchSize: PAGE_ROWS } }),
        MigrationModule.forRoot({ pollIntervalMs: 20, defaultBatchSize: PAGE_ROWS, defaultRateLimit: 1_000_000 }),
        ProductsModule,
      ],
    };
  }
}

/** Size and rate of the spec's literal algorithm: its defaults (`default-batch-size: 500`, `rateLimit: 100`). */
const LITERAL_PAGE = 500;
const LITERAL_RATE_LIMIT = 100;

/**
 * One page of the spec's literal algorithm (`processBatches`), at page index `page`: Spring Data's
 * `findAll(PageRequest.of(page, 500))` (no sort: `LIMIT/OFFSET`, plus the count query a full `Page` runs),
 * then per entity an "already indexed?" query and one enqueue, then the sleep of `applyRateLimit`.
 * Returns the rows the page handled.
 */
async function literalPage(dataSource: DataSource, queue: IndexingQueueService, page: number): Promise<number> {
  const rows: Array<{ id: string }> = await dataSource.query(`SELECT * FROM products LIMIT $1 OFFSET $2`, [LITERAL_PAGE, page * LITERAL_PAGE]);
  if (rows.length === LITERAL_PAGE) await dataSource.query(`SELECT count(*) FROM products`);
  for (const row of rows) {
    await dataSource.query(`SELECT 1 FROM ai_searchable_entities WHERE entity_type = 'product' AND entity_id = $1`, [row.id]);
    await queue.enqueue({ entityType: 'product', entityId: row.id, priority: IndexingPriority.LOW, owner: 'baseline' });
  }
  await new Promise((resolve) => setTimeout(resolve, 60_000 / LITERAL_RATE_LIMIT));
  return rows.length;
}

/**
 * The literal algorithm's rate over the whole table: `samples` consecutive pages are timed at 0 %, 10 %, …,
 * 90 % of the table and at its last pages; every page's time is interpolated linearly between the two
 * nearest depths measured. Also returns the rate measured at the start of the table alone.
 */
async function literalBaseline(dataSource: DataSource, queue: IndexingQueueService, rows: number, samples: number) {
  const pages = Math.ceil(rows / LITERAL_PAGE);
  const starts = [...new Set([...Array.from({ length: 10 }, (_, i) => Math.floor((pages * i) / 10)), Math.max(0, pages - samples)])];
  const points: Array<{ page: number; msPerPage: number; rowsPerPage: number }> = [];
  for (const start of starts) {
    const began = performance.now();
    let handled = 0;
    let timed = 0;
    for (let page = start; page < Math.min(pages, start + samples); page++, timed++) handled += await literalPage(dataSource, queue, page);
    points.push({ page: start, msPerPage: (performance.now() - began) / timed, rowsPerPage: handled / timed });
    await dataSource.query(`DELETE FROM ai_indexing_queue WHERE owner = 'baseline'`);
  }
  let totalMs = 0;
  for (let page = 0; page < pages; page++) {
    const after = points.findIndex((p) => p.page >= page);
    const hi = points[after === -1 ? points.length - 1 : after];
    const lo = after > 0 ? points[after - 1] : hi;
    const t = hi.page === lo.page ? 0 : (page - lo.page) / (hi.page - lo.page);
    totalMs += lo.msPerPage + t * (hi.msPerPage - lo.msPerPage);
  }
  return {
    rate: rows / (totalMs / 1000),
    startRate: points[0].rowsPerPage / (points[0].msPerPage / 1000),
    endRate: points[points.length - 1].rowsPerPage / (points[points.length - 1].msPerPage / 1000),
    estimatedSeconds: totalMs / 1000,
  };
}

/**
 * The producer's keyset page read (with the stored hashes and the skip decision) alone, after the job,
 * with nothing else running: the mean of up to 100 pages from the start of the table and from 90 % of it.
 * During the job the producer shares the machine with the workers, whose vector writes slow down as the
 * HNSW graph grows; this separates what depth does to the read itself.
 */
async function quietPageReads(reader: EntityPageReader, dataSource: DataSource, rows: number) {
  const pages = Math.max(1, Math.min(100, Math.floor(rows / 10 / PAGE_ROWS)));
  const meanFrom = async (row: number) => {
    let after: string | null = row === 0 ? null : (await dataSource.query(`SELECT id FROM products ORDER BY id OFFSET $1 LIMIT 1`, [row - 1]))[0].id;
    const started = performance.now();
    for (let i = 0; i < pages; i++) {
      const page = await reader.readPage('product', { afterId: after, limit: PAGE_ROWS });
      after = page[page.length - 1].entityId;
    }
    return (performance.now() - started) / pages;
  };
  await reader.readPage('product', { afterId: null, limit: PAGE_ROWS }); // warm-up: plans and JIT, untimed
  return { first: await meanFrom(0), last: await meanFrom(Math.floor(rows * 0.9)) };
}

/**
 * Child process, phase "seed": inserts the products (not indexed), refreshes the statistics, and measures
 * the raw ceiling once before the job (the run phase measures it again after), so a machine that gets
 * busier or quieter while the job runs shifts both sides of the ratio, not one.
 */
async function seedPhase(env: NodeJS.ProcessEnv, rows: number) {
  const app = await NestFactory.createApplicationContext(MigrationBenchModule.with(env), { logger: ['error', 'warn'] });
  try {
    const dataSource = app.get(DataSource);
    // The startup round builds the serving generation's (empty) index in the background: let it finish
    // first, so the ceiling writes into it like the job does.
    await app.get(IndexGenerationMaintenance).settled();
    const generationId = await servingGenerationId(dataSource);
    await insertBenchProducts(dataSource, rows);
    await dataSource.query('ANALYZE');
    const ceilingRows = Math.min(rows, positiveInt('ceiling-rows', rows));
    const ceilingSeconds = await vectorCeiling(dataSource, generationId, ceilingRows, 1000);
    await dataSource.query('TRUNCATE ai_searchable_entities');
    return { ceiling: ceilingRows / ceilingSeconds };
  } finally {
    await app.close();
  }
}

/** Child process, phase "run": the job end to end in a fresh process, then the ceiling and the baseline. */
async function runPhase(env: NodeJS.ProcessEnv, rows: number, baselineSamples: number) {
  const app = await NestFactory.createApplicationContext(MigrationBenchModule.with(env), { logger: ['error', 'warn'] });
  try {
    const dataSource = app.get(DataSource);
    await app.get(IndexGenerationMaintenance).settled();
    const generationId = await servingGenerationId(dataSource);
    // Progress marks: when the job's processed count passed 10 % and 90 % of the rows.
    const marks: Array<{ at: number; processed: number }> = [];
    let processed = 0;
    app.get(IndexingHooks).onOutcomes(async (_m, outcomes) => {
      processed += outcomes.filter((o) => o.owner && o.result === 'indexed').length;
      marks.push({ at: performance.now(), processed });
    });
    const pageMs: number[] = [];
    app.get(MigrationRunnerService).onPage((page) => pageMs.push(page.durationMs));
    // Both ceiling runs come after a warm-up (the seeding, or the job); a fresh process's embedded database
    // still runs baseline-compiled WebAssembly and has no cached plans. A throwaway write of the same kind
    // warms it before the clock starts, so the job is not the only side that pays for it.
    await vectorCeiling(dataSource, generationId, Math.min(rows, WARM_UP_ROWS), 1000);
    await dataSource.query('TRUNCATE ai_searchable_entities');
    // RSS is the whole process, so with PGlite it includes the embedded database's worker thread. The
    // main thread's live heap (measured right after a full GC, every 2 s) is the memory the job itself
    // (runner, workers, pages in flight) keeps; peak heapUsed without a GC would mostly measure garbage.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('Run with node --expose-gc (npm run bench:migration does).');
    gc();
    const startRss = process.memoryUsage().rss;
    let peakRss = startRss;
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
    const allPages = mean(pageMs);

    const quietReads = await quietPageReads(app.get(EntityPageReader), dataSource, rows);
    // `--ceiling-rows` caps the ceiling's run (an HNSW-indexed 1M-row ceiling takes about an hour here):
    // its first rows go into a small graph, the fastest stretch, so a capped ceiling is higher, never lower.
    const ceilingRows = Math.min(rows, positiveInt('ceiling-rows', rows));
    const ceilingSeconds = await vectorCeiling(dataSource, generationId, ceilingRows, 1000);
    const baseline = await literalBaseline(dataSource, app.get(IndexingQueueService), rows, baselineSamples);
    return { seconds, rate: rows / seconds, ceiling: ceilingRows / ceilingSeconds, ceilingRows, firstTenth, lastTenth, firstPages, lastPages, allPages, quietReads, pages: pageMs.length, startRss, peakRss, peakHeap, baseline };
  } finally {
    await app.close();
  }
}

type RunResult = Awaited<ReturnType<typeof runPhase>>;

/** The parent's environment with the database chosen for this run only (an inherited DATABASE_URL must not leak into a PGlite run). */
function childEnv(database: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.AI_DATA_DIR;
  return { ...env, ...database };
}

/** Runs one phase in a fresh Node process (same flags) and returns what it reported. */
function inChild<T>(phase: 'seed' | 'run', env: NodeJS.ProcessEnv, rows: number, baselineSamples: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const passed = ['--phase', phase, '--rows', String(rows), '--baseline-samples', String(baselineSamples), '--ceiling-rows', arg('ceiling-rows', String(rows))];
    const child = fork(__filename, passed, {
      execArgv: process.execArgv,
      env: childEnv(env),
    });
    let result: T | undefined;
    child.on('message', (message: { result?: T; error?: string }) => {
      if (message.error) reject(new Error(`The ${phase} phase failed: ${message.error}`));
      else result = message.result;
    });
    child.on('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`The ${phase} phase exited with code ${code} and no result.`))));
  });
}

async function child(phase: string) {
  const rows = positiveInt('rows', 100_000);
  const env = { DATABASE_URL: process.env.DATABASE_URL, AI_DATA_DIR: process.env.AI_DATA_DIR };
  try {
    const result = phase === 'seed' ? await seedPhase(env, rows) : await runPhase(env, rows, positiveInt('baseline-samples', 2));
    process.send!({ result });
  } catch (error) {
    process.send!({ error: (error as Error).stack ?? String(error) });
  }
}

async function main() {
  const sizes = arg('rows', '100000').split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1000) throw new Error(`--rows takes integers of at least 1000 separated by commas, got "${s}".`);
    return n;
  });
  if (process.argv.includes('--rebuild')) return rebuildBench(sizes);
  const baselineSamples = positiveInt('baseline-samples', 2);
  console.log(
    `bench:migration — rows ${sizes.join(', ')}, hashing provider (384-d), page ${PAGE_ROWS}, worker batch ${PAGE_ROWS}; ` +
      `literal baseline: ${baselineSamples} page(s) of ${LITERAL_PAGE} at each of 11 depths`,
  );
  for (const engine of engineList()) {
    const results: Array<RunResult & { rows: number; ceilingBefore: number }> = [];
    for (const rows of sizes) {
      const { env, cleanup } = await benchDatabase(engine);
      try {
        const { ceiling: ceilingBefore } = await inChild<{ ceiling: number }>('seed', env, rows, baselineSamples);
        results.push({ rows, ceilingBefore, ...(await inChild<RunResult>('run', env, rows, baselineSamples)) });
      } finally {
        await cleanup();
      }
      const r = results[results.length - 1];
      const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
      const ceiling = (r.ceilingBefore + r.ceiling) / 2;
      console.log(
        [
          `\n[${engine}, ${rows} rows]`,
          `  end to end            ${r.seconds.toFixed(1)} s → ${Math.round(r.rate)} entities/s`,
          `  raw ceiling           ${Math.round(r.ceilingBefore)} entities/s before the job, ${Math.round(r.ceiling)} after${r.ceilingRows < rows ? ` (first ${r.ceilingRows} rows)` : ''}, ` +
            `mean ${Math.round(ceiling)} → ratio ${(r.rate / ceiling).toFixed(2)} (goal ${engine === 'postgres' ? '>= 0.5' : '>= 0.4'}; ` +
            `${(r.rate / Math.max(r.ceilingBefore, r.ceiling)).toFixed(2)} against the higher of the two)`,
          `  producer batch time   first 10 % of ${r.pages} pages ${r.firstPages.toFixed(1)} ms, last 10 % ${r.lastPages.toFixed(1)} ms → ratio ${(r.lastPages / r.firstPages).toFixed(2)} (goal <= 1.15)`,
          `  producer page read   alone after the job: first 10 % ${r.quietReads.first.toFixed(1)} ms, last 10 % ${r.quietReads.last.toFixed(1)} ms → ratio ${(r.quietReads.last / r.quietReads.first).toFixed(2)}`,
          `  pipeline, by rows     first 10 % ${(r.firstTenth / 1000).toFixed(2)} s; last 10 % ${(r.lastTenth / 1000).toFixed(2)} s → ratio ${(r.lastTenth / r.firstTenth).toFixed(2)}`,
          `  memory (job process)  RSS ${mib(r.startRss)} when the job started, peak ${mib(r.peakRss)}; main thread's live heap ${mib(r.peakHeap)}`,
          `  spec's literal algorithm: ${r.baseline.startRate.toFixed(1)} entities/s at the start of the table, ${r.baseline.endRate.toFixed(1)} at its end; ` +
            `whole table ${(r.baseline.estimatedSeconds / 60).toFixed(1)} min → ${r.baseline.rate.toFixed(1)} entities/s → ours is ${(r.rate / r.baseline.rate).toFixed(1)}x`,
          // The literal algorithm counts an entity as processed once it is enqueued; our producer does that
          // same step (read, decide, enqueue, checkpoint), here at its pace beside the workers.
          `  producer alone        ${Math.round((PAGE_ROWS * 1000) / r.allPages)} entities/s read, decided and enqueued (mean page ${r.allPages.toFixed(1)} ms, beside the workers) → ` +
            `${((PAGE_ROWS * 1000) / r.allPages / r.baseline.rate).toFixed(1)}x the literal algorithm, whose "processed" counts this step only`,
        ].join('\n'),
      );
    }
    if (results.length > 1) {
      const [small, large] = [results[0], results[results.length - 1]];
      console.log(
        `\n[${engine}] peak RSS of the job's process, ${large.rows} vs ${small.rows} rows: ratio ${(large.peakRss / small.peakRss).toFixed(2)} (goal <= 1.2); ` +
          `main thread's live heap: ratio ${(large.peakHeap / small.peakHeap).toFixed(2)}`,
      );
    }
  }
}

const phase = arg('phase', '');
(phase ? child(phase) : main()).catch((error) => {
  console.error(error);
  process.exit(1);
});
