import 'reflect-metadata';
import { configureAiWebApp } from '@ai-infrastructure/web';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  configureAiWebApp(app, { title: 'AI infrastructure sample: products catalogue' });
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  Logger.log(`Listening on ${await app.getUrl()} — Swagger UI at /api/docs`, 'Sample');
}

void bootstrap();
