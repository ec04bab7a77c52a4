import { MAX_AUDIT_PAGE, MigrationAuditAction } from '@ai-infrastructure/migration-core';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';
import { ENTITY_TYPE_PATTERN } from '../dto/start-migration.dto';

/** Query of `GET /api/ai/audit/entries`: filters (combined with AND) and pagination, newest first. */
export class AuditLogQueryDto {
  @ApiPropertyOptional({ description: 'Only entries of this actor (the token\'s name, or the actor code passed).', example: 'ci-pipeline' })
  @IsOptional()
  @IsString()
  @IsStorableText()
  @MaxLength(255)
  actor?: string;

  @ApiPropertyOptional({ description: 'Only entries of this action.', enum: MigrationAuditAction, example: MigrationAuditAction.PAUSE })
  @IsOptional()
  @IsStorableText()
  @IsEnum(MigrationAuditAction, { message: `action must be one of ${Object.values(MigrationAuditAction).join(', ')}` })
  action?: MigrationAuditAction;

  @ApiPropertyOptional({ description: 'Only entries of this job.', format: 'uuid' })
  @IsOptional()
  @IsStorableText()
  @IsUUID('all', { message: 'jobId must be a job id (a UUID)' })
  jobId?: string;

  @ApiPropertyOptional({ description: 'Only entries of this index generation.', minimum: 1, maximum: 2_147_483_647 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  generationId?: number;

  @ApiPropertyOptional({ description: 'Only entries about jobs or generations of this entity type.', example: 'product' })
  @IsOptional()
  @IsString()
  @IsStorableText()
  @Matches(ENTITY_TYPE_PATTERN, { message: 'entityType must be an entity type name (a letter, then letters, digits, "_", "." or "-")' })
  entityType?: string;

  @ApiPropertyOptional({ description: 'Entries at or after this time (ISO 8601).', example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @IsStorableText()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date or date-time, such as 2026-12-01T00:00:00Z' })
  from?: string;

  @ApiPropertyOptional({ description: 'Entries before this time (ISO 8601).', example: '2026-12-02T00:00:00Z' })
  @IsOptional()
  @IsStorableText()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date or date-time, such as 2026-12-02T00:00:00Z' })
  to?: string;

  @ApiPropertyOptional({ description: 'Page size.', default: 50, minimum: 1, maximum: MAX_AUDIT_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_AUDIT_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'Entries to skip.', default: 0, minimum: 0, maximum: 1_000_000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset?: number;
}
