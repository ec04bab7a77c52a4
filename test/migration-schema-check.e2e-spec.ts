import { AI_CORE_ENTITIES, AI_CORE_MIGRATIONS, AiCoreModule, createAiDataSource } from '@ai-infrastructure/core';
import { AI_MIGRATION_ENTITIES, MigrationModule, MigrationOptionsError } from '@ai-infrastructure/migration-core';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CreateProducts1732100001000 } from '../apps/sample/src/migrations/1732100001000-create-products';
import { Product } from '../apps/sample/src/products/product.entity';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { testCoreOptions } from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

@Module({})
class SchemaCheckAppModule {}

/** An app with MigrationModule whose DataSource lists `entities` and runs `migrations`. */
function appModule(url: string, entities: Function[], migrations: Function[]): DynamicModule {
  return {
    module: SchemaCheckAppModule,
    imports: [
      TypeOrmModule.forRootAsync({
        useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions({}), entities, migrations, migrationsRun: true, retryAttempts: 1, logging: false }),
        dataSourceFactory: (options) => createAiDataSource(options!, { DATABASE_URL: url }),
      }),
      AiCoreModule.forRoot(testCoreOptions({ worker: { enabled: false }, liveIndexing: false })),
      MigrationModule.forRoot({ enabled: false }),
    ],
  };
}

/** Boots the app and returns its startup error, closing whatever was opened. */
async function startupError(module: DynamicModule): Promise<Error | undefined> {
  const app = await NestFactory.create(module, { logger: false, abortOnError: false });
  const failure = await app.init().then(
    () => undefined,
    (error: Error) => error,
  );
  await app.close().catch(() => undefined);
  return failure;
}

/**
 * A first adopter who forgets the migration module's entities or migrations gets one sentence at startup
 * with the fix (before: the app said it started, then logged `relation "ai_migration_jobs" does not
 * exist` twice a second).
 */
describeEachEngine('MigrationModule startup checks of its schema', ({ getUrl }) => {
  it('names the entities missing from the DataSource and how to add them', async () => {
    const error = await startupError(appModule(getUrl(), [Product, ...AI_CORE_ENTITIES], [...AI_CORE_MIGRATIONS, CreateProducts1732100001000]));
    expect(error).toBeInstanceOf(MigrationOptionsError);
    expect(error!.message).toContain("MigrationModule's entities (MigrationJob, MigrationAuditEntry, MigrationVerifyFinding) are not in your DataSource's entities");
    expect(error!.message).toContain('...AI_MIGRATION_ENTITIES]');
  });

  it('names the missing tables and the migrations to run', async () => {
    const error = await startupError(appModule(getUrl(), [Product, ...AI_CORE_ENTITIES, ...AI_MIGRATION_ENTITIES], [...AI_CORE_MIGRATIONS, CreateProducts1732100001000]));
    expect(error).toBeInstanceOf(MigrationOptionsError);
    expect(error!.message).toContain('(ai_migration_jobs, ai_migration_audit_log, ai_migration_verify_findings) do not exist in this database or are not up to date');
    expect(error!.message).toContain('Add AI_MIGRATION_MIGRATIONS after AI_CORE_MIGRATIONS');
  });
});
