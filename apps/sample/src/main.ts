import 'reflect-metadata';
import { configureAiWebApp } from '@ai-infrastructure/web';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { sampleAppModule, sampleCombination } from './app.module';
import { SAMPLE_API_TITLE } from './openapi';

async function bootstrap(): Promise<void> {
  const combination = sampleCombination();
  if (combination === 'migration') {
    // No web module: the jobs are driven from code (see src/cli), and the workers run in this process.
    const app = await NestFactory.createApplicationContext(sampleAppModule(combination));
    app.enableShutdownHooks();
    Logger.log('Running core + migration without an HTTP server (AI_SAMPLE_MODULES=migration).', 'Sample');
    return;
  }
  const app = await NestFactory.create(sampleAppModule(combination));
  app.enableShutdownHooks();
  configureAiWebApp(app, { title: SAMPLE_API_TITLE });
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  Logger.log(`Listening on ${await app.getUrl()} (AI_SAMPLE_MODULES=${combination}) — Swagger UI at /api/docs`, 'Sample');
}

void bootstrap();
