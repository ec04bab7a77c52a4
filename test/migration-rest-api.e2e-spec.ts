import { randomUUID } from 'node:crypto';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { ADMIN_TOKEN, AS_ADMIN, AS_SEARCH, AS_VIEWER, VIEWER_TOKEN, webTestOptions } from './fixtures/web-auth.fixture';
import { CapturedLogger } from './support/captured-logger';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const N = 200;
const BASE = '/api/ai/migration';
/** The dashboard page and its assets (not in the OpenAPI document), served without a token. */
const DASHBOARD = `${BASE}/dashboard`;
const DASHBOARD_ASSETS = ['dashboard.js', 'dashboard.css', 'eventsource-parser.js'].map((file) => `${DASHBOARD}/assets/${file}`);

/** Reads a text/event-stream response to its end and splits it into events. */
function parseEvents(text: string): Array<{ id?: string; event?: string; data?: unknown }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      const event: { id?: string; event?: string; data?: unknown } = {};
      for (const line of block.split('\n')) {
        const [key, ...rest] = line.split(': ');
        const value = rest.join(': ');
        if (key === 'id') event.id = value;
        if (key === 'event') event.event = value;
        if (key === 'data') event.data = JSON.parse(value);
      }
      return event;
    });
}

/** A supertest parser that keeps an event stream's text (superagent hands it the raw response stream). */
const collectText = (res: unknown, callback: (err: Error | null, body: string) => void) => {
  const stream = res as NodeJS.ReadableStream & { setEncoding(encoding: string): void };
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  stream.on('end', () => callback(null, text));
};

/**
 * Every endpoint of /api/ai/migration through real HTTP (supertest), with the real openai client against
 * the local fake server, on PGlite and on PostgreSQL.
 */
