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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AiCoreModule,
  buildEntityText,
  computeContentHash,
  createAiDataSource,
  encodeVector,
  HashingEmbeddingProvider,
  IndexingPriority,
  IndexingQueueService,
  IndexingWorkerService,
  parseAiEntityConfig,
} from '@ai-infrastructure/core';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { generateProducts } from '../apps/sample/src/cli/product-generator';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { startPostgresServer } from '../test/support/postgres-server';

type Engine = 'pglite' | 'postgres';
const CONFIG_PATH = 'apps/sample/ai-entity-config.yml';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function positiveInt(name: string, fallback: number): number {
  const raw = arg(name, String(fallback));
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}".`);
  return value;
}

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

async function insertProducts(dataSource: DataSource, count: number): Promise<string[]> {
  const ids: string[] = [];
  const rows = [...generateProducts(7, 0, count)];
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    const params: unknown[] = [];
    const values = chunk.map((p) => {
      const b = params.length;
      params.push(p.id, p.name, p.description, p.category, p.price, p.createdAt);
      ids.push(p.id);
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`;
    });
    await dataSource.query(
      `INSERT INTO products (id, name, description, category, price, created_at) VALUES ${values.join(', ')}`,
      params,
    );
  }
  return ids;
}

async function rawCeiling(dataSource: DataSource, count: number, chunkRows: number): Promise<number> {
  const provider = new HashingEmbeddingProvider(384);
  const config = parseAiEntityConfig(readFileSync(CONFIG_PATH, 'utf8'), CONFIG_PATH).get('product')!;
  // Vectors and hashes are computed before the clock starts: the ceiling is the database write alone.
  const rows = [...generateProducts(7, 0, count)].map((p) => {
    const text = buildEntityText(p as unknown as Record<string, unknown>, config);
    return [
      'product',
      p.id,
      encodeVector(provider.embedOne(text)),
      computeContentHash(text, provider.model, provider.dimensions),
      provider.model,
      provider.dimensions,
      JSON.stringify({ category: p.category, price: p.price }),
    ];
  });
  await dataSource.query(`TRUNCATE ai_searchable_entities`);
  const started = performance.now();
  for (let i = 0; i < rows.length; i += chunkRows) {
    const chunk = rows.slice(i, i + chunkRows);
    const params: unknown[] = [];
    const values = chunk.map((r) => {
      const b = params.length;
      params.push(...r);
      return `($${b + 1}, $${b + 2}, $${b + 3}::vector, $${b + 4}, $${b + 5}, $${b + 6}::int, $${b + 7}::jsonb)`;
    });
    await dataSource.query(
      `INSERT INTO ai_searchable_entities (entity_type, entity_id, embedding, content_hash, model, dimensions, metadata)
       VALUES ${values.join(', ')}`,
      params,
    );
  }
  return (performance.now() - started) / 1000;
}

async function runEngine(engine: Engine, count: number, batchSize: number, concurrency: number) {
  let cleanup = async () => undefined as void;
  const env: NodeJS.ProcessEnv = {};
  if (engine === 'postgres') {
    if (process.env.DATABASE_URL) {
      env.DATABASE_URL = process.env.DATABASE_URL;
    } else {
      const server = await startPostgresServer();
      env.DATABASE_URL = server.url;
      cleanup = () => server.stop();
    }
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'ai-bench-'));
    env.AI_DATA_DIR = dir;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const app = await NestFactory.createApplicationContext(BenchModule.with(env, batchSize, concurrency), {
    logger: ['error', 'warn'],
  });
  try {
    const dataSource = app.get(DataSource);
    await dataSource.query(`TRUNCATE products, ai_searchable_entities, ai_indexing_queue`);
    const seedStart = performance.now();
    const ids = await insertProducts(dataSource, count);
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

    const ceilingSeconds = await rawCeiling(dataSource, count, 1000);
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
  const engines = arg('engines', 'postgres,pglite').split(',') as Engine[];
  for (const engine of engines) {
    if (engine !== 'pglite' && engine !== 'postgres') throw new Error(`--engines accepts pglite and postgres, got "${engine}".`);
  }
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
