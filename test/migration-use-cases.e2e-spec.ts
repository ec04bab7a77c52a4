import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ActiveMigrationExistsError,
  DataMigrationService,
  InvalidMigrationRequestError,
  MigrationAuditAction,
  MigrationRunnerService,
  InvalidMigrationStateError,
  MigrationJobNotFoundError,
  MigrationStatus,
  UnknownEntityTypeError,
  MigrationGenerationService,
  type MigrationModuleOptions,
  type MigrationPageEvent,
  type MigrationProgress,
} from '@ai-infrastructure/migration-core';
import { IndexGenerationService, IndexGenerationState } from '@ai-infrastructure/core';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, SAMPLE_ENTITY_CONFIG, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { FAKE_OPENAI_API_KEY, INSUFFICIENT_QUOTA_BODY, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const N = 1500;

/** The three use cases of the spec, end to end through DataMigrationService, on real databases. */
describeEachEngine('Migration use cases', ({ getUrl }) => {
  let ctx: IndexingApp;
  let migrations: DataMigrationService;
  let dir: string;

  const boot = async (entityConfigPath = SAMPLE_ENTITY_CONFIG, migration: MigrationModuleOptions = {}) => {
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      migration,
      core: { entityConfigPath, liveIndexing: false, worker: { batchSize: 500 } },
    });
    migrations = ctx.app.get(DataMigrationService);
  };

  const finish = async (jobId: string): Promise<MigrationProgress> => {
    await waitUntil(`job ${jobId} finished`, async () => {
      const { status } = await migrations.getProgress(jobId);
      return status !== MigrationStatus.RUNNING;
    }, 60_000);
    return migrations.getProgress(jobId);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ai-migration-'));
    await boot();
    await insertProducts(ctx.dataSource, generatedProducts(N, 'catalogue item'));
  });

  afterAll(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('1. new adoption: indexAllEntities embeds every product once and reports it in the spec\'s shape', async () => {
    const pages: MigrationPageEvent[] = [];
    const stopListening = ctx.app.get(MigrationRunnerService).onPage((page) => pages.push(page));
    const job = await migrations.indexAllEntities('product');
    expect(job).toMatchObject({ entityType: 'product', status: MigrationStatus.RUNNING, totalEntities: N, processedEntities: 0 });
    const progress = await finish(job.id);
    expect(progress).toMatchObject({
      jobId: job.id,
      status: MigrationStatus.COMPLETED,
      progress: { total: N, processed: N, failed: 0, percentComplete: 100, estimatedTimeRemaining: 'PT0S' },
      skipped: 0,
    });
    expect(await ctx.vectorStore.count('product')).toBe(N);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    // The runner reports each committed page (its default page is 500 rows).
    stopListening();
    expect(pages.map((p) => [p.jobId, p.rows, p.enqueued, p.skipped])).toEqual([
      [job.id, 500, 500, 0],
      [job.id, 500, 500, 0],
      [job.id, 500, 500, 0],
    ]);
    expect(pages.every((p) => p.entityType === 'product' && p.durationMs > 0)).toBe(true);
  });

  it('a second job skips everything: hashes match and the vectors are present', async () => {
    const progress = await finish((await migrations.indexAllEntities('product')).id);
    expect(progress).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { total: N, processed: 0 }, skipped: N });
  });

  it('3. disaster recovery: after the vector table is lost, a job without reindexExisting re-embeds everything', async () => {
    await ctx.dataSource.query(`TRUNCATE ai_searchable_entities`);
    const progress = await finish((await migrations.startMigration({ entityType: 'product', reindexExisting: false })).id);
    expect(progress).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: N }, skipped: 0 });
    expect(await ctx.vectorStore.count('product')).toBe(N);
  });

  it('2. config change: a new embeddable field becomes a BUILDING generation filled by its own job; the serving one is untouched until the cutover', async () => {
    const changed = join(dir, 'ai-entity-config.yml');
    writeFileSync(
      changed,
      readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8').replace('      - name: category\n', '      - name: category\n      - name: price\n'),
    );
    await ctx.close();
    // autoBuild off, so this test starts the build job itself.
    await boot(changed, { generations: { autoBuild: false } });
    const generations = ctx.app.get(IndexGenerationService);
    const [building, serving] = await generations.list('product');
    expect(building).toMatchObject({ state: IndexGenerationState.BUILDING, loadedAt: null });
    expect(building.textDefinition!.embeddableFields.map((f) => f.name)).toEqual(['name', 'description', 'category', 'price']);
    expect(serving).toMatchObject({ state: IndexGenerationState.SERVING });
    const servedHashes = await ctx.dataSource.query(`SELECT entity_id, content_hash FROM ai_searchable_entities WHERE generation_id = $1 ORDER BY entity_id`, [serving.id]);

    // A job on the serving generation finds everything current: its hashes are those of its own definition.
    const onServing = await finish((await migrations.indexAllEntities('product')).id);
    expect(onServing).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: 0 }, skipped: N });
    // The job of the new generation embeds every product into it, beside the serving one.
    const build = await finish((await migrations.startMigration({ entityType: 'product', generationId: building.id })).id);
    expect(build).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: N }, skipped: 0 });
    expect(await ctx.vectorStore.count('product', building.id)).toBe(N);
    expect(await ctx.dataSource.query(`SELECT entity_id, content_hash FROM ai_searchable_entities WHERE generation_id = $1 ORDER BY entity_id`, [serving.id])).toEqual(servedHashes);
    expect(await ctx.vectorStore.count('product')).toBe(N);

    // Loaded by the completed whole-table job: READY (on PostgreSQL once its index is built), then validated and cut over.
    await waitUntil('the new generation is READY', async () => (await generations.get(building.id)).state === IndexGenerationState.READY, 60_000);
    const operator = ctx.app.get(MigrationGenerationService);
    expect(await operator.validate(building.id)).toMatchObject({ passed: true, coverage: { sourceRows: N, missing: 0, stale: 0 } });
    await operator.cutover('product', building.id);
    expect((await generations.serving('product')).id).toBe(building.id);
    // A second job, now on the new serving generation, skips all.
    const second = await finish((await migrations.indexAllEntities('product')).id);
    expect(second).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: 0 }, skipped: N });
  });

  it('a metadata field added to the configuration reaches every vector row of the serving generation without re-embedding', async () => {
    const withName = join(dir, 'ai-entity-config-metadata.yml');
    writeFileSync(
      withName,
      readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8')
        .replace('      - name: category\n', '      - name: category\n      - name: price\n')
        .replace('      - price\n', '      - price\n      - name\n'),
    );
    await ctx.close();
    await boot(withName);
    // Metadata fields are no part of a generation's definition: no new generation.
    expect((await ctx.app.get(IndexGenerationService).list('product')).map((g) => g.state)).toEqual([IndexGenerationState.SERVING, IndexGenerationState.READY]);
    const progress = await finish((await migrations.indexAllEntities('product')).id);
    expect(progress).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: 0 }, skipped: N });
    expect(
      await countOf(
        ctx.dataSource,
        `SELECT count(*)::int AS n FROM ai_searchable_entities
          WHERE metadata ? 'name' AND generation_id = (SELECT serving_generation_id FROM ai_index_aliases WHERE entity_type = 'product')`,
      ),
    ).toBe(N);
  });

  it('filters by ids: only those entities are counted and processed', async () => {
    const ids: Array<{ id: string }> = await ctx.dataSource.query(`SELECT id FROM products ORDER BY id LIMIT 3`);
    const progress = await finish(
      (await migrations.startMigration({ entityType: 'product', reindexExisting: true, filters: { ids: ids.map((r) => r.id) } })).id,
    );
    expect(progress).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { total: 3, processed: 3 }, skipped: 0 });
  });

  it('allows one active job per entity type and refuses invalid transitions without changing anything', async () => {
    const job = await migrations.startMigration({ entityType: 'product', reindexExisting: true, batchSize: 50 });
    await expect(migrations.indexAllEntities('product')).rejects.toThrow(ActiveMigrationExistsError);
    await expect(migrations.indexAllEntities('product')).rejects.toThrow(job.id);
    const paused = await migrations.pauseMigration(job.id);
    expect(paused.status).toBe(MigrationStatus.PAUSED);
    expect((await migrations.getProgress(job.id)).progress.estimatedTimeRemaining).toBeNull();
    await expect(migrations.pauseMigration(job.id)).rejects.toThrow(InvalidMigrationStateError);
    await expect(migrations.pauseMigration(job.id)).rejects.toThrow(/it is PAUSED, and that is allowed only from RUNNING/);
    expect((await migrations.resumeMigration(job.id)).status).toBe(MigrationStatus.RUNNING);
    await expect(migrations.resumeMigration(job.id)).rejects.toThrow(/it is RUNNING/);
    const cancelled = await migrations.cancelMigration(job.id);
    expect(cancelled.status).toBe(MigrationStatus.CANCELLED);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = $1 AND status = 'PENDING'`, [job.id])).toBe(0);
    await expect(migrations.resumeMigration(job.id)).rejects.toThrow(/it is CANCELLED, and that is allowed only from PAUSED/);
    // The slot is free again.
    const next = await migrations.indexAllEntities('product');
    await finish(next.id);
  });

  it('filters by createdBefore/createdAfter in SQL', async () => {
    await ctx.dataSource.query(`UPDATE products SET created_at = '2023-06-01' WHERE id IN (SELECT id FROM products ORDER BY id LIMIT 10)`);
    const older = await finish(
      (await migrations.startMigration({ entityType: 'product', reindexExisting: true, filters: { createdBefore: '2024-01-01' } })).id,
    );
    expect(older).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { total: 10, processed: 10 } });
    const newer = await migrations.estimateMigration({ entityType: 'product', reindexExisting: true, filters: { createdAfter: '2024-01-01' } });
    expect(newer.matching).toBe(N - 10);
  });

  it('deletes finished jobs older than cleanupCompletedAfterDays, on one instance at a time', async () => {
    const runner = ctx.app.get(MigrationRunnerService);
    const [old] = await ctx.dataSource.query(`SELECT id FROM ai_migration_jobs WHERE status = 'COMPLETED' ORDER BY started_at LIMIT 1`);
    await ctx.dataSource.query(`UPDATE ai_migration_jobs SET completed_at = now() - interval '31 days' WHERE id = $1`, [old.id]);
    const before = await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs`);
    expect(await runner.cleanupOldJobs()).toBe(1);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs`)).toBe(before - 1);
    await expect(migrations.getProgress(old.id)).rejects.toThrow(MigrationJobNotFoundError);
    expect(await runner.cleanupOldJobs()).toBe(0);
  });

  it('rejects bad requests and unknown ids with errors that name the field', async () => {
    await expect(migrations.startMigration({ entityType: 'order' })).rejects.toThrow(UnknownEntityTypeError);
    await expect(migrations.startMigration({ entityType: 'order' })).rejects.toThrow(/known types: product/);
    await expect(migrations.startMigration({ entityType: 'product', batchSize: 0 })).rejects.toThrow(InvalidMigrationRequestError);
    await expect(migrations.startMigration({ entityType: 'product', batchSize: 0 })).rejects.toThrow(/"batchSize" is 0/);
    await expect(migrations.startMigration({ entityType: 'product', filters: { createdBefore: 'yesterday' } })).rejects.toThrow(/"filters.createdBefore"/);
    await expect(migrations.getProgress('00000000-0000-4000-8000-000000000000')).rejects.toThrow(MigrationJobNotFoundError);
    await expect(migrations.getProgress('../../etc/passwd')).rejects.toThrow(MigrationJobNotFoundError);
    const jobs = await migrations.getAllJobs({ entityType: 'product', status: MigrationStatus.COMPLETED });
    expect(jobs.length).toBeGreaterThanOrEqual(5);
    expect(jobs.every((j) => j.status === MigrationStatus.COMPLETED)).toBe(true);
  });
});

/** Dry run, failures and retry of failed entities, with the openai provider against the fake server. */
/** The producer inserts a page's items without coalescing; an item of the job already pending must not stop it. */
describeEachEngine('Migration producer meeting an item it did not expect', ({ getUrl }) => {
  let ctx: IndexingApp;
  const warnings: string[] = [];

  beforeAll(async () => {
    const logger = { log: () => undefined, error: () => undefined, warn: (message: unknown) => warnings.push(String(message)) };
    // Workers off: the test decides when items are processed, so the hand-made twin is still pending when
    // the producer reaches its entity.
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, migration: {}, logger, core: { liveIndexing: false, worker: { enabled: false } } });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('merges a page into a pending item of the job (a conflict of the fast insert) and completes with every entity once', async () => {
    const ids = (await insertProducts(ctx.dataSource, generatedProducts(20, 'twin item'))).sort();
    const migrations = ctx.app.get(DataMigrationService);
    const job = await migrations.startMigration({ entityType: 'product', batchSize: 1 });
    const queued = () => countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = '${job.id}'`);
    // The producer stops after 8 pages of 1 row (its back-pressure) while nothing is processed.
    await waitUntil('the producer held back by its queued pages', async () => (await queued()) === 8, 10_000);
    const last = ids[ids.length - 1];
    // A pending item of the job for its last entity, as if inserted by hand, not runnable for an hour: only
    // merging the page into it (which keeps the earlier run_after) lets the job complete in this test.
    await ctx.queue.enqueue({ entityType: 'product', entityId: last, owner: job.id }, undefined, { runAfter: new Date(Date.now() + 3_600_000) });

    await waitUntil(
      `job ${job.id} completed`,
      async () => {
        await ctx.worker.runOnce(3);
        return (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED;
      },
      30_000,
    );
    expect(await migrations.getProgress(job.id)).toMatchObject({ progress: { total: 20, processed: 20, failed: 0 }, skipped: 0 });
    expect(await ctx.vectorStore.count('product')).toBe(20);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    expect(warnings.filter((w) => w.includes(`A page of migration job ${job.id} met items it had already queued`))).toHaveLength(1);
  });
});

