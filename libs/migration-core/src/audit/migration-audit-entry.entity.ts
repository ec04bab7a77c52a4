import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { MigrationAuditAction } from './migration-audit-action.enum';

/**
 * One row of the append-only audit log (`ai_migration_audit_log`): who did what to which job, when, and
 * from which state. Written in the same transaction as the change it records; a database trigger rejects
 * UPDATE and DELETE, so entries cannot be rewritten. Job cleanup does not remove them.
 */
@Entity('ai_migration_audit_log')
@Index('ai_migration_audit_log_job_idx', ['jobId', 'id'])
@Index('ai_migration_audit_log_generation_idx', ['generationId', 'id'])
export class MigrationAuditEntry {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  /** The job acted on; null for an action on an index generation. */
  @Column({ name: 'job_id', type: 'uuid', nullable: true })
  jobId: string | null;

  /** The index generation acted on (cutover, rollback, retire, validate, create); null for job actions. */
  @Column({ name: 'generation_id', type: 'int', nullable: true })
  generationId: number | null;

  @Column({ type: 'varchar', length: 30 })
  action: MigrationAuditAction;

  /** Who acted: the API token's name, or what the calling code passed as `actor` ("application" if nothing). */
  @Column({ type: 'varchar', length: 255 })
  actor: string;

  /** The job's (or generation's) status before the action (null for start). */
  @Column({ name: 'from_status', type: 'varchar', length: 20, nullable: true })
  fromStatus: string | null;

  /** The job's status after the action. */
  @Column({ name: 'to_status', type: 'varchar', length: 20 })
  toStatus: string;

  /** Action parameters (new rate limit, retried count, pause reason). */
  @Column({ type: 'jsonb', nullable: true })
  details: Record<string, unknown> | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
