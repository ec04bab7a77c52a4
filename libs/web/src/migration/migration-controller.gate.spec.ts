import { AiSearchService, EMBEDDING_PROVIDER, EmbeddingRequestEvents, EmbeddingService, IndexingQueueService, ProviderUsageService } from '@ai-infrastructure/core';
import { IndexingHooks, IndexingWorkerService, ProviderRateLimiter } from '@ai-infrastructure/core/internal';
import { AiEntityRegistry } from '@ai-infrastructure/core/internal';
import { DataMigrationService, MigrationGenerationService, MigrationJobEvents } from '@ai-infrastructure/migration-core';
import { Global, Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AiWebModule } from '../ai-web.module';
import type { AiWebModuleOptions } from '../ai-web.options';

/**
 * The gate's startup decisions that need no database: the services the web controllers use are plain
 * values here, because only their presence in the container matters to the gate.
 */
@Global()
@Module({
  providers: [
    { provide: AiSearchService, useValue: {} },
    { provide: IndexingQueueService, useValue: {} },
    { provide: EMBEDDING_PROVIDER, useValue: {} },
    { provide: ProviderUsageService, useValue: {} },
    { provide: ProviderRateLimiter, useValue: {} },
    { provide: EmbeddingService, useValue: {} },
    { provide: IndexingWorkerService, useValue: {} },
    // The metrics subscribe to these at startup: the real (dependency-free) classes.
    IndexingHooks,
    EmbeddingRequestEvents,
  ],
  exports: [AiSearchService, IndexingQueueService, EMBEDDING_PROVIDER, ProviderUsageService, ProviderRateLimiter, EmbeddingService, IndexingWorkerService, IndexingHooks, EmbeddingRequestEvents],
})
class CoreStandInModule {}

@Global()
@Module({ providers: [{ provide: DataMigrationService, useValue: {} }, MigrationJobEvents], exports: [DataMigrationService, MigrationJobEvents] })
class MigrationStandInModule {}

@Global()
@Module({
  providers: [{ provide: MigrationGenerationService, useValue: {} }, { provide: AiEntityRegistry, useValue: {} }],
  exports: [MigrationGenerationService, AiEntityRegistry],
})
class GenerationsStandInModule {}

async function boot(options: AiWebModuleOptions, withMigration: boolean, logger: LoggerService | false = false, withGenerations = false): Promise<string[]> {
  @Module({
    imports: [
      CoreStandInModule,
      ...(withMigration ? [MigrationStandInModule] : []),
      ...(withGenerations ? [GenerationsStandInModule] : []),
      AiWebModule.forRoot(options),
    ],
  })
  class RootModule {}
  const app = await NestFactory.create(RootModule, { logger, abortOnError: false });
  try {
    await app.init();
    const router = app.getHttpAdapter().getInstance().router as { stack: Array<{ route?: { path: string } }> };
    return router.stack.flatMap((layer) => (layer.route?.path.startsWith('/api/ai/migration') ? [layer.route.path] : []));
  } finally {
    await app.close();
  }
}

describe('MigrationController gate', () => {
  it('refuses to start without "auth", with or without the migration module, naming the option and the fixes', async () => {
    for (const withMigration of [true, false]) {
      await expect(boot({}, withMigration)).rejects.toThrow(/AiWebModule option "auth" is undefined; every AiWebModule endpoint .*tokens: \[.*auth\.anonymous.*auth: \{ disabled: true \}/s);
    }
  });

  it('registers the generation routes beside the job routes only when MigrationGenerationService is provided too', async () => {
    const auth = { disabled: true } as const;
    const jobsOnly = await boot({ auth }, true);
    expect(jobsOnly).toContain('/api/ai/migration/jobs/:id');
    expect(jobsOnly.filter((path) => path.includes('/generations'))).toEqual([]);
    const both = await boot({ auth }, true, false, true);
    expect(both).toEqual(expect.arrayContaining(['/api/ai/migration/jobs/:id', '/api/ai/migration/generations', '/api/ai/migration/generations/rollback', '/api/ai/migration/generations/:id/cutover']));
    // The generation service alone does not bring any migration route: the job service decides.
    expect(await boot({ auth }, false, false, true)).toEqual([]);
  });

  it('starts with auth disabled explicitly, and says so in a startup warning', async () => {
    const warnings: string[] = [];
    const logger: LoggerService = { log: () => undefined, error: () => undefined, warn: (message: string) => void warnings.push(message) };
    await expect(boot({ auth: { disabled: true } }, true, logger)).resolves.toEqual(expect.arrayContaining(['/api/ai/migration/start']));
    expect(warnings).toEqual([expect.stringMatching(/^Authentication is disabled \(auth: \{ disabled: true \}\): anyone who can reach the server can search, read the monitoring routes, and start/)]);
  });

  it('logs each route group opened to anonymous callers, saying what it exposes', async () => {
    const warnings: string[] = [];
    const logger: LoggerService = { log: () => undefined, error: () => undefined, warn: (message: string) => void warnings.push(message) };
    const tokens = [{ name: 'ops', token: 'a-secret-of-enough-length', role: 'admin' as const }];
    await boot({ auth: { tokens, anonymous: ['health', 'search'] } }, false, logger);
    expect(warnings).toEqual([
      expect.stringMatching(/^Anonymous access is on for "health" \(auth\.anonymous\): GET \/api\/ai\/monitoring\/health/),
      expect.stringMatching(/^Anonymous access is on for "search" \(auth\.anonymous\): GET \/api\/ai\/search: anyone who can reach the server can read the ids and metadata of every indexed entity and spend the embedding budget/),
    ]);
    warnings.length = 0;
    await boot({ auth: { tokens } }, false, logger);
    expect(warnings).toEqual([]);
  });
});
