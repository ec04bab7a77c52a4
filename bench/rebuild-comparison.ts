/**
 * `npm run bench:migration -- --rebuild [--rows 100000[,1000000]] [--maintenance-work-mem 512MB]
 * [--parallel-workers 2] [--search-qps 10] [--idle-seconds 15] [--order rebuild-first|in-place-first]`
 * (PostgreSQL only): re-embedding every entity of a catalogue in place, with the HNSW index maintained row
 * by row (the path before index generations), against rebuilding it into a new generation whose index is
 * built once after the load — in one run, on the same data, in the same process.
 *
 * Per size, in a fresh database:
 * 1. seed: N products; generation A (hashing, 384-d, the sample's fields, name × 2) gets its vectors in
 *    bulk and then its HNSW index, built by the core's maintenance like any generation after its load; a
 *    reindex job of 1,000 rows warms the pipeline (JIT, plans); VACUUM ANALYZE;
 * 2. a search probe starts in its own process (an API-only instance, `AiSearchService.search`, a fixed set
 *    of queries at a steady pace) and measures the serving generation A while nothing else runs;
 * 3. (b) rebuild: an instance configured with name × 3 (same provider and dimensions, so the embedding
 *    work per row is the same as (a)'s, the text a few words longer) records generation B as BUILDING; its
 *    backfill job is started and timed until the job is COMPLETED (the load: B's rows have no HNSW index)
 *    and then until B is READY (its index built with CREATE INDEX CONCURRENTLY under
 *    `generations.indexBuild`). B is then discarded (rows and index deleted) and the table vacuumed, so
 *    (a) starts from the same state (A's rows and index only);
 * 4. (a) in place: an instance with A's configuration runs a migration job with `reindexExisting: true` on
 *    A, timed until COMPLETED: every row is rewritten and inserted again into A's HNSW graph.
 *
 * Order (default: rebuild first): the in-place run leaves a dead tuple for every row of A, in the heap and
 * in A's HNSW index; run first, their cleanup (an autovacuum during the rebuild, or a VACUUM that must
 * repair the HNSW graph) would weigh on the rebuild or take long between the runs. The rebuild leaves
 * nothing that B's discard and a VACUUM do not remove, and the free space it leaves in the heap lets the
 * in-place run write without extending the table: what bias remains favours the in-place run, the
 * baseline. Both runs follow the same warm-up and a CHECKPOINT. `--order in-place-first` swaps them (then
 * a VACUUM of A's bloated index runs between them, untimed, which can take long).
 */
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AiCoreModule, createAiDataSource, IndexGenerationService, IndexGenerationState, type IndexGeneration } from '@ai-infrastructure/core';
import { AI_DATA_SOURCE, generationIndexName, IndexGenerationMaintenance, PgVectorStore } from '@ai-infrastructure/core/internal';
import { DataMigrationService, MigrationModule, MigrationStatus } from '@ai-infrastructure/migration-core';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Client, type Pool, type PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { ProductsModule } from '../apps/sample/src/products/products.module';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { arg, benchDatabase, CONFIG_PATH, engineList, insertBenchProducts, positiveInt } from './bench-support';
import { writeGenerationVectors } from './generation-vectors';
import { SearchProbe } from './search-probe';

/** Rows per producer page (the jobs' batchSize) and items per worker batch, as in the backfill benchmark. */
const PAGE_ROWS = 1000;
/** Rows the untimed warm-up job re-embeds. */
const WARM_UP_ROWS = 1000;
/** How often the timed runs look at their job and generation. */
const POLL_MS = 50;
/** pgvector's notice when an HNSW build outgrows maintenance_work_mem and goes on much more slowly. */
const SPILL_NOTICE = /hnsw graph no longer fits into maintenance_work_mem/i;

type IndexBuild = { maintenanceWorkMem?: string; parallelWorkers?: number };

