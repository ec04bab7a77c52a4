import { DataMigrationService, MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import { bootIndexingApp, generatedProducts, insertProducts, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { ADMIN_TOKEN, AS_ADMIN, AS_SEARCH, AS_VIEWER, SEARCH_TOKEN, VIEWER_TOKEN } from './fixtures/web-auth.fixture';
import { CapturedLogger } from './support/captured-logger';
import { describeEachEngine } from './support/test-database';

const SEARCH = '/api/ai/search';
const SCOPED_TOKEN = 'test-scoped-search-token-0123';
const AS_SCOPED = { Authorization: `Bearer ${SCOPED_TOKEN}` };

/** The test tokens, plus a search token scoped to products' category field. */
const tokens = [
  { name: 'ops-admin', token: ADMIN_TOKEN, role: 'admin' as const },
  { name: 'dashboard', token: VIEWER_TOKEN, role: 'viewer' as const },
  { name: 'storefront', token: SEARCH_TOKEN, role: 'search' as const },
  { name: 'partner', token: SCOPED_TOKEN, role: 'search' as const, search: { entityTypes: ['product'], fields: { product: ['category'] } } },
];

/**
 * Issue 15, part 5: who may search. `GET /api/ai/search` and the monitoring routes need a bearer token by
 * default (a `search` token may only search); `auth.anonymous` opens a route group on purpose and says so
 * at startup; searches are throttled per caller; a token's search scope limits entity types, filter fields
 * and the metadata it sees. Real HTTP, on both engines.
 */
describeEachEngine('Search and monitoring access', ({ getUrl }) => {
  let locked: IndexingApp;
  let open: IndexingApp;
  const openLogs = new CapturedLogger();

  beforeAll(async () => {
    locked = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: new CapturedLogger(),
      migration: {},
      web: { auth: { tokens }, search: { throttle: { limit: 3, ttlMs: 60_000 } } },
    });
    await insertProducts(locked.dataSource, generatedProducts(30, 'access item'));
    const migrations = locked.app.get(DataMigrationService);
    const job = await migrations.indexAllEntities('product');
    await waitUntil('the products are indexed', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED, 30_000);
    open = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: openLogs,
      web: { auth: { tokens, anonymous: ['search', 'health'] }, search: { throttle: { limit: 2, ttlMs: 60_000 } } },
    });
  }, 120_000);

  afterAll(async () => {
    await open?.close();
    await locked?.close();
  });

  const search = (app: IndexingApp, headers: Record<string, string> = {}, query: Record<string, string> = {}) =>
    request(app.app.getHttpServer()).get(SEARCH).query({ entityType: 'product', q: 'access item 3', ...query }).set(headers);

  it('by default search and health need a token: 401 without one, 200 for a search, viewer or admin token', async () => {
    const none = await search(locked);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.body.message).toBe('This endpoint needs a bearer token: send the header "Authorization: Bearer <token>".');
    expect((await request(locked.app.getHttpServer()).get('/api/ai/monitoring/health')).status).toBe(401);
    for (const headers of [AS_SEARCH, AS_VIEWER]) {
      const found = await search(locked, headers);
      expect(found.status).toBe(200);
      expect(found.body.results.length).toBeGreaterThan(0);
    }
  });

  it('a search token may only search: jobs, monitoring and the audit log answer 403 with a sentence', async () => {
    const http = locked.app.getHttpServer();
    for (const path of ['/api/ai/migration/jobs', '/api/ai/monitoring/metrics', '/api/ai/monitoring/queue', '/api/ai/monitoring/health', '/api/ai/audit/entries']) {
      const res = await request(http).get(path).set(AS_SEARCH);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.body.message).toBe(`The token "storefront" has the role "search", which may only search (GET /api/ai/search). GET ${path} needs a viewer or admin token.`);
    }
    expect((await request(http).get('/api/ai/auth/me').set(AS_SEARCH).expect(200)).body).toEqual({ name: 'storefront', role: 'search' });
  });

  it('throttles searches per caller (429 with Retry-After after search.throttle.limit); other callers keep their own budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await search(locked, AS_ADMIN, { q: `throttled ${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await search(locked, AS_ADMIN);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body).toMatchObject({ statusCode: 429, message: expect.stringMatching(/^Too many searches: at most 3 per 60 s for this caller \(AiWebModule search\.throttle\)\. Retry after \d+ s/) });
    expect((await search(locked, AS_SEARCH)).status).toBe(200);
  });

  it('a scoped token searches only its entity types, filters only on its fields, and sees only those metadata fields', async () => {
    const found = await search(locked, AS_SCOPED, { filter: JSON.stringify({ category: 'Footwear' }) });
    expect(found.status).toBe(200);
    expect(found.body.results.length).toBeGreaterThan(0);
    for (const hit of found.body.results) expect(Object.keys(hit.metadata)).toEqual(['category']);
    // An unscoped token sees every metadata field of the same entities.
    const full = await search(locked, AS_VIEWER, { filter: JSON.stringify({ category: 'Footwear' }) });
    expect(Object.keys(full.body.results[0].metadata).length).toBeGreaterThan(1);

    const byPrice = await search(locked, AS_SCOPED, { filter: JSON.stringify({ price: 10 }) });
    expect(byPrice.status).toBe(403);
    expect(byPrice.body.message).toBe('The token "partner" may not filter product on "price"; it may use: category (AiWebModule auth.tokens[].search.fields).');
    const ticket = await search(locked, AS_SCOPED, { entityType: 'ticket' });
    expect(ticket.status).toBe(403);
    expect(ticket.body.message).toBe('The token "partner" may not search the entity type "ticket"; it may search: product (AiWebModule auth.tokens[].search.entityTypes).');
  });

  it('auth.anonymous opens exactly the listed groups, logged at startup; a token sent anyway is still checked and scoped', async () => {
    const http = open.app.getHttpServer();
    const anonymous = await search(open);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.results.length).toBeGreaterThan(0);
    expect([200, 503]).toContain((await request(http).get('/api/ai/monitoring/health')).status);
    expect((await request(http).get('/api/ai/monitoring/metrics')).status).toBe(401);
    expect((await request(http).get('/api/ai/monitoring/queue')).status).toBe(401);
    expect((await search(open, { Authorization: 'Bearer not-a-configured-token-000' })).status).toBe(401);
    const scoped = await search(open, AS_SCOPED);
    expect(scoped.status).toBe(200);
    for (const hit of scoped.body.results) expect(Object.keys(hit.metadata)).toEqual(['category']);
    // Anonymous callers share one budget per client IP: the limit is 2 here, one search already went.
    expect([(await search(open)).status, (await search(open)).status]).toEqual([200, 429]);
    expect(openLogs.lines.filter((line) => line.startsWith('warn: Anonymous access'))).toEqual([
      expect.stringContaining('Anonymous access is on for "search" (auth.anonymous): GET /api/ai/search: anyone who can reach the server can read the ids and metadata of every indexed entity'),
      expect.stringContaining('Anonymous access is on for "health" (auth.anonymous)'),
    ]);
  });
});
