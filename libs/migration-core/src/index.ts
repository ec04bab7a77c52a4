/**
 * @ai-infrastructure/migration-core — backfill, re-embed and rebuild jobs over the core indexing queue:
 * `MigrationModule` and `DataMigrationService` (start, watch, pause, resume, cancel, rethrottle, retry).
 * No HTTP dependency; `@ai-infrastructure/web` adds the REST endpoints.
 *
 * This module is the package's public API, kept stable across minor versions.
 *
 * @example
 * ```ts
 * imports: [TypeOrmModule.forRootAsync(...), AiCoreModule.forRoot({...}), MigrationModule.forRoot({ maxConcurrentJobs: 3 })]
 *
 * const job = await migrations.indexAllEntities('product');
 * const progress = await migrations.getProgress(job.id);
 * ```
 */

// ---- the module ----

/** The migration module: `MigrationModule.forRoot(options)` / `forRootAsync(...)`, after AiCoreModule. */
export { MigrationModule } from './migration.module';
/** Options of `MigrationModule.forRoot`: default batch size and rate limit, concurrency, leases, cleanup, generations. */
export type { MigrationModuleOptions, MigrationGenerationOptions, MigrationBudgetOptions } from './migration-options.interface';
/** The migration module's TypeORM entities and versioned migrations, to list in the DataSource options. */
export { AI_MIGRATION_ENTITIES, AI_MIGRATION_MIGRATIONS } from './database/migration-schema';

// ---- jobs ----

/** Starts, watches and controls backfill and verification jobs. */
export { DataMigrationService } from './service/data-migration.service';
/** The producer loop of this instance; `onPage` reports each committed page (for metrics). */
export { MigrationRunnerService } from './runner/migration-runner.service';
export type { MigrationPageEvent } from './runner/migration-page-event.interface';
/** A job row, its states, and what counts as active. */
export { MigrationJob } from './job/migration-job.entity';
export { MigrationStatus, ACTIVE_MIGRATION_STATUSES } from './job/migration-status.enum';
/** Status changes of jobs made by this instance (for metrics). */
export { MigrationJobEvents, type MigrationJobStatusChange } from './job/migration-job.events';
/** What to migrate, how to list jobs, and what a job reports. */
export type { MigrationBudgetUpdate, MigrationFilters, MigrationJobQuery, MigrationMode, MigrationRequest } from './job/migration-request.interface';
/** The values of `mode` (`sync`, `batch`). */
export { MIGRATION_MODES } from './job/migration-request.interface';
export type {
  MigrationBatches,
  MigrationEstimate,
  MigrationFailure,
  MigrationModeEstimate,
  MigrationProgress,
  MigrationRateBasis,
  MigrationTokenCountBasis,
  MigrationUsage,
} from './job/migration-progress.interface';
/** The values of `estimatedTimeRemainingBasis` and `durationBasis`. */
export { MIGRATION_RATE_BASES, MIGRATION_TOKEN_COUNT_BASES } from './job/migration-progress.interface';
/** A job row's usage figures as the progress shows them (for views of job rows). */
export { migrationUsage } from './service/migration-progress';
/** Why a paused job is paused (BUDGET_EXCEEDED, QUOTA_EXHAUSTED, PROVIDER_UNAVAILABLE, OPERATOR). */
export { MigrationPauseReason } from './job/migration-pause-reason.enum';
/** The bounds of every request (batch size, rate limit, id lists, actor, pause reason, job list). */
export { MIGRATION_REQUEST_LIMITS, type MigrationRequestLimits } from './job/migration-request.limits';
/** The date formats the `createdBefore` / `createdAfter` filters accept. */
export { ISO_DATE_PATTERN, isIsoDate } from './job/iso-date';

// ---- index generations ----

/** Build, validate, cut over, roll back and retire index generations, with audit entries. */
export { MigrationGenerationService, type GenerationValidationRequest } from './generation';
/**
 * Verification jobs (`DataMigrationService.startVerification`): what to verify, the report, and the
 * findings per entity (listed up to MAX_FINDINGS_PER_KIND per kind).
 */
export {
  MAX_FINDINGS_PER_KIND,
  MigrationVerifyFinding,
  VERIFY_FINDING_KINDS,
  VERIFY_FINDINGS_LIMITS,
  type VerificationRequest,
  type VerifyFindingKind,
  type VerifyFindingsPage,
  type VerifyFindingsQuery,
  type VerifyReport,
} from './verify';
export type { MigrationJobKind } from './job/migration-job.entity';

// ---- the audit log ----

/** Who did what to which job, when and from which state (`getAuditLog`). */
export {
  MigrationAuditAction,
  MigrationAuditEntry,
  MigrationAuditService,
  MAX_AUDIT_PAGE,
  DEFAULT_MIGRATION_ACTOR,
  type MigrationActionOptions,
  type MigrationAuditPage,
  type MigrationAuditQuery,
  type MigrationAuditRecord,
} from './audit';

// ---- errors ----

/** The module's errors; `@ai-infrastructure/web` maps them to HTTP statuses. */
export * from './migration.errors';
