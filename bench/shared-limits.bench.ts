/**
 * Shared provider limits (docs/adr/0008-shared-provider-limits.md): `npm run bench:limits -- [--instances 1,3]
 * [--scopes instance,cluster] [--engines postgres,pglite] [--rpm 120] [--tpm 20000] [--batch 5]
 * [--window-ms 60000] [--settle-ms 5000]`.
 *
 * For every engine, scope and instance count: that many processes of the sample app (core + migration,
 * two worker loops and one live loop each, the `openai` provider against the fake OpenAI server) share one
 * database and one API key whose limits the fake server enforces like OpenAI (per-minute buckets that
 * start full, 429 with Retry-After). A backfill larger than the window can finish saturates the key, and
 * one live item is enqueued every 2 s.
 *
 * Printed per run (figures, never assertions), from the server's records: requests sent, accepted and
 * answered 429; requests sent, and requests and tokens accepted, per minute after the opening burst
 * (`--settle-ms`) as shares of the limits; accepted requests over what the key allows in the window (a
 * full bucket plus the window's refill); how many backfill requests the server accepted between a live
 * item's enqueue and its own request (median and max); and, from PostgreSQL's statistics, the rows the
 * instances wrote to `ai_provider_capacity` (one per lease, refused or not, block, drain or return) per
 * accepted request.
 *
 * `--part leases [--rpm-list 120,1200,3000]` measures the limiter alone instead: per engine and limit,
 * three limiters in this process (as three instances, each with two loops that send as soon as they are
 * released and take 50 ms per request) lease for 20 s from one shared bucket emptied down to the live
 * reserve beforehand (the saturated case); printed are the requests released per minute as a share of the limit and the
 * statements the limiters sent to the bucket (leases granted or refused, returns) per released request,
 * from their own counters.
 */
import 'reflect-metadata';
import { AI_CORE_ENTITIES, AI_CORE_MIGRATIONS, createAiDataSource, type RateLimitScope } from '@ai-infrastructure/core';
import { EmbeddedPostgres } from '@ai-infrastructure/core/database/embedded-postgres';
import { INTERACTIVE_RESERVE, ProviderCapacityLeases, SHARED_BURST_MS } from '@ai-infrastructure/core/embedding/provider-capacity.leases';
import { ProviderCapacityStore } from '@ai-infrastructure/core/embedding/provider-capacity.store';
import { ProviderRateLimiter } from '@ai-infrastructure/core/internal';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { bootIndexingApp } from '../test/fixtures/indexing-app.fixture';
import { insertScenarioProducts, runLimitScenario, scenarioEmbedding, type LimitScenarioResult } from '../test/fixtures/shared-limits.fixture';
import { startFakeOpenAiServer } from '../test/support/fake-openai-server';
import { startPostgresServer } from '../test/support/postgres-server';
import { arg, engineList, positiveInt, type Engine } from './bench-support';

const LIVE_EVERY_MS = 2_000;

async function database(engine: Engine): Promise<{ url: string; close: () => Promise<void> }> {
  if (engine === 'postgres') {
    if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, close: async () => undefined };
    const server = await startPostgresServer();
    return { url: server.url, close: () => server.stop() };
  }
  // The embedded database runs in this process; the instances connect to it over its socket, as in the tests.
  const dir = mkdtempSync(join(tmpdir(), 'ai-bench-limits-'));
  const embedded = await EmbeddedPostgres.start({ dataDir: dir, maxConnections: 40 });
  return { url: embedded.url, close: () => embedded.close().finally(() => rmSync(dir, { recursive: true, force: true })) };
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

/** Rows written to ai_provider_capacity so far, by PostgreSQL's statistics (flushed by each backend within a second). */
async function capacityWrites(dataSource: DataSource): Promise<number> {
  const [row] = await dataSource.query(
    `SELECT coalesce(n_tup_upd + n_tup_ins, 0)::int AS n FROM pg_stat_user_tables WHERE relname = 'ai_provider_capacity'`,
  );
  return Number(row?.n ?? 0);
}

function row(engine: Engine, result: LimitScenarioResult, writes: number): string {
  const ahead = result.live.map((l) => l.backfillAhead).sort((a, b) => a - b);
  const median = ahead.length ? ahead[Math.floor(ahead.length / 2)] : NaN;
  const unsent = result.live.filter((l) => l.status === undefined).length;
  return (
    `| ${engine} | ${result.scope} | ${result.instances} | ${result.sent} | ${result.accepted} | ${result.rateLimited} (${percent(result.rateLimitedShare)}) ` +
    `| ${percent(result.sustainedSentShare)} | ${percent(result.sustainedRequestShare)} | ${percent(result.sustainedTokenShare)} | ${percent(result.windowRequestShare)} ` +
    `| ${median} / ${ahead.length ? ahead[ahead.length - 1] : NaN}${unsent ? ` (${unsent} not sent)` : ''} ` +
    `| ${result.accepted ? (writes / result.accepted).toFixed(2) : '—'} |`
  );
}

/** Tokens per request in the lease measurement; the token limit is set so that requests bind. */
const LEASE_TOKENS = 150;

