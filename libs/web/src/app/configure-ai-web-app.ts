import type { IncomingMessage } from 'node:http';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AiExceptionFilter } from '../errors/ai-exception.filter';
import { validationExceptionFactory } from '../errors/validation-exception.factory';
import { isJsonContentType } from '../validation/json-content-type';
import { loadOptionalPackage, MIGRATION_CORE_PACKAGE } from '../utils/load-package.util';
import { idListJsonBodyLimit, isIdListRoute, JSON_BODY_LIMIT, rejectProtoKeys, verifyJsonDepth } from './json-body-limits';

/** Options of {@link configureAiWebApp}. */
export interface ConfigureAiWebAppOptions {
  /** OpenAPI document title. */
  title?: string;
  /** Serve Swagger UI at `/api/docs` and the document at `/api/docs-json`. Default true. */
  swagger?: boolean;
}

/**
 * Applies the web conventions of the library to an app: a global ValidationPipe that rejects unknown
 * properties, converts types and names every invalid field; JSON bodies (`Content-Type: application/json`)
 * of at most 100 kB — 7.4 MiB on the three migration routes that take up to 10,000 entity ids — and
 * 32 levels of nesting; one error body format for every error
 * (unknown routes and unparsable bodies included); and Swagger UI at `/api/docs` (document at
 * `/api/docs-json`). Call it before `app.init()`/`listen()`. Returns the OpenAPI document.
 *
 * @example
 * ```ts
 * const app = await NestFactory.create(AppModule);
 * configureAiWebApp(app, { title: 'My shop' });
 * await app.listen(3000);
 * ```
 */
export function configureAiWebApp(app: INestApplication, options: ConfigureAiWebAppOptions = {}): OpenAPIObject | undefined {
  // Replaces Nest's default JSON parser (same 100 kB limit) to add the nesting and __proto__ checks, and a
  // larger limit where a body may list 10,000 ids. The first parser that reads a body consumes it; the
  // second skips it. Both read exactly what the routes' RequireJsonBodyGuard accepts as JSON.
  if (app.getHttpAdapter().getType() === 'express') {
    const express = app as NestExpressApplication;
    const parse = { verify: verifyJsonDepth, reviver: rejectProtoKeys };
    // The id-list routes exist only with the migration package; its request limits size their bodies.
    const migration = loadOptionalPackage<{ MIGRATION_REQUEST_LIMITS: { entityIds: { maxItems: number; maxLength: number } } }>(MIGRATION_CORE_PACKAGE);
    if (migration) {
      express.useBodyParser('json', {
        ...parse,
        limit: idListJsonBodyLimit(migration.MIGRATION_REQUEST_LIMITS.entityIds),
        type: (req: IncomingMessage) => isIdListRoute(req) && isJsonContentType(req.headers['content-type']),
      });
    }
    express.useBodyParser('json', { ...parse, limit: JSON_BODY_LIMIT, type: (req: IncomingMessage) => isJsonContentType(req.headers['content-type']) });
  }
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: validationExceptionFactory }),
  );
  app.useGlobalFilters(new AiExceptionFilter());
  if (options.swagger === false) return undefined;
  const document = createAiOpenApiDocument(app, options.title);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return document;
}

/** The OpenAPI document of an app's endpoints (what `/api/docs-json` serves; also used to export docs/openapi.json). */
export function createAiOpenApiDocument(app: INestApplication, title = 'AI infrastructure'): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(title)
    .setDescription(
      'Semantic search, monitoring and data migration endpoints of the AI infrastructure libraries. ' +
        'The migration endpoints need a bearer token: viewer tokens may read, admin tokens may also start and control jobs.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API token configured in AiWebModule auth.tokens.' })
    .addTag('search', 'Semantic search over indexed entities.')
    .addTag('monitoring', 'Health of the database, the indexing queue and the embedding provider; Prometheus metrics.')
    .addTag('auth', 'Who a bearer token is (name and role).')
    .addTag('audit', 'The audit log across jobs and index generations (with MigrationModule).')
    .addTag('migration', 'Backfill, re-embed and rebuild jobs (present only when MigrationModule is in the application).')
    .build();
  return SwaggerModule.createDocument(app, config);
}
