/** States of a migration job: `PENDING → RUNNING ⇄ PAUSED → COMPLETED | FAILED | CANCELLED`. */
export enum MigrationStatus {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  PAUSED = 'PAUSED',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** Statuses that count as active (at most one per entity type, at most maxConcurrentJobs in all). */
export const ACTIVE_MIGRATION_STATUSES = [MigrationStatus.PENDING, MigrationStatus.RUNNING, MigrationStatus.PAUSED];
