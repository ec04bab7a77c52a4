/**
 * `npm run demo` — the main job on the embedded default, in one command: starts the sample app (PGlite
 * under ./data unless DATABASE_URL is set), seeds 10,000 products when the catalogue is empty, backfills
 * their embeddings with `indexAllEntities('product')` while drawing a progress bar, prints the summary and
 * a few semantic searches. No server, no API key (the local `hashing` provider unless configured).
 */
import 'reflect-metadata';
import { AiSearchService } from '@ai-infrastructure/core';
import { ActiveMigrationExistsError, DataMigrationService, MigrationStatus, type MigrationProgress } from '@ai-infrastructure/migration-core';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { seedProducts } from './seed';

/** Products seeded into an empty catalogue (DEMO_SEED_COUNT overrides, e.g. for tests). */
const SEED_COUNT = Number(process.env.DEMO_SEED_COUNT ?? 10_000);
const QUERIES = ['waterproof hiking boots', 'espresso machine', 'noise cancelling headphones'];

function bar(p: MigrationProgress): string {
  const { total, processed, failed, percentComplete, estimatedTimeRemaining } = p.progress;
  const width = 30;
  const filled = Math.round((percentComplete / 100) * width);
  const done = processed + p.skipped + failed;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percentComplete.toFixed(1).padStart(5)}%  ` +
    `${done}/${total}  ${p.throughput} entities/s  ETA ${estimatedTimeRemaining ?? '-'}`
  );
}

async function main(): Promise<void> {
  if (!Number.isInteger(SEED_COUNT) || SEED_COUNT < 1) {
    throw new Error(`DEMO_SEED_COUNT is "${process.env.DEMO_SEED_COUNT}"; it must be a positive integer.`);
  }
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  try {
    const dataSource = app.get(DataSource);
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM products`);
    if (n === 0) {
      console.log(`The catalogue is empty: seeding ${SEED_COUNT} synthetic products (not indexed, like an adopter's existing data).`);
      await seedProducts(dataSource, { count: SEED_COUNT, seed: 42, batch: 2000, truncate: false }, () => undefined);
    } else {
      console.log(`The catalogue has ${n} products.`);
    }

    const migrations = app.get(DataMigrationService);
    let jobId: string;
    try {
      jobId = (await migrations.indexAllEntities('product')).id;
      console.log(`Started backfill job ${jobId}.`);
    } catch (error) {
      if (!(error instanceof ActiveMigrationExistsError)) throw error;
      // An earlier run was interrupted: follow (and if needed resume) its job instead of starting another.
      jobId = error.activeJobId;
      if ((await migrations.getProgress(jobId)).status === MigrationStatus.PAUSED) await migrations.resumeMigration(jobId);
      console.log(`Continuing backfill job ${jobId} from its checkpoint.`);
    }

    const tty = process.stdout.isTTY;
    let lastPrinted = -10;
    let progress = await migrations.getProgress(jobId);
    while (progress.status === MigrationStatus.RUNNING) {
      if (tty) process.stdout.write(`\r${bar(progress)}`);
      else if (progress.progress.percentComplete >= lastPrinted + 10) {
        lastPrinted = progress.progress.percentComplete;
        console.log(bar(progress));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      progress = await migrations.getProgress(jobId);
    }
    if (tty) process.stdout.write(`\r${bar(progress)}\n`);
    else console.log(bar(progress));

    const seconds = progress.completedAt && progress.startedAt ? (progress.completedAt.getTime() - progress.startedAt.getTime()) / 1000 : 0;
    console.log(
      `\nJob ${progress.status}: ${progress.progress.processed} embedded, ${progress.skipped} already up to date, ` +
        `${progress.progress.failed} failed, of ${progress.progress.total}, in ${seconds.toFixed(1)} s.`,
    );
    if (progress.status !== MigrationStatus.COMPLETED) {
      process.exitCode = 1;
      return;
    }

    const search = app.get(AiSearchService);
    for (const query of QUERIES) {
      const hits = await search.search({ entityType: 'product', query, limit: 3 });
      const names = new Map<string, string>(
        (await dataSource.query(`SELECT id::text, name FROM products WHERE id = ANY($1)`, [hits.map((h) => h.entityId)])).map(
          (r: { id: string; name: string }) => [r.id, r.name],
        ),
      );
      console.log(`\nSearch "${query}":`);
      for (const hit of hits) {
        console.log(`  ${hit.score.toFixed(3)}  ${names.get(hit.entityId) ?? hit.entityId}  (${hit.metadata.category})`);
      }
    }
    console.log('\nRun `npm start` for the HTTP API and Swagger UI at http://127.0.0.1:3000/api/docs.');
  } finally {
    await app.close();
  }
}

main().catch((error) => {
  console.error(`The demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
