import { DataMigrationService, MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import { bootIndexingApp, generatedProducts, insertProducts, waitUntil, type IndexingApp, type IndexingAppOptions } from './fixtures/indexing-app.fixture';
import { AS_ADMIN, webTestOptions } from './fixtures/web-auth.fixture';
import { describeEachEngine } from './support/test-database';

/**
 * The spec's "Conditional Loading Behavior" table: AiWebModule serves /api/ai/migration only when the
 * migration module is in the application, in any import order, with no state shared between apps.
 * The five apps boot one after another in this one Jest process, in the order the issue gives.
 */
describeEachEngine('Conditional registration of the migration endpoints', ({ getUrl }) => {
  let ctx: IndexingApp | undefined;

  const boot = async (options: Omit<IndexingAppOptions, 'databaseUrl'>) => {
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, swagger: true, ...options, core: { liveIndexing: false } });
    return ctx;
  };

  const migrationPaths = async (app: IndexingApp) => {
    const doc = await request(app.app.getHttpServer()).get('/api/docs-json').expect(200);
    return Object.keys(doc.body.paths).filter((p) => p.startsWith('/api/ai/migration'));
  };

  const expectNoMigrationRoutes = async (app: IndexingApp) => {
    const server = app.app.getHttpServer();
    for (const [method, path] of [
      ['get', '/api/ai/migration/jobs'],
      ['post', '/api/ai/migration/start'],
      ['get', '/api/ai/migration/jobs/3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10'],
      ['get', '/api/ai/migration/dashboard'],
      ['get', '/api/ai/migration/dashboard/assets/dashboard.js'],
    ] as const) {
      const res = await request(server)[method](path).set(AS_ADMIN).send(method === 'post' ? { entityType: 'product' } : undefined);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    }
  };

  beforeAll(async () => {
    const seed = await boot({});
    await insertProducts(seed.dataSource, generatedProducts(40, 'conditional'));
    await seed.close();
  });

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  it('1. core + web: /api/ai/migration/* answers 404 and is absent from the OpenAPI document; search and health work', async () => {
    const app = await boot({ web: webTestOptions() });
    await expectNoMigrationRoutes(app);
    expect(await migrationPaths(app)).toEqual([]);
    const server = app.app.getHttpServer();
    await request(server).get('/api/ai/search').set(AS_ADMIN).query({ entityType: 'product', q: 'conditional item' }).expect(200);
    await request(server).get('/api/ai/monitoring/health').set(AS_ADMIN).expect(200);
    expect((await request(server).get('/api/ai/auth/me').set(AS_ADMIN).expect(200)).body).toEqual({ name: 'ops-admin', role: 'admin' });
    // Metrics are served, without the migration module's series.
    const metrics = (await request(server).get('/api/ai/monitoring/metrics').set(AS_ADMIN).expect(200)).text;
    expect(metrics).toContain('# TYPE ai_indexing_queue_items gauge');
    expect(metrics).not.toContain('ai_migration_');
    // The migration module's service is not in this application at all.
    expect(() => app.app.get(DataMigrationService)).toThrow();
  });

  it('2. core + migration: the programmatic API works, and no HTTP route serves migration', async () => {
    const app = await boot({ migration: {} });
    const migrations = app.app.get(DataMigrationService);
    const job = await migrations.indexAllEntities('product');
    await waitUntil('job completed', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED);
    expect((await migrations.getProgress(job.id)).progress.processed).toBe(40);
    await expectNoMigrationRoutes(app);
  });

  it('3. core + migration + web: the endpoints work and are documented', async () => {
    const app = await boot({ migration: {}, web: webTestOptions() });
    const res = await request(app.app.getHttpServer()).get('/api/ai/migration/jobs').set(AS_ADMIN).expect(200);
    expect(res.body.total).toBe(1);
    expect(await migrationPaths(app)).toEqual(
      expect.arrayContaining(['/api/ai/migration/start', '/api/ai/migration/jobs', '/api/ai/migration/jobs/{id}', '/api/ai/migration/jobs/{id}/events', '/api/ai/migration/dashboard']),
    );
    const metrics = (await request(app.app.getHttpServer()).get('/api/ai/monitoring/metrics').set(AS_ADMIN).expect(200)).text;
    expect(metrics).toContain('ai_migration_jobs{status="COMPLETED"} 1');
  });

  it('4. the same with the imports in reverse order (web, migration, core)', async () => {
    const app = await boot({ migration: {}, web: webTestOptions(), importOrder: 'reverse' });
    const res = await request(app.app.getHttpServer()).get('/api/ai/migration/jobs').set(AS_ADMIN).expect(200);
    expect(res.body.items[0]).toMatchObject({ entityType: 'product', status: 'COMPLETED' });
    expect((await migrationPaths(app)).length).toBeGreaterThanOrEqual(10);
  });

  it('5. core + web again, after apps with the migration module in this process: still 404', async () => {
    const app = await boot({ web: webTestOptions() });
    await expectNoMigrationRoutes(app);
    expect(await migrationPaths(app)).toEqual([]);
    // Each app has its own metrics registry: nothing of the earlier apps' migration metrics is left.
    expect((await request(app.app.getHttpServer()).get('/api/ai/monitoring/metrics').set(AS_ADMIN).expect(200)).text).not.toContain('ai_migration_');
  });
});
