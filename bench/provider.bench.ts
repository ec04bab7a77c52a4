/**
 * Provider benchmark (issue 14, part 4): `npm run bench:provider -- [--rows 80000] [--rpm 300]
 * [--tpm 1000000] [--fault-rows 10000] [--settle-s 60] [--max-minutes 30]`, PostgreSQL (a throwaway
 * cluster, or DATABASE_URL).
 *
 * The sample catalogue (deterministic products) against the fake OpenAI server
 * (test/support/fake-openai-server.ts), which counts tokens its own way (js-tiktoken; the library uses
 * gpt-tokenizer), enforces `--rpm` / `--tpm` like OpenAI (per-minute buckets that start full, 429 with
 * `retry-after` and `x-ratelimit-*` headers) and runs the Batch API on an accelerated clock. The app is
 * configured with the same limits, the real `openai` client, `pricing` for the model, and worker batches
 * of 2048 (the provider's inputs-per-request limit). Printed, measured in this run (figures, never
 * assertions; see docs/performance.md):
 *
 * 1. A synchronous backfill of `--rows`: requests/min and tokens/min the server accepted after the opening
 *    burst (`--settle-s`: both buckets start full, so the first minute may take up to twice the limit) as
 *    shares of the limits; 429s as a share of requests; inputs per accepted request against the most one
 *    request may carry; `estimateMigration`'s tokens against the server's count of the same texts.
 * 2. A second backfill over the unchanged data: tokens billed (every entity is up to date).
 * 3. A re-embed of `--fault-rows` entities with 10 % of requests answered 500 and the app restarted twice
 *    (closed and booted again, as a deploy does): tokens billed against the minimum (each text once).
 * 4. The same re-embed of `--rows` in batch mode: its cost against the synchronous backfill's (1).
 * 6. A model whose tokenizer is unknown (`tokenizer: 'estimate'`), at the limits of the issue's report
 *    (60 requests/min, 150,000 tokens/min; `--estimate-rows`, `--estimate-batch`): the same steady-state
 *    figures with the byte estimate calibrated from the usage the server reports, and estimateMigration's
 *    error before the run (byte estimate alone) and after it (calibrated).
 * 5. Three app instances (processes of the sample app, `rateLimit.scope: 'cluster'`) sharing the key's
 *    limits on a database of their own, backfilling `--shared-rows` small products for `--shared-window-s`:
 *    requests/min and tokens/min accepted after the burst as shares of the limits, and 429s as a share of
 *    requests (test/fixtures/shared-limits.fixture.ts; `npm run bench:limits` compares the scopes).
 *
 * Fault run (3): requests of `--fault-batch` inputs, so that 10 % of them failing is a few dozen failures,
 * not one; the restarts are `app.close()` and a new app, as a deploy's SIGTERM does.
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

/**
 * What the server accepted after the opening burst: from the first request accepted `settleMs` or more
 * after `started` to the last accepted one, counting the requests from the first up to (not including)
 * the last — n − 1 intervals over their duration, so a steady stream of large requests is not rounded to
 * whole requests per window.
 */
function steadyState(requests: RecordedRequest[], started: number, settleMs: number, limits: Limits) {
  const accepted = requests.filter((r) => r.status === 200).sort((a, b) => a.time - b.time);
  const after = accepted.filter((r) => r.time >= started + settleMs);
  const from = after[0]?.time ?? 0;
  const lastAccepted = after[after.length - 1]?.time ?? 0;
  const minutes = (lastAccepted - from) / 60_000;
  const inWindow = after.slice(0, -1);
  const tokens = billedTokens(inWindow);
  const requestShare = inWindow.length / minutes / limits.rpm;
  const tokenShare = tokens / minutes / limits.tpm;
  const limited = requests.filter((r) => r.status === 429).length;
  return {
    minutes,
    requestShare,
    tokenShare,
    lines: [
      ...(minutes <= 0.5 ? [`The steady state after the first ${settleMs / 1000} s is shorter than 30 s: run with more rows for the utilisation figures.`] : []),
      `steady state (${minutes.toFixed(1)} min after the first ${settleMs / 1000} s): ${(inWindow.length / minutes).toFixed(1)} requests/min = ${pct(requestShare)} of ${limits.rpm}; ` +
        `${(tokens / minutes).toFixed(0)} tokens/min = ${pct(tokenShare)} of ${limits.tpm}`,
      `binding limit: ${tokenShare >= requestShare ? 'tokens per minute' : 'requests per minute'}, used to ${pct(Math.max(tokenShare, requestShare))} (goal ≥ 95 %)`,
      `429 answers: ${limited} of ${requests.length} requests = ${pct(limited / Math.max(1, requests.length))} (goal ≤ 1 %)`,
    ],
  };
}

