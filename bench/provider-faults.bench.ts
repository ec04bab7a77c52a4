/**
 * Provider-fault benchmark (issue 11, part 2): `npm run bench:faults -- [--rows 20000]
 * [--engines postgres,pglite] [--timeout-ms 2000] [--window-scale 1] [--max-minutes 60] [--trace]`
 * (`--trace` prints every embedding request: when, how many inputs, the answer).
 *
 * Per engine, one backfill of `--rows` products through the real `openai` client against the fake
 * OpenAI server (test/support/fake-openai-server.ts) with the issue's fault mix:
 * - 10 % of requests answered HTTP 500, 5 % never answered (they hang until the client's timeout);
 * - a 429 window of 10 s every 60 s (`--window-scale` multiplies both, to shorten a run; 1 = the issue's);
 * - one poisoned product (a unique word in its description) whose requests are always answered 400;
 * - a fixed seed, so the draws repeat from run to run.
 * The app runs as an application would: provider `openai` (256-d), `embedding.timeoutMs` = `--timeout-ms`
 * (a hang costs about one timeout), the default worker settings (batch 1000, concurrency 2, 5 attempts)
 * and provider retry settings, live indexing off, a migration job with a high rate limit.
 *
 * Printed per engine (figures, never assertions): the job's outcome, the dead letters with their reasons,
 * requests and inputs by outcome as the server saw them, duplicates embedded, the minimum inputs an ideal
 * client must send under the same faults and the ratio sent / minimum (goal ≤ 1.05), wall time,
 * entities/s and the worker time lost to hangs. See docs/performance.md, "Provider faults (issue 11)".
 */
import 'reflect-metadata';
import { AiCoreModule, createAiDataSource, EMBEDDING_PROVIDER, EmbeddingService, type EmbeddingProvider } from '@ai-infrastructure/core';
import { IndexingHooks } from '@ai-infrastructure/core/internal';
import { DataMigrationService, MigrationModule, MigrationRunnerService, MigrationStatus, type MigrationFailure } from '@ai-infrastructure/migration-core';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ProductsModule } from '../apps/sample/src/products/products.module';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeFaultMix, type FakeFaultStats, type RecordedRequest } from '../test/support/fake-openai-server';
import { arg, benchDatabase, CONFIG_PATH, engineList, insertBenchProducts, positiveInt, type Engine } from './bench-support';

/** The word only the poisoned product's text contains; the server answers 400 to any request carrying it. */
const POISON = 'zqxpoisonwordzqx';
const DIMENSIONS = 256;
const MODEL = 'text-embedding-3-small';
const SEED = 11;
/** The issue's 429 window at `--window-scale 1`. */
const WINDOW = { everyMs: 60_000, forMs: 10_000 };

@Module({})
class FaultsBenchModule {
  static with(env: NodeJS.ProcessEnv, baseURL: string, timeoutMs: number): DynamicModule {
    return {
      module: FaultsBenchModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions({}), poolSize: 8 }),
          dataSourceFactory: (options) => createAiDataSource(options!, env),
        }),
        AiCoreModule.forRoot({
          entityConfigPath: CONFIG_PATH,
          embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL, model: MODEL, dimensions: DIMENSIONS, sendDimensions: true, timeoutMs },
          liveIndexing: false,
          // Only the idle poll is shortened (as in bench:migration); batch size, concurrency, attempts and the
          // provider retry settings are the defaults.
          worker: { pollIntervalMs: 20 },
        }),
        MigrationModule.forRoot({ pollIntervalMs: 20, defaultRateLimit: 1_000_000 }),
        ProductsModule,
      ],
    };
  }
}

/** Requests and inputs of one outcome, as the server answered them. */
interface Tally {
  requests: number;
  inputs: number;
}

interface RunResult {
  engine: Engine;
  rows: number;
  status: string;
  processed: number;
  failed: number;
  total: number;
  vectors: number;
  failures: Array<MigrationFailure & { poisoned: boolean }>;
  poisonedId: string;
  sharedTexts: number;
  stats: FakeFaultStats;
  byOutcome: Record<'ok' | 'error' | 'hang' | 'rateLimited' | 'poisoned' | 'other', Tally>;
  firstPoisonedRequest: number;
  /** Inputs of the first request answered 429 in each rate-limit window the run met. */
  windowDiscovery: number;
  windowsMet: number;
  requestSizes: { min: number; max: number };
  seconds: number;
  hangTimeouts: number;
  hangMs: number;
  timeoutUsedMs: number;
  queueLeft: Array<{ status: string; n: number }>;
  timedOut: boolean;
}

