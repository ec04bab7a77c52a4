import { MigrationAuditAction, type MigrationAuditEntry } from '@ai-infrastructure/migration-core';
import { ApiProperty } from '@nestjs/swagger';

/** One audit-log entry of a job or of an index generation. */
export class MigrationAuditEntryDto {
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The job acted on; null for an action on an index generation.' })
  jobId: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'The index generation acted on; null for an action on a job.', example: null })
  generationId: number | null;

  @ApiProperty({ enum: MigrationAuditAction, example: MigrationAuditAction.PAUSE })
  action: MigrationAuditAction;

  @ApiProperty({ description: 'Token name (or actor) that acted.', example: 'ops-admin' })
  actor: string;

  @ApiProperty({ type: String, nullable: true, example: 'RUNNING', description: 'The job\'s (or generation\'s) status before the action.' })
  fromStatus: string | null;

  @ApiProperty({ example: 'PAUSED', description: 'The job\'s (or generation\'s) status after the action.' })
  toStatus: string;

  @ApiProperty({ type: Object, nullable: true, example: { reason: 'Maintenance window' } })
  details: Record<string, unknown> | null;

  @ApiProperty({ type: String, format: 'date-time' })
  at: Date;
}

/** @internal */
export function toAuditEntryDto(entry: MigrationAuditEntry): MigrationAuditEntryDto {
  return {
    jobId: entry.jobId,
    generationId: entry.generationId,
    action: entry.action,
    actor: entry.actor,
    fromStatus: entry.fromStatus,
    toStatus: entry.toStatus,
    details: entry.details,
    at: entry.createdAt,
  };
}
