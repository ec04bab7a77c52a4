import { AiCoreModule, createAiDataSource } from '@ai-infrastructure/core';
import { MigrationModule } from '@ai-infrastructure/migration-core';
import { AiWebModule } from '@ai-infrastructure/web';
import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProductsModule } from './products/products.module';
import { sampleCoreOptions, sampleDataSourceOptions, sampleMigrationOptions, sampleWebOptions } from './sample.config';

/**
 * Which libraries the sample combines (the spec's "conditional loading" table), chosen with the
 * AI_SAMPLE_MODULES environment variable:
 * - `full` (default): core + migration + web — `/api/ai/migration` is served;
 * - `web`: core + web — search and health only, `/api/ai/migration` answers 404;
 * - `migration`: core + migration — jobs run from code or the CLI, no HTTP server.
 */
export type SampleCombination = 'full' | 'web' | 'migration';

/** Parses AI_SAMPLE_MODULES. */
export function sampleCombination(env: NodeJS.ProcessEnv = process.env): SampleCombination {
  const value = env.AI_SAMPLE_MODULES || 'full';
  if (value !== 'full' && value !== 'web' && value !== 'migration') {
    throw new Error(`Environment variable AI_SAMPLE_MODULES is "${value}"; use full (core + migration + web), web (core + web) or migration (core + migration).`);
  }
  return value;
}

const database = TypeOrmModule.forRootAsync({
  useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions() }),
  dataSourceFactory: (options) => createAiDataSource(options!),
});
const core = AiCoreModule.forRootAsync({ useFactory: () => sampleCoreOptions() });
const migration = MigrationModule.forRootAsync({ useFactory: () => sampleMigrationOptions() });
const web = AiWebModule.forRootAsync({ useFactory: () => sampleWebOptions() });

/** The products catalogue with the AI core, backfill jobs and every web endpoint (`AI_SAMPLE_MODULES=full`). */
@Module({ imports: [database, core, migration, web, ProductsModule] })
export class AppModule {}

/** The catalogue with search and health endpoints but no migration module (`AI_SAMPLE_MODULES=web`). */
@Module({ imports: [database, core, web, ProductsModule] })
export class SearchOnlyAppModule {}

/** The catalogue with backfill jobs driven from code, without the web module (`AI_SAMPLE_MODULES=migration`). */
@Module({ imports: [database, core, migration, ProductsModule] })
export class HeadlessMigrationAppModule {}

/** The root module for a combination. */
export function sampleAppModule(combination: SampleCombination): DynamicModule {
  const module = { full: AppModule, web: SearchOnlyAppModule, migration: HeadlessMigrationAppModule }[combination];
  return { module };
}
