import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataMigrationService, MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import {
  bootIndexingApp,
  countOf,
  generatedProducts,
  insertProducts,
  SAMPLE_ENTITY_CONFIG,
  waitUntil,
  type IndexingApp,
} from './fixtures/indexing-app.fixture';
import { AS_ADMIN, AS_VIEWER, webTestOptions } from './fixtures/web-auth.fixture';
import { describeEachEngine } from './support/test-database';

const BASE = '/api/ai/migration';
const GENERATIONS = `${BASE}/generations`;

/** Products with words no generated product has, so a golden query finds exactly them. */
const SPECIAL = [
  { name: 'Waterproof hiking boots', description: 'Leather boots with a membrane for wet mountain trails.', category: 'Footwear', price: 129 },
  { name: 'Espresso machine', description: 'Pump espresso maker with a steam wand for cappuccino.', category: 'Kitchen', price: 349 },
  { name: 'Ergonomic desk chair', description: 'Adjustable lumbar support and armrests for long workdays.', category: 'Office', price: 279 },
];
const N = 300 + SPECIAL.length;

interface GenerationBody {
  id: number;
  entityType: string;
  state: string;
  model: string;
  dimensions: number;
  textDefinition: { embeddableFields: Array<{ name: string; weight: number }> } | null;
  indexName: string | null;
  qualityReport: { passed: boolean } | null;
  gatePassed: boolean | null;
  createdAt: string;
  readyAt: string | null;
  servingSince: string | null;
  retiredAt: string | null;
}

/**
 * `/api/ai/migration/generations` through real HTTP, on PGlite and on PostgreSQL: a configuration change
 * (an added embeddable field) becomes a BUILDING generation beside the serving one; through the API it is
 * backfilled, waits for its index, is refused a cutover without a passed gate, is validated, cut over to,
 * rolled back from and retired; with the error answers, roles and audit entries on the way.
 */
