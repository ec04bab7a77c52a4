import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { bootIndexingApp, generatedProducts, insertProducts, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { AS_ADMIN, webTestOptions } from './fixtures/web-auth.fixture';
import { describeEachEngine } from './support/test-database';

const BASE = '/api/ai/migration';

/** A generated malformed request. */
interface Hostile {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  /** Extra request headers (content encodings, charsets). */
  headers?: Record<string, string>;
  /** A JSON value, or raw text sent as-is with `contentType`. */
  body?: unknown;
  raw?: string;
  contentType?: string;
}

const INJECTIONS = [
  "product'; DROP TABLE products; --",
  "' OR '1'='1",
  '../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '<script>alert(1)</script>',
  '${jndi:ldap://x/a}',
  '\u0000',
  'product\nSet-Cookie: x=1',
  '%00',
  'a'.repeat(5000),
  '😀'.repeat(50),
  '{{7*7}}',
];
const WRONG_VALUES: unknown[] = [null, 'x', '100', true, [], {}, -1, 0, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, '1e3', [1], { $gt: 0 }];

/** Malformed requests to every migration endpoint: wrong types, bounds, unknown fields, bad JSON, big bodies, hostile ids. */
function hostileRequests(existingJobId: string): Hostile[] {
  const out: Hostile[] = [];
  const jobPaths = (id: string) => [`/jobs/${id}`, `/jobs/${id}/pause`, `/jobs/${id}/resume`, `/jobs/${id}/failures`, `/jobs/${id}/retry-failed`, `/jobs/${id}/events`, `/jobs/${id}/audit`];

  for (const field of ['entityType', 'batchSize', 'rateLimit', 'reindexExisting', 'filters']) {
    for (const value of WRONG_VALUES) {
      // Only combinations that are wrong for the field: a valid value would create a job.
      if (field === 'reindexExisting' && typeof value === 'boolean') continue;
      if ((field === 'batchSize' || field === 'rateLimit') && (value === null || (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 5000))) continue;
      if (field === 'filters' && (value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0))) continue;
      out.push({ method: 'post', path: '/start', body: { entityType: 'product', [field]: value } });
    }
  }
  for (const entityType of [...INJECTIONS, '', ' ', 'PRODUCT', 'products', 'Product ', 'product\u200b']) {
    out.push({ method: 'post', path: '/start', body: { entityType } });
    out.push({ method: 'post', path: '/estimate', body: { entityType } });
  }
  for (const key of ['status', 'id', 'processedEntities', 'totalEntities', 'createdBy', 'leaseOwner', '__proto__', 'constructor', 'checkpoint']) {
    out.push({ method: 'post', path: '/start', raw: `{"entityType":"product","${key}":{"polluted":true}}`, contentType: 'application/json' });
  }
  for (const filters of [
    { createdBefore: 'yesterday' },
    { createdBefore: '2024-13-45' },
    { createdBefore: '2024-02-30' },
    { createdBefore: '2024-W01-1' },
    { createdBefore: '-9999-01-01' },
    { createdAfter: '+275760-09-13' },
    { createdAfter: '2024-001' },
    { createdAfter: "2024-01-01'; DELETE FROM products; --" },
    { createdAfter: 12345 },
    { ids: 'not-a-list' },
    { ids: [] },
    { ids: [1, 2, 3] },
    { ids: [null] },
    { ids: [{}] },
    ...INJECTIONS.map((id) => ({ ids: [id] })),
    { ids: ['a'.repeat(300)] },
    { extra: true },
    { ids: [randomUUID()], sql: 'SELECT 1' },
  ]) {
    out.push({ method: 'post', path: '/start', body: { entityType: 'product', filters } });
    out.push({ method: 'post', path: '/estimate', body: { entityType: 'product', filters } });
  }
  for (const raw of ['{', '[', '{"entityType":', 'null', '123', '"product"', 'true', '{"entityType":"product",}', "{'entityType':'product'}", '\u0000\u0001', '[{"entityType":"product"}]', '[]']) {
    out.push({ method: 'post', path: '/start', raw, contentType: 'application/json' });
  }
  for (const encoding of ['gzip', 'deflate', 'br', 'compress', 'gzip, gzip']) {
    out.push({ method: 'post', path: '/start', raw: 'not compressed at all', contentType: 'application/json', headers: { 'Content-Encoding': encoding } });
  }
  for (const contentType of ['application/json; charset=latin1', 'application/json; charset=nonsense', 'application/json; charset=utf-16']) {
    out.push({ method: 'post', path: '/start', raw: '{"entityType":"product"}', contentType });
  }
  out.push({ method: 'post', path: '/start', raw: 'entityType=product', contentType: 'text/plain' });
  out.push({ method: 'post', path: '/start', raw: 'entityType=product&batchSize=10', contentType: 'application/x-www-form-urlencoded' });
  out.push({ method: 'post', path: '/start', raw: 'entityType[]=product&entityType[]=x', contentType: 'application/x-www-form-urlencoded' });
  out.push({ method: 'post', path: '/start', raw: '<job entityType="product"/>', contentType: 'application/xml' });
  out.push({ method: 'post', path: '/start', raw: JSON.stringify({ entityType: 'product', filters: { ids: Array.from({ length: 6000 }, () => randomUUID()) } }), contentType: 'application/json' });
  out.push({ method: 'post', path: '/start', raw: `{"entityType":"${'p'.repeat(200_000)}"}`, contentType: 'application/json' });
  out.push({ method: 'post', path: '/start', raw: `${'['.repeat(5000)}${']'.repeat(5000)}`, contentType: 'application/json' });

  for (const id of ["' OR '1'='1", '..%2F..%2Fetc%2Fpasswd', '%FF', '%00', 'null', '0', '-1', '1e9', 'a'.repeat(2000), encodeURIComponent('<script>'), `${randomUUID()}x`, randomUUID().toUpperCase().replace(/-/g, '')]) {
    for (const path of jobPaths(id)) {
      const method = path.endsWith('/pause') || path.endsWith('/resume') || path.endsWith('/retry-failed') ? 'post' : 'get';
      out.push({ method, path, body: method === 'post' ? {} : undefined });
    }
    out.push({ method: 'delete', path: `/jobs/${id}` });
    out.push({ method: 'patch', path: `/jobs/${id}`, body: { rateLimit: 10 } });
  }
  for (const value of WRONG_VALUES) out.push({ method: 'patch', path: `/jobs/${existingJobId}`, body: { rateLimit: value } });
  out.push({ method: 'patch', path: `/jobs/${existingJobId}`, body: { rateLimit: 10, status: 'RUNNING' } });
  out.push({ method: 'patch', path: `/jobs/${existingJobId}`, body: { status: 'RUNNING', processedEntities: 0 } });
  for (const reason of [123, '', 'r'.repeat(501), ['x'], { a: 1 }]) out.push({ method: 'post', path: `/jobs/${existingJobId}/pause`, body: { reason } });
  for (const entityIds of ['x', [], [1], [null], ...INJECTIONS.map((id) => [id]), Array.from({ length: 10_001 }, () => randomUUID())]) {
    out.push({ method: 'post', path: `/jobs/${existingJobId}/retry-failed`, body: { entityIds } });
  }
  for (const query of ['limit=-1', 'limit=0', 'limit=501', 'limit=1e309', 'limit=abc', 'limit[]=1', 'offset=-5', 'offset=1.5', 'offset=99999999999', 'status=DONE', 'status=<script>', 'status[]=RUNNING', "entityType=' OR 1=1 --", 'entityType=../x', 'foo=bar', '__proto__[x]=1', 'limit=1&limit=2']) {
    out.push({ method: 'get', path: `/jobs?${query}` });
  }
  return out;
}

