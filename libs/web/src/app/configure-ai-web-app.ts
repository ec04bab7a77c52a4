import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** Options of {@link configureAiWebApp}. */
export interface ConfigureAiWebAppOptions {
  /** OpenAPI document title. */
  title?: string;
  /** Serve Swagger UI at `/api/docs` and the document at `/api/docs-json`. Default true. */
  swagger?: boolean;
}

/**
 * Applies the web conventions of the library to an app: a global ValidationPipe that rejects unknown
 * properties and converts types, and Swagger UI at `/api/docs` (document at `/api/docs-json`).
 * Returns the OpenAPI document.
 */
export function configureAiWebApp(app: INestApplication, options: ConfigureAiWebAppOptions = {}): OpenAPIObject | undefined {
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  if (options.swagger === false) return undefined;
  const config = new DocumentBuilder()
    .setTitle(options.title ?? 'AI infrastructure')
    .setDescription('Semantic search, monitoring and data migration endpoints of the AI infrastructure libraries.')
    .setVersion('0.1.0')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return document;
}