/** The limiter alone: three instances of two loops each on one shared bucket (see the file's comment). */
async function leaseStatements(engine: Engine, rpmList: number[]): Promise<string[]> {
  const db = await database(engine);
  const dataSource = await createAiDataSource(
    { entities: AI_CORE_ENTITIES, migrations: AI_CORE_MIGRATIONS, migrationsRun: true, logging: false, poolSize: 6 },
    { DATABASE_URL: db.url },
  );
  await dataSource.initialize();
  const lines: string[] = [];
  try {
    for (const rpm of rpmList) {
      const limits = { requestsPerMinute: rpm, tokensPerMinute: rpm * LEASE_TOKENS * 2 };
      const key = { provider: 'bench', model: 'leases', account: `${engine}-${rpm}` };
      const instances = Array.from({ length: 3 }, () => {
        const leases = new ProviderCapacityLeases(new ProviderCapacityStore(dataSource), key, limits);
        return { leases, limiter: new ProviderRateLimiter(limits, leases) };
      });
      const seconds = 20;
      // Empty the bucket down to the live reserve first: the figures are of a saturated bucket, not of its
      // opening burst (nor of the reserve being rebuilt, which a backfill may not use).
      const bucket = { ...limits, burstMs: SHARED_BURST_MS };
      const reserve = ProviderCapacityStore.capacity(bucket);
      await new ProviderCapacityStore(dataSource).lease(key, bucket, {
        need: { requests: 1, tokens: 1 },
        want: { requests: 1e9, tokens: 1e12 },
        floor: { requests: reserve.requests * INTERACTIVE_RESERVE, tokens: reserve.tokens * INTERACTIVE_RESERVE },
        horizonMs: 0,
      });
      const start = Date.now();
      const stop = start + seconds * 1000;
      const over = new AbortController();
      const timer = setTimeout(() => over.abort(new Error('window over')), stop - start);
      let released = 0;
      await Promise.all(
        instances.flatMap(({ limiter }) =>
          [0, 1].map(async () => {
            while (!over.signal.aborted) {
              // Only releases inside the window count; callers still waiting when it ends are let go.
              if (!(await limiter.acquire(LEASE_TOKENS, over.signal, 'bulk').then(() => true, () => false))) return;
              if (Date.now() < stop) released++;
              await new Promise((done) => setTimeout(done, 50));
            }
          }),
        ),
      );
      clearTimeout(timer);
      await Promise.all(instances.map(({ leases }) => leases.close()));
      const stats = instances.map(({ leases }) => leases.stats);
      const statements = stats.reduce((sum, s) => sum + s.leases + s.returned, 0);
      const refused = stats.reduce((sum, s) => sum + s.denied, 0);
      const allowed = (rpm * seconds) / 60;
      lines.push(
        `| ${engine} | ${rpm} | ${released} | ${percent(released / allowed)} | ${statements} (${refused} refused) | ${(statements / released).toFixed(3)} |`,
      );
      console.log(lines[lines.length - 1]);
    }
  } finally {
    await dataSource.destroy();
    await db.close();
  }
  return lines;
}

async function main(): Promise<void> {
  if (arg('part', 'apps') === 'leases') {
    const rpmList = arg('rpm-list', '120,1200,3000').split(',').map(Number);
    const lines: string[] = [];
    for (const engine of engineList()) lines.push(...(await leaseStatements(engine, rpmList)));
    console.log('\n| engine | requests/min limit | released in 20 s | released of the limit | statements to the bucket | statements per released request |');
    console.log('|---|---|---|---|---|---|');
    for (const line of lines) console.log(line);
    return;
  }
  const instances = arg('instances', '1,3').split(',').map(Number);
  const scopes = arg('scopes', 'instance,cluster').split(',') as RateLimitScope[];
  const rpm = positiveInt('rpm', 120);
  const tpm = positiveInt('tpm', 20_000);
  const batchSize = positiveInt('batch', 5);
  const windowMs = positiveInt('window-ms', 60_000);
  const settleMs = positiveInt('settle-ms', 5_000);
  // Enough for the window at twice the limit, so the backfill never runs dry.
  const backfill = Math.ceil(((rpm * (1 + (2 * windowMs) / 60_000)) * batchSize) / 100) * 100;
  const lines: string[] = [];
  for (const engine of engineList()) {
    const db = await database(engine);
    const server = await startFakeOpenAiServer({ dimensions: 32 });
    const driver = await bootIndexingApp({ databaseUrl: db.url, core: { embedding: scenarioEmbedding(server), worker: { enabled: false }, liveIndexing: false }, logger: ['error'] });
    try {
      const products = await insertScenarioProducts(driver.dataSource, backfill, Math.ceil(windowMs / LIVE_EVERY_MS));
      for (const scope of scopes) {
        for (const count of instances) {
          const writesBefore = await capacityWrites(driver.dataSource);
          const result = await runLimitScenario({
            databaseUrl: db.url, dataSource: driver.dataSource, queue: driver.queue, server, products,
            instances: count, scope, rpm, tpm, batchSize, windowMs, settleMs, liveEveryMs: LIVE_EVERY_MS,
          });
          // The killed instances' server backends report their statistics as they exit.
          await new Promise((done) => setTimeout(done, 2_000));
          lines.push(row(engine, result, (await capacityWrites(driver.dataSource)) - writesBefore));
          console.log(lines[lines.length - 1]);
          if (process.argv.includes('--trace')) console.log(`  accepted/429 per second: ${result.timeline.join(' ')}`);
        }
      }
    } finally {
      await driver.close();
      await server.close();
      await db.close();
    }
  }
  console.log(`\nLimits ${rpm} requests/min, ${tpm} tokens/min; ${batchSize} items per request; window ${windowMs / 1000} s (sustained part from ${settleMs / 1000} s).\n`);
  console.log(
    '| engine | scope | instances | sent | accepted | 429 | sent/min of RPM (sustained) | accepted requests/min of RPM (sustained) | accepted tokens/min of TPM (sustained) ' +
      '| accepted of allowed in window | backfill requests ahead of a live item (median / max) | capacity rows written per accepted request |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const line of lines) console.log(line);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
