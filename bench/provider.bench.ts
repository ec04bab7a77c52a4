/**
 * Provider benchmark (issue 14, part 4): `npm run bench:provider -- [--rows 60000] [--rpm 300]
 * [--tpm 1000000] [--ceiling-rows 10000] [--fault-rows 10000] [--fault-batch 100] [--estimate-rows 6000]
 * [--estimate-check-rows 1000] [--shared-rows 80000] [--shared-window-s 180] [--max-minutes 30]`,
 * PostgreSQL (a throwaway cluster, or DATABASE_URL; section 5 always starts a cluster of its own).
 *
 * The sample catalogue (deterministic products, about 63 tokens each) against the fake OpenAI server
 * (test/support/fake-openai-server.ts), which counts tokens its own way (js-tiktoken; the library uses
 * gpt-tokenizer), enforces `--rpm` / `--tpm` like OpenAI (per-minute buckets that start full, 429 with
 * `retry-after` and `x-ratelimit-*` headers) and runs the Batch API on an accelerated clock. The app is
 * configured with the same limits, the real `openai` client, `pricing` for the model, and worker batches
 * of 2048 (the provider's inputs-per-request limit). Printed, measured in this run (figures, never
 * assertions; see docs/performance.md):
 *
 * 0. A backfill of `--ceiling-rows` without any limit: what the machine does, so that (1) shows whether
 *    the provider's limit or the machine binds.
 * 1. A synchronous backfill of `--rows` at the limits: requests/min and tokens/min the server accepted in
 *    the steady state as shares of the limits; 429s as a share of requests; inputs per accepted request
 *    against the most one request may carry; `estimateMigration`'s tokens against the server's count.
 *    The steady state starts where the opening burst is spent: both buckets start with a minute of the
 *    limit, and the app may use that as fast as the machine goes (see `steadyState`).
 * 2. A second backfill over the unchanged data: tokens billed (every entity is up to date).
 * 3. A re-embed of `--fault-rows` entities in requests of `--fault-batch` (so 10 % failing is a few dozen
 *    failures) with 10 % of requests answered 500 and the app restarted twice (`app.close()` and a new
 *    app, as a deploy's SIGTERM does): tokens billed against the minimum (each distinct text once).
 * 4. The re-embed of (3) in batch mode: its cost against (3)'s synchronous cost of the same products.
 * 5. Three app instances (processes of the sample app, `rateLimit.scope: 'cluster'`) sharing the key's
 *    limits on a database of their own, backfilling `--shared-rows` products (texts padded to about the
 *    catalogue's length) for `--shared-window-s`: the steady-state figures of (1) and the 429 share
 *    (test/fixtures/shared-limits.fixture.ts; `npm run bench:limits` compares the scopes).
 * 6. A model whose tokenizer is unknown (`tokenizer: 'estimate'`) at the limits of the report
 *    (60 requests/min, 150,000 tokens/min; requests of 200): the steady-state figures with the byte
 *    estimate calibrated from the usage the server reports, estimateMigration's error before the run (the
 *    byte estimate alone), and its error for `--estimate-check-rows` other products after it (calibrated).
 */
import 'reflect-metadata';
import { AiCoreModule, createAiDataSource } from '@ai-infrastructure/core';
import { DataMigrationService, MigrationModule, MigrationStatus, type MigrationRequest } from '@ai-infrastructure/migration-core';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ProductsModule } from '../apps/sample/src/products/products.module';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { FAKE_OPENAI_API_KEY, fakeTokenCount, startFakeOpenAiServer, type FakeOpenAiServer, type RecordedRequest } from '../test/support/fake-openai-server';
import { insertScenarioProducts, runLimitScenario } from '../test/fixtures/shared-limits.fixture';
import { bootIndexingApp } from '../test/fixtures/indexing-app.fixture';
import { startPostgresServer } from '../test/support/postgres-server';
import { benchDatabase, CONFIG_PATH, insertBenchProducts, positiveInt } from './bench-support';

const MODEL = 'text-embedding-3-small';
const DIMENSIONS = 256;
/** USD per 1M tokens: OpenAI's list price of the model (the Batch API bills half). */
const PRICE = 0.02;
/** OpenAI's limits per request. */
const MAX_INPUTS_PER_REQUEST = 2048;
const MAX_TOKENS_PER_REQUEST = 300_000;

