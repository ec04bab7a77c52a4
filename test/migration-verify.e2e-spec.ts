import { randomUUID } from 'node:crypto';
import { AiSearchService } from '@ai-infrastructure/core';
import {
  DataMigrationService,
  MigrationAuditAction,
  MigrationRunnerService,
  MigrationStatus,
  type MigrationJob,
  type VerifyFindingKind,
  type VerifyReport,
} from '@ai-infrastructure/migration-core';
import { MigrationWebModule } from '@ai-infrastructure/web/migration/migration-web.module';
import { MigrationVerifyController } from '@ai-infrastructure/web/migration/verify';
import { Module } from '@nestjs/common';
import request from 'supertest';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { AS_ADMIN, AS_VIEWER, webTestOptions } from './fixtures/web-auth.fixture';
import { describeEachEngine } from './support/test-database';

const BASE = '/api/ai/migration/verify';
const ROWS = 1_000;
/** High enough that pacing never delays the test's backfill and fixes. */
const FAST = 1_000_000;

/**
 * The verification routes, for as long as AiWebModule does not register MigrationVerifyController itself;
 * once it does, the app already has them and this module is left out (no route is declared twice).
 */
@Module({ controllers: [MigrationVerifyController] })
class VerifyRoutesModule {}
const verifyRoutesRegistered = ((Reflect.getMetadata('controllers', MigrationWebModule) as unknown[]) ?? []).includes(MigrationVerifyController);

/**
 * Issue 13, part 3: a verification job compares the serving generation with the products table, reports
 * missing, stale, orphaned and foreign vectors exactly (lists paginated), changes nothing without `fix`,
 * and with `fix` restores full consistency. Through the service and through REST, on both engines.
 */
