import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { sampleOpenApiDocument, serializeOpenApi } from '../apps/sample/src/openapi';
import { bootIndexingApp, type IndexingApp } from './fixtures/indexing-app.fixture';
import { webTestOptions } from './fixtures/web-auth.fixture';
import { describeEachEngine } from './support/test-database';

const STORED = resolve(__dirname, '../docs/openapi.json');

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

  it('documents bearer auth, tags, request bodies with examples, and an error schema for every error answer of the migration API', async () => {
    const doc = (await request(ctx.app.getHttpServer()).get('/api/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.tags.map((t: { name: string }) => t.name)).toEqual(['search', 'monitoring', 'migration']);
    expect(doc.components.schemas.StartMigrationDto.properties.entityType).toMatchObject({ example: 'product', description: expect.any(String) });
    for (const [path, item] of Object.entries<Record<string, { responses: Record<string, { description: string; content?: unknown }>; security?: unknown; summary?: string }>>(doc.paths)) {
      if (!path.startsWith('/api/ai/migration')) continue;
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
