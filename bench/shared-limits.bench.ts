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
 * answered 429; accepted requests and tokens per minute after the opening burst (`--settle-ms`) as shares
 * of the limits; accepted requests over what the key allows in the window (a full bucket plus the
 * window's refill); and how many backfill requests the server accepted between a live item's enqueue and
 * its own request (median and max).
 */
import 'reflect-metadata';
import { EmbeddedPostgres } from '@ai-infrastructure/core/database/embedded-postgres';
import type { RateLimitScope } from '@ai-infrastructure/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function row(engine: Engine, result: LimitScenarioResult): string {
  const ahead = result.live.map((l) => l.backfillAhead).sort((a, b) => a - b);
  const median = ahead.length ? ahead[Math.floor(ahead.length / 2)] : NaN;
  const unsent = result.live.filter((l) => l.status === undefined).length;
  return (
    `| ${engine} | ${result.scope} | ${result.instances} | ${result.sent} | ${result.accepted} | ${result.rateLimited} (${percent(result.rateLimitedShare)}) ` +
    `| ${percent(result.sustainedRequestShare)} | ${percent(result.sustainedTokenShare)} | ${percent(result.windowRequestShare)} ` +
    `| ${median} / ${ahead.length ? ahead[ahead.length - 1] : NaN}${unsent ? ` (${unsent} not sent)` : ''} |`
  );
}

async function main(): Promise<void> {
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
          const result = await runLimitScenario({
            databaseUrl: db.url, dataSource: driver.dataSource, queue: driver.queue, server, products,
            instances: count, scope, rpm, tpm, batchSize, windowMs, settleMs, liveEveryMs: LIVE_EVERY_MS,
          });
          lines.push(row(engine, result));
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
  console.log('| engine | scope | instances | sent | accepted | 429 | requests/min of limit (sustained) | tokens/min of limit (sustained) | accepted of allowed in window | backfill requests ahead of a live item (median / max) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const line of lines) console.log(line);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