describeEachEngine('Verify and reconcile', ({ getUrl }) => {
  let ctx: IndexingApp;
  let migrations: DataMigrationService;
  let runner: MigrationRunnerService;
  let http: ReturnType<IndexingApp['app']['getHttpServer']>;
  let servingId: number;
  /** Product ids in key order, and the three sabotaged sets. */
  let ids: string[];
  const deleted: string[] = [];
  const changed: string[] = [];
  const missing: string[] = [];

  const vectorsOfServing = () =>
    countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_type = 'product' AND generation_id = $1`, [servingId]);
  const productRows = () => countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM products`);
  const finished = async (job: MigrationJob): Promise<MigrationJob> => {
    await waitUntil(`job ${job.id} ended`, async () => (await migrations.getJob(job.id)).status !== MigrationStatus.RUNNING, 60_000);
    return migrations.getJob(job.id);
  };
  const reportOf = async (jobId: string): Promise<VerifyReport> => (await request(http).get(`${BASE}/${jobId}`).set(AS_VIEWER).expect(200)).body;
  /** Every finding of one kind, read through REST in pages of `limit`. */
  const findingsOf = async (jobId: string, kind: VerifyFindingKind, limit = 40) => {
    const items: Array<{ kind: string; entityId: string; generationId: number | null }> = [];
    for (let offset = 0; ; offset += limit) {
      const { body } = await request(http).get(`${BASE}/${jobId}/findings`).query({ kind, limit, offset }).set(AS_VIEWER).expect(200);
      expect(body).toMatchObject({ limit, offset });
      items.push(...body.items);
      if (offset + limit >= body.total) {
        expect(items).toHaveLength(body.total);
        return items;
      }
    }
  };
  const sorted = (values: string[]) => [...values].sort();

  beforeAll(async () => {
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      migration: { generations: { autoBuild: false } },
      web: webTestOptions(),
      imports: verifyRoutesRegistered ? [] : [VerifyRoutesModule],
    });
    migrations = ctx.app.get(DataMigrationService);
    runner = ctx.app.get(MigrationRunnerService);
    http = ctx.app.getHttpServer();
    [{ id: servingId }] = await ctx.dataSource.query(`SELECT serving_generation_id AS id FROM ai_index_aliases WHERE entity_type = 'product'`);

    // A catalogue indexed by a backfill.
    ids = sorted(await insertProducts(ctx.dataSource, generatedProducts(ROWS, 'verify item')));
    const backfill = await finished(await migrations.startMigration({ entityType: 'product', batchSize: 250, rateLimit: FAST }));
    expect(backfill.status).toBe(MigrationStatus.COMPLETED);
    expect(await vectorsOfServing()).toBe(ROWS);

    // Writes the live indexing cannot see, spread over every page of the table: 100 rows deleted (their
    // vectors stay: orphaned), 100 rows given new text (stale), 100 vectors deleted (missing).
    ids.forEach((id, i) => [deleted, changed, missing][i % 10]?.push(id));
    await ctx.dataSource.query(`DELETE FROM products WHERE id = ANY($1::uuid[])`, [deleted]);
    await ctx.dataSource.query(`UPDATE products SET description = 'Refitted zeppelin hangar ' || name WHERE id = ANY($1::uuid[])`, [changed]);
    await ctx.dataSource.query(`DELETE FROM ai_searchable_entities WHERE entity_type = 'product' AND generation_id = $1 AND entity_id = ANY($2::text[])`, [
      servingId,
      missing,
    ]);
    expect([deleted.length, changed.length, missing.length]).toEqual([100, 100, 100]);
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
  });

  it('reports exactly what is missing, stale and orphaned, lists it page by page, and changes nothing without fix', async () => {
    const vectorsBefore = await vectorsOfServing();
    await request(http).post(BASE).set(AS_VIEWER).send({ entityType: 'product' }).expect(403);
    const { body: started } = await request(http).post(BASE).set(AS_ADMIN).send({ entityType: 'product', batchSize: 128 }).expect(201);
    expect(started).toMatchObject({ entityType: 'product', status: MigrationStatus.RUNNING, totalEntities: ROWS - 100, createdBy: 'ops-admin' });
    const job = await finished(await migrations.getJob(started.id));
    expect(job.status).toBe(MigrationStatus.COMPLETED);

    expect(await reportOf(job.id)).toEqual({
      jobId: job.id,
      status: MigrationStatus.COMPLETED,
      generationId: servingId,
      fix: false,
      sourceRows: ROWS - 100,
      vectors: ROWS - 100,
      missing: 100,
      stale: 100,
      orphaned: 100,
      foreign: 0,
      done: true,
    });
    const listed = {
      MISSING: await findingsOf(job.id, 'MISSING'),
      STALE: await findingsOf(job.id, 'STALE'),
      ORPHANED: await findingsOf(job.id, 'ORPHANED'),
    };
    expect(sorted(listed.MISSING.map((f) => f.entityId))).toEqual(sorted(missing));
    expect(sorted(listed.STALE.map((f) => f.entityId))).toEqual(sorted(changed));
    expect(sorted(listed.ORPHANED.map((f) => f.entityId))).toEqual(sorted(deleted));
    expect([...listed.MISSING, ...listed.STALE, ...listed.ORPHANED].every((f) => f.generationId === servingId)).toBe(true);
    // All kinds at once: by kind, then entity id.
    const { body: all } = await request(http).get(`${BASE}/${job.id}/findings`).query({ limit: 1000 }).set(AS_VIEWER).expect(200);
    expect(all.total).toBe(300);
    expect(all.items.map((f: { kind: string }) => f.kind)).toEqual([...Array(100).fill('MISSING'), ...Array(100).fill('STALE'), ...Array(100).fill('ORPHANED')]);
    expect(all.items.slice(0, 100).map((f: { entityId: string }) => f.entityId)).toEqual(sorted(missing));

    // Nothing changed: no vector written or deleted, nothing queued; the job is an ordinary, audited one.
    expect(await vectorsOfServing()).toBe(vectorsBefore);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = $1`, [job.id])).toBe(0);
    expect(await migrations.getProgress(job.id)).toMatchObject({
      status: MigrationStatus.COMPLETED,
      progress: { total: ROWS - 100, processed: 0, failed: 0, percentComplete: 100 },
      skipped: ROWS - 100,
    });
    const audit = await migrations.getAuditLog(job.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: MigrationAuditAction.VERIFY, actor: 'ops-admin', toStatus: MigrationStatus.RUNNING, generationId: servingId });
    expect(audit[0].details).toMatchObject({ fix: false, generationId: servingId });
  });

  it('answers bad requests with the usual error bodies', async () => {
    const backfill = (await migrations.getAllJobs({ entityType: 'product' })).find((j) => j.kind === 'BACKFILL')!;
    const verification = (await migrations.getAllJobs({ entityType: 'product' })).find((j) => j.kind === 'VERIFY')!;
    const bad = async (path: string, query: Record<string, unknown>, status: number) =>
      (await request(http).get(path).query(query).set(AS_VIEWER).expect(status)).body.message as string;
    expect(await bad(`${BASE}/${backfill.id}`, {}, 400)).toMatch(/is a BACKFILL job, not a verification/);
    expect(await bad(`${BASE}/${randomUUID()}`, {}, 404)).toMatch(/does not exist/);
    expect(await bad(`${BASE}/not-a-uuid`, {}, 400)).toMatch(/"jobId" must be the id of a verification job/);
    expect(await bad(`${BASE}/${verification.id}/findings`, { kind: 'LOST' }, 400)).toMatch(/kind must be one of MISSING, STALE, ORPHANED, FOREIGN/);
    expect(await bad(`${BASE}/${verification.id}/findings`, { limit: 1001 }, 400)).toMatch(/limit/);
    const post = async (body: unknown, status: number) => (await request(http).post(BASE).set(AS_ADMIN).send(body as object).expect(status)).body.message as string;
    expect(await post({ entityType: 'nothing' }, 400)).toMatch(/Unknown entity type "nothing"/);
    expect(await post({ entityType: 'product', fix: 'yes' }, 400)).toMatch(/fix/);
    expect(await post({ entityType: 'product', generationId: 999_999 }, 400)).toMatch(/"generationId" 999999 is not an index generation/);
    await expect(migrations.getVerifyFindings(verification.id, { limit: 0 })).rejects.toThrow(/"limit" is 0; use an integer from 1 to 1000/);
  });

  it('with fix reports the same, re-embeds missing and stale rows, deletes orphans, and leaves the generation fully consistent', async () => {
    const fixing = await finished(await migrations.startVerification({ entityType: 'product', fix: true, batchSize: 128, rateLimit: FAST, createdBy: 'nightly' }));
    expect(fixing.status).toBe(MigrationStatus.COMPLETED);
    expect(await migrations.getVerifyReport(fixing.id)).toMatchObject({ fix: true, missing: 100, stale: 100, orphaned: 100, foreign: 0, done: true });
    // The 200 re-queued entities were the job's own items, counted into it.
    expect(await migrations.getProgress(fixing.id)).toMatchObject({ progress: { total: ROWS - 100, processed: 200, failed: 0, percentComplete: 100 }, skipped: ROWS - 300 });
    expect(sorted((await migrations.getVerifyFindings(fixing.id, { kind: 'ORPHANED', limit: 1000 })).items.map((f) => f.entityId))).toEqual(sorted(deleted));

    expect(await vectorsOfServing()).toBe(await productRows());
    const second = await finished(await migrations.startVerification({ entityType: 'product' }));
    expect(await migrations.getVerifyReport(second.id)).toMatchObject({ sourceRows: ROWS - 100, vectors: ROWS - 100, missing: 0, stale: 0, orphaned: 0, foreign: 0, done: true });
    expect((await migrations.getVerifyFindings(second.id)).total).toBe(0);

    // Search sees the text written by raw SQL.
    const hits = await ctx.app.get(AiSearchService).search({ entityType: 'product', query: 'Refitted zeppelin hangar', limit: 10 });
    expect(hits).toHaveLength(10);
    expect(hits.every((hit) => changed.includes(hit.entityId))).toBe(true);
  });

  it('counts vectors filed under a generation that is not maintained as foreign, and leaves them to retirement', async () => {
    // A FAILED generation keeps its rows until it is retired; the other id names no generation at all.
    const [{ id: failed }] = await ctx.dataSource.query(
      `INSERT INTO ai_index_generations (entity_type, state, provider_name, model, dimensions, definition_hash)
       SELECT entity_type, 'FAILED', provider_name, model, dimensions, definition_hash FROM ai_index_generations WHERE id = $1 RETURNING id`,
      [servingId],
    );
    const copy = (generationId: number, entityIds: string[]) =>
      ctx.dataSource.query(
        `INSERT INTO ai_searchable_entities (entity_type, entity_id, embedding, content_hash, model, dimensions, metadata, generation_id)
         SELECT entity_type, entity_id, embedding, content_hash, model, dimensions, metadata, $3
           FROM ai_searchable_entities WHERE generation_id = $1 AND entity_id = ANY($2::text[])`,
        [servingId, entityIds, generationId],
      );
    const unknown = 2_000_000_000;
    const survivors = ids.filter((id) => !deleted.includes(id));
    await copy(failed, survivors.slice(0, 3));
    await copy(unknown, survivors.slice(3, 5));
    try {
      const job = await finished(await migrations.startVerification({ entityType: 'product', fix: true }));
      expect(await migrations.getVerifyReport(job.id)).toMatchObject({ missing: 0, stale: 0, orphaned: 0, foreign: 5, done: true });
      const { items } = await migrations.getVerifyFindings(job.id, { kind: 'FOREIGN' });
      expect(items.map((f) => `${f.entityId}@${f.generationId}`)).toEqual(
        sorted([...survivors.slice(0, 3).map((id) => `${id}@${failed}`), ...survivors.slice(3, 5).map((id) => `${id}@${unknown}`)]),
      );
      // Reported only: even a fixing job leaves them where they are.
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE generation_id = ANY($1::int[])`, [[failed, unknown]])).toBe(5);
    } finally {
      await ctx.dataSource.query(`DELETE FROM ai_searchable_entities WHERE generation_id = ANY($1::int[])`, [[failed, unknown]]);
      await ctx.dataSource.query(`DELETE FROM ai_index_generations WHERE id = $1`, [failed]);
    }
  });

  it('is an active job of its entity type that pauses, resumes and cancels between pages', async () => {
    // The producer is driven by hand (runner stopped), so each step is one page and nothing is timed.
    await runner.stop();
    try {
      await ctx.dataSource.query(`DELETE FROM ai_searchable_entities WHERE entity_type = 'product' AND generation_id = $1 AND entity_id = ANY($2::text[])`, [
        servingId,
        missing,
      ]);
      const job = await migrations.startVerification({ entityType: 'product', batchSize: 100 });
      // One active job per entity type: a backfill or another verification must wait.
      await expect(migrations.startVerification({ entityType: 'product' })).rejects.toThrow(/is still active/);
      await request(http).post(BASE).set(AS_ADMIN).send({ entityType: 'product' }).expect(409);

      const scanned = async () => (await migrations.getJob(job.id)).scannedEntities;
      await runner.tick();
      await runner.tick();
      expect(await scanned()).toBe(200);
      await migrations.pauseMigration(job.id, { actor: 'ops' });
      await runner.tick();
      expect(await scanned()).toBe(200);
      expect((await migrations.getVerifyReport(job.id)).done).toBe(false);
      await migrations.resumeMigration(job.id, { actor: 'ops' });
      runner.start();
      const resumed = await finished(job);
      expect(resumed.status).toBe(MigrationStatus.COMPLETED);
      expect(await migrations.getVerifyReport(job.id)).toMatchObject({ missing: 100, stale: 0, orphaned: 0, done: true });
      expect(sorted((await migrations.getVerifyFindings(job.id, { kind: 'MISSING', limit: 1000 })).items.map((f) => f.entityId))).toEqual(sorted(missing));

      await runner.stop();
      const cancelled = await migrations.startVerification({ entityType: 'product', fix: true, batchSize: 100 });
      await runner.tick();
      await migrations.cancelMigration(cancelled.id, { actor: 'ops' });
      await runner.tick();
      expect(await migrations.getJob(cancelled.id)).toMatchObject({ status: MigrationStatus.CANCELLED, scannedEntities: 100 });
      expect((await migrations.getVerifyReport(cancelled.id)).done).toBe(false);
      // Its pending fixes went with it; the entity type is free for the next job.
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = $1 AND status = 'PENDING'`, [cancelled.id])).toBe(0);
    } finally {
      runner.start();
    }
    const repair = await finished(await migrations.startVerification({ entityType: 'product', fix: true, rateLimit: FAST }));
    expect(await migrations.getVerifyReport(repair.id)).toMatchObject({ status: MigrationStatus.COMPLETED, missing: expect.any(Number), done: true });
    expect(await vectorsOfServing()).toBe(await productRows());
  });
});
