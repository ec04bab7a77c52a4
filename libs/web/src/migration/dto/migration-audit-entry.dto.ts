import { MigrationAuditAction, type MigrationAuditEntry } from '@ai-infrastructure/migration-core';
import { ApiProperty } from '@nestjs/swagger';

/** One audit-log entry of a job. */
export class MigrationAuditEntryDto {
  @ApiProperty({ enum: MigrationAuditAction, example: MigrationAuditAction.PAUSE })
  action: MigrationAuditAction;

  @ApiProperty({ description: 'Token name (or actor) that acted.', example: 'ops-admin' })
  actor: string;

  @ApiProperty({ type: String, nullable: true, example: 'RUNNING' })
  fromStatus: string | null;

  @ApiProperty({ example: 'PAUSED' })
  toStatus: string;

  @ApiProperty({ type: Object, nullable: true, example: { reason: 'Maintenance window' } })
  details: Record<string, unknown> | null;

  @ApiProperty({ type: String, format: 'date-time' })
  at: Date;
}

/** @internal */
export function toAuditEntryDto(entry: MigrationAuditEntry): MigrationAuditEntryDto {
  return { action: entry.action, actor: entry.actor, fromStatus: entry.fromStatus, toStatus: entry.toStatus, details: entry.details, at: entry.createdAt };
}