interface Limits {
  rpm: number;
  tpm: number;
}

/** How the app under test is configured: the key's limits (null: none), worker batch size, tokenizer. */
interface BenchConfig {
  limits: Limits | null;
  batchSize: number;
  /** `estimate`: count as for a model whose tokenizer is unknown (the byte estimate, calibrated from usage). */
  tokenizer?: 'estimate';
}

@Module({})
class ProviderBenchModule {
  static with(env: NodeJS.ProcessEnv, baseURL: string, { limits, batchSize, tokenizer }: BenchConfig): DynamicModule {
    return {
      module: ProviderBenchModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions({}), poolSize: 8 }),
          dataSourceFactory: (options) => createAiDataSource(options!, env),
        }),
        AiCoreModule.forRoot({
          entityConfigPath: CONFIG_PATH,
          embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL, model: MODEL, dimensions: DIMENSIONS, sendDimensions: true, tokenizer },
          liveIndexing: false,
          pricing: { [MODEL]: PRICE },
          rateLimit: limits ? { requestsPerMinute: limits.rpm, tokensPerMinute: limits.tpm } : {},
          worker: { pollIntervalMs: 20, batchSize },
          providerRetry: { backoffBaseMs: 100, backoffMaxMs: 2_000 },
          batch: { pollIntervalMs: 200, gatherMs: 500 },
        }),
        MigrationModule.forRoot({ pollIntervalMs: 20, defaultBatchSize: batchSize, defaultRateLimit: 1_000_000 }),
        ProductsModule,
      ],
    };
  }
}

/** The app under test; `restart()` closes it and boots a new one on the same database, as a deploy does. */
class BenchApp {
  app!: INestApplicationContext;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly server: FakeOpenAiServer,
    private config: BenchConfig,
  ) {}

  async boot(config: BenchConfig = this.config): Promise<void> {
    this.config = config;
    this.app = await NestFactory.createApplicationContext(ProviderBenchModule.with(this.env, this.server.url, config), { logger: ['error'] });
  }

  /** Closes the app (its workers let requests in flight answer, within the shutdown grace) and boots a new one. */
  async restart(config: BenchConfig = this.config): Promise<void> {
    await this.app.close();
    await this.boot(config);
  }

  get migrations(): DataMigrationService {
    return this.app.get(DataMigrationService);
  }

  get dataSource(): DataSource {
    return this.app.get(DataSource);
  }
}

