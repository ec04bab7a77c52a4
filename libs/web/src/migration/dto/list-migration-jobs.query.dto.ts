import { MigrationStatus } from '@ai-infrastructure/migration-core';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { ENTITY_TYPE_PATTERN } from './start-migration.dto';

/** Query of `GET /api/ai/migration/jobs`: filters and pagination, newest first. */
export class ListMigrationJobsQueryDto {
  @ApiPropertyOptional({ description: 'Only jobs in this status.', enum: MigrationStatus, example: MigrationStatus.RUNNING })
  @IsOptional()
  @IsEnum(MigrationStatus, { message: `status must be one of ${Object.values(MigrationStatus).join(', ')}` })
  status?: MigrationStatus;

  @ApiPropertyOptional({ description: 'Only jobs of this entity type.', example: 'product' })
  @IsOptional()
  @IsString()
  @Matches(ENTITY_TYPE_PATTERN, { message: 'entityType must be an entity type name (a letter, then letters, digits, "_", "." or "-")' })
  entityType?: string;

  @ApiPropertyOptional({ description: 'Page size.', default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'Jobs to skip.', default: 0, minimum: 0, maximum: 1_000_000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset?: number;
}