describeEachEngine('Migration REST API', ({ getUrl }) => {
  let ctx: IndexingApp;
  let server: FakeOpenAiServer;
  let http: ReturnType<IndexingApp['app']['getHttpServer']>;
  const logs = new CapturedLogger();

  const progressOf = async (id: string) => (await request(http).get(`${BASE}/jobs/${id}`).set(AS_VIEWER).expect(200)).body;
  const finish = async (id: string) => {
    await waitUntil(`job ${id} ended`, async () => (await progressOf(id)).status !== MigrationStatus.RUNNING, 60_000);
    return progressOf(id);
  };
  const cancelActive = async () => {
    const { body } = await request(http).get(`${BASE}/jobs`).query({ entityType: 'product' }).set(AS_ADMIN).expect(200);
    for (const job of body.items) {
      // 409: it ended between the list and the cancel.
      if (['RUNNING', 'PAUSED', 'PENDING'].includes(job.status)) expect([204, 409]).toContain((await request(http).delete(`${BASE}/jobs/${job.id}`).set(AS_ADMIN)).status);
    }
  };

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32 });
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      swagger: true,
      logger: logs,
      migration: { pricePerMillionTokens: 0.02 },
      web: webTestOptions(),
      core: {
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: 'text-embedding-3-small', dimensions: 32 },
        liveIndexing: false,
        // 50 items per provider request, so a job of 200 items needs 4 requests (and rateLimit 1 holds it for minutes).
        worker: { batchSize: 50 },
        queue: { maxRetries: 2, backoffBaseMs: 0 },
      },
    });
    http = ctx.app.getHttpServer();
    await insertProducts(ctx.dataSource, generatedProducts(N, 'rest item'));
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  afterEach(async () => {
    server.reset();
    await cancelActive();
  });

  it('POST /start creates a RUNNING job (201, the spec\'s fields), GET /jobs/{id} follows it to COMPLETED, createdBy is the token name', async () => {
    const res = await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', batchSize: 100, reindexExisting: true }).expect(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      entityType: 'product',
      status: 'RUNNING',
      totalEntities: N,
      processedEntities: 0,
      startedAt: expect.any(String),
      batchSize: 100,
      reindexExisting: true,
      createdBy: 'ops-admin',
    });
    expect(res.body).not.toHaveProperty('leaseOwner');
    const done = await finish(res.body.id);
    expect(done).toMatchObject({
      jobId: res.body.id,
      status: 'COMPLETED',
      progress: { total: N, processed: N, failed: 0, percentComplete: 100, estimatedTimeRemaining: 'PT0S' },
      skipped: 0,
      throughput: expect.any(Number),
      completedAt: expect.any(String),
    });
    expect(await ctx.vectorStore.count('product')).toBe(N);
  });

  it('GET /jobs filters by status and entity type, newest first, with pagination and a total', async () => {
    const second = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product' }).expect(201)).body;
    await finish(second.id);
    const all = (await request(http).get(`${BASE}/jobs`).set(AS_VIEWER).expect(200)).body;
    expect(all.total).toBeGreaterThanOrEqual(2);
    expect(all.items[0].id).toBe(second.id);
    const page = (await request(http).get(`${BASE}/jobs`).query({ limit: 1, offset: 1 }).set(AS_VIEWER).expect(200)).body;
    expect(page).toMatchObject({ limit: 1, offset: 1, total: all.total });
    expect(page.items).toEqual([all.items[1]]);
    const completed = (await request(http).get(`${BASE}/jobs`).query({ status: 'COMPLETED', entityType: 'product' }).set(AS_VIEWER).expect(200)).body;
    expect(completed.items.every((j: { status: string }) => j.status === 'COMPLETED')).toBe(true);
    expect((await request(http).get(`${BASE}/jobs`).query({ entityType: 'ticket' }).set(AS_VIEWER).expect(200)).body).toMatchObject({ items: [], total: 0 });
    const bad = await request(http).get(`${BASE}/jobs`).query({ status: 'DONE', limit: 0 }).set(AS_VIEWER).expect(400);
    expect(bad.body.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'status', rule: 'isEnum' }),
        expect.objectContaining({ field: 'limit', rule: 'min' }),
      ]),
    );
  });

  it('pause → resume → PATCH rateLimit → DELETE: 200, 200, 200, 204; invalid transitions are 409 with the current status; the audit log says who did what', async () => {
    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1, reindexExisting: true }).expect(201)).body;
    const paused = await request(http).post(`${BASE}/jobs/${job.id}/pause`).set(AS_ADMIN).send({ reason: 'maintenance window' }).expect(200);
    expect(paused.body).toMatchObject({ id: job.id, status: 'PAUSED', errorMessage: 'maintenance window' });
    const again = await request(http).post(`${BASE}/jobs/${job.id}/pause`).set(AS_ADMIN).expect(409);
    expect(again.body).toMatchObject({ statusCode: 409, error: 'Conflict', currentStatus: 'PAUSED', message: expect.stringMatching(/it is PAUSED.*can be: resumed/) });

    expect((await request(http).post(`${BASE}/jobs/${job.id}/resume`).set(AS_ADMIN).expect(200)).body).toMatchObject({ status: 'RUNNING', errorMessage: null });
    const resumedTwice = await request(http).post(`${BASE}/jobs/${job.id}/resume`).set(AS_ADMIN).expect(409);
    expect(resumedTwice.body.currentStatus).toBe('RUNNING');

    expect((await request(http).patch(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).send({ rateLimit: 7 }).expect(200)).body).toMatchObject({ rateLimit: 7 });
    const badPatch = await request(http).patch(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).send({ rateLimit: 0 }).expect(400);
    expect(badPatch.body.details).toEqual([expect.objectContaining({ field: 'rateLimit', rule: 'min' })]);

    const cancelled = await request(http).delete(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).expect(204);
    expect(cancelled.text).toBe('');
    expect((await progressOf(job.id)).status).toBe('CANCELLED');
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = $1 AND status = 'PENDING'`, [job.id])).toBe(0);
    const resumeCancelled = await request(http).post(`${BASE}/jobs/${job.id}/resume`).set(AS_ADMIN).expect(409);
    expect(resumeCancelled.body).toMatchObject({ currentStatus: 'CANCELLED', message: expect.stringContaining('start a new job') });
    await request(http).delete(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).expect(409);

    const audit = (await request(http).get(`${BASE}/jobs/${job.id}/audit`).set(AS_VIEWER).expect(200)).body;
    expect(audit.map((e: { action: string; actor: string; fromStatus: string | null; toStatus: string }) => [e.action, e.actor, e.fromStatus, e.toStatus])).toEqual([
      ['start', 'ops-admin', null, 'RUNNING'],
      ['pause', 'ops-admin', 'RUNNING', 'PAUSED'],
      ['resume', 'ops-admin', 'PAUSED', 'RUNNING'],
      ['rethrottle', 'ops-admin', 'RUNNING', 'RUNNING'],
      ['cancel', 'ops-admin', 'RUNNING', 'CANCELLED'],
    ]);
    expect(audit[3].details).toEqual({ from: 1, to: 7 });
    expect(audit[1].details).toEqual({ reason: 'maintenance window' });

    // Append-only: the database itself refuses to rewrite or delete history.
    await expect(ctx.dataSource.query(`UPDATE ai_migration_audit_log SET actor = 'someone-else'`)).rejects.toThrow(/append-only/);
    await expect(ctx.dataSource.query(`DELETE FROM ai_migration_audit_log`)).rejects.toThrow(/append-only/);
  });

  it('maps domain errors: unknown entity type 400 with the known ones, active job 409 with its id, unknown job 404, malformed id 400', async () => {
    const unknown = await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'ticket' }).expect(400);
    expect(unknown.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Unknown entity type "ticket"; known types: product.',
      details: [{ field: 'entityType', rule: 'knownEntityType', message: 'Unknown entity type "ticket"; known types: product.' }],
      knownEntityTypes: ['product'],
    });
    // Domain-level 400s name the field too.
    const badIds = await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', filters: { ids: ['not-a-uuid'] } }).expect(400);
    expect(badIds.body.details).toEqual([{ field: 'filters.ids[0]', rule: 'invalidValue', message: expect.stringContaining('ids of "product" are a uuid') }]);
    const weekDate = await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', filters: { createdBefore: '2024-W01-1' } }).expect(400);
    expect(weekDate.body.details).toEqual([expect.objectContaining({ field: 'filters.createdBefore', rule: 'matches' })]);
    const first = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1, reindexExisting: true }).expect(201)).body;
    const second = await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product' }).expect(409);
    expect(second.body).toMatchObject({ statusCode: 409, error: 'Conflict', activeJobIds: [first.id], message: expect.stringContaining(first.id) });

    const missing = randomUUID();
    for (const [method, path] of [
      ['get', `/jobs/${missing}`],
      ['post', `/jobs/${missing}/pause`],
      ['post', `/jobs/${missing}/resume`],
      ['patch', `/jobs/${missing}`],
      ['delete', `/jobs/${missing}`],
      ['get', `/jobs/${missing}/failures`],
      ['post', `/jobs/${missing}/retry-failed`],
      ['get', `/jobs/${missing}/events`],
      ['get', `/jobs/${missing}/audit`],
    ] as const) {
      const res = await request(http)[method](`${BASE}${path}`).set(AS_ADMIN).send(method === 'patch' ? { rateLimit: 5 } : {});
      expect({ path, status: res.status, body: res.body }).toMatchObject({ status: 404, body: { statusCode: 404, error: 'Not Found', message: expect.stringContaining(missing) } });
    }
    const malformed = await request(http).get(`${BASE}/jobs/not-a-uuid`).set(AS_ADMIN).expect(400);
    expect(malformed.body).toMatchObject({ statusCode: 400, details: [{ field: 'id', rule: 'isUuid', message: 'id must be a UUID' }] });
  });

  it('POST /estimate answers the dry run without a provider call or a write', async () => {
    const jobsBefore = await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs`);
    const requestsBefore = server.requests.length;
    const res = await request(http).post(`${BASE}/estimate`).set(AS_ADMIN).send({ entityType: 'product', reindexExisting: true, rateLimit: 60 }).expect(200);
    expect(res.body).toMatchObject({ entityType: 'product', matching: N, wouldSkip: 0, wouldEmbed: N, estimatedRequests: 4, tokenCountBasis: 'tokenizer' });
    // 4 requests at 60/min take 4 s, unless an earlier job of this suite measured the machine slower.
    if (res.body.durationBasis === 'job-rate-limit') expect(res.body.estimatedDuration).toBe('PT4S');
    else expect(res.body).toMatchObject({ durationBasis: 'measured', estimatedDuration: expect.stringMatching(/^PT/) });
    expect(res.body.estimatedCostUsd).toBeCloseTo((res.body.estimatedTokens * 0.02) / 1_000_000, 4);
    const skipping = await request(http).post(`${BASE}/estimate`).set(AS_ADMIN).send({ entityType: 'product', filters: { ids: [randomUUID()] } }).expect(200);
    expect(skipping.body).toMatchObject({ matching: 0, wouldEmbed: 0 });
    expect(server.requests.length).toBe(requestsBefore);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs`)).toBe(jobsBefore);
  });

  it('GET /failures lists entities failed by a provider that refuses the key (a permanent error); POST /retry-failed re-runs them to COMPLETED', async () => {
    server.failNext(1000, { status: 401 });
    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', reindexExisting: true, filters: { ids: [] } }).expect(400)).body;
    expect(job.details).toEqual([expect.objectContaining({ field: 'filters.ids', rule: 'arrayMinSize' })]);

    const ids = (await ctx.dataSource.query(`SELECT id FROM products ORDER BY id LIMIT 20`)).map((r: { id: string }) => r.id);
    const started = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', reindexExisting: true, filters: { ids } }).expect(201)).body;
    const failedRun = await finish(started.id);
    expect(failedRun).toMatchObject({ status: 'COMPLETED', progress: { total: 20, processed: 0, failed: 20 } });
    const failures = (await request(http).get(`${BASE}/jobs/${started.id}/failures`).set(AS_VIEWER).expect(200)).body;
    expect(failures).toHaveLength(20);
    expect(failures[0]).toMatchObject({ entityId: expect.any(String), attempts: 2, error: expect.stringContaining('HTTP 401'), lastAttemptAt: expect.any(String) });

    server.reset();
    const viewerRetry = await request(http).post(`${BASE}/jobs/${started.id}/retry-failed`).set(AS_VIEWER).send({}).expect(403);
    expect(viewerRetry.body.message).toMatch(/role "viewer".*needs a token with the role "admin"/);
    const some = await request(http).post(`${BASE}/jobs/${started.id}/retry-failed`).set(AS_ADMIN).send({ entityIds: [failures[0].entityId] }).expect(200);
    expect(some.body).toMatchObject({ retried: 1, job: { id: started.id, status: 'RUNNING' } });
    await finish(started.id);
    const rest = await request(http).post(`${BASE}/jobs/${started.id}/retry-failed`).set(AS_ADMIN).expect(200);
    expect(rest.body.retried).toBe(19);
    expect(await finish(started.id)).toMatchObject({ status: 'COMPLETED', progress: { processed: 20, failed: 0 } });
    expect((await request(http).get(`${BASE}/jobs/${started.id}/failures`).set(AS_VIEWER).expect(200)).body).toEqual([]);
    const badIds = await request(http).post(`${BASE}/jobs/${started.id}/retry-failed`).set(AS_ADMIN).send({ entityIds: ['../../etc/passwd'] }).expect(400);
    expect(badIds.body.message).toMatch(/"entityIds\[0\]" is "..\/..\/etc\/passwd"; ids of "product" are a uuid/);
  });

  it('GET /jobs/{id}/events streams progress snapshots until the job ends; Last-Event-ID resumes after the last one', async () => {
    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', reindexExisting: true, rateLimit: 120 }).expect(201)).body;
    const res = await request(http).get(`${BASE}/jobs/${job.id}/events`).set(AS_VIEWER).buffer(true).parse(collectText).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/event-stream/);
    const events = parseEvents(res.body as string);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.every((e) => e.event === 'progress' && typeof e.id === 'string')).toBe(true);
    const last = events[events.length - 1];
    expect(last.data).toMatchObject({ jobId: job.id, status: 'COMPLETED', progress: { processed: N, percentComplete: 100 } });
    const processed = events.map((e) => (e.data as { progress: { processed: number } }).progress.processed);
    expect(processed).toEqual([...processed].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // Reconnecting with the id of the final snapshot: nothing new to send, and the stream ends at once.
    const replay = await request(http).get(`${BASE}/jobs/${job.id}/events`).set(AS_VIEWER).set('Last-Event-ID', last.id!).buffer(true).parse(collectText).expect(200);
    expect(parseEvents(replay.body as string)).toEqual([]);
    // With an older id, the client gets the current snapshot.
    const older = await request(http).get(`${BASE}/jobs/${job.id}/events`).set(AS_VIEWER).set('Last-Event-ID', events[0].id!).buffer(true).parse(collectText).expect(200);
    expect(parseEvents(older.body as string)).toEqual([last]);
  });

  it('concurrent retry-failed of a COMPLETED job and a start for its entity type: exactly one wins, the other is a 409, never a 500', async () => {
    const ids = (await ctx.dataSource.query(`SELECT id FROM products ORDER BY id LIMIT 5`)).map((r: { id: string }) => r.id);
    for (let round = 0; round < 3; round++) {
      server.failNext(1000, { status: 401 });
      const failed = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', reindexExisting: true, filters: { ids } }).expect(201)).body;
      expect(await finish(failed.id)).toMatchObject({ status: 'COMPLETED', progress: { failed: 5 } });
      server.reset();
      const [retry, start] = await Promise.all([
        request(http).post(`${BASE}/jobs/${failed.id}/retry-failed`).set(AS_ADMIN).send({}),
        request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1, reindexExisting: true }),
      ]);
      expect([retry.status, start.status].sort()).toEqual(retry.status === 200 ? [200, 409] : [201, 409]);
      const loser = retry.status === 200 ? start : retry;
      expect(loser.body).toMatchObject({ statusCode: 409, activeJobIds: [expect.any(String)] });
      // The winner may already have finished (the retried items are few); two active jobs would be the bug.
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs WHERE status IN ('PENDING', 'RUNNING', 'PAUSED')`)).toBeLessThanOrEqual(1);
      await cancelActive();
    }
  });

  it('concurrent rethrottle and pause: the paused job keeps every item held back, whichever commits first', async () => {
    const job = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1, reindexExisting: true }).expect(201)).body;
    await waitUntil('the first page enqueued', async () => (await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = $1`, [job.id])) > 0);
    // The start, each rethrottle and each resume release one request's worth of items at once (50 of 200
    // here), so two rounds keep the job running: at most 150 items are released before the second round.
    for (let round = 0; round < 2; round++) {
      const [patch, pause] = await Promise.all([
        request(http).patch(`${BASE}/jobs/${job.id}`).set(AS_ADMIN).send({ rateLimit: 2 + round }),
        request(http).post(`${BASE}/jobs/${job.id}/pause`).set(AS_ADMIN).send({}),
      ]);
      expect({ round, patch: patch.status, pause: pause.status, body: patch.status === 200 ? undefined : patch.body }).toEqual({ round, patch: 200, pause: 200, body: undefined });
      expect((await progressOf(job.id)).status).toBe('PAUSED');
      expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue WHERE owner = $1 AND status = 'PENDING' AND run_after <> 'infinity'`, [job.id])).toBe(0);
      if (round < 1) await request(http).post(`${BASE}/jobs/${job.id}/resume`).set(AS_ADMIN).expect(200);
    }
    const audit = (await request(http).get(`${BASE}/jobs/${job.id}/audit`).set(AS_VIEWER).expect(200)).body as Array<{ action: string; fromStatus: string; toStatus: string }>;
    // Each entry's fromStatus is the status the change really started from.
    for (let i = 1; i < audit.length; i++) expect({ i, from: audit[i].fromStatus }).toEqual({ i, from: audit[i - 1].toStatus });
  });

  it('every route of the OpenAPI document (migration, audit, monitoring, search, auth) answers 401 without a valid token, 403 for a viewer on changes and for a search token off search', async () => {
    const doc = (await request(http).get('/api/docs-json').expect(200)).body;
    const routes: Array<{ method: string; path: string }> = [];
    for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
      if (!path.startsWith('/api/ai/') || path === DASHBOARD) continue;
      for (const method of Object.keys(item)) routes.push({ method, path: path.replace('{id}', randomUUID()) });
    }
    // 23 migration routes; audit; health, metrics, queue, provider; search; auth/me.
    expect(routes.length).toBe(30);
    // The dashboard's page and assets are the only routes without a token: static files, no data.
    for (const path of [DASHBOARD, ...DASHBOARD_ASSETS]) expect({ path, status: (await request(http).get(path)).status }).toEqual({ path, status: 200 });
    // The document must list every route Nest registered (a route hidden from it would escape this test).
    const router = ctx.app.getHttpAdapter().getInstance().router as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
    const registered = router.stack
      .filter((layer) => layer.route?.path.startsWith('/api/ai/') && !DASHBOARD_ASSETS.includes(layer.route.path))
      .flatMap((layer) => Object.keys(layer.route!.methods).map((m) => `${m} ${layer.route!.path.replace(':id', '{id}')}`));
    const documented = Object.entries<Record<string, unknown>>(doc.paths)
      .filter(([path]) => path.startsWith('/api/ai/'))
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`));
    expect(registered.sort()).toEqual(documented.sort());
    const jobId = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1, reindexExisting: true }).expect(201)).body.id;
    for (const { method, path } of routes) {
      const call = () => request(http)[method as 'get'](path);
      const none = await call();
      expect({ method, path, status: none.status }).toEqual({ method, path, status: 401 });
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(none.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.stringContaining('Authorization: Bearer') });
      for (const header of [`Bearer ${ADMIN_TOKEN}x`, `Basic ${Buffer.from(`a:${ADMIN_TOKEN}`).toString('base64')}`, `Bearer`, ADMIN_TOKEN]) {
        expect({ method, path, status: (await call().set('Authorization', header)).status }).toEqual({ method, path, status: 401 });
      }
      const viewer = await call().set(AS_VIEWER);
      if (method === 'get') expect([401, 403]).not.toContain(viewer.status);
      else expect({ method, path, status: viewer.status }).toEqual({ method, path, status: 403 });
      // A search-only token may search and ask who it is; everything else is 403 before the route runs.
      const searching = await call().set(AS_SEARCH);
      if (method === 'get' && (path === '/api/ai/search' || path === '/api/ai/auth/me')) expect([401, 403]).not.toContain(searching.status);
      else expect({ method, path, status: searching.status }).toEqual({ method, path, status: 403 });
    }
    // The job a viewer tried to change is untouched.
    expect((await progressOf(jobId)).status).toBe('RUNNING');
    expect((await request(http).get(`${BASE}/jobs/${jobId}/audit`).set(AS_VIEWER).expect(200)).body).toHaveLength(1);
  });

  it('rejects invalid bodies naming each field and rule, unknown properties (no mass assignment), invalid JSON and oversized bodies', async () => {
    const res = await request(http)
      .post(`${BASE}/start`)
      .set(AS_ADMIN)
      .send({ entityType: 'product', batchSize: 5001, rateLimit: '100', reindexExisting: 'yes', status: 'COMPLETED', processedEntities: 10, filters: { createdBefore: 'yesterday', extra: 1 } })
      .expect(400);
    expect(res.body.statusCode).toBe(400);
    expect(res.body.error).toBe('Bad Request');
    expect(res.body.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'batchSize', rule: 'max' }),
        expect.objectContaining({ field: 'rateLimit', rule: 'isInt' }),
        expect.objectContaining({ field: 'reindexExisting', rule: 'isBoolean' }),
        expect.objectContaining({ field: 'status', rule: 'whitelistValidation' }),
        expect.objectContaining({ field: 'processedEntities', rule: 'whitelistValidation' }),
        expect.objectContaining({ field: 'filters.createdBefore', rule: 'isIso8601' }),
        expect.objectContaining({ field: 'filters.extra', rule: 'whitelistValidation' }),
      ]),
    );
    expect(res.body.message).toMatch(/^Invalid request: .*batchSize must not be greater than 5000/);

    const json = await request(http).post(`${BASE}/start`).set(AS_ADMIN).set('Content-Type', 'application/json').send('{"entityType": "product",').expect(400);
    expect(json.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining('not valid JSON') });
    // Over the body limit of /start (room for 10,000 ids of the longest allowed length).
    const big = await request(http)
      .post(`${BASE}/start`)
      .set(AS_ADMIN)
      .set('Content-Type', 'application/json')
      .send(`{"entityType":"product","filters":{"ids":["${'1'.repeat(8_000_000)}"]}}`)
      .expect(413);
    expect(big.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs WHERE status = 'RUNNING'`)).toBe(0);
  });

  it('never writes a token into job rows, audit entries or logs', async () => {
    const rows = JSON.stringify(await ctx.dataSource.query(`SELECT * FROM ai_migration_jobs`)) + JSON.stringify(await ctx.dataSource.query(`SELECT * FROM ai_migration_audit_log`));
    for (const secret of [ADMIN_TOKEN, VIEWER_TOKEN]) {
      expect(rows).not.toContain(secret);
      expect(logs.text()).not.toContain(secret);
    }
    expect(logs.text()).toContain('/api/ai/migration is registered');
  });
});

