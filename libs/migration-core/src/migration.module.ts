import { Global, Module } from '@nestjs/common';
import { MIGRATION_RESOLVED_OPTIONS } from './migration.constants';
import {
  MIGRATION_ASYNC_OPTIONS_TYPE,
  MIGRATION_MODULE_OPTIONS,
  MIGRATION_OPTIONS_TYPE,
  MigrationConfigurableModule,
} from './migration.module-definition';
import type { MigrationModuleOptions } from './migration-options.interface';
import { resolveMigrationOptions } from './migration-options.resolver';
import { MigrationSchemaCheck } from './database/migration-schema.check';
import { MigrationJobRepository } from './job/migration-job.repository';
import { MigrationJobEvents } from './job/migration-job.events';
import { MigrationWakeup } from './migration-wakeup';
import { EntityRepositoryRegistry } from './registry/entity-repository.registry';
import { MigrationRunnerService } from './runner/migration-runner.service';
import { MigrationAuditService } from './audit/migration-audit.service';
import { DataMigrationService } from './service/data-migration.service';
import { MigrationGenerationService } from './generation/migration-generation.service';

/**
 * Backfill jobs over the core indexing queue: `DataMigrationService` (start, watch, pause, resume,
 * cancel) and a runner in every instance. Requires `AiCoreModule`; its DataSource must also list
 * {@link AI_MIGRATION_ENTITIES} and {@link AI_MIGRATION_MIGRATIONS} (checked at startup, with the fix in
 * the error). No HTTP dependency.
 *
 * @example
 * ```ts
 * imports: [TypeOrmModule.forRootAsync(...), AiCoreModule.forRoot({...}), MigrationModule.forRoot({ maxConcurrentJobs: 3 })]
 * ```
 */
@Global()
@Module({
  providers: [
    {
      provide: MIGRATION_RESOLVED_OPTIONS,
      useFactory: (options: MigrationModuleOptions) => resolveMigrationOptions(options),
      inject: [MIGRATION_MODULE_OPTIONS],
    },
    MigrationSchemaCheck,
    EntityRepositoryRegistry,
    MigrationJobRepository,
    MigrationJobEvents,
    MigrationWakeup,
    DataMigrationService,
    MigrationGenerationService,
    MigrationAuditService,
    MigrationRunnerService,
  ],
  exports: [DataMigrationService, MigrationGenerationService, MigrationAuditService, EntityRepositoryRegistry, MigrationRunnerService, MigrationJobEvents, MIGRATION_RESOLVED_OPTIONS],
})
export class MigrationModule extends MigrationConfigurableModule {
  /** Configures the module with static options; invalid options fail at startup naming the key. */
  static override forRoot(options: typeof MIGRATION_OPTIONS_TYPE = {}) {
    resolveMigrationOptions(options);
    return super.forRoot(options);
  }

  /** Configures the module from a factory, class or existing provider. */
  static override forRootAsync(options: typeof MIGRATION_ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }
}