/** Runs a job to its end, calling `during(fraction done)` while it runs; returns the job's final progress. */
async function runJob(bench: BenchApp, request: MigrationRequest, maxMinutes: number, during?: (done: number) => Promise<void>) {
  const job = await bench.migrations.startMigration(request);
  const deadline = Date.now() + maxMinutes * 60_000;
  let lastReport = Date.now();
  for (;;) {
    const progress = await bench.migrations.getProgress(job.id);
    if (progress.status !== MigrationStatus.RUNNING) return progress;
    if (Date.now() > deadline) throw new Error(`Job ${job.id} did not finish within ${maxMinutes} minutes (${progress.progress.processed} processed).`);
    const done = (progress.progress.processed + progress.skipped + progress.progress.failed) / Math.max(1, progress.progress.total);
    await during?.(done);
    if (Date.now() - lastReport >= 30_000) {
      lastReport = Date.now();
      console.log(`  … ${progress.progress.processed} of ${progress.progress.total} processed, ETA ${progress.progress.estimatedTimeRemaining} (${progress.progress.estimatedTimeRemainingBasis})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Tokens the server billed for these requests: its own count of the inputs of those it answered 200. */
function billedTokens(requests: RecordedRequest[]): number {
  return requests.filter((r) => r.status === 200).reduce((sum, r) => sum + r.inputs!.reduce((s, text) => s + fakeTokenCount(text), 0), 0);
}

/** Each distinct text once, counted by the server's tokenizer. */
function minimumTokens(requests: RecordedRequest[]): number {
  const texts = new Set(requests.filter((r) => r.status === 200).flatMap((r) => r.inputs!));
  let sum = 0;
  for (const text of texts) sum += fakeTokenCount(text);
  return sum;
}

const pct = (share: number) => `${(share * 100).toFixed(1)} %`;

/** Tokens the server counts for one request's inputs. */
const tokensOf = (r: RecordedRequest) => r.inputs!.reduce((sum, text) => sum + fakeTokenCount(text), 0);

/** The server's buckets replayed over the accepted requests: each bucket's level right after each request. */
function replayBuckets(accepted: RecordedRequest[], limits: Limits): { tokens: number[]; requests: number[] } {
  const levels = { tokens: [] as number[], requests: [] as number[] };
  let tokens = limits.tpm;
  let requests = limits.rpm;
  let previous = accepted[0]?.time ?? 0;
  for (const request of accepted) {
    const elapsed = request.time - previous;
    previous = request.time;
    tokens = Math.min(limits.tpm, tokens + (elapsed * limits.tpm) / 60_000) - tokensOf(request);
    requests = Math.min(limits.rpm, requests + (elapsed * limits.rpm) / 60_000) - 1;
    levels.tokens.push(tokens);
    levels.requests.push(requests);
  }
  return levels;
}

/**
 * Steady-state figures of a run at the limits. The key's buckets start full (a minute of each limit), so
 * at first the app may send faster than the limit, as fast as the machine goes, and the buckets' level
 * falls; once the app sends at the refill rate the level stays on a plateau (above zero: the app keeps a
 * margin and a reserve for live work). Replaying the server's buckets over the accepted requests, the
 * opening burst is over at the first request after which the binding dimension (the one drained
 * furthest, relative to its limit) is within one request of its lowest level. The steady state is the
 * requests after it, over the time from it to the last accepted request (n intervals for n requests, so a
 * stream of large requests is not rounded to whole requests per window). What is left of the opening
 * bucket may still be drawn down in that window; the "net" share subtracts that drawdown, so it is the
 * share of the refill the app used.
 */
function steadyState(requests: RecordedRequest[], started: number, limits: Limits) {
  const accepted = requests.filter((r) => r.status === 200).sort((a, b) => a.time - b.time);
  const levels = replayBuckets(accepted, limits);
  const lowest = { tokens: Math.min(...levels.tokens), requests: Math.min(...levels.requests) };
  const tokensBind = lowest.tokens / limits.tpm <= lowest.requests / limits.rpm;
  const binding = tokensBind ? levels.tokens : levels.requests;
  const band = tokensBind ? Math.max(...accepted.map(tokensOf)) : 1;
  const end = binding.findIndex((level) => level <= (tokensBind ? lowest.tokens : lowest.requests) + band);
  const from = accepted[end]?.time ?? 0;
  const inWindow = accepted.slice(end + 1);
  const minutes = inWindow.length ? (inWindow[inWindow.length - 1].time - from) / 60_000 : 0;
  const tokens = inWindow.reduce((sum, r) => sum + tokensOf(r), 0);
  const requestShare = inWindow.length / minutes / limits.rpm;
  const tokenShare = tokens / minutes / limits.tpm;
  const share = Math.max(requestShare, tokenShare);
  // The level at the window's start less the level at its end: accepted from the opening bucket, not the refill.
  const drawdown = binding[end] - binding[binding.length - 1];
  const netShare = ((tokensBind ? tokens : inWindow.length) - drawdown) / minutes / (tokensBind ? limits.tpm : limits.rpm);
  const limited = requests.filter((r) => r.status === 429).length;
  return {
    minutes,
    share,
    netShare,
    lines: [
      ...(minutes <= 0.5 ? [`The steady state after the opening burst is shorter than 30 s: run with more rows for the utilisation figures.`] : []),
      `steady state (${minutes.toFixed(1)} min, ${inWindow.length} requests, after an opening burst of ${end + 1} requests in ${((from - started) / 1000).toFixed(0)} s): ` +
        `${(inWindow.length / minutes).toFixed(1)} requests/min = ${pct(requestShare)} of ${limits.rpm}; ${(tokens / minutes).toFixed(0)} tokens/min = ${pct(tokenShare)} of ${limits.tpm}`,
      `binding limit: ${tokensBind ? 'tokens per minute' : 'requests per minute'}, used to ${pct(share)}; net of the ${drawdown.toFixed(0)} ${tokensBind ? 'tokens' : 'requests'} ` +
        `still drawn from the opening bucket, ${pct(netShare)} of the refill (goal ≥ 95 %)`,
      `429 answers: ${limited} of ${requests.length} requests = ${pct(limited / Math.max(1, requests.length))} (goal ≤ 1 %)`,
    ],
  };
}

async function main(): Promise<void> {
  const rows = positiveInt('rows', 60_000);
  const faultRows = positiveInt('fault-rows', 10_000);
  const limits = { rpm: positiveInt('rpm', 300), tpm: positiveInt('tpm', 1_000_000) };
  const faultBatch = positiveInt('fault-batch', 100);
  const sharedRows = positiveInt('shared-rows', 80_000);
  const sharedWindowS = positiveInt('shared-window-s', 180);
  const maxMinutes = positiveInt('max-minutes', 30);
  const estimateRows = positiveInt('estimate-rows', 6_000);
  const ceilingRows = positiveInt('ceiling-rows', 10_000);
  const estimateCheckRows = positiveInt('estimate-check-rows', 1_000);
  console.log(`Provider benchmark: ${rows} products, limits ${limits.rpm} requests/min and ${limits.tpm} tokens/min (server and app), PostgreSQL.`);

  const { env, cleanup } = await benchDatabase('postgres');
  const server = await startFakeOpenAiServer({ dimensions: DIMENSIONS, batchTiming: { validateMs: 100, processMs: 2_000, finalizeMs: 100 } });
  const bench = new BenchApp(env, server, { limits, batchSize: MAX_INPUTS_PER_REQUEST });
  try {
    await bench.boot();
    await insertBenchProducts(bench.dataSource, rows);
    await bench.dataSource.query('ANALYZE');

    // ---- 0. what the machine does without any limit: which limit binds in (1)
    server.reset();
    const ceilingStarted = Date.now();
    const ceilingJob = await runJob(bench, { entityType: 'product', rateLimit: 1_000_000, filters: { ids: await firstIds(bench, ceilingRows) } }, maxMinutes);
    const ceilingMinutes = (Date.now() - ceilingStarted) / 60_000;
    const ceilingTokens = billedTokens(server.embeddingRequests);
    const ceiling = { rpm: server.embeddingRequests.length / ceilingMinutes, tpm: ceilingTokens / ceilingMinutes };
    console.log(
      `\n0. Without limits (the machine: database writes, the app and the fake server on one host): ${ceilingJob.progress.processed} products in ${(ceilingMinutes * 60).toFixed(0)} s = ` +
        `${ceiling.tpm.toFixed(0)} tokens/min, ${ceiling.rpm.toFixed(1)} requests/min → the limits below ${ceiling.tpm > limits.tpm * 1.1 ? 'bind' : 'do NOT bind (the machine does): lower --tpm for a limiter figure'}.`,
    );

    // ---- 1. synchronous backfill at the limits
    // reindexExisting: the products of (0) are embedded again with the others.
    const estimate = await bench.migrations.estimateMigration({ entityType: 'product', reindexExisting: true });
    server.reset();
    server.enforce(limits);
    const started = Date.now();
    const sync = await runJob(bench, { entityType: 'product', rateLimit: 1_000_000, reindexExisting: true }, maxMinutes);
    const ended = Date.now();
    server.enforce(null);
    const requests = [...server.embeddingRequests];
    const accepted = requests.filter((r) => r.status === 200);
    const serverTokens = billedTokens(requests);
    const meanInputs = accepted.slice(0, -1).reduce((s, r) => s + r.inputs!.length, 0) / Math.max(1, accepted.length - 1);
    const tokensPerInput = serverTokens / rows;
    const maxInputs = Math.min(MAX_INPUTS_PER_REQUEST, Math.floor(MAX_TOKENS_PER_REQUEST / tokensPerInput));
    console.log(`\n1. Synchronous backfill: ${sync.status}, ${sync.progress.processed} embedded in ${((ended - started) / 1000).toFixed(0)} s.`);
    for (const line of steadyState(requests, started, limits).lines) console.log(`   ${line}`);
    console.log(`   inputs per accepted request: ${meanInputs.toFixed(0)} of at most ${maxInputs} (${MAX_INPUTS_PER_REQUEST} inputs, ${MAX_TOKENS_PER_REQUEST} tokens at ${tokensPerInput.toFixed(1)} tokens each) = ${pct(meanInputs / maxInputs)} (goal ≥ 90 %)`);
    console.log(`   estimateMigration: ${estimate.estimatedTokens} tokens; the server counted ${serverTokens} → error ${pct((estimate.estimatedTokens - serverTokens) / serverTokens)} (goal within ±5 %)`);
    console.log(`   job usage: ${sync.usage.tokensUsed} tokens, ${sync.usage.requests} requests, $${sync.usage.estimatedCost.toFixed(6)}`);

    // ---- 2. the same backfill again over unchanged data
    server.reset();
    const again = await runJob(bench, { entityType: 'product', rateLimit: 1_000_000 }, maxMinutes);
    console.log(`\n2. Second backfill over unchanged data: ${again.status}, ${again.skipped} skipped; tokens billed ${billedTokens(server.embeddingRequests)} (goal 0).`);

    // ---- 3. faults and two restarts, without rate limits
    await bench.restart({ limits: null, batchSize: faultBatch });
    server.reset();
    server.injectFaults({ errorRate: 0.1, seed: 14 });
    const restarts: number[] = [];
    const faulty = await runJob(bench, { entityType: 'product', rateLimit: 1_000_000, reindexExisting: true, filters: { ids: await firstIds(bench, faultRows) } }, maxMinutes, async (done) => {
      if ((restarts.length === 0 && done >= 0.33) || (restarts.length === 1 && done >= 0.66)) {
        restarts.push(done);
        await bench.restart();
      }
    });
    server.injectFaults(null);
    const faultRequests = [...server.embeddingRequests];
    const billed = billedTokens(faultRequests);
    const minimum = minimumTokens(faultRequests);
    const [{ vectors }] = await bench.dataSource.query(`SELECT count(DISTINCT entity_id)::int AS vectors FROM ai_searchable_entities WHERE entity_type = 'product'`);
    console.log(
      `\n3. Re-embed of ${faultRows} in requests of ${faultBatch} with 10 % of requests answered 500 and ${restarts.length} restarts ` +
        `(at ${restarts.map((d) => pct(d)).join(', ')} done): ${faulty.status}, ${faulty.progress.processed} embedded, ${faulty.skipped} skipped, ${faulty.progress.failed} failed; ${vectors} products have a vector.`,
    );
    console.log(`   requests: ${faultRequests.length} (${faultRequests.filter((r) => r.status === 500).length} answered 500); tokens billed ${billed} vs minimum ${minimum} → ${(billed / minimum).toFixed(4)}× (goal ≤ 1.01×)`);

    // ---- 4. the re-embed of (3) in batch mode
    server.reset();
    const batch = await runJob(bench, { entityType: 'product', mode: 'batch', reindexExisting: true, filters: { ids: await firstIds(bench, faultRows) } }, maxMinutes);
    const stats = server.batchStats();
    console.log(`\n4. The re-embed of (3) in batch mode: ${batch.status}, ${batch.progress.processed} embedded; ${stats.batchesCreated} batches, ${stats.linesExecuted} lines, ${stats.tokensBilled} tokens billed by the server at the batch price.`);
    console.log(
      `   cost: batch $${batch.usage.estimatedCost.toFixed(6)} vs synchronous $${faulty.usage.estimatedCost.toFixed(6)} (3, the same products) → ` +
        `${(batch.usage.estimatedCost / faulty.usage.estimatedCost).toFixed(3)}× (goal ≤ 0.5×)`,
    );

    // ---- 6. a model whose tokenizer is unknown (the byte estimate, calibrated from the usage the server reports)
    const estimateLimits = { rpm: positiveInt('estimate-rpm', 60), tpm: positiveInt('estimate-tpm', 150_000) };
    const estimateBatch = positiveInt('estimate-batch', 200);
    await bench.restart({ limits: estimateLimits, batchSize: estimateBatch, tokenizer: 'estimate' });
    // Job A (the utilisation figures) teaches the calibration; job B, other products, checks the estimate.
    const estimateIds = await firstIds(bench, estimateRows + estimateCheckRows);
    const requestFor = (ids: string[]): MigrationRequest => ({ entityType: 'product', reindexExisting: true, rateLimit: 1_000_000, filters: { ids } });
    const jobA = requestFor(estimateIds.slice(0, estimateRows));
    const jobB = requestFor(estimateIds.slice(estimateRows));
    const byteEstimate = await bench.migrations.estimateMigration(jobA);
    server.reset();
    server.enforce(estimateLimits);
    const estimateStarted = Date.now();
    const estimated = await runJob(bench, jobA, maxMinutes);
    const estimateEnded = Date.now();
    const estimateRequests = [...server.embeddingRequests];
    const countedA = billedTokens(estimateRequests);
    const calibrated = await bench.migrations.estimateMigration(jobB);
    server.reset();
    await runJob(bench, jobB, maxMinutes);
    server.enforce(null);
    const countedB = billedTokens(server.embeddingRequests);
    console.log(
      `\n6. A model without a known tokenizer (tokenizer 'estimate'), ${estimateRows} products in requests of ${estimateBatch} at ${estimateLimits.rpm} requests/min and ${estimateLimits.tpm} tokens/min: ` +
        `${estimated.status}, ${estimated.progress.processed} embedded in ${((estimateEnded - estimateStarted) / 1000).toFixed(0)} s.`,
    );
    for (const line of steadyState(estimateRequests, estimateStarted, estimateLimits).lines) console.log(`   ${line}`);
    console.log(`   estimateMigration of those before the run (${byteEstimate.tokenCountBasis}): ${byteEstimate.estimatedTokens} tokens; the server counted ${countedA} → error ${pct((byteEstimate.estimatedTokens - countedA) / countedA)}`);
    console.log(
      `   estimateMigration of ${estimateCheckRows} other products after it (${calibrated.tokenCountBasis}): ${calibrated.estimatedTokens} tokens; the server then counted ${countedB} → ` +
        `error ${pct((calibrated.estimatedTokens - countedB) / countedB)} (goal within ±5 %)`,
    );
  } finally {
    await bench.app?.close();
    await cleanup();
  }

  // ---- 5. three instances sharing the key
  try {
    await sharedKey(server, limits, sharedRows, sharedWindowS);
  } finally {
    await server.close();
  }
}

/** Section 5: three sample app processes on a cluster of their own, one key, the cluster-wide limit. */
async function sharedKey(server: FakeOpenAiServer, limits: Limits, rows: number, windowS: number): Promise<void> {
  const postgres = await startPostgresServer();
  const driver = await bootIndexingApp({
    databaseUrl: postgres.url,
    core: { embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: MODEL, dimensions: 32 }, worker: { enabled: false }, liveIndexing: false },
    logger: ['error'],
  });
  try {
    // About the catalogue's 63 tokens per product, so that the token limit binds and not the machine's rows per second.
    const suffix = ' Breathable mesh upper, cushioned midsole and a grippy rubber outsole for trail and road; reflective details, a padded collar and a removable insole; machine washable, vegan materials, two-year warranty.';
    const products = await insertScenarioProducts(driver.dataSource, rows, Math.ceil(windowS / 2), suffix);
    const result = await runLimitScenario({
      databaseUrl: postgres.url, dataSource: driver.dataSource, queue: driver.queue, server, products,
      instances: 3, scope: 'cluster', rpm: limits.rpm, tpm: limits.tpm, batchSize: MAX_INPUTS_PER_REQUEST,
      windowMs: windowS * 1000, settleMs: 15_000, liveEveryMs: 2_000,
    });
    // runLimitScenario reset the server as it started: its records are the scenario's requests.
    const requests = [...server.embeddingRequests];
    const started = Math.min(...requests.map((r) => r.time));
    console.log(`\n5. Three instances sharing the key (scope cluster), ${rows} products for ${result.windowMs / 1000} s: ${result.sent} requests, ${result.accepted} accepted.`);
    for (const line of steadyState(requests, started, limits).lines) console.log(`   ${line}`);
    const ahead = result.live.map((l) => l.backfillAhead).sort((a, b) => a - b);
    if (ahead.length) console.log(`   live items: ${ahead.length}, backfill requests accepted ahead of one: median ${ahead[Math.floor(ahead.length / 2)]}, max ${ahead[ahead.length - 1]}`);
  } finally {
    await driver.close();
    await postgres.stop();
  }
}

/** The ids of the first `n` products by id. */
async function firstIds(bench: BenchApp, n: number): Promise<string[]> {
  const rows: Array<{ id: string }> = await bench.dataSource.query(`SELECT id::text AS id FROM products ORDER BY id LIMIT $1`, [n]);
  return rows.map((r) => r.id);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