/**
 * At least 200 generated malformed requests against the migration endpoints: none may answer 5xx, none
 * may create a job, and the database must be byte-for-byte unchanged afterwards.
 */
describeEachEngine('Migration REST API under hostile input', ({ getUrl }) => {
  let ctx: IndexingApp;
  let existingJobId: string;

  const fingerprint = async () => {
    const tables = ['ai_migration_jobs', 'ai_migration_audit_log', 'ai_indexing_queue', 'ai_searchable_entities', 'products'];
    const out: Record<string, string> = {};
    for (const table of tables) {
      const [row] = await ctx.dataSource.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ${table} t`);
      out[table] = `${row.n}:${row.h}`;
    }
    return out;
  };

  beforeAll(async () => {
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, migration: {}, web: webTestOptions(), core: { liveIndexing: false } });
    await insertProducts(ctx.dataSource, generatedProducts(30, 'hostile'));
    const http = ctx.app.getHttpServer();
    existingJobId = (await request(http).post(`${BASE}/start`).set(AS_ADMIN).send({ entityType: 'product' }).expect(201)).body.id;
    await waitUntil('job completed', async () => (await request(http).get(`${BASE}/jobs/${existingJobId}`).set(AS_ADMIN)).body.status === 'COMPLETED');
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('answers every malformed request with a 4xx in the error format, creates no job and changes nothing in the database', async () => {
    const http = ctx.app.getHttpServer();
    const before = await fingerprint();
    const requests = hostileRequests(existingJobId);
    expect(requests.length).toBeGreaterThanOrEqual(200);
    const outcomes: Array<{ method: string; path: string; status: number }> = [];
    for (const r of requests) {
      let call = request(http)[r.method](`${BASE}${r.path}`).set(AS_ADMIN).set(r.headers ?? {});
      if (r.raw !== undefined) call = call.set('Content-Type', r.contentType ?? 'application/json').send(r.raw);
      else if (r.body !== undefined) call = call.send(r.body as object);
      const res = await call;
      outcomes.push({ method: r.method, path: r.path.slice(0, 80), status: res.status });
      if (res.status >= 400) {
        expect(res.body).toEqual(expect.objectContaining({ statusCode: res.status, error: expect.any(String), message: expect.any(String) }));
      }
    }
    const serverErrors = outcomes.filter((o) => o.status >= 500);
    expect(serverErrors).toEqual([]);
    // Reads of the existing job may succeed (GET /jobs?limit=1&limit=2 is not among them: arrays are rejected); nothing may be created.
    const created = outcomes.filter((o) => o.status === 201);
    expect(created).toEqual([]);
    expect(await fingerprint()).toEqual(before);
  });
});