describeEachEngine('Index generations REST API', ({ getUrl, engine }) => {
  let ctx: IndexingApp;
  let http: ReturnType<IndexingApp['app']['getHttpServer']>;
  let dir: string;
  let ids: string[];
  let serving: GenerationBody;
  let building: GenerationBody;

  const boot = (entityConfigPath: string) =>
    bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      migration: { generations: { autoBuild: false } },
      web: webTestOptions(),
      core: { entityConfigPath },
    });
  const generation = async (id: number): Promise<GenerationBody> => (await request(http).get(`${GENERATIONS}/${id}`).set(AS_VIEWER).expect(200)).body;
  const vectorsOf = (id: number) => countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE generation_id = $1`, [id]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ai-generations-rest-'));
    ctx = await boot(SAMPLE_ENTITY_CONFIG);
    ids = await insertProducts(ctx.dataSource, [...SPECIAL, ...generatedProducts(N - SPECIAL.length, 'catalogue item')]);
    const migrations = ctx.app.get(DataMigrationService);
    const job = await migrations.indexAllEntities('product');
    await waitUntil('the first backfill completed', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED, 60_000);
    await ctx.close();
    // The configuration change: one more embeddable field. At startup it is recorded as a BUILDING
    // generation (generations.onConfigChange 'build'); autoBuild false leaves starting its backfill to us.
    const changed = join(dir, 'ai-entity-config.yml');
    writeFileSync(changed, readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8').replace('      - name: category\n', '      - name: category\n      - name: price\n'));
    ctx = await boot(changed);
    http = ctx.app.getHttpServer();
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('GET /generations lists the BUILDING generation beside the SERVING one, newest first, with space and text definition', async () => {
    const list: GenerationBody[] = (await request(http).get(GENERATIONS).set(AS_VIEWER).expect(200)).body;
    expect(list.map((g) => [g.entityType, g.state])).toEqual([
      ['product', 'BUILDING'],
      ['product', 'SERVING'],
    ]);
    [building, serving] = list;
    expect(building.id).toBeGreaterThan(serving.id);
    expect(building).toMatchObject({ model: serving.model, dimensions: serving.dimensions, qualityReport: null, gatePassed: null, readyAt: null, servingSince: null });
    expect(building.textDefinition!.embeddableFields.map((f) => f.name)).toEqual(['name', 'description', 'category', 'price']);
    expect(serving.textDefinition!.embeddableFields).toEqual([
      { name: 'name', weight: 2 },
      { name: 'description', weight: 1 },
      { name: 'category', weight: 1 },
    ]);
    expect(serving).toMatchObject({ createdAt: expect.any(String), servingSince: expect.any(String) });
    expect(await generation(building.id)).toEqual(building);
    expect((await request(http).get(GENERATIONS).query({ entityType: 'product' }).set(AS_VIEWER).expect(200)).body).toEqual(list);
    expect((await request(http).get(GENERATIONS).query({ entityType: 'ticket' }).set(AS_VIEWER).expect(200)).body).toEqual([]);
    const bad = await request(http).get(GENERATIONS).query({ entityType: 'no spaces' }).set(AS_VIEWER).expect(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ field: 'entityType', rule: 'matches' })]);
    // Nothing was backfilled into the new generation yet, and the serving one is complete.
    expect([await vectorsOf(serving.id), await vectorsOf(building.id)]).toEqual([N, 0]);
  });

  it('needs a token, and a viewer token may read but not POST (403); bad bodies are 400 naming the field', async () => {
    const routes: Array<['get' | 'post', string]> = [
      ['get', GENERATIONS],
      ['get', `${GENERATIONS}/${building.id}`],
      ['get', `${GENERATIONS}/${building.id}/audit`],
      ['post', GENERATIONS],
      ['post', `${GENERATIONS}/rollback`],
      ['post', `${GENERATIONS}/${building.id}/validate`],
      ['post', `${GENERATIONS}/${building.id}/cutover`],
      ['post', `${GENERATIONS}/${building.id}/retire`],
    ];
    for (const [method, path] of routes) {
      const none = await request(http)[method](path);
      expect({ method, path, status: none.status, auth: none.headers['www-authenticate'] }).toEqual({ method, path, status: 401, auth: expect.stringMatching(/^Bearer/) });
      const viewer = await request(http)[method](path).set(AS_VIEWER);
      expect({ method, path, status: viewer.status }).toEqual({ method, path, status: method === 'get' ? 200 : 403 });
    }
    const forbidden = await request(http).post(GENERATIONS).set(AS_VIEWER).send({ entityType: 'product' }).expect(403);
    expect(forbidden.body.message).toMatch(/role "viewer", which may only read \(GET\)\. POST needs a token with the role "admin"/);
    await request(http).post(`${GENERATIONS}/rollback`).set(AS_VIEWER).send({ entityType: 'product' }).expect(403);
    await request(http).post(`${GENERATIONS}/${building.id}/retire`).set(AS_VIEWER).expect(403);

    const tooBig = await request(http).post(GENERATIONS).set(AS_ADMIN).send({ entityType: 'product', batchSize: 0 }).expect(400);
    expect(tooBig.body).toMatchObject({ statusCode: 400, error: 'Bad Request', details: [expect.objectContaining({ field: 'batchSize', rule: 'min' })] });
    const unknownKey = await request(http).post(GENERATIONS).set(AS_ADMIN).send({ entityType: 'product', reindexExisting: true }).expect(400);
    expect(unknownKey.body.details).toEqual([expect.objectContaining({ field: 'reindexExisting', rule: 'whitelistValidation' })]);
    const unknownType = await request(http).post(GENERATIONS).set(AS_ADMIN).send({ entityType: 'ticket' }).expect(400);
    expect(unknownType.body).toMatchObject({ message: 'Unknown entity type "ticket"; known types: product.', knownEntityTypes: ['product'] });
    await request(http).post(GENERATIONS).set(AS_ADMIN).set('Content-Type', 'text/plain').send('{"entityType":"product"}').expect(415);
    const noType = await request(http).post(`${GENERATIONS}/rollback`).set(AS_ADMIN).send({}).expect(400);
    expect(noType.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'entityType' })]));
    // None of these created a job.
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs WHERE generation_id = $1`, [building.id])).toBe(0);
  });

  it('ids: "abc", 0 and an int4 overflow are 400 naming "id"; an unknown id is 404 on every route', async () => {
    for (const bad of ['abc', '0', '-1', '1.5', '1e3', '0x10', '007', '%207', '99999999999', 'rollback']) {
      const res = await request(http).get(`${GENERATIONS}/${bad}`).set(AS_VIEWER).expect(400);
      expect(res.body).toMatchObject({ message: expect.stringMatching(/^Path parameter "id" is .* must be an index generation id/), details: [{ field: 'id', rule: 'isGenerationId', message: expect.any(String) }] });
    }
    await request(http).post(`${GENERATIONS}/abc/cutover`).set(AS_ADMIN).send({}).expect(400);
    const missing = 999_999;
    const routes: Array<['get' | 'post', string]> = [
      ['get', `${GENERATIONS}/${missing}`],
      ['get', `${GENERATIONS}/${missing}/audit`],
      ['post', `${GENERATIONS}/${missing}/validate`],
      ['post', `${GENERATIONS}/${missing}/cutover`],
      ['post', `${GENERATIONS}/${missing}/retire`],
    ];
    for (const [method, path] of routes) {
      const res = await request(http)[method](path).set(AS_ADMIN).expect(404);
      expect({ path, body: res.body }).toEqual({
        path,
        body: { statusCode: 404, error: 'Not Found', message: `Index generation ${missing} does not exist; list the generations with GET /api/ai/migration/generations.` },
      });
    }
  });

  it('the job routes and the generation routes do not capture each other', async () => {
    expect(Array.isArray((await request(http).get(GENERATIONS).set(AS_VIEWER).expect(200)).body)).toBe(true);
    expect((await request(http).get(`${BASE}/jobs/generations`).set(AS_VIEWER).expect(400)).body.details).toEqual([expect.objectContaining({ field: 'id', rule: 'isUuid' })]);
    expect((await request(http).get(`${BASE}/jobs`).set(AS_VIEWER).expect(200)).body).toMatchObject({ items: expect.any(Array), total: expect.any(Number) });
  });

  it('POST /generations returns the BUILDING generation and its RUNNING backfill job; the generation becomes READY', async () => {
    const res = await request(http).post(GENERATIONS).set(AS_ADMIN).send({ entityType: 'product', batchSize: 100, rateLimit: 1000 }).expect(201);
    expect(res.body.generation).toMatchObject({ id: building.id, state: 'BUILDING' });
    expect(res.body.job).toMatchObject({ entityType: 'product', status: 'RUNNING', batchSize: 100, rateLimit: 1000, createdBy: 'ops-admin', totalEntities: N });
    const jobId: string = res.body.job.id;
    expect(await countOf(ctx.dataSource, `SELECT generation_id AS n FROM ai_migration_jobs WHERE id = $1`, [jobId])).toBe(building.id);
    await waitUntil(
      'the backfill of the new generation completed',
      async () => (await request(http).get(`${BASE}/jobs/${jobId}`).set(AS_VIEWER).expect(200)).body.status === 'COMPLETED',
      60_000,
    );
    // On PostgreSQL the HNSW index is built in the background after the load, then the generation is READY.
    await waitUntil('the new generation is READY', async () => (await generation(building.id)).state === 'READY', 60_000);
    const ready = await generation(building.id);
    expect(ready).toMatchObject({ state: 'READY', readyAt: expect.any(String), servingSince: null });
    if (engine === 'postgres') expect(ready.indexName).toBe(`ai_searchable_entities_hnsw_g${building.id}`);
    else expect(ready.indexName).toBeNull();
    expect([await vectorsOf(serving.id), await vectorsOf(building.id)]).toEqual([N, N]);
    expect((await generation(serving.id)).state).toBe('SERVING');
  });

  it('a cutover without a passed gate is 409 with a sentence and the stored report; validate answers the report; then the cutover is 200', async () => {
    const unvalidated = await request(http).post(`${GENERATIONS}/${building.id}/cutover`).set(AS_ADMIN).send({}).expect(409);
    expect(unvalidated.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: `Index generation ${building.id} of "product" has not been validated; run the quality gate (POST …/generations/${building.id}/validate) first, or cut over with force.`,
      report: null,
    });

    for (const [body, field] of [
      [{ k: 0 }, 'k'],
      [{ minRecall: 2 }, 'minRecall'],
      [{ maxMissing: -1 }, 'maxMissing'],
      [{ queries: 'boots' }, 'queries'],
      [{ queries: [{ query: '' }] }, 'queries[0].query'],
      [{ queries: [{ query: 'boots', expectedIds: [{}] }] }, 'queries[0].expectedIds'],
      [{ queries: [{ query: 'boots', filter: 'Footwear' }] }, 'queries[0].filter'],
      [{ queries: [{ query: 'boots', limit: 3 }] }, 'queries[0].limit'],
      [{ force: true }, 'force'],
    ] as const) {
      const res = await request(http).post(`${GENERATIONS}/${building.id}/validate`).set(AS_ADMIN).send(body).expect(400);
      expect({ field, fields: res.body.details.map((d: { field: string }) => d.field) }).toEqual({ field, fields: expect.arrayContaining([field]) });
    }
    await request(http).post(`${GENERATIONS}/${building.id}/cutover`).set(AS_ADMIN).send({ force: 'yes' }).expect(400);

    // A gate that fails: an expected id that no product has.
    const failing = await request(http)
      .post(`${GENERATIONS}/${building.id}/validate`)
      .set(AS_ADMIN)
      .send({ queries: [{ query: 'waterproof hiking boots', expectedIds: ['00000000-0000-4000-8000-000000000000'] }] })
      .expect(200);
    expect(failing.body).toMatchObject({ generationId: building.id, passed: false, recallAtK: 0, failures: [expect.stringMatching(/^Recall@10 is 0\.000, below 0\.8\.$/)] });
    const refused = await request(http).post(`${GENERATIONS}/${building.id}/cutover`).set(AS_ADMIN).send({}).expect(409);
    expect(refused.body).toMatchObject({ statusCode: 409, message: expect.stringMatching(/failed its quality gate: Recall@10 is 0\.000, below 0\.8\. Fix it/), report: failing.body });

    const queries = [
      { query: 'waterproof hiking boots', expectedIds: [ids[0]] },
      { query: 'espresso machine with steam wand', expectedIds: [ids[1]], filter: { category: 'Kitchen' } },
      { query: 'ergonomic desk chair' },
    ];
    const report = (await request(http).post(`${GENERATIONS}/${building.id}/validate`).set(AS_ADMIN).send({ queries, k: 5, minOverlap: 0.1 }).expect(200)).body;
    expect(report).toMatchObject({
      generationId: building.id,
      comparedWith: serving.id,
      k: 5,
      coverage: { sourceRows: N, vectors: N, missing: 0, stale: 0, orphaned: 0 },
      recallAtK: 1,
      thresholds: { minRecall: 0.8, minOverlap: 0.1, maxMissing: 0, maxStale: 0 },
      passed: true,
      failures: [],
      validatedAt: expect.any(String),
    });
    expect(report.queries).toEqual([
      { query: queries[0].query, recall: 1, overlap: expect.any(Number) },
      { query: queries[1].query, recall: 1, overlap: expect.any(Number) },
      { query: queries[2].query, recall: null, overlap: expect.any(Number) },
    ]);
    expect(await generation(building.id)).toMatchObject({ gatePassed: true, qualityReport: report });

    const cutover = (await request(http).post(`${GENERATIONS}/${building.id}/cutover`).set(AS_ADMIN).send({}).expect(200)).body;
    expect(cutover).toMatchObject({
      entityType: 'product',
      serving: { id: building.id, state: 'SERVING', servingSince: expect.any(String) },
      previous: { id: serving.id, state: 'READY' },
      forced: false,
    });
    const again = await request(http).post(`${GENERATIONS}/${building.id}/cutover`).set(AS_ADMIN).expect(409);
    expect(again.body.message).toBe(`Index generation ${building.id} already serves "product"; nothing to cut over.`);
  });

  it('search answers from the new generation; a rollback serves the old one again', async () => {
    const search = async (q: string): Promise<string[]> =>
      (await request(http).get('/api/ai/search').set(AS_VIEWER).query({ entityType: 'product', q, limit: 3 }).expect(200)).body.results.map((r: { entityId: string }) => r.entityId);
    expect((await search('espresso machine'))[0]).toBe(ids[1]);
    // Which generation answers shows when they differ: the boots lose their vector in the new one only.
    await ctx.dataSource.query(`DELETE FROM ai_searchable_entities WHERE generation_id = $1 AND entity_id = $2`, [building.id, ids[0]]);
    expect(await search('waterproof hiking boots')).not.toContain(ids[0]);

    const rollback = (await request(http).post(`${GENERATIONS}/rollback`).set(AS_ADMIN).send({ entityType: 'product' }).expect(200)).body;
    expect(rollback).toMatchObject({ entityType: 'product', serving: { id: serving.id, state: 'SERVING' }, previous: { id: building.id, state: 'READY' }, forced: false });
    expect((await generation(serving.id)).state).toBe('SERVING');
    expect((await search('waterproof hiking boots'))[0]).toBe(ids[0]);
    const unknown = await request(http).post(`${GENERATIONS}/rollback`).set(AS_ADMIN).send({ entityType: 'ticket' }).expect(400);
    expect(unknown.body.knownEntityTypes).toEqual(['product']);
  });

  it('retire: the serving generation is refused (409); the other one is RETIRED and its vectors go; a RETIRED one cannot serve (409)', async () => {
    const servingOne = await request(http).post(`${GENERATIONS}/${serving.id}/retire`).set(AS_ADMIN).expect(409);
    expect(servingOne.body.message).toBe(`Index generation ${serving.id} serves "product" and cannot be retired; cut over to another generation (or roll back) first.`);

    const retired = (await request(http).post(`${GENERATIONS}/${building.id}/retire`).set(AS_ADMIN).expect(200)).body;
    expect(retired).toMatchObject({ id: building.id, state: 'RETIRED' });
    await waitUntil('the retired generation\'s vectors are deleted', async () => (await generation(building.id)).retiredAt !== null, 60_000);
    expect(await vectorsOf(building.id)).toBe(0);
    expect(await vectorsOf(serving.id)).toBe(N);
    if (engine === 'postgres') {
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = $1`, [`ai_searchable_entities_hnsw_g${building.id}`])).toBe(0);
    }

    const cutover = await request(http).post(`${GENERATIONS}/${building.id}/cutover`).set(AS_ADMIN).send({ force: true }).expect(409);
    expect(cutover.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: `Index generation ${building.id} of "product" is RETIRED; only a READY generation can serve (build a new one).`,
    });
    await request(http).post(`${GENERATIONS}/${building.id}/retire`).set(AS_ADMIN).expect(409);
    await request(http).post(`${GENERATIONS}/${building.id}/validate`).set(AS_ADMIN).send({}).expect(409);
    const noPrevious = await request(http).post(`${GENERATIONS}/rollback`).set(AS_ADMIN).send({ entityType: 'product' }).expect(409);
    expect(noPrevious.body.message).toMatch(/^"product" has no previous generation to roll back to/);
  });

  it('the audit log of each generation lists who created, validated, cut over, rolled back and retired it', async () => {
    type Entry = { jobId: string | null; generationId: number; action: string; actor: string; fromStatus: string | null; toStatus: string; details: Record<string, unknown> };
    const auditOf = async (id: number): Promise<Entry[]> => (await request(http).get(`${GENERATIONS}/${id}/audit`).set(AS_VIEWER).expect(200)).body;
    const built = await auditOf(building.id);
    expect(built.map((e) => [e.action, e.actor, e.fromStatus, e.toStatus])).toEqual([
      ['generation-create', 'ops-admin', null, 'BUILDING'],
      ['generation-validate', 'ops-admin', 'READY', 'READY'],
      ['generation-validate', 'ops-admin', 'READY', 'READY'],
      ['generation-cutover', 'ops-admin', 'READY', 'SERVING'],
      ['generation-retire', 'ops-admin', 'READY', 'RETIRED'],
    ]);
    expect(built.every((e) => e.jobId === null && e.generationId === building.id)).toBe(true);
    expect(built[1].details).toMatchObject({ passed: false });
    expect(built[3].details).toMatchObject({ entityType: 'product', previous: serving.id, forced: false });
    // A rollback is recorded on the generation that serves again.
    expect((await auditOf(serving.id)).map((e) => [e.action, e.actor, e.fromStatus, e.toStatus, e.details])).toEqual([
      ['generation-rollback', 'ops-admin', 'READY', 'SERVING', { entityType: 'product', from: building.id }],
    ]);
  });
});