@Module({})
class RebuildBenchModule {
  static with(env: NodeJS.ProcessEnv, entityConfigPath: string, indexBuild: IndexBuild): DynamicModule {
    return {
      module: RebuildBenchModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions({}), poolSize: 8 }),
          dataSourceFactory: (options) => createAiDataSource(options!, env),
        }),
        // The periodic maintenance round is pushed out of the runs: B's index build starts from the kick the
        // runner gives when the backfill completes, as it does in an application between two sweeps.
        AiCoreModule.forRoot({
          entityConfigPath,
          embedding: { provider: 'hashing' },
          liveIndexing: false,
          worker: { pollIntervalMs: 20, batchSize: PAGE_ROWS },
          generations: { indexBuild, sweepIntervalMs: 3_600_000, retentionMs: 0 },
        }),
        // autoBuild off: the benchmark starts B's backfill itself, on its clock.
        MigrationModule.forRoot({ pollIntervalMs: 20, defaultBatchSize: PAGE_ROWS, defaultRateLimit: 1_000_000, generations: { autoBuild: false } }),
        ProductsModule,
      ],
    };
  }
}

/** What `--maintenance-work-mem` and `--parallel-workers` ask for, validated with the flag's name. */
function indexBuildFlags(): IndexBuild {
  const memory = arg('maintenance-work-mem', '');
  if (memory && !/^\d+\s*(kB|MB|GB|TB)?$/.test(memory)) {
    throw new Error(`--maintenance-work-mem takes a PostgreSQL memory size such as 512MB or 2GB, got "${memory}".`);
  }
  const workers = arg('parallel-workers', '');
  if (workers && !(/^\d+$/.test(workers) && Number(workers) <= 64)) {
    throw new Error(`--parallel-workers takes an integer from 0 to 64 (0 builds in one process), got "${workers}".`);
  }
  return { ...(memory ? { maintenanceWorkMem: memory } : {}), ...(workers ? { parallelWorkers: Number(workers) } : {}) };
}

/** The server's settings that matter to the runs. */
async function serverSettings(monitor: Client) {
  const { rows } = await monitor.query(
    `SELECT current_setting('server_version') AS version,
            (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector,
            current_setting('shared_buffers') AS shared_buffers,
            current_setting('maintenance_work_mem') AS maintenance_work_mem,
            current_setting('max_parallel_maintenance_workers') AS max_parallel_maintenance_workers,
            current_setting('max_parallel_workers') AS max_parallel_workers,
            current_setting('max_worker_processes') AS max_worker_processes`,
  );
  return rows[0] as Record<'version' | 'pgvector' | 'shared_buffers' | 'maintenance_work_mem' | 'max_parallel_maintenance_workers' | 'max_parallel_workers' | 'max_worker_processes', string>;
}

/** Creates (after dropping a leftover of an interrupted run) the database of one size. Needs CREATEDB. */
async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** The sample configuration with the name's weight changed from 2 to 3 (generation B's text definition). */
function writeConfigB(dir: string): string {
  const original = readFileSync(CONFIG_PATH, 'utf8');
  const changed = original.replace(/(- name: name\n\s+weight:) 2\b/, '$1 3');
  if (changed === original) throw new Error(`${CONFIG_PATH} no longer gives "name" the weight 2; update writeConfigB in bench/rebuild-comparison.ts.`);
  const path = join(dir, 'ai-entity-config.rebuild.yml');
  writeFileSync(path, changed);
  return path;
}

/**
 * pgvector's spill notice, from every connection of the application's pool (the index build runs on one
 * of them): the build went on with a graph larger than maintenance_work_mem, much more slowly.
 */
function watchSpillNotices(dataSource: DataSource): string[] {
  const notices: string[] = [];
  const pool = (dataSource.driver as unknown as { master?: Pool & { _clients?: PoolClient[] } }).master;
  const listen = (client: PoolClient) =>
    client.on('notice', (notice: { message?: string }) => {
      if (notice.message && SPILL_NOTICE.test(notice.message)) notices.push(notice.message);
    });
  for (const client of pool?._clients ?? []) listen(client);
  pool?.on('connect', listen);
  return notices;
}

/** Largest number of parallel workers seen helping a CREATE INDEX on the vector table (sampled). */
async function sampleBuildWorkers(monitor: Client): Promise<number | null> {
  const { rows } = await monitor.query(
    `SELECT (SELECT count(*) FROM pg_stat_activity w WHERE w.leader_pid = p.pid)::int AS workers
       FROM pg_stat_progress_create_index p
      WHERE p.datname = current_database() AND p.relid = 'ai_searchable_entities'::regclass`,
  );
  return rows.length ? Math.max(...rows.map((r: { workers: number }) => r.workers)) : null;
}

/** Peak RSS of this process while `work` runs. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  try {
    return { result: await work(), peakRss };
  } finally {
    clearInterval(sampler);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Boots an indexing instance and waits for its startup maintenance round (nothing may build under a run). */