/** The changing endpoints are rate limited per token with @nestjs/throttler; reads are not. */
describeEachEngine('Migration REST API throttling', ({ getUrl }) => {
  let ctx: IndexingApp;

  beforeAll(async () => {
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, migration: {}, web: webTestOptions({ throttle: { limit: 3, ttlMs: 60_000 } }) });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('answers 429 with Retry-After after `limit` changing requests per token, and keeps reads open', async () => {
    const http = ctx.app.getHttpServer();
    const estimate = () => request(http).post(`${BASE}/estimate`).set(AS_ADMIN).send({ entityType: 'product' });
    for (let i = 0; i < 3; i++) expect((await estimate()).status).toBe(200);
    const limited = await estimate();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/at most 3 changing migration requests per 60 s/) });
    // Another route shares the budget; reads are not limited.
    expect((await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product' })).status).toBe(429);
    for (let i = 0; i < 5; i++) await request(http).get(`${BASE}/jobs`).set(AS_VIEWER).expect(200);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs`)).toBe(0);
  });
});

/** An open event stream must not hold the application's shutdown (the HTTP server waits for open responses). */
describeEachEngine('Migration REST API event streams on shutdown', ({ getUrl }) => {
  let ctx: IndexingApp;

  beforeAll(async () => {
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, migration: {}, web: webTestOptions(), core: { liveIndexing: false, worker: { batchSize: 10 } } });
    await insertProducts(ctx.dataSource, generatedProducts(50, 'stream item'));
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('ends open streams when the app closes, so close() completes while a job is still running', async () => {
    await ctx.app.listen(0, '127.0.0.1');
    const { port } = ctx.app.getHttpServer().address() as AddressInfo;
    const job = (await request(ctx.app.getHttpServer()).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product', rateLimit: 1 }).expect(201)).body;

    const received: string[] = [];
    const ended = new Promise<void>((resolveEnded, reject) => {
      get({ host: '127.0.0.1', port, path: `${BASE}/jobs/${job.id}/events`, headers: AS_VIEWER }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => received.push(chunk));
        res.on('end', resolveEnded);
        res.on('error', reject);
      }).on('error', reject);
    });
    await waitUntil('the first progress event', () => received.join('').includes('event: progress'));
    expect((await request(ctx.app.getHttpServer()).get(`${BASE}/jobs/${job.id}`).set(AS_VIEWER).expect(200)).body.status).toBe('RUNNING');

    await ctx.close();
    await ended;
    expect(received.join('')).toContain(`"jobId":"${job.id}"`);
  });
});
