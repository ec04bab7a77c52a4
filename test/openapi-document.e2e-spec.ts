import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { sampleOpenApiDocument, serializeOpenApi } from '../apps/sample/src/openapi';
import { bootIndexingApp, type IndexingApp } from './fixtures/indexing-app.fixture';
import { webTestOptions } from './fixtures/web-auth.fixture';
import { describeEachEngine } from './support/test-database';

const STORED = resolve(__dirname, '../docs/openapi.json');
const BASE = '/api/ai/migration';
/** The one migration route without bearer auth: the dashboard's HTML page (its API calls carry the token). */
const PUBLIC_PAGE = `${BASE}/dashboard`;

/** `METHOD /path` of every curl example of the README's REST section (`$API` = the migration base, `$JOB`, `$GEN` = ids). */
function readmeCurlRoutes(): Set<string> {
  const routes = new Set<string>();
  for (const line of readFileSync(resolve(__dirname, '../README.md'), 'utf8').split('\n')) {
    const url = /curl .*?"?\$API(\/[^\s"?]*)/.exec(line);
    if (!url) continue;
    const method = /-X ([A-Z]+)/.exec(line)?.[1] ?? 'GET';
    routes.add(`${method} ${url[1].replace(/\$(JOB|GEN)\b/, '{id}')}`);
  }
  return routes;
}

/** docs/openapi.json is what the booted sample combination (core + migration + web) serves; a drift fails. */
describeEachEngine('OpenAPI document', ({ getUrl }) => {
  let ctx: IndexingApp;

  beforeAll(async () => {
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, migration: {}, web: webTestOptions(), swagger: true });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('docs/openapi.json equals the document of the running app (run `npm run openapi:export` after changing the API)', () => {
    expect(readFileSync(STORED, 'utf8')).toBe(serializeOpenApi(sampleOpenApiDocument(ctx.app)));
  });

  it('every migration route has a curl example in the README and a row in docs/rest-api.md', () => {
    const doc = sampleOpenApiDocument(ctx.app);
    const routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith(BASE))
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path.slice(BASE.length)}`));
    // 12 job routes, 3 verification routes, 8 index-generation routes and the dashboard page.
    expect(routes).toHaveLength(24);
    expect([...readmeCurlRoutes()].sort()).toEqual([...routes].sort());
    const reference = readFileSync(resolve(__dirname, '../docs/rest-api.md'), 'utf8');
    for (const route of routes) expect({ route, inReference: new RegExp(`\\| \`${route.replace(/[{}?]/g, '\\$&')}[ ?\`]`).test(reference) }).toEqual({ route, inReference: true });
  });

  it('documents bearer auth, tags, request bodies with examples, and an error schema for every error answer of the migration API', async () => {
    const doc = (await request(ctx.app.getHttpServer()).get('/api/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.tags.map((t: { name: string }) => t.name)).toEqual(['search', 'monitoring', 'auth', 'audit', 'migration']);
    expect(doc.components.schemas.StartMigrationDto.properties.entityType).toMatchObject({ example: 'product', description: expect.any(String) });
    for (const [path, item] of Object.entries<Record<string, { responses: Record<string, { description: string; content?: unknown }>; security?: unknown; summary?: string }>>(doc.paths)) {
      if (!path.startsWith('/api/ai/migration')) continue;
      if (path === PUBLIC_PAGE) {
        // The dashboard page holds no data: it loads without a token and asks for one.
        expect(item.get).toMatchObject({ summary: expect.any(String), responses: { 200: { content: { 'text/html': expect.any(Object) } } } });
        expect(item.get.security).toBeUndefined();
        continue;
      }
      for (const [method, operation] of Object.entries(item)) {
        expect({ path, method, summary: operation.summary, security: operation.security }).toMatchObject({ summary: expect.any(String), security: [{ bearer: [] }] });
        for (const [status, response] of Object.entries(operation.responses)) {
          expect({ path, method, status, described: response.description.length > 0 }).toMatchObject({ described: true });
          if (Number(status) >= 400) {
            expect({ path, method, status, content: response.content }).toMatchObject({
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponseDto' } } },
            });
          }
        }
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
  });
});