async function boot(env: NodeJS.ProcessEnv, entityConfigPath: string, indexBuild: IndexBuild): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(RebuildBenchModule.with(env, entityConfigPath, indexBuild), { logger: ['error', 'warn'] });
  await app.get(IndexGenerationMaintenance).settled();
  return app;
}

/** Polls a job until it leaves RUNNING; throws unless it COMPLETED with `rows` processed. */
async function waitForJob(migrations: DataMigrationService, jobId: string, rows: number, onTick?: () => Promise<void>): Promise<void> {
  for (;;) {
    const p = await migrations.getProgress(jobId);
    if (p.status !== MigrationStatus.RUNNING) {
      if (p.status !== MigrationStatus.COMPLETED || p.progress.processed !== rows) {
        throw new Error(`Job ${jobId} ended ${p.status} with ${p.progress.processed}/${rows} processed${p.errorMessage ? `: ${p.errorMessage}` : ''}.`);
      }
      return;
    }
    await onTick?.();
    await sleep(POLL_MS);
  }
}

async function checkpoint(monitor: Client): Promise<boolean> {
  try {
    await monitor.query('CHECKPOINT');
    return true;
  } catch {
    return false; // a role without pg_checkpoint: the runs go on, and the report says so
  }
}

interface Seeded {
  generation: IndexGeneration;
  writeSeconds: number;
  indexSeconds: number;
  indexWorkers: number | null;
  spill: string[];
}

/** Step 1: products, generation A's vectors in bulk, its index after the load, the warm-up job. */
async function seed(env: NodeJS.ProcessEnv, monitor: Client, rows: number, indexBuild: IndexBuild): Promise<Seeded> {
  const app = await boot(env, CONFIG_PATH, indexBuild);
  try {
    const dataSource = app.get<DataSource>(AI_DATA_SOURCE);
    const generations = app.get(IndexGenerationService);
    const a = await generations.serving('product');
    await insertBenchProducts(dataSource, rows);
    // The startup round built A's index on the empty table; the vectors go in without it and the index is
    // built after them, by the same maintenance that builds B's.
    await app.get(PgVectorStore).dropIndex(generationIndexName(a.id), false);
    await dataSource.query(`UPDATE ai_index_generations SET index_name = NULL WHERE id = $1`, [a.id]);
    const writeSeconds = await writeGenerationVectors(dataSource, a.id, rows, PAGE_ROWS);
    await monitor.query('VACUUM ANALYZE products');
    await monitor.query('VACUUM ANALYZE ai_searchable_entities');
    const spill = watchSpillNotices(dataSource);
    let indexWorkers: number | null = null;
    const started = performance.now();
    const build = generations.runMaintenance();
    let done = false;
    void build.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      const seen = await sampleBuildWorkers(monitor);
      if (seen !== null) indexWorkers = Math.max(indexWorkers ?? 0, seen);
      await sleep(POLL_MS);
    }
    await build;
    const indexSeconds = (performance.now() - started) / 1000;
    const generation = await generations.get(a.id);
    if (!generation.indexName) throw new Error(`Generation ${a.id} has no index after the maintenance round.`);

    // Untimed warm-up of the pipeline both runs use (JIT, plans, pools), then the table as it was.
    const migrations = app.get(DataMigrationService);
    const ids: Array<{ id: string }> = await dataSource.query(`SELECT id FROM products ORDER BY id LIMIT $1`, [Math.min(rows, WARM_UP_ROWS)]);
    const warmUp = await migrations.startMigration({ entityType: 'product', reindexExisting: true, filters: { ids: ids.map((r) => r.id) } });
    await waitForJob(migrations, warmUp.id, ids.length);
    await monitor.query('VACUUM ANALYZE ai_searchable_entities');
    return { generation, writeSeconds, indexSeconds, indexWorkers, spill };
  } finally {
    await app.close();
  }
}

interface RebuildResult {
  seconds: number;
  loadSeconds: number;
  indexSeconds: number;
  indexWorkers: number | null;
  spill: string[];
  generation: IndexGeneration;
  peakRss: number;
  checkpointed: boolean;
  /** Discarding B and vacuuming afterwards (untimed, only when another run follows). */
  resetSeconds: number | null;
}

