import type { MigrationAuditPage } from '@ai-infrastructure/migration-core';
import { ApiProperty } from '@nestjs/swagger';
import { MigrationAuditEntryDto, toAuditEntryDto } from '../dto/migration-audit-entry.dto';

/** An audit entry with the entity type of the job or generation it acted on. */
export class AuditLogEntryDto extends MigrationAuditEntryDto {
  @ApiProperty({ type: String, nullable: true, description: 'Entity type of the job or generation acted on (null when it no longer exists).', example: 'product' })
  entityType: string | null;
}

/** `GET /api/ai/audit/entries`: a page of audit entries, newest first. */
export class AuditLogPageDto {
  @ApiProperty({ type: [AuditLogEntryDto] })
  items: AuditLogEntryDto[];

  @ApiProperty({ description: 'Entries matching the filters, all pages.', example: 120 })
  total: number;

  @ApiProperty({ example: 50 })
  limit: number;

  @ApiProperty({ example: 0 })
  offset: number;
}

/** @internal */
export function toAuditLogPageDto(page: MigrationAuditPage): AuditLogPageDto {
  return { ...page, items: page.items.map((entry) => ({ ...toAuditEntryDto(entry), entityType: entry.entityType })) };
}
