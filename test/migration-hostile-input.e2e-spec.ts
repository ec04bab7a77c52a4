import { randomUUID } from 'node:crypto';
import { AiSearchRequestError, AiSearchService } from '@ai-infrastructure/core';
import request from 'supertest';
import { MIGRATION_REQUEST_LIMITS } from '@ai-infrastructure/migration-core';
import { idListJsonBodyLimit } from '../libs/web/src/app/json-body-limits';
import { bootIndexingApp, generatedProducts, insertProducts, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { AS_ADMIN, webTestOptions } from './fixtures/web-auth.fixture';
import { describeEachEngine } from './support/test-database';

const ID_LIST_JSON_BODY_LIMIT = idListJsonBodyLimit(MIGRATION_REQUEST_LIMITS.entityIds);

const BASE = '/api/ai/migration';
const SEARCH = '/api/ai/search';

/** A generated malformed request. */
interface Hostile {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  /** Extra request headers (content encodings, charsets). */
  headers?: Record<string, string>;
  /** A JSON value, or raw text sent as-is with `contentType` (none at all when `contentType` is null). */
  body?: unknown;
  raw?: string;
  contentType?: string | null;
  /** The route's full path, for requests outside `/api/ai/migration`. */
  absolute?: boolean;
}

/**
 * Text PostgreSQL cannot store: NUL (refused by text and jsonb) and unpaired UTF-16 surrogates (refused by
 * jsonb; JSON.stringify sends them as `\udXXX` escapes, which JSON.parse turns back into lone surrogates).
 */
const UNSTORABLE = ['\u0000', 'a\u0000b', 'ab\u0000', '\uD800', 'x\uDBFF', '\uDC00', 'y\uDFFFz', '\uDE00\uD83D'];
/** The subset that can arrive in a URL (percent-decoding yields no lone surrogates: invalid UTF-8 stays encoded). */
const UNSTORABLE_IN_URLS = ['%00', 'a%00b'];

/** Body content types that are not JSON, as clients send them by mistake. */
const NOT_JSON: Array<{ contentType: string | null; raw: (json: string) => string }> = [
  { contentType: 'text/plain', raw: (json) => json },
  { contentType: 'text/plain; charset=utf-8', raw: (json) => json },
  { contentType: 'application/x-www-form-urlencoded', raw: (json) => json }, // curl -d without -H
  { contentType: 'multipart/form-data; boundary=X', raw: (json) => `--X\r\nContent-Disposition: form-data; name="body"\r\n\r\n${json}\r\n--X--\r\n` },
  { contentType: 'application/xml', raw: () => '<body/>' },
  { contentType: 'application/jsonp', raw: (json) => json },
  { contentType: 'application/merge-patch+json', raw: (json) => json },
  { contentType: null, raw: (json) => json },
];

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
  out.push({ method: 'post', path: '/start', raw: JSON.stringify({ entityType: 'product', filters: { ids: Array.from({ length: 10_001 }, () => randomUUID()) } }), contentType: 'application/json' });
  out.push({ method: 'post', path: '/start', raw: `{"entityType":"${'p'.repeat(200_000)}"}`, contentType: 'application/json' });
  out.push({ method: 'post', path: '/start', raw: `{"entityType":"${'p'.repeat(ID_LIST_JSON_BODY_LIMIT)}"}`, contentType: 'application/json' });
  out.push({ method: 'post', path: `/jobs/${existingJobId}/pause`, raw: `{"reason":"${'r'.repeat(200_000)}"}`, contentType: 'application/json' });
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
  // Text PostgreSQL cannot store, in every kind of string field: body fields, nested filters, id lists,
  // object keys, query strings, search filter keys and values, path ids.
  for (const bad of UNSTORABLE) {
    out.push({ method: 'post', path: '/start', body: { entityType: bad } });
    out.push({ method: 'post', path: '/estimate', body: { entityType: `product${bad}` } });
    for (const filters of [{ createdBefore: `2024-01-01${bad}` }, { createdAfter: bad }, { ids: [bad] }, { ids: [randomUUID(), `${randomUUID()}${bad}`] }, { [bad]: 'x' }]) {
      out.push({ method: 'post', path: '/start', body: { entityType: 'product', filters } });
      out.push({ method: 'post', path: '/estimate', body: { entityType: 'product', filters } });
    }
    out.push({ method: 'post', path: '/start', body: { entityType: 'product', [bad]: true } });
    out.push({ method: 'post', path: `/jobs/${existingJobId}/pause`, body: { reason: `maintenance ${bad}` } });
    out.push({ method: 'post', path: `/jobs/${existingJobId}/retry-failed`, body: { entityIds: [bad] } });
    out.push({ method: 'post', path: `/jobs/${existingJobId}/retry-failed`, body: { entityIds: [randomUUID(), bad] } });
    out.push({ method: 'patch', path: `/jobs/${existingJobId}`, body: { rateLimit: 10, [bad]: bad } });
    for (const filter of [{ category: bad }, { category: `Footwear${bad}` }, { [bad]: 'Footwear' }, { category: ['Footwear', bad] }, { category: { nested: bad } }]) {
      out.push({ method: 'get', path: `${SEARCH}?entityType=product&q=boots&filter=${encodeURIComponent(JSON.stringify(filter))}`, absolute: true });
    }
  }
  for (const bad of UNSTORABLE_IN_URLS) {
    for (const query of [`entityType=${bad}`, `status=${bad}`, `entityType=product${bad}`, `${bad}=1`]) out.push({ method: 'get', path: `/jobs?${query}` });
    for (const query of [`entityType=${bad}&q=boots`, `entityType=product&q=${bad}`, `entityType=product&q=boots&${bad}=1`]) {
      out.push({ method: 'get', path: `${SEARCH}?${query}`, absolute: true });
    }
    for (const path of [`/jobs/${bad}`, `/jobs/${existingJobId}${bad}`, `/jobs/${bad}/audit`]) out.push({ method: 'get', path });
    out.push({ method: 'post', path: `/jobs/${bad}/pause`, body: { reason: 'x' } });
  }
  for (const path of ['/jobs/%ED%A0%80', '/jobs/%ED%A0%80/pause', '/jobs/%C0%80/audit']) out.push({ method: path.endsWith('pause') ? 'post' : 'get', path });
  out.push({ method: 'get', path: `${SEARCH}?entityType=product&q=%ED%A0%80%00`, absolute: true });
  // Deep filters in a query string (the body's nesting limit does not apply to them; Node's 16 kB header limit does).
  for (const filter of [`{"category":${'['.repeat(2000)}${']'.repeat(2000)}}`, `${'['.repeat(2500)}${']'.repeat(2500)}`, `{"category":${'{"a":'.repeat(600)}"\\u0000"${'}'.repeat(600)}}`]) {
    out.push({ method: 'get', path: `${SEARCH}?entityType=product&q=boots&filter=${encodeURIComponent(filter)}`, absolute: true });
  }
  // Bodies that are not JSON.
  for (const { contentType, raw } of NOT_JSON) {
    out.push({ method: 'post', path: '/start', raw: raw('{"entityType":"product"}'), contentType });
    out.push({ method: 'post', path: '/estimate', raw: raw('{"entityType":"product"}'), contentType });
    out.push({ method: 'post', path: `/jobs/${existingJobId}/retry-failed`, raw: raw(JSON.stringify({ entityIds: [randomUUID()] })), contentType });
    out.push({ method: 'post', path: `/jobs/${existingJobId}/pause`, raw: raw('{"reason":"maintenance"}'), contentType });
    out.push({ method: 'patch', path: `/jobs/${existingJobId}`, raw: raw('{"rateLimit":10}'), contentType });
  }
  for (const query of ['limit=-1', 'limit=0', 'limit=501', 'limit=1e309', 'limit=abc', 'limit[]=1', 'offset=-5', 'offset=1.5', 'offset=99999999999', 'status=DONE', 'status=<script>', 'status[]=RUNNING', "entityType=' OR 1=1 --", 'entityType=../x', 'foo=bar', '__proto__[x]=1', 'limit=1&limit=2']) {
    out.push({ method: 'get', path: `/jobs?${query}` });
  }
  // The audit log's query (issue 15): every filter with junk; the monitoring routes with stray parameters.
  const AUDIT = '/api/ai/audit/entries';
  for (const query of [
    'limit=0', 'limit=501', 'limit=abc', 'offset=-1', 'offset=1.5', 'action=drop', 'action[]=pause', 'jobId=abc', 'jobId=%00', 'generationId=0',
    'generationId=abc', 'generationId=2147483648', 'from=yesterday', 'to=2026-13-45', 'from=2026-12-01T25:00:00Z', 'entityType=../x',
    `actor=${'a'.repeat(300)}`, 'actor=%00', '__proto__[x]=1', 'limit=1&limit=2',
  ]) {
    out.push({ method: 'get', path: `${AUDIT}?${query}`, absolute: true });
  }
  for (const bad of INJECTIONS) {
    out.push({ method: 'get', path: `${AUDIT}?actor=${encodeURIComponent(bad)}&entityType=${encodeURIComponent(bad)}&action=${encodeURIComponent(bad)}`, absolute: true });
    for (const route of ['queue', 'provider', 'metrics']) out.push({ method: 'get', path: `/api/ai/monitoring/${route}?${encodeURIComponent(bad)}=${encodeURIComponent(bad)}`, absolute: true });
  }
  return out;
}

