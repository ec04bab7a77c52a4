export { MigrationAuditAction } from './migration-audit-action.enum';
export { MigrationAuditEntry } from './migration-audit-entry.entity';
export type { MigrationAuditPage, MigrationAuditQuery, MigrationAuditRecord } from './migration-audit-query.interface';
export { MAX_AUDIT_PAGE, MigrationAuditService } from './migration-audit.service';
export { DEFAULT_MIGRATION_ACTOR, type MigrationActionOptions } from './migration-audit.writer';