describeEachEngine('Migration estimate, failures and retry', ({ getUrl }) => {
  let ctx: IndexingApp;
  let migrations: DataMigrationService;
  let server: FakeOpenAiServer;

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 64 });
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      migration: { pricePerMillionTokens: 0.02 },
      logger: false,
      core: {
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: 64 },
        liveIndexing: false,
        queue: { maxRetries: 2, backoffBaseMs: 0 },
      },
    });
    migrations = ctx.app.get(DataMigrationService);
    await insertProducts(ctx.dataSource, generatedProducts(300, 'estimate item'));
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  const finish = async (jobId: string) => {
    await waitUntil(`job ${jobId} finished`, async () => (await migrations.getProgress(jobId)).status !== MigrationStatus.RUNNING, 60_000);
    return migrations.getProgress(jobId);
  };

  it('estimate reads the rows, calls no provider and writes nothing', async () => {
    // One request carries a worker batch (1000 here), so 300 items are one request: 1 s at 60 requests/min.
    const estimate = await migrations.estimateMigration({ entityType: 'product', batchSize: 100, rateLimit: 60 });
    expect(estimate).toMatchObject({ entityType: 'product', matching: 300, wouldSkip: 0, wouldEmbed: 300, estimatedRequests: 1, estimatedDuration: 'PT1S' });
    expect(estimate.estimatedTokens).toBeGreaterThan(300);
    expect(estimate.estimatedCostUsd).toBeCloseTo((estimate.estimatedTokens * 0.02) / 1_000_000, 4);
    expect(server.requests).toHaveLength(0);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs`)).toBe(0);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
  });

  it('after a permanent provider error (401), failed entities are listed with the reason and retry-failed completes the job', async () => {
    server.failNext(1000, { status: 401 });
    const job = await migrations.startMigration({ entityType: 'product', batchSize: 100 });
    const failedRun = await finish(job.id);
    expect(failedRun).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { total: 300, processed: 0, failed: 300 } });
    const failures = await migrations.getFailures(job.id);
    expect(failures).toHaveLength(300);
    expect(failures[0]).toMatchObject({ attempts: 2, error: expect.stringContaining('HTTP 401') });

    server.reset();
    expect(await migrations.retryFailed(job.id)).toBe(300);
    const retried = await finish(job.id);
    expect(retried).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: 300, failed: 0 } });
    expect(await migrations.getFailures(job.id)).toEqual([]);
    expect(await ctx.vectorStore.count('product')).toBe(300);

    const estimate = await migrations.estimateMigration({ entityType: 'product' });
    expect(estimate).toMatchObject({ matching: 300, wouldSkip: 300, wouldEmbed: 0, estimatedTokens: 0 });
  });
});

/** Per-job rate limit, rethrottle and the quota pause, against the fake OpenAI server. */
describeEachEngine('Migration rate limit and quota', ({ getUrl }) => {
  let ctx: IndexingApp;
  let migrations: DataMigrationService;
  let server: FakeOpenAiServer;

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32 });
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      migration: {},
      logger: false,
      core: {
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: 32 },
        liveIndexing: false,
        // 20 items per provider request, so a 100-item job needs 5 requests.
        worker: { batchSize: 20 },
        // A minute, as in production: a resumed job must not wait for it.
        rateLimit: { quotaBackoffMs: 60_000 },
      },
    });
    migrations = ctx.app.get(DataMigrationService);
    await insertProducts(ctx.dataSource, generatedProducts(100, 'paced item'));
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  const finish = async (jobId: string, timeoutMs = 60_000) => {
    await waitUntil(`job ${jobId} finished`, async () => (await migrations.getProgress(jobId)).status !== MigrationStatus.RUNNING, timeoutMs);
    return migrations.getProgress(jobId);
  };

  it('paces provider requests at the job\'s rate limit, and a rethrottle applies to the next request', async () => {
    server.reset();
    // 30 requests/min: one request every 2 s, so within the first 3 s at most 2 of the 5 requests go out.
    const job = await migrations.startMigration({ entityType: 'product', rateLimit: 30, reindexExisting: true, batchSize: 100 });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(server.embeddingRequests.filter((r) => r.status === 200).length).toBeLessThanOrEqual(2);
    expect((await migrations.updateRateLimit(job.id, 100_000)).rateLimit).toBe(100_000);
    const done = await finish(job.id, 20_000);
    expect(done).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: 100 } });
    expect(server.embeddingRequests.filter((r) => r.status === 200)).toHaveLength(5);
    await expect(migrations.updateRateLimit(job.id, 10)).rejects.toThrow(/it is COMPLETED/);
    await expect(migrations.updateRateLimit(job.id, 0)).rejects.toThrow(/"rateLimit" is 0/);
  });

  it('pauses the job with the reason when the provider quota is exhausted; resume tries the provider at once and completes it', async () => {
    server.reset();
    server.failNext(1, { status: 429, body: INSUFFICIENT_QUOTA_BODY });
    const job = await migrations.startMigration({ entityType: 'product', rateLimit: 100_000, reindexExisting: true, batchSize: 100 });
    await waitUntil('the job is paused', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.PAUSED, 20_000);
    const paused = await migrations.getProgress(job.id);
    expect(paused.errorMessage).toMatch(/quota is exhausted/);
    expect(paused.progress.failed).toBe(0);
    // Paused: nothing reaches the provider (the quota back-off of a minute holds it anyway).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = server.embeddingRequests.length;
    const resumedAt = Date.now();
    await migrations.resumeMigration(job.id);
    // Resuming says the quota is back: the back-off is lifted and the re-spaced items are runnable at once.
    await waitUntil('a provider request after the resume', () => server.embeddingRequests.length > before, 5_000, 10);
    expect(Date.now() - resumedAt).toBeLessThan(2_000);
    const done = await finish(job.id, 30_000);
    expect(done).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: 100, failed: 0 }, errorMessage: null });
  });

  it('pauses a running job when the provider has been unavailable too long, holds its items, and resume completes it', async () => {
    server.reset();
    // One request a minute: the first 20 items go at once, the rest wait, so the job is still running below.
    const job = await migrations.startMigration({ entityType: 'product', rateLimit: 1, reindexExisting: true, batchSize: 100 });
    await waitUntil('the first request answered', () => server.embeddingRequests.some((r) => r.status === 200), 10_000);
    expect((await migrations.getProgress(job.id)).status).toBe(MigrationStatus.RUNNING);
    const outage = new Error('HTTP 503 from the embedding server for 2 minutes');
    // Owners that are not jobs (live work, another library's tag, a job that does not exist) are ignored.
    await ctx.hooks.emitProviderUnavailable([job.id, null, 'another-owner', '00000000-0000-4000-8000-000000000000'], outage);

    const paused = await migrations.getProgress(job.id);
    expect(paused.status).toBe(MigrationStatus.PAUSED);
    expect(paused.errorMessage).toBe(`Paused because the embedding provider has been unavailable: ${outage.message}`);
    const audit = await migrations.getAuditLog(job.id);
    expect(audit[audit.length - 1]).toMatchObject({ action: MigrationAuditAction.PAUSE, actor: 'system', fromStatus: 'RUNNING', toStatus: 'PAUSED' });
    const runnable = () =>
      countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = $1 AND status = 'PENDING' AND run_after <> 'infinity'`, [job.id]);
    expect(await runnable()).toBe(0);
    // Items of a batch that was in flight come back with the provider's back-off; a second report while the
    // job is paused holds them back too, instead of letting them run while it stays paused.
    await ctx.dataSource.query(
      `UPDATE ai_indexing_queue SET run_after = now() + interval '1 second' WHERE id = (SELECT min(id) FROM ai_indexing_queue WHERE owner = $1 AND status = 'PENDING')`,
      [job.id],
    );
    expect(await runnable()).toBe(1);
    await ctx.hooks.emitProviderUnavailable([job.id], outage);
    expect(await runnable()).toBe(0);
    expect((await migrations.getAuditLog(job.id)).length).toBe(audit.length);

    await migrations.updateRateLimit(job.id, 100_000);
    await migrations.resumeMigration(job.id);
    const done = await finish(job.id, 30_000);
    expect(done).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: 100, failed: 0 }, errorMessage: null });
  });
});