/** (b): B's backfill (no HNSW index) then its index build, until READY; then B is discarded when `reset`. */
async function runRebuild(env: NodeJS.ProcessEnv, configB: string, monitor: Client, probe: SearchProbe, rows: number, indexBuild: IndexBuild, reset: boolean): Promise<RebuildResult> {
  const app = await boot(env, configB, indexBuild);
  let generation: IndexGeneration | undefined;
  try {
    const dataSource = app.get<DataSource>(AI_DATA_SOURCE);
    const generations = app.get(IndexGenerationService);
    const maintenance = app.get(IndexGenerationMaintenance);
    const migrations = app.get(DataMigrationService);
    const b = (await generations.list('product')).find((g) => g.state === IndexGenerationState.BUILDING);
    if (!b) throw new Error('The instance configured with name × 3 recorded no BUILDING generation; has generations.onConfigChange changed its default?');
    if ((await generations.serving('product')).dimensions !== b.dimensions) throw new Error('Generation B must have the serving generation\'s dimensions.');
    const spill = watchSpillNotices(dataSource);
    const checkpointed = await checkpoint(monitor);
    const { result, peakRss } = await withPeakRss(async () => {
      probe.window('(b) load');
      const started = performance.now();
      const job = await migrations.startMigration({ entityType: 'product', generationId: b.id });
      await waitForJob(migrations, job.id, rows);
      const loaded = performance.now();
      probe.window('(b) index build');
      let indexWorkers: number | null = null;
      for (;;) {
        const current = await generations.get(b.id);
        if (current.state === IndexGenerationState.READY) break;
        if (current.state !== IndexGenerationState.BUILDING) throw new Error(`Generation ${b.id} became ${current.state}${current.failureReason ? `: ${current.failureReason}` : ''}.`);
        // A round already running when the job completed would not have seen it loaded: start another.
        maintenance.kick();
        const seen = await sampleBuildWorkers(monitor);
        if (seen !== null) indexWorkers = Math.max(indexWorkers ?? 0, seen);
        await sleep(POLL_MS);
      }
      const ready = performance.now();
      probe.window('between runs');
      return { seconds: (ready - started) / 1000, loadSeconds: (loaded - started) / 1000, indexSeconds: (ready - loaded) / 1000, indexWorkers };
    });
    generation = await generations.get(b.id);
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM ai_searchable_entities WHERE generation_id = $1`, [b.id]);
    if (n !== rows || !generation.indexName) throw new Error(`Generation ${b.id} is READY with ${n}/${rows} vectors and index ${generation.indexName}.`);
    let resetSeconds: number | null = null;
    if (reset) {
      const started = performance.now();
      await generations.retire(b.id);
      await monitor.query('VACUUM ANALYZE ai_searchable_entities');
      resetSeconds = (performance.now() - started) / 1000;
    }
    return { ...result, spill, generation, peakRss, checkpointed, resetSeconds };
  } finally {
    await app.close();
  }
}

interface InPlaceResult {
  seconds: number;
  peakRss: number;
  checkpointed: boolean;
  resetSeconds: number | null;
}

/** (a): a reindexExisting job on the serving generation A, until COMPLETED; then VACUUM when `reset`. */
async function runInPlace(env: NodeJS.ProcessEnv, monitor: Client, probe: SearchProbe, rows: number, a: IndexGeneration, indexBuild: IndexBuild, reset: boolean): Promise<InPlaceResult> {
  const app = await boot(env, CONFIG_PATH, indexBuild);
  try {
    const migrations = app.get(DataMigrationService);
    const serving = await app.get(IndexGenerationService).serving('product');
    if (serving.id !== a.id) throw new Error(`Generation ${serving.id} serves, not A (${a.id}).`);
    const checkpointed = await checkpoint(monitor);
    const { result: seconds, peakRss } = await withPeakRss(async () => {
      probe.window('(a) in place');
      const started = performance.now();
      const job = await migrations.startMigration({ entityType: 'product', reindexExisting: true });
      if (job.generationId !== a.id) throw new Error(`The in-place job targets generation ${job.generationId}, not A (${a.id}).`);
      await waitForJob(migrations, job.id, rows);
      const seconds = (performance.now() - started) / 1000;
      probe.window('between runs');
      return seconds;
    });
    let resetSeconds: number | null = null;
    if (reset) {
      const started = performance.now();
      await monitor.query('VACUUM ANALYZE ai_searchable_entities');
      resetSeconds = (performance.now() - started) / 1000;
    }
    return { seconds, peakRss, checkpointed, resetSeconds };
  } finally {
    await app.close();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** One size: a fresh database, the seed, the probe, both runs in the chosen order, the report. */
async function rebuildRun(adminUrl: string, rows: number, options: { indexBuild: IndexBuild; qps: number; idleSeconds: number; order: 'rebuild-first' | 'in-place-first' }) {
  const name = `bench_rebuild_${rows}`;
  const url = await createDatabase(adminUrl, name);
  const env = { DATABASE_URL: url };
  const dir = mkdtempSync(join(tmpdir(), 'ai-bench-rebuild-'));
  const monitor = new Client({ connectionString: url });
  let probe: SearchProbe | undefined;
  try {
    await monitor.connect();
    const configB = writeConfigB(dir);
    const seeded = await seed(env, monitor, rows, options.indexBuild);
    const server = await serverSettings(monitor);
    probe = await SearchProbe.start(env, { rows, qps: options.qps, entityConfigPath: CONFIG_PATH, initial: 'warm-up' });
    // The probe's first seconds run on caches the seed left; the idle window starts once it settled.
    await sleep(2_000);
    probe.window('idle');
    await sleep(options.idleSeconds * 1000);
    let rebuild: RebuildResult;
    let inPlace: InPlaceResult;
    if (options.order === 'rebuild-first') {
      rebuild = await runRebuild(env, configB, monitor, probe, rows, options.indexBuild, true);
      inPlace = await runInPlace(env, monitor, probe, rows, seeded.generation, options.indexBuild, false);
    } else {
      inPlace = await runInPlace(env, monitor, probe, rows, seeded.generation, options.indexBuild, true);
      rebuild = await runRebuild(env, configB, monitor, probe, rows, options.indexBuild, false);
    }
    const report = await probe.stop();
    probe = undefined;
    return { rows, server, seeded, rebuild, inPlace, report };
  } finally {
    if (probe) await probe.stop().catch(() => undefined);
    await monitor.end().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(adminUrl, name).catch(() => undefined);
  }
}

type RunReport = Awaited<ReturnType<typeof rebuildRun>>;

function print(r: RunReport, options: { indexBuild: IndexBuild; qps: number; order: string }) {
  const { server, seeded, rebuild, inPlace, report } = r;
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
  const rate = (seconds: number) => `${Math.round(r.rows / seconds)} entities/s`;
  const memory = options.indexBuild.maintenanceWorkMem
    ? `${options.indexBuild.maintenanceWorkMem} (--maintenance-work-mem; server ${server.maintenance_work_mem})`
    : `${server.maintenance_work_mem} (the server's)`;
  const workers =
    options.indexBuild.parallelWorkers !== undefined
      ? `${options.indexBuild.parallelWorkers} (--parallel-workers; server ${server.max_parallel_maintenance_workers})`
      : `${server.max_parallel_maintenance_workers} (the server's)`;
  const build = (seen: number | null, spill: string[]) =>
    `parallel workers seen ${seen ?? 'none (too short to sample)'}; graph ${spill.length ? `outgrew maintenance_work_mem ("${spill[0]}")` : 'fit in maintenance_work_mem'}`;
  const ratio = inPlace.seconds / rebuild.seconds;
  const lines = [
    `\n[postgres, ${r.rows} rows]`,
    `  server                 PostgreSQL ${server.version}, pgvector ${server.pgvector}; shared_buffers ${server.shared_buffers}; max_parallel_workers ${server.max_parallel_workers}, max_worker_processes ${server.max_worker_processes}`,
    `  index builds use       maintenance_work_mem ${memory}; max_parallel_maintenance_workers ${workers}`,
    `  seed                   generation A (hashing 384-d, name × 2): ${r.rows} vectors written in bulk in ${seeded.writeSeconds.toFixed(1)} s, ` +
      `then its HNSW index built after the load in ${seeded.indexSeconds.toFixed(1)} s (${build(seeded.indexWorkers, seeded.spill)})`,
    `  (b) rebuild into B     ${rebuild.seconds.toFixed(1)} s end to end → ${rate(rebuild.seconds)}: backfill job (B without an HNSW index) ${rebuild.loadSeconds.toFixed(1)} s ` +
      `(${rate(rebuild.loadSeconds)}) + index build until READY ${rebuild.indexSeconds.toFixed(1)} s (${build(rebuild.indexWorkers, rebuild.spill)})`,
    `  (a) in place on A      ${inPlace.seconds.toFixed(1)} s end to end → ${rate(inPlace.seconds)} (reindexExisting job, A's HNSW index maintained row by row)`,
    `  ratio (a)/(b)          ${ratio.toFixed(2)} (goal >= 3 at 1,000,000 rows)`,
    `  run order              ${options.order === 'rebuild-first' ? '(b) then (a)' : '(a) then (b)'}; before each: CHECKPOINT${rebuild.checkpointed && inPlace.checkpointed ? '' : ' (refused for this role: skipped)'}; between: ` +
      (options.order === 'rebuild-first'
        ? `B discarded and VACUUM ANALYZE, ${rebuild.resetSeconds!.toFixed(1)} s untimed`
        : `VACUUM ANALYZE of A's re-embedded rows, ${inPlace.resetSeconds!.toFixed(1)} s untimed`),
    `  memory (this process)  peak RSS ${mib(rebuild.peakRss)} during (b), ${mib(inPlace.peakRss)} during (a)`,
    `  search on A (AiSearchService.search in another process, ${report.queries} fixed queries at ${options.qps}/s, limit 10; ${report.exactRepeats} repeated as an exact scan):`,
    `    ${'window'.padEnd(20)} ${'queries'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)}  p95 vs idle`,
  ];
  const idleP95 = percentile(report.windows.idle?.latencies ?? [], 95);
  const row = (label: string, latencies: number[], empty: number) =>
    latencies.length === 0
      ? `    ${label.padEnd(20)} ${'0'.padStart(7)}        –        –        –  (the window was shorter than one query interval)`
      : `    ${label.padEnd(20)} ${String(latencies.length).padStart(7)} ${percentile(latencies, 50).toFixed(2).padStart(8)} ${percentile(latencies, 95).toFixed(2).padStart(8)} ` +
        `${latencies.reduce((a, b) => Math.max(a, b), 0).toFixed(2).padStart(8)}  ${(percentile(latencies, 95) / idleP95).toFixed(2)}×${empty ? `  (${empty} empty answers)` : ''}`;
  const windows = report.windows;
  const get = (name: string) => windows[name] ?? { latencies: [], empty: 0 };
  for (const name of ['idle', '(b) load', '(b) index build']) lines.push(row(name, get(name).latencies, get(name).empty));
  const whole = [get('(b) load'), get('(b) index build')];
  lines.push(row('(b) whole', whole.flatMap((w) => w.latencies), whole.reduce((n, w) => n + w.empty, 0)));
  lines.push(row('(a) in place', get('(a) in place').latencies, get('(a) in place').empty));
  console.log(lines.join('\n'));
}

/** Entry point of `--rebuild`. */
export async function rebuildBench(sizes: number[]): Promise<void> {
  if (process.argv.includes('--engines') && engineList().includes('pglite')) {
    throw new Error(
      '--rebuild compares an HNSW index built after the load with one maintained row by row; PGlite has no HNSW index (it searches exactly), ' +
        'so the comparison does not apply there. Run --rebuild on PostgreSQL: leave out --engines (or pass --engines postgres), with DATABASE_URL or a local PostgreSQL installation.',
    );
  }
  const order = arg('order', 'rebuild-first');
  if (order !== 'rebuild-first' && order !== 'in-place-first') throw new Error(`--order takes rebuild-first (default) or in-place-first, got "${order}".`);
  const options = { indexBuild: indexBuildFlags(), qps: positiveInt('search-qps', 10), idleSeconds: positiveInt('idle-seconds', 15), order: order as 'rebuild-first' | 'in-place-first' };
  console.log(
    `bench:migration --rebuild — rows ${sizes.join(', ')}, hashing provider (384-d), page ${PAGE_ROWS}, worker batch ${PAGE_ROWS}; ` +
      `(b) rebuild into a new generation (name weight 2 → 3) vs (a) re-embed in place (reindexExisting); search probe at ${options.qps}/s, idle window ${options.idleSeconds} s`,
  );
  const { env, cleanup } = await benchDatabase('postgres');
  try {
    for (const rows of sizes) print(await rebuildRun(env.DATABASE_URL!, rows, options), options);
  } finally {
    await cleanup();
  }
}
