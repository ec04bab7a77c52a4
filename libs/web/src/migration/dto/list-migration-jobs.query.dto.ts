import { MIGRATION_REQUEST_LIMITS, MigrationStatus } from '@ai-infrastructure/migration-core';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';
import { ENTITY_TYPE_PATTERN } from './start-migration.dto';

const { jobList } = MIGRATION_REQUEST_LIMITS;

/** Query of `GET /api/ai/migration/jobs`: filters and pagination, newest first. */
export class ListMigrationJobsQueryDto {
  @ApiPropertyOptional({ description: 'Only jobs in this status.', enum: MigrationStatus, example: MigrationStatus.RUNNING })
  @IsOptional()
  @IsStorableText()
  @IsEnum(MigrationStatus, { message: `status must be one of ${Object.values(MigrationStatus).join(', ')}` })
  status?: MigrationStatus;

  @ApiPropertyOptional({ description: 'Only jobs of this entity type.', example: 'product' })
  @IsOptional()
  @IsString()
  @IsStorableText()
  @Matches(ENTITY_TYPE_PATTERN, { message: 'entityType must be an entity type name (a letter, then letters, digits, "_", "." or "-")' })
  entityType?: string;

  @ApiPropertyOptional({ description: 'Page size.', default: jobList.defaultLimit, minimum: 1, maximum: jobList.maxLimit })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(jobList.maxLimit)
  limit?: number;

  @ApiPropertyOptional({ description: 'Jobs to skip.', default: 0, minimum: 0, maximum: jobList.maxOffset })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(jobList.maxOffset)
  offset?: number;
}
