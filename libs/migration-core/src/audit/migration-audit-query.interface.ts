import type { MigrationAuditAction } from './migration-audit-action.enum';
import type { MigrationAuditEntry } from './migration-audit-entry.entity';

/** Filters of {@link MigrationAuditService.query}; every one optional, combined with AND. */
export interface MigrationAuditQuery {
  /** Exactly this actor (token name or the `actor` code passed). */
  actor?: string;
  action?: MigrationAuditAction;
  jobId?: string;
  generationId?: number;
  /** The entity type of the job or generation acted on. */
  entityType?: string;
  /** Entries at or after this time. */
  from?: Date;
  /** Entries before this time. */
  to?: Date;
  /** Page size, 1–500 (default 50). */
  limit?: number;
  /** Entries to skip (default 0). */
  offset?: number;
}

/** An audit entry with the entity type of what it acted on (null when that job or generation is gone). */
export interface MigrationAuditRecord extends MigrationAuditEntry {
  entityType: string | null;
}

/** A page of {@link MigrationAuditService.query}, newest first. */
export interface MigrationAuditPage {
  items: MigrationAuditRecord[];
  /** Entries matching the filters, all pages. */
  total: number;
  limit: number;
  offset: number;
}
