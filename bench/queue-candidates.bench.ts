/**
 * Queue candidates for the indexing queue, measured in one run on the same PostgreSQL cluster:
 * pg-boss 10 (the Node 20-compatible major) versus the purpose-built `ai_indexing_queue` table.
 * `npm run bench:queue -- [--count 50000] [--batch 500]`. Only queue operations are timed (enqueue, then
 * claim + complete in batches); embedding and vector writes are identical for both and left out.
 * See docs/adr/0001-indexing-queue.md for the decision these figures feed.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import PgBoss from 'pg-boss';
import { AI_CORE_ENTITIES, AI_CORE_MIGRATIONS, IndexingPriority } from '@ai-infrastructure/core';
import { AiEntityRegistry, loadAiEntityConfig, resolveAiCoreOptions } from '@ai-infrastructure/core/internal';
import { Product } from '../apps/sample/src/products/product.entity';
import { IndexingQueueService } from '../libs/core/src/queue/indexing-queue.service';
import { IndexingWakeup } from '../libs/core/src/queue/indexing-wakeup';
import { IndexingClaimsRepository } from '../libs/core/src/worker/indexing-claims.repository';
import { startPostgresServer } from '../test/support/postgres-server';

const CONFIG = 'apps/sample/ai-entity-config.yml';
const uuidFor = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

function positiveInt(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}".`);
  return value;
}

async function ownTable(url: string, count: number, batch: number) {
  const dataSource = new DataSource({ type: 'postgres', url, entities: [Product, ...AI_CORE_ENTITIES], migrations: AI_CORE_MIGRATIONS, migrationsRun: true });
  await dataSource.initialize();
  const registry = new AiEntityRegistry();
  registry.build(dataSource, loadAiEntityConfig(CONFIG), CONFIG);
  try {
    const queue = new IndexingQueueService(dataSource, resolveAiCoreOptions({}), new IndexingWakeup(), registry);
    const claims = new IndexingClaimsRepository(dataSource);
    const requests = Array.from({ length: count }, (_, i) => ({ entityType: 'product', entityId: uuidFor(i), priority: IndexingPriority.LOW }));
    let t = performance.now();
    await queue.enqueue(requests);
    const enqueueSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    let done = 0;
    for (;;) {
      const token = crypto.randomUUID();
      const items = await claims.claim(batch, token, 'bench', 60_000);
      if (items.length === 0) break;
      // The fenced completion the worker does: delete what this lease still holds.
      await dataSource.transaction((manager) => claims.takeOwned(manager, items.map((x) => x.id), token));
      done += items.length;
    }
    const drainSeconds = (performance.now() - t) / 1000;
    if (done !== count) throw new Error(`own table drained ${done} of ${count}`);
    return { enqueueSeconds, drainSeconds };
  } finally {
    await dataSource.destroy();
  }
}

async function pgBoss(url: string, count: number, batch: number) {
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false, max: 4 });
  boss.on('error', (e) => console.error('pg-boss error', e));
  await boss.start();
  try {
    await boss.createQueue('bench');
    const jobs = Array.from({ length: count }, (_, i) => ({ name: 'bench', data: { entityType: 'product', entityId: uuidFor(i) }, priority: 0 }));
    let t = performance.now();
    for (let i = 0; i < jobs.length; i += 5000) await boss.insert(jobs.slice(i, i + 5000));
    const enqueueSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    let done = 0;
    for (;;) {
      const fetched = await boss.fetch('bench', { batchSize: batch, priority: true });
      if (!fetched || fetched.length === 0) break;
      await boss.complete('bench', fetched.map((j) => j.id));
      done += fetched.length;
    }
    const drainSeconds = (performance.now() - t) / 1000;
    if (done !== count) throw new Error(`pg-boss drained ${done} of ${count}`);
    return { enqueueSeconds, drainSeconds };
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
}

async function main() {
  const count = positiveInt('count', 50_000);
  const batch = positiveInt('batch', 500);
  const server = process.env.DATABASE_URL ? undefined : await startPostgresServer();
  const url = process.env.DATABASE_URL ?? server!.url;
  try {
    console.log(`bench:queue — ${count} items, batches of ${batch}, PostgreSQL`);
    const own = await ownTable(url, count, batch);
    const boss = await pgBoss(url, count, batch);
    const line = (name: string, r: { enqueueSeconds: number; drainSeconds: number }) =>
      `  ${name.padEnd(22)} enqueue ${Math.round(count / r.enqueueSeconds).toString().padStart(7)} items/s   claim+complete ${Math.round(count / r.drainSeconds).toString().padStart(7)} items/s`;
    console.log(line('ai_indexing_queue', own));
    console.log(line('pg-boss 10.4.2', boss));
    console.log(`  ratio own/pg-boss      enqueue ${(boss.enqueueSeconds / own.enqueueSeconds).toFixed(2)}x   claim+complete ${(boss.drainSeconds / own.drainSeconds).toFixed(2)}x`);
  } finally {
    await server?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