/** Sends a generated request as the admin. */
function send(http: Parameters<typeof request>[0], r: Hostile): request.Test {
  let call = request(http)[r.method](r.absolute ? r.path : `${BASE}${r.path}`).set(AS_ADMIN).set(r.headers ?? {});
  // A Buffer body goes out without a Content-Type header (a string would get superagent's form type).
  if (r.raw !== undefined && r.contentType === null) call = call.send(Buffer.from(r.raw));
  else if (r.raw !== undefined) call = call.set('Content-Type', r.contentType ?? 'application/json').send(r.raw);
  else if (r.body !== undefined) call = call.send(r.body as object);
  return call;
}

/** `count` distinct UUIDs. */
const uuids = (count: number) => Array.from({ length: count }, () => randomUUID());

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
      const res = await send(http, r);
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

  it('rejects text PostgreSQL cannot store with a 400 naming the field, in bodies, query strings, search filters and path ids', async () => {
    const http = ctx.app.getHttpServer();
    const before = await fingerprint();
    const cases: Array<{ request: Hostile; field: string; mentions: string }> = [];
    for (const bad of UNSTORABLE) {
      const estimate = (filters: object) => ({ method: 'post' as const, path: '/estimate', body: { entityType: 'product', filters } });
      const search = (filter: object) => ({ method: 'get' as const, path: `${SEARCH}?entityType=product&q=boots&filter=${encodeURIComponent(JSON.stringify(filter))}`, absolute: true });
      cases.push(
        { request: { method: 'post', path: '/start', body: { entityType: bad } }, field: 'entityType', mentions: 'entityType contains' },
        { request: estimate({ createdBefore: `2024-01-01${bad}` }), field: 'filters.createdBefore', mentions: 'filters.createdBefore contains' },
        { request: estimate({ createdAfter: bad }), field: 'filters.createdAfter', mentions: 'filters.createdAfter contains' },
        { request: estimate({ ids: [randomUUID(), bad] }), field: 'filters.ids', mentions: 'filters.ids[1] contains' },
        { request: { method: 'post', path: `/jobs/${existingJobId}/pause`, body: { reason: `maintenance ${bad}` } }, field: 'reason', mentions: 'reason contains' },
        { request: { method: 'post', path: `/jobs/${existingJobId}/retry-failed`, body: { entityIds: [bad] } }, field: 'entityIds', mentions: 'entityIds[0] contains' },
        { request: search({ category: bad }), field: 'filter', mentions: 'filter.category contains' },
        { request: search({ [bad]: 'Footwear' }), field: 'filter', mentions: 'filter has a key' },
        { request: search({ category: ['Footwear', bad] }), field: 'filter', mentions: 'filter.category[1] contains' },
      );
    }
    for (const bad of UNSTORABLE_IN_URLS) {
      cases.push(
        { request: { method: 'get', path: `/jobs?entityType=${bad}` }, field: 'entityType', mentions: 'entityType contains a NUL' },
        { request: { method: 'get', path: `/jobs?status=${bad}` }, field: 'status', mentions: 'status contains a NUL' },
        { request: { method: 'get', path: `${SEARCH}?entityType=product&q=boots${bad}`, absolute: true }, field: 'q', mentions: 'q contains a NUL' },
        { request: { method: 'get', path: `${SEARCH}?entityType=${bad}&q=boots`, absolute: true }, field: 'entityType', mentions: 'entityType contains a NUL' },
        { request: { method: 'post', path: `/jobs/${bad}/pause`, body: { reason: 'x' } }, field: 'id', mentions: 'must be a job id' },
        { request: { method: 'get', path: `/jobs/${existingJobId}${bad}` }, field: 'id', mentions: 'must be a job id' },
      );
    }
    for (const { request: r, field, mentions } of cases) {
      const res = await send(http, r);
      const what = `${r.method} ${r.path.slice(0, 120)} ${JSON.stringify(r.body)}`;
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      expect({ what, body: res.body }).toEqual({
        what,
        body: expect.objectContaining({
          statusCode: 400,
          error: 'Bad Request',
          message: expect.stringContaining(mentions),
          details: expect.arrayContaining([expect.objectContaining({ field })]),
        }),
      });
      if (field !== 'id') expect(res.body.message).toContain('PostgreSQL cannot store');
    }
    expect(await fingerprint()).toEqual(before);
  });

  it('answers a path id that is not valid percent-encoded UTF-8 with a 400 about the URL, not the body', async () => {
    const res = await request(ctx.app.getHttpServer()).get(`${BASE}/jobs/%ED%A0%80`).set(AS_ADMIN).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringContaining('The request URL could not be decoded') });
    expect(res.body.message).not.toContain('body');
  });

  it('gives a code caller of AiSearchService a request error, not a database error, for such filter values and queries', async () => {
    const search = ctx.app.get(AiSearchService);
    for (const bad of UNSTORABLE) {
      await expect(search.search({ entityType: 'product', query: 'boots', filter: { category: bad } })).rejects.toThrow(AiSearchRequestError);
      await expect(search.search({ entityType: 'product', query: 'boots', filter: { category: bad } })).rejects.toThrow(
        /^"filter\.category" contains (a NUL character|an unpaired UTF-16 surrogate).*PostgreSQL cannot store/,
      );
      await expect(search.search({ entityType: 'product', query: 'boots', filter: { [bad]: 'Footwear' } })).rejects.toThrow(/^"filter" has a key .* that contains/);
      await expect(search.search({ entityType: 'product', query: `boots ${bad}` })).rejects.toThrow(/^"query" contains/);
    }
    // The same search without the bad text works.
    await expect(search.search({ entityType: 'product', query: 'hostile', filter: { category: 'Footwear' } })).resolves.toEqual(expect.any(Array));
  });

  it('answers 415 for a body that is not JSON, saying which header to send, and still takes requests without a body', async () => {
    const http = ctx.app.getHttpServer();
    const before = await fingerprint();
    for (const { contentType, raw } of NOT_JSON) {
      for (const r of [
        { method: 'post' as const, path: `/jobs/${existingJobId}/retry-failed`, raw: raw(JSON.stringify({ entityIds: [randomUUID()] })), contentType },
        { method: 'post' as const, path: '/start', raw: raw('{"entityType":"product"}'), contentType },
        { method: 'post' as const, path: `/jobs/${existingJobId}/pause`, raw: raw('{"reason":"maintenance"}'), contentType },
        { method: 'patch' as const, path: `/jobs/${existingJobId}`, raw: raw('{"rateLimit":10}'), contentType },
      ]) {
        const res = await send(http, r);
        const what = `${r.method} ${r.path} ${contentType}`;
        expect({ what, status: res.status, body: res.body }).toEqual({
          what,
          status: 415,
          body: {
            statusCode: 415,
            error: 'Unsupported Media Type',
            message: expect.stringContaining('The request body must be JSON, but it was sent with ' + (contentType ? `Content-Type "${contentType}"` : 'no Content-Type header')),
          },
        });
        expect(res.body.message).toContain('send the header Content-Type: application/json');
      }
    }
    expect(await fingerprint()).toEqual(before);

    // JSON is recognised in any case and with parameters; no body (or an empty one, whatever its type) is "no body".
    await request(http).post(`${BASE}/estimate`).set(AS_ADMIN).set('Content-Type', 'Application/JSON; charset=UTF-8').send('{"entityType":"product"}').expect(200);
    const noBody = await request(http).post(`${BASE}/jobs/${existingJobId}/retry-failed`).set(AS_ADMIN);
    expect({ status: noBody.status, retried: noBody.body.retried }).toEqual({ status: 200, retried: 0 });
    const emptyText = await request(http).post(`${BASE}/jobs/${existingJobId}/retry-failed`).set(AS_ADMIN).set('Content-Type', 'text/plain').send('');
    expect({ status: emptyText.status, retried: emptyText.body.retried }).toEqual({ status: 200, retried: 0 });
    // The job is COMPLETED: a pause or resume without a body gets as far as the state check.
    for (const action of ['pause', 'resume']) {
      const res = await request(http).post(`${BASE}/jobs/${existingJobId}/${action}`).set(AS_ADMIN);
      expect({ action, status: res.status, currentStatus: res.body.currentStatus }).toEqual({ action, status: 409, currentStatus: 'COMPLETED' });
    }
    expect(await fingerprint()).toEqual(before);
  });

  it('accepts the documented 10,000 ids in filters.ids and entityIds, and answers 10,001 with a 400 naming the field', async () => {
    const http = ctx.app.getHttpServer();
    const before = await fingerprint();
    const estimate = await request(http).post(`${BASE}/estimate`).set(AS_ADMIN).send({ entityType: 'product', filters: { ids: uuids(10_000) } });
    expect({ status: estimate.status, matching: estimate.body.matching }).toEqual({ status: 200, matching: 0 });
    const retry = await request(http).post(`${BASE}/jobs/${existingJobId}/retry-failed`).set(AS_ADMIN).send({ entityIds: uuids(10_000) });
    expect({ status: retry.status, retried: retry.body.retried }).toEqual({ status: 200, retried: 0 });

    for (const [path, body, field] of [
      ['/estimate', { entityType: 'product', filters: { ids: uuids(10_001) } }, 'filters.ids'],
      ['/start', { entityType: 'product', filters: { ids: uuids(10_001) } }, 'filters.ids'],
      [`/jobs/${existingJobId}/retry-failed`, { entityIds: uuids(10_001) }, 'entityIds'],
    ] as const) {
      const res = await request(http).post(`${BASE}${path}`).set(AS_ADMIN).send(body);
      expect({ path, status: res.status, details: res.body.details }).toEqual({
        path,
        status: 400,
        details: [expect.objectContaining({ field, rule: 'arrayMaxSize', message: `${field} must contain no more than 10000 elements` })],
      });
    }

    // The longest ids the validation accepts (255 characters, 3 bytes each in UTF-8) fit the body limit too:
    // the answer is the id check of the primary key's type (uuid), not a 413.
    const longest = Array.from({ length: 10_000 }, (_, i) => `${i}`.padEnd(255, '€'));
    const longBody = JSON.stringify({ entityType: 'product', filters: { ids: longest } });
    expect(Buffer.byteLength(longBody)).toBeLessThanOrEqual(ID_LIST_JSON_BODY_LIMIT);
    expect(Buffer.byteLength(longBody)).toBeGreaterThan(7_000_000);
    const long = await request(http).post(`${BASE}/estimate`).set(AS_ADMIN).set('Content-Type', 'application/json').send(longBody);
    expect({ status: long.status, field: long.body.details?.[0]?.field }).toEqual({ status: 400, field: 'filters.ids[0]' });

    // Above the limit: 413 on the id-list routes; other routes keep the 100 kB limit.
    const tooLarge = await request(http)
      .post(`${BASE}/estimate`)
      .set(AS_ADMIN)
      .set('Content-Type', 'application/json')
      .send(`{"entityType":"product","filters":{"ids":["${'1'.repeat(ID_LIST_JSON_BODY_LIMIT)}"]}}`);
    expect({ status: tooLarge.status, message: tooLarge.body.message }).toEqual({
      status: 413,
      message: `The request body is larger than the limit of ${ID_LIST_JSON_BODY_LIMIT} bytes.`,
    });
    const pause = await request(http).post(`${BASE}/jobs/${existingJobId}/pause`).set(AS_ADMIN).send({ reason: 'r'.repeat(150_000) });
    expect({ status: pause.status, message: pause.body.message }).toEqual({ status: 413, message: `The request body is larger than the limit of ${100 * 1024} bytes.` });
    expect(await fingerprint()).toEqual(before);
  });
});
