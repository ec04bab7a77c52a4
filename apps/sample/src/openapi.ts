import { createAiOpenApiDocument } from '@ai-infrastructure/web';
import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';

/** Title of the sample's OpenAPI document (docs/openapi.json). */
export const SAMPLE_API_TITLE = 'AI infrastructure sample: products catalogue';

/** The sample app's OpenAPI document, as `/api/docs-json` serves it and docs/openapi.json stores it. */
export function sampleOpenApiDocument(app: INestApplication): OpenAPIObject {
  return createAiOpenApiDocument(app, SAMPLE_API_TITLE);
}

/**
 * The stored form of a document: paths and schemas sorted by name (their order otherwise follows module
 * scanning order, which is not part of the API), two-space JSON, final newline.
 */
export function serializeOpenApi(document: OpenAPIObject): string {
  const sorted = <T>(record: Record<string, T> | undefined) =>
    record && Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const stable = { ...document, paths: sorted(document.paths), components: { ...document.components, schemas: sorted(document.components?.schemas) } };
  return `${JSON.stringify(stable, null, 2)}\n`;
}
