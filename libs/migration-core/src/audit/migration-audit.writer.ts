import type { EntityManager } from 'typeorm';
import type { MigrationAuditAction } from './migration-audit-action.enum';

/** Who performs an operator action; recorded in the audit log (never a secret such as a token). */
export interface MigrationActionOptions {
  /** The acting user or API token name. Default "application". At most 255 characters. */
  actor?: string;
}

/** Default actor of calls made from code without an `actor`. */
export const DEFAULT_MIGRATION_ACTOR = 'application';

/** Appends an audit entry inside the caller's transaction, so the entry exists exactly when the change does. */
export async function appendAuditEntry(
  manager: EntityManager,
  entry: {
    jobId: string | null;
    generationId?: number | null;
    action: MigrationAuditAction;
    actor?: string;
    fromStatus: string | null;
    toStatus: string;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await manager.query(
    `INSERT INTO ai_migration_audit_log (job_id, generation_id, action, actor, from_status, to_status, details) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      entry.jobId,
      entry.generationId ?? null,
      entry.action,
      entry.actor ?? DEFAULT_MIGRATION_ACTOR,
      entry.fromStatus,
      entry.toStatus,
      entry.details ? JSON.stringify(entry.details) : null,
    ],
  );
}
