/**
 * Live-indexing latency during a backfill: `npm run bench:live -- [--rows 100000] [--engines postgres,pglite]
 * [--providers local,latency200] [--modes default,before] [--commit-chunk N] [--concurrency N] [--writes 40] [--interval-ms 500] [--rounds 2]`.
 *
 * Per engine and provider (`local`: the hashing provider; `latency200`: the real openai client against the
 * local OpenAI-compatible test server answering after 200 ms), in one process:
 * - seed `rows` products (not indexed);
 * - idle: save `writes` products through the TypeORM repository (live indexing), one every `interval-ms`,
 *   and time each save → its vector written (the outcome reported inside the completion transaction);
 * - during a backfill: start `indexAllEntities('product')` and save the same number of products while it
 *   runs, timed the same way; then wait for the job and report its entities/s;
 * - both with today's defaults (`worker.liveConcurrency` 1: a loop reserved for live items, the backfill
 *   loops leave them alone) and with the reservation off (`liveConcurrency` 0, the behaviour before
 *   issue 11: every loop takes live items first, in 1000-item batches), so the gain and the backfill's
 *   throughput cost are ratios measured in one run.
 * Figures, not assertions: see docs/performance.md.
 */
import 'reflect-metadata';
import { AiCoreModule, createAiDataSource, type AiCoreModuleOptions } from '@ai-infrastructure/core';
import { IndexingHooks } from '@ai-infrastructure/core/internal';
import { DataMigrationService, MigrationModule, MigrationStatus } from '@ai-infrastructure/migration-core';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { ProductRepository } from '../apps/sample/src/products/product.repository';
import { ProductsModule } from '../apps/sample/src/products/products.module';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeOpenAiServer } from '../test/support/fake-openai-server';
import { arg, benchDatabase, CONFIG_PATH, engineList, insertBenchProducts, positiveInt, type Engine } from './bench-support';

type ProviderKind = 'local' | 'latency200';