async function main(): Promise<void> {
  const rows = positiveInt('rows', 40_000);
  const faultRows = positiveInt('fault-rows', 10_000);
  const limits = { rpm: positiveInt('rpm', 300), tpm: positiveInt('tpm', 1_000_000) };
  const settleS = positiveInt('settle-s', 15);
  const faultBatch = positiveInt('fault-batch', 100);
  const sharedRows = positiveInt('shared-rows', 150_000);
  const sharedWindowS = positiveInt('shared-window-s', 75);
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
    const serverTokens = minimumTokens(requests);
    const meanInputs = accepted.slice(0, -1).reduce((s, r) => s + r.inputs!.length, 0) / Math.max(1, accepted.length - 1);
    const tokensPerInput = serverTokens / rows;
    const maxInputs = Math.min(MAX_INPUTS_PER_REQUEST, Math.floor(MAX_TOKENS_PER_REQUEST / tokensPerInput));
    console.log(`\n1. Synchronous backfill: ${sync.status}, ${sync.progress.processed} embedded in ${((ended - started) / 1000).toFixed(0)} s.`);
    for (const line of steadyState(requests, started, settleS * 1000, limits).lines) console.log(`   ${line}`);
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
    const countedA = minimumTokens(estimateRequests);
    const calibrated = await bench.migrations.estimateMigration(jobB);
    server.reset();
    await runJob(bench, jobB, maxMinutes);
    server.enforce(null);
    const countedB = minimumTokens(server.embeddingRequests);
    console.log(
      `\n6. A model without a known tokenizer (tokenizer 'estimate'), ${estimateRows} products in requests of ${estimateBatch} at ${estimateLimits.rpm} requests/min and ${estimateLimits.tpm} tokens/min: ` +
        `${estimated.status}, ${estimated.progress.processed} embedded in ${((estimateEnded - estimateStarted) / 1000).toFixed(0)} s.`,
    );
    for (const line of steadyState(estimateRequests, estimateStarted, settleS * 1000, estimateLimits).lines) console.log(`   ${line}`);
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
    const settleMs = 15_000;
    const products = await insertScenarioProducts(driver.dataSource, rows, Math.ceil(windowS / 2));
    const result = await runLimitScenario({
      databaseUrl: postgres.url, dataSource: driver.dataSource, queue: driver.queue, server, products,
      instances: 3, scope: 'cluster', rpm: limits.rpm, tpm: limits.tpm, batchSize: MAX_INPUTS_PER_REQUEST,
      windowMs: windowS * 1000, settleMs, liveEveryMs: 2_000,
    });
    const binding = Math.max(result.sustainedRequestShare, result.sustainedTokenShare);
    console.log(`\n5. Three instances sharing the key (scope cluster, ${result.windowMs / 1000} s, steady state after ${settleMs / 1000} s): ${result.sent} requests, ${result.accepted} accepted.`);
    console.log(`   steady state: ${pct(result.sustainedRequestShare)} of ${limits.rpm} requests/min, ${pct(result.sustainedTokenShare)} of ${limits.tpm} tokens/min; binding limit used to ${pct(binding)} (goal ≥ 95 %)`);
    console.log(`   429 answers: ${result.rateLimited} of ${result.sent} requests = ${pct(result.rateLimitedShare)} (goal ≤ 1 %)`);
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