/** Times the provider's calls that ended in the client's timeout (a hung request): the worker time they cost. */
function watchHangs(provider: EmbeddingProvider) {
  const watch = { count: 0, ms: 0 };
  const embed = provider.embed.bind(provider);
  provider.embed = async (texts, signal) => {
    const started = performance.now();
    try {
      return await embed(texts, signal);
    } catch (error) {
      if ((error as { timedOut?: boolean }).timedOut === true || (signal?.aborted && (signal.reason as { timedOut?: boolean })?.timedOut)) {
        watch.count++;
        watch.ms += performance.now() - started;
      }
      throw error;
    }
  };
  return watch;
}

function tally(requests: RecordedRequest[]): Tally {
  return { requests: requests.length, inputs: requests.reduce((sum, r) => sum + (r.inputs?.length ?? 0), 0) };
}

async function runEngine(engine: Engine, rows: number, timeoutMs: number, mix: FakeFaultMix, maxMinutes: number): Promise<RunResult> {
  const { env, cleanup } = await benchDatabase(engine);
  const server = await startFakeOpenAiServer({ dimensions: DIMENSIONS });
  try {
    // Errors only: the provider's failures are expected here and would flood the output as warnings.
    const app = await NestFactory.createApplicationContext(FaultsBenchModule.with(env, server.url, timeoutMs), { logger: ['error'] });
    try {
      const dataSource = app.get(DataSource);
      const ids = await insertBenchProducts(dataSource, rows);
      const poisonedId = ids[Math.floor(rows * 0.37)];
      await dataSource.query(`UPDATE products SET description = description || $2 WHERE id = $1`, [
        poisonedId,
        ` A text the provider refuses: ${POISON}.`,
      ]);
      await dataSource.query('ANALYZE');
      // The fake server counts a text embedded twice as a duplicate; products whose texts are identical in
      // the data (the text is name, description and category) would count too, so they are counted apart.
      const [{ n: sharedTexts }] = await dataSource.query(
        `SELECT (count(*) - count(DISTINCT (name, description, category)))::int AS n FROM products`,
      );

      const provider = app.get<EmbeddingProvider>(EMBEDDING_PROVIDER);
      const embedding = app.get(EmbeddingService);
      if (embedding.provider !== provider) throw new Error('The EmbeddingService does not use the EMBEDDING_PROVIDER instance; the hang timing would miss.');
      const hangs = watchHangs(provider);

      const migrations = app.get(DataMigrationService);
      const trace = process.argv.includes('--trace');
      // With --trace: when each producer page was enqueued and each worker batch's outcomes were written.
      const events: string[] = [];
      let started = 0;
      const at = () => ((performance.now() - started) / 1000).toFixed(1);
      if (trace) {
        app.get(MigrationRunnerService).onPage((page) => events.push(`${at()}s:page ${page.enqueued}`));
        app.get(IndexingHooks).onOutcomes(async (_manager, outcomes) => void events.push(`${at()}s:written ${outcomes.length}`));
      }
      server.injectFaults(mix);
      const faultsFrom = Date.now();
      started = performance.now();
      const job = await migrations.startMigration({ entityType: 'product', rateLimit: 1_000_000 });
      const deadline = Date.now() + maxMinutes * 60_000;
      let lastReport = Date.now();
      let progress = await migrations.getProgress(job.id);
      let timedOut = false;
      while (progress.status === MigrationStatus.RUNNING) {
        if (Date.now() > deadline) {
          timedOut = true;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
        progress = await migrations.getProgress(job.id);
        if (Date.now() - lastReport >= 15_000) {
          lastReport = Date.now();
          const s = server.faultStats;
          console.log(
            `  [${engine}] ${((performance.now() - started) / 1000).toFixed(0)} s: processed ${progress.progress.processed}, failed ${progress.progress.failed}; ` +
              `${s.requests} requests / ${s.inputs} inputs sent (500: ${s.errors}, hang: ${s.hangs}, 429: ${s.rateLimited}, 400: ${s.poisoned})`,
          );
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const stats = { ...server.faultStats };
      const requests = server.embeddingRequests.filter((r) => r.time >= faultsFrom);
      const poisonedRequest = (r: RecordedRequest) => r.status === 400 && (r.inputs ?? []).some((text) => text.includes(POISON));
      const byOutcome = {
        ok: tally(requests.filter((r) => r.status === 200)),
        error: tally(requests.filter((r) => r.status === 500)),
        hang: tally(requests.filter((r) => r.status === 504)),
        rateLimited: tally(requests.filter((r) => r.status === 429)),
        poisoned: tally(requests.filter(poisonedRequest)),
        other: tally(requests.filter((r) => ![200, 500, 504, 429].includes(r.status) && !poisonedRequest(r))),
      };
      if (trace) {
        console.log(`  [${engine}] pages and writes: ${events.join(' ')}`);
        // Every embedding request: seconds since the job started, inputs, the server's answer (504 = hung).
        console.log(`  [${engine}] requests: ${requests.map((r) => `${((r.time - faultsFrom) / 1000).toFixed(1)}s:${r.inputs?.length ?? 0}→${r.status}`).join(' ')}`);
      }
      const sizes = requests.map((r) => r.inputs?.length ?? 0);
      const failures = (await migrations.getFailures(job.id)).map((f) => ({ ...f, poisoned: f.entityId === poisonedId }));
      const [{ n: vectors }] = await dataSource.query(`SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_type = 'product'`);
      const queueLeft: Array<{ status: string; n: number }> = await dataSource.query(
        `SELECT status, count(*)::int AS n FROM ai_indexing_queue GROUP BY status ORDER BY status`,
      );
      return {
        engine,
        rows,
        status: progress.status,
        processed: progress.progress.processed,
        failed: progress.progress.failed,
        total: progress.progress.total,
        vectors,
        failures,
        poisonedId,
        sharedTexts,
        stats,
        byOutcome,
        firstPoisonedRequest: requests.find(poisonedRequest)?.inputs?.length ?? 0,
        ...windowDiscovery(requests.filter((r) => r.status === 429), faultsFrom, mix.rateLimitWindow?.everyMs ?? 1),
        requestSizes: { min: Math.min(...sizes), max: Math.max(...sizes) },
        seconds,
        hangTimeouts: hangs.count,
        hangMs: hangs.ms,
        timeoutUsedMs: embedding.requestTimeoutMs,
        queueLeft,
        timedOut,
      };
    } finally {
      await app.close();
    }
  } finally {
    await server.close();
    await cleanup();
  }
}

/**
 * A client learns of a rate-limit window only by sending into it: the first request answered 429 in each
 * window the run met, and the inputs it carried.
 */
function windowDiscovery(limited: RecordedRequest[], from: number, everyMs: number) {
  const firstPerWindow = new Map<number, number>();
  for (const r of limited) {
    const window = Math.floor((r.time - from) / everyMs);
    if (!firstPerWindow.has(window)) firstPerWindow.set(window, r.inputs?.length ?? 0);
  }
  return { windowsMet: firstPerWindow.size, windowDiscovery: [...firstPerWindow.values()].reduce((a, b) => a + b, 0) };
}

/** The inputs an ideal client must send with the same request sizes under the same faults. */
function minimumInputs(r: RunResult) {
  const embeddable = r.rows - 1;
  const lostAtRandom = r.stats.errorInputs + r.stats.hangInputs;
  return { embeddable, lostAtRandom, poisonDiscovery: r.firstPoisonedRequest, total: embeddable + lostAtRandom + r.firstPoisonedRequest };
}

function report(r: RunResult, timeoutMs: number) {
  const min = minimumInputs(r);
  const s = r.stats;
  const o = r.byOutcome;
  const reEmbedded = s.duplicateInputs - r.sharedTexts;
  const lines = [
    `\n[${r.engine}, ${r.rows} rows]${r.timedOut ? `  (stopped waiting after --max-minutes; the job was still ${r.status})` : ''}`,
    `| figure | value |`,
    `|---|---|`,
    `| job status | ${r.status} |`,
    `| processed / failed (of total) | ${r.processed} / ${r.failed} (of ${r.total}) |`,
    `| vectors stored | ${r.vectors} (goal ${r.rows - 1}) |`,
    `| dead letters | ${r.failures.length} |`,
    ...r.failures.map(
      (f) => `| — ${f.entityId} (${f.poisoned ? 'the poisoned product' : 'a HEALTHY product'}, ${f.attempts} attempt(s)) | ${(f.error ?? '').replace(/\|/g, '\\|')} |`,
    ),
    `| requests / inputs sent (all) | ${s.requests} / ${s.inputs} |`,
    `| — answered 200 | ${o.ok.requests} / ${o.ok.inputs} |`,
    `| — answered 500 (random) | ${o.error.requests} / ${o.error.inputs} |`,
    `| — hung (random) | ${o.hang.requests} / ${o.hang.inputs} |`,
    `| — answered 429 (window) | ${o.rateLimited.requests} / ${o.rateLimited.inputs} |`,
    `| — answered 400 (poisoned) | ${o.poisoned.requests} / ${o.poisoned.inputs} |`,
    ...(o.other.requests > 0 ? [`| — other answers | ${o.other.requests} / ${o.other.inputs} |`] : []),
    `| request sizes | ${r.requestSizes.min}–${r.requestSizes.max} inputs |`,
    `| inputs embedded (200) | ${s.embeddedInputs} |`,
    `| duplicates embedded | ${reEmbedded} (server count ${s.duplicateInputs}, of which ${r.sharedTexts} are products whose text is identical in the data) |`,
    `| minimum inputs | ${min.total} = ${min.embeddable} embeddable + ${min.lostAtRandom} in requests failed at random (500 ${s.errorInputs} + hang ${s.hangInputs}) + ${min.poisonDiscovery} in the first 400 |`,
    `| sent / minimum | ${(s.inputs / min.total).toFixed(4)} (goal ≤ 1.05; overhead ${s.inputs - min.total} inputs) |`,
    `| sent / minimum, one request per 429 window unavoidable | ${(s.inputs / (min.total + r.windowDiscovery)).toFixed(4)} (${r.windowsMet} window(s) met, ${r.windowDiscovery} inputs in their first requests) |`,
    `| wall time | ${r.seconds.toFixed(1)} s → ${((r.rows - 1) / r.seconds).toFixed(0)} entities/s |`,
    `| worker time lost to hangs | ${(r.hangMs / 1000).toFixed(1)} s measured over ${r.hangTimeouts} timed-out request(s) (≈ ${o.hang.requests} hangs × ${(r.timeoutUsedMs / 1000).toFixed(1)} s timeout; cap --timeout-ms ${timeoutMs}) |`,
    `| queue left | ${r.queueLeft.map((q) => `${q.status} ${q.n}`).join(', ') || 'empty'} |`,
  ];
  console.log(lines.join('\n'));
}

async function main() {
  const rows = positiveInt('rows', 20_000);
  if (rows < 2) throw new Error('--rows must be at least 2 (one product is poisoned).');
  const timeoutMs = positiveInt('timeout-ms', 2_000);
  const maxMinutes = positiveInt('max-minutes', 60);
  const scale = Number(arg('window-scale', '1'));
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`--window-scale must be a positive number, got "${arg('window-scale', '1')}".`);
  const window = { everyMs: Math.round(WINDOW.everyMs * scale), forMs: Math.round(WINDOW.forMs * scale) };
  const mix: FakeFaultMix = { errorRate: 0.1, hangRate: 0.05, rateLimitWindow: window, poisoned: [POISON], seed: SEED };
  console.log(
    `bench:faults — ${rows} products, provider openai (${MODEL}, ${DIMENSIONS}-d) against the fake server; ` +
      `faults: 500 ${mix.errorRate! * 100} %, hang ${mix.hangRate! * 100} %, 429 for the last ${window.forMs / 1000} s of every ${window.everyMs / 1000} s ` +
      `(window scale ${scale}${scale === 1 ? ' = the issue\'s figures' : ''}), 400 always for 1 poisoned product, seed ${SEED}; ` +
      `request timeout cap ${timeoutMs} ms; default worker (batch 1000, concurrency 2, 5 attempts), provider retry and job page (500 rows) settings`,
  );
  console.log(
    'Minimum inputs = what an ideal client must send with the same request sizes: one successful send of every embeddable ' +
      'entity (N − 1) + the inputs of requests the server failed at random (500 or hang: lost whatever the client does) + ' +
      'the first request answered 400 for the poisoned input (its size). Everything else (requests sent into a 429 window, ' +
      'failed isolation steps) is overhead. The second ratio also counts the first request sent into each 429 window ' +
      'as unavoidable: no client knows of a window before the server answers 429.',
  );
  for (const engine of engineList()) report(await runEngine(engine, rows, timeoutMs, mix, maxMinutes), timeoutMs);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
