import { kill9, spawnAppProcess, type AppProcess } from './fixtures/app-process';
import { Client } from 'pg';
import { DataMigrationService, MigrationAuditAction, MigrationStatus } from '@ai-infrastructure/migration-core';
import { bootIndexingApp, insertProducts, waitUntil } from './fixtures/indexing-app.fixture';
import { codewordProducts, expectConsistentGenerations, generationHash } from './fixtures/generations.fixture';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const SCRIPT = 'test/fixtures/generation-app-process.ts';
const N = 1500;

const spawnApp = (env: Record<string, string>): AppProcess => spawnAppProcess(SCRIPT, env);

/**
 * Crashes around index generations with real processes (issue 13, section 4): an instance started with a
 * new model (test/fixtures/generation-app-process.ts) is killed with SIGKILL while generation B builds,
 * and while it switches generations back and forth; after a restart nothing is half-switched — exactly
 * one SERVING generation, the alias naming it and agreeing with the audit log — and B completes.
 */
describeEachEngine('Index generations: crash during build and cutover', ({ getUrl, engine }) => {
  let server: FakeOpenAiServer;
  let db: Client;
  let generationA: number;
  let generationB: number;
  const apps: AppProcess[] = [];

  const rows = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows as T[];
  const generation = async (id: number) =>
    (await rows<{ id: number; state: string; loaded_at: Date | null; index_name: string | null; model: string; dimensions: number; text_definition: { embeddableFields: Array<{ name: string; weight: number }> } }>(
      `SELECT * FROM ai_index_generations WHERE id = $1`,
      [id],
    ))[0];
  const jobOf = async (generationId: number) =>
    (await rows<{ id: string; status: string; processed: number; failed: number; skipped: number }>(
      `SELECT id, status, processed_entities::int AS processed, failed_entities::int AS failed, skipped_entities::int AS skipped
         FROM ai_migration_jobs WHERE generation_id = $1`,
      [generationId],
    ))[0];
  const vectors = async (generationId: number) =>
    Number((await rows<{ n: number }>(`SELECT count(*)::int AS n FROM ai_searchable_entities WHERE generation_id = $1`, [generationId]))[0].n);

  beforeAll(async () => {
    server = await startFakeOpenAiServer();
    // Generation A (hashing, 384 dimensions) serving N products, from a short-lived app in this process.
    const setup = await bootIndexingApp({ databaseUrl: getUrl(), products: true, migration: {}, core: { liveIndexing: false, worker: { batchSize: 500 } } });
    await insertProducts(setup.dataSource, codewordProducts(N));
    const migrations = setup.app.get(DataMigrationService);
    const job = await migrations.indexAllEntities('product');
    await waitUntil('the backfill of generation A completed', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED, 120_000, 50);
    await setup.close();
    db = new Client({ connectionString: getUrl() });
    await db.connect();
    [{ id: generationA }] = await rows<{ id: number }>(`SELECT id FROM ai_index_generations WHERE state = 'SERVING'`);
  }, 240_000);

  afterEach(async () => {
    await Promise.all(apps.splice(0).map(kill9));
  });

  afterAll(async () => {
    await db?.end();
    await server?.close();
  });

  it('kill -9 while B builds; after a restart B completes (loaded, indexed, READY) and A served throughout', async () => {
    server.reset();
    // 30 requests of 50 texts, 150 ms each: the build takes seconds, so the kill lands in its middle.
    server.delayMs = 150;
    const first = spawnApp({ DATABASE_URL: getUrl(), OPENAI_BASE_URL: server.url });
    apps.push(first);
    await first.line('READY');
    // Startup recorded B as BUILDING; autoBuild started its backfill.
    [{ id: generationB }] = await rows<{ id: number }>(`SELECT id FROM ai_index_generations WHERE state = 'BUILDING'`);
    await waitUntil('a third of B is built', async () => ((await jobOf(generationB))?.processed ?? 0) >= N / 3, 60_000).catch((e) => {
      throw new Error(`${e.message} Output: ${first.output.slice(-20).join(' | ')}`);
    });
    await kill9(first);
    expect(await jobOf(generationB)).toMatchObject({ status: 'RUNNING' });
    expect((await jobOf(generationB)).processed).toBeLessThan(N);
    expect(await generation(generationB)).toMatchObject({ state: 'BUILDING', loaded_at: null });
    expect((await expectConsistentGenerations(db)).alias).toEqual({ serving: generationA, previous: null });

    // Restart: the job is taken over after its lease expires and completes; then B is loaded and (on
    // PostgreSQL) indexed in the background. This instance is killed as soon as the job completed, which
    // may be before or during the index build; a third instance must finish whatever is left.
    server.delayMs = 0;
    const second = spawnApp({ DATABASE_URL: getUrl(), OPENAI_BASE_URL: server.url });
    apps.push(second);
    await waitUntil('the job of B completed', async () => (await jobOf(generationB)).status === 'COMPLETED', 90_000, 10);
    await kill9(second);
    expect((await expectConsistentGenerations(db)).alias).toEqual({ serving: generationA, previous: null });
    const third = spawnApp({ DATABASE_URL: getUrl(), OPENAI_BASE_URL: server.url });
    apps.push(third);
    await waitUntil('B is READY', async () => (await generation(generationB)).state === 'READY', 90_000, 50);

    expect(await jobOf(generationB)).toMatchObject({ status: 'COMPLETED', processed: N, failed: 0, skipped: 0 });
    const b = await generation(generationB);
    expect(b.loaded_at).not.toBeNull();
    expect(await vectors(generationB)).toBe(N);
    expect(await vectors(generationA)).toBe(N);
    // Every vector of B has B's hash of its row.
    const products = await rows<{ id: string; name: string; description: string; category: string }>(`SELECT id, name, description, category FROM products`);
    const stored = new Map(
      (await rows<{ entity_id: string; content_hash: string }>(`SELECT entity_id, content_hash FROM ai_searchable_entities WHERE generation_id = $1`, [generationB])).map(
        (r) => [r.entity_id, r.content_hash],
      ),
    );
    const definition = { model: b.model, dimensions: b.dimensions, textDefinition: b.text_definition };
    expect(products.filter((p) => stored.get(p.id) !== generationHash(p, definition))).toEqual([]);
    if (engine === 'postgres') {
      // Its own HNSW index, valid (a build cut short by a kill leaves an invalid one, which is built again).
      expect(b.index_name).toBe(`ai_searchable_entities_hnsw_g${generationB}`);
      expect(await rows(`SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass($1)`, [b.index_name])).toEqual([{ valid: true }]);
    }
    expect((await expectConsistentGenerations(db)).alias).toEqual({ serving: generationA, previous: null });
  }, 300_000);

  it('kill -9 while it switches generations back and forth; after each crash and restart nothing is half-switched', async () => {
    server.reset();
    for (let round = 0; round < 2; round++) {
      const switching = spawnApp({ DATABASE_URL: getUrl(), OPENAI_BASE_URL: server.url, SWITCH_LOOP: String(generationB) });
      apps.push(switching);
      await switching.line('READY');
      await waitUntil(
        `20 switches (output: ${switching.output.slice(-5).join(' | ')})`,
        () => switching.output.some((l) => /^SWITCHES (\d+)/.test(l) && Number(/^SWITCHES (\d+)/.exec(l)![1]) >= 20 + 5 * round),
        // Generous: on a loaded CI machine a fresh process's first switches (cold code, JIT) come slowly.
        120_000,
        5,
      );
      // The loop is always inside a cutover or rollback transaction: the kill lands in one, or between two.
      await kill9(switching);
      const crashed = await expectConsistentGenerations(db);
      expect([generationA, generationB]).toContain(crashed.alias!.serving);
      const other = crashed.alias!.serving === generationA ? generationB : generationA;
      expect(crashed.alias!.previous).toBe(other);
      expect(crashed.generations.find((g) => g.id === other)!.state).toBe('READY');
      // The audit entry of the last switch committed with it: it names the generation that serves.
      const [last] = await rows<{ action: string; generation_id: number }>(
        `SELECT action, generation_id FROM ai_migration_audit_log WHERE action = ANY($1) ORDER BY id DESC LIMIT 1`,
        [[MigrationAuditAction.GENERATION_CUTOVER, MigrationAuditAction.GENERATION_ROLLBACK]],
      );
      expect(last.generation_id).toBe(crashed.alias!.serving);

      // A restart finds the same state and adds no generation (the configured one, B, exists and is READY or SERVING).
      const restarted = spawnApp({ DATABASE_URL: getUrl(), OPENAI_BASE_URL: server.url });
      apps.push(restarted);
      await restarted.line('READY');
      const after = await expectConsistentGenerations(db);
      expect(after.alias).toEqual(crashed.alias);
      expect(after.generations.map((g) => g.id)).toEqual([generationA, generationB]);
      await kill9(restarted);
    }
    // Both generations stayed complete throughout (the switches move no rows).
    expect(await vectors(generationA)).toBe(N);
    expect(await vectors(generationB)).toBe(N);
  }, 420_000);
});
