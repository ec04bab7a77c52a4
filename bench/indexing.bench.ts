/**
 * Indexing throughput benchmark: `npm run bench:indexing -- [--count 100000] [--engines pglite,postgres]
 * [--batch 1000] [--concurrency 2]`.
 *
 * Per engine, in one run: seeds N synthetic products (not indexed), enqueues them all at LOW priority,
 * drains the queue with the real workers and the `hashing` provider, and measures entities/s. Then, on the
 * same table, the raw ceiling: the same vectors written with binary multi-row INSERTs and nothing else.
 * The ratio pipeline/ceiling is the figure to compare across machines (goal: >= 0.5 on PostgreSQL,
 * >= 0.4 on PGlite).
 */
import 'reflect-metadata';
import {
  AiCoreModule,
  createAiDataSource,
  IndexingPriority,
  IndexingQueueService,
} from '@ai-infrastructure/core';
import { IndexingWorkerService } from '@ai-infrastructure/core/internal';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { benchDatabase, CONFIG_PATH, engineList, insertBenchProducts, positiveInt, type Engine } from './bench-support';
import { servingGenerationId, vectorCeiling } from './generation-vectors';


@Module({})
class BenchModule {
  static with(env: NodeJS.ProcessEnv, batchSize: number, concurrency: number): DynamicModule {
    return {
      module: BenchModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions({}), poolSize: concurrency + 4 }),
          dataSourceFactory: (options) => createAiDataSource(options!, env),
        }),
        AiCoreModule.forRoot({
          entityConfigPath: CONFIG_PATH,
          embedding: { provider: 'hashing' },
          liveIndexing: false,
          worker: { enabled: false, batchSize, concurrency, pollIntervalMs: 50 },
        }),
      ],
    };
  }
}

async function runEngine(engine: Engine, count: number, batchSize: number, concurrency: number) {
  const { env, cleanup } = await benchDatabase(engine);
  const app = await NestFactory.createApplicationContext(BenchModule.with(env, batchSize, concurrency), {
    logger: ['error', 'warn'],
  });
  try {
    const dataSource = app.get(DataSource);
    await dataSource.query(`TRUNCATE products, ai_searchable_entities, ai_indexing_queue`);
    const seedStart = performance.now();
    const ids = await insertBenchProducts(dataSource, count);
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const queue = app.get(IndexingQueueService);
    const enqueueStart = performance.now();
    await queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId, priority: IndexingPriority.LOW })));
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;

    const worker = app.get(IndexingWorkerService);
    const drainStart = performance.now();
    worker.start();
    await worker.waitForIdle(3_600_000);
    const drainSeconds = (performance.now() - drainStart) / 1000;
    await worker.stop();
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM ai_searchable_entities`);
    if (n !== count) throw new Error(`Pipeline stored ${n} vectors for ${count} products.`);

    const ceilingSeconds = await vectorCeiling(dataSource, await servingGenerationId(dataSource), count, 1000);
    const pipeline = count / drainSeconds;
    const ceiling = count / ceilingSeconds;
    return { engine, count, seedSeconds, enqueueSeconds, enqueuePerSecond: count / enqueueSeconds, drainSeconds, pipeline, ceilingSeconds, ceiling, ratio: pipeline / ceiling };
  } finally {
    await app.close();
    await cleanup();
  }
}

async function main() {
  const count = positiveInt('count', 100_000);
  const batch = positiveInt('batch', 1000);
  const concurrency = positiveInt('concurrency', 2);
  const engines = engineList();
  console.log(`bench:indexing — ${count} products, worker batch ${batch}, concurrency ${concurrency}, provider hashing (384-d)`);
  for (const engine of engines) {
    const r = await runEngine(engine, count, batch, concurrency);
    console.log(
      [
        `\n[${r.engine}]`,
        `  seed (not indexed)      ${r.seedSeconds.toFixed(1)} s`,
        `  enqueue                 ${r.enqueueSeconds.toFixed(1)} s  (${Math.round(r.enqueuePerSecond)} items/s)`,
        `  pipeline (claim, read, embed, write, complete)  ${r.drainSeconds.toFixed(1)} s  → ${Math.round(r.pipeline)} entities/s`,
        `  raw ceiling (binary multi-row INSERT only)      ${r.ceilingSeconds.toFixed(1)} s  → ${Math.round(r.ceiling)} entities/s`,
        `  ratio pipeline/ceiling  ${r.ratio.toFixed(2)}  (goal ${r.engine === 'postgres' ? '>= 0.5' : '>= 0.4'})`,
      ].join('\n'),
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
