export { MigrationAuditAction } from './migration-audit-action.enum';
export { MigrationAuditEntry } from './migration-audit-entry.entity';
export { DEFAULT_MIGRATION_ACTOR, type MigrationActionOptions } from './migration-audit.writer';
