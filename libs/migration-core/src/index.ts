/**
 * @ai-infrastructure/migration-core — backfill, re-embed and rebuild jobs over the core indexing queue.
 * No HTTP dependency.
 */
export { MigrationModule } from './migration.module';
export { MIGRATION_RESOLVED_OPTIONS } from './migration.constants';
export type { MigrationModuleOptions } from './migration-options.interface';
export { resolveMigrationOptions, type ResolvedMigrationOptions } from './migration-options.resolver';
export * from './migration.errors';
export { MigrationJob } from './job/migration-job.entity';
export { MigrationAuditAction, MigrationAuditEntry, DEFAULT_MIGRATION_ACTOR, type MigrationActionOptions } from './audit';
export { MigrationStatus, ACTIVE_MIGRATION_STATUSES } from './job/migration-status.enum';
export { ISO_DATE_PATTERN, isIsoDate } from './job/iso-date';
export type { MigrationFilters, MigrationJobQuery, MigrationRequest } from './job/migration-request.interface';
export type { MigrationEstimate, MigrationFailure, MigrationProgress } from './job/migration-progress.interface';
export { AI_MIGRATION_ENTITIES, AI_MIGRATION_MIGRATIONS } from './database/migration-schema';
export { EntityRepositoryRegistry, type EntityRegistration } from './registry/entity-repository.registry';
export { DataMigrationService } from './service/data-migration.service';
export { MigrationRunnerService } from './runner/migration-runner.service';
export type { MigrationPageEvent } from './runner/migration-page-event.interface';
