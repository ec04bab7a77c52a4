/**
 * `npm run openapi:export` — writes the sample app's OpenAPI document (core + migration + web) to
 * docs/openapi.json; `-- --check` only compares and exits 1 when the file is out of date. Uses Nest's
 * preview mode (modules scanned, nothing instantiated), so it needs no database. test/openapi-document
 * checks the file against a fully booted app.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { sampleOpenApiDocument, serializeOpenApi } from '../openapi';

const TARGET = resolve(__dirname, '../../../../docs/openapi.json');

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { preview: true, logger: false });
  const text = serializeOpenApi(sampleOpenApiDocument(app));
  await app.close();
  if (process.argv.includes('--check')) {
    const current = readFileSync(TARGET, 'utf8');
    if (current !== text) {
      console.error(`${TARGET} is out of date with the app; run npm run openapi:export and commit the result.`);
      process.exit(1);
    }
    console.log(`${TARGET} matches the app.`);
    return;
  }
  writeFileSync(TARGET, text);
  console.log(`Wrote ${TARGET} (${Object.keys(JSON.parse(text).paths).length} paths).`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