@Module({})
class LiveBenchModule {
  static with(env: NodeJS.ProcessEnv, core: AiCoreModuleOptions): DynamicModule {
    return {
      module: LiveBenchModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions({}), poolSize: 10 }),
          dataSourceFactory: (options) => createAiDataSource(options!, env),
        }),
        AiCoreModule.forRoot(core),
        MigrationModule.forRoot({ defaultRateLimit: 1_000_000 }),
        ProductsModule,
      ],
    };
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Saves `count` products one every `intervalMs` and resolves with each one's save → vector latency in ms. */
async function liveWrites(app: { repo: ProductRepository; indexedAt: Map<string, number> }, count: number, intervalMs: number, tag: string): Promise<number[]> {
  const saved = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const product = await app.repo.save(
      app.repo.create({ name: `Live ${tag} ${i}`, description: `A product created while measuring (${tag} ${i}).`, category: 'Live', price: 10 + i }),
    );
    saved.set(product.id, started);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (performance.now() - started))));
  }
  const deadline = Date.now() + 120_000;
  while ([...saved.keys()].some((id) => !app.indexedAt.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return [...saved].map(([id, at]) => (app.indexedAt.get(id) ?? Infinity) - at);
}

/**
 * Times a trivial statement (`SELECT 1` through the app's pool) every 50 ms until `stop` resolves: the floor
 * that any database step of a live item pays on this machine, idle or during the backfill.
 */
async function probeRoundTrips(dataSource: DataSource, stop: Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  let done = false;
  void stop.finally(() => (done = true));
  while (!done) {
    const started = performance.now();
    await dataSource.query('SELECT 1');
    times.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return times;
}

interface ModeResult {
  idle: number[];
  during: number[];
  entitiesPerSecond: number;
  /** The process's event-loop delay (p99, max, ms) while the live writes ran during the backfill. */
  loopDelay: number[];
  /** `SELECT 1` round trips (ms) idle and during the backfill. */
  probeIdle: number[];
  probeDuring: number[];
}

async function runMode(env: NodeJS.ProcessEnv, core: AiCoreModuleOptions, rows: number, writes: number, intervalMs: number, tag: string): Promise<ModeResult> {
  const app = await NestFactory.createApplicationContext(LiveBenchModule.with(env, core), { logger: ['error'] });
  try {
    const dataSource = app.get(DataSource);
    await dataSource.query(`TRUNCATE ai_searchable_entities, ai_indexing_queue`);
    await dataSource.query(`DELETE FROM products WHERE category = 'Live'`);
    const indexedAt = new Map<string, number>();
    app.get(IndexingHooks).onOutcomes(async (_m, outcomes) => {
      const now = performance.now();
      for (const o of outcomes) if (o.owner === null && o.result === 'indexed') indexedAt.set(o.entityId, now);
    });
    const ctx = { repo: app.get(ProductRepository), indexedAt };
    // Unmeasured: the first writes of a fresh process pay for plans, JIT and (PGlite) WebAssembly tiers.
    await liveWrites(ctx, 5, 100, `${tag} warm-up`);
    const idleWrites = liveWrites(ctx, writes, intervalMs, `${tag} idle`);
    const probeIdle = await probeRoundTrips(dataSource, idleWrites);
    const idle = await idleWrites;
    const migrations = app.get(DataMigrationService);
    const started = performance.now();
    const job = await migrations.indexAllEntities('product');
    // Let the backfill reach its steady state before the first live write.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // A live item's steps run on this process's one thread: time the backfill holds it is latency too.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const duringWrites = liveWrites(ctx, writes, intervalMs, `${tag} during`);
    const probeDuring = await probeRoundTrips(dataSource, duringWrites);
    const during = await duringWrites;
    loop.disable();
    let progress = await migrations.getProgress(job.id);
    const stillRunning = progress.status === MigrationStatus.RUNNING;
    while (progress.status === MigrationStatus.RUNNING) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      progress = await migrations.getProgress(job.id);
    }
    if (progress.status !== MigrationStatus.COMPLETED) throw new Error(`The backfill ended ${progress.status}.`);
    if (!stillRunning) console.log(`  (${tag}: the backfill ended before the last live write; use more --rows for a longer overlap)`);
    const seconds = (performance.now() - started) / 1000;
    return { idle, during, entitiesPerSecond: rows / seconds, loopDelay: [loop.percentile(99) / 1e6, loop.max / 1e6], probeIdle, probeDuring };
  } finally {
    await app.close();
  }
}

function line(label: string, values: number[]): string {
  const f = (v: number) => (Number.isFinite(v) ? `${Math.round(v)}` : 'never');
  return `${label.padEnd(26)} p50 ${f(percentile(values, 50)).padStart(6)} ms   p95 ${f(percentile(values, 95)).padStart(6)} ms   max ${f(Math.max(...values)).padStart(6)} ms`;
}

async function main(): Promise<void> {
  const rows = positiveInt('rows', 100_000);
  const writes = positiveInt('writes', 40);
  const intervalMs = positiveInt('interval-ms', 500);
  const rounds = positiveInt('rounds', 2);
  const providers = arg('providers', 'local,latency200').split(',') as ProviderKind[];
  for (const p of providers) if (p !== 'local' && p !== 'latency200') throw new Error(`--providers accepts local and latency200, got "${p}".`);
  const modes = arg('modes', 'default,before').split(',');
  // Unset: the library's default. Set: an experiment with the completion transactions' size.
  const commitChunkSize = arg('commit-chunk', '') ? positiveInt('commit-chunk', 200) : undefined;
  // Unset: the library's default (2 backfill loops). Set: an experiment leaving cores free for live work.
  const concurrency = arg('concurrency', '') ? positiveInt('concurrency', 2) : undefined;
  for (const m of modes) if (m !== 'default' && m !== 'before') throw new Error(`--modes accepts default and before, got "${m}".`);
  const engines: Engine[] = engineList();
  console.log(
    `bench:live — ${rows} products, ${writes} live writes every ${intervalMs} ms idle and during the backfill, ${rounds} round(s) per mode ` +
      `(alternating order; latencies pooled, entities/s averaged); ${concurrency ?? 2} backfill loop(s), batch 1000, ` +
      `commit chunk ${commitChunkSize ?? 200}${concurrency || commitChunkSize ? ' (not the defaults)' : ' (defaults)'}`,
  );
  for (const engine of engines) {
    for (const provider of providers) {
      const database = await benchDatabase(engine);
      let server: FakeOpenAiServer | undefined;
      try {
        if (provider === 'latency200') server = await startFakeOpenAiServer({ delayMs: 200, dimensions: 384 });
        const embedding: AiCoreModuleOptions['embedding'] = server
          ? { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: 384 }
          : { provider: 'hashing' };
        const core = (liveConcurrency: number): AiCoreModuleOptions => ({ entityConfigPath: CONFIG_PATH, embedding, worker: { liveConcurrency, ...(commitChunkSize ? { commitChunkSize } : {}), ...(concurrency ? { concurrency } : {}) } });
        // Seeding in a first app (migrations run there), then one app per mode on the same database.
        const seeder = await NestFactory.createApplicationContext(LiveBenchModule.with(database.env, { ...core(1), worker: { enabled: false } }), { logger: ['error'] });
        try {
          await insertBenchProducts(seeder.get(DataSource), rows);
          await seeder.get(DataSource).query('ANALYZE');
        } finally {
          await seeder.close();
        }
        // Rounds alternate the order of the two modes, so neither always runs on a colder or warmer machine.
        const reserved: ModeResult = { idle: [], during: [], entitiesPerSecond: 0, loopDelay: [0, 0], probeIdle: [], probeDuring: [] };
        const shared: ModeResult = { idle: [], during: [], entitiesPerSecond: 0, loopDelay: [0, 0], probeIdle: [], probeDuring: [] };
        for (let round = 0; round < rounds; round++) {
          const order = round % 2 === 0 ? ([[reserved, 1], [shared, 0]] as const) : ([[shared, 0], [reserved, 1]] as const);
          for (const [into, liveConcurrency] of order) {
            if (!modes.includes(liveConcurrency === 1 ? 'default' : 'before')) continue;
            const r = await runMode(database.env, core(liveConcurrency), rows, writes, intervalMs, `live${liveConcurrency} r${round}`);
            into.idle.push(...r.idle);
            into.during.push(...r.during);
            into.probeIdle.push(...r.probeIdle);
            into.probeDuring.push(...r.probeDuring);
            into.entitiesPerSecond += r.entitiesPerSecond / rounds;
            into.loopDelay = [Math.max(into.loopDelay[0], r.loopDelay[0]), Math.max(into.loopDelay[1], r.loopDelay[1])];
          }
        }
        console.log(`\n${engine}, provider ${provider === 'local' ? 'local (hashing)' : 'openai client → test server, 200 ms per request'}`);
        for (const [name, r] of [['default (liveConcurrency 1)', reserved], ['before (liveConcurrency 0)', shared]] as const) {
          if (r.idle.length === 0) continue;
          console.log(`  ${name}`);
          console.log(`    ${line('idle', r.idle)}`);
          console.log(`    ${line('during the backfill', r.during)}`);
          console.log(`    p95 during / idle: ${(percentile(r.during, 95) / percentile(r.idle, 95)).toFixed(2)} (goal ≤ 2)   backfill ${Math.round(r.entitiesPerSecond)} entities/s`);
          console.log(`    ${line('SELECT 1 idle', r.probeIdle)}`);
          console.log(`    ${line('SELECT 1 during', r.probeDuring)}`);
          console.log(`    event-loop delay during the backfill: p99 ${Math.round(r.loopDelay[0])} ms, max ${Math.round(r.loopDelay[1])} ms`);
        }
        console.log(`  backfill entities/s, default / before: ${(reserved.entitiesPerSecond / shared.entitiesPerSecond).toFixed(2)}`);
      } finally {
        await server?.close();
        await database.cleanup();
      }
    }
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
