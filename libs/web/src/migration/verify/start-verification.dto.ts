import { MIGRATION_REQUEST_LIMITS } from '@ai-infrastructure/migration-core';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';
import { ENTITY_TYPE_PATTERN } from '../dto/start-migration.dto';

const { batchSize, rateLimit } = MIGRATION_REQUEST_LIMITS;

/** Body of `POST /api/ai/migration/verify`. */
export class StartVerificationDto {
  @ApiProperty({ description: 'Entity type to verify, as configured in ai-entity-config.yml.', example: 'product' })
  @IsString()
  @IsStorableText()
  @Matches(ENTITY_TYPE_PATTERN, { message: 'entityType must be a configured entity type name (a letter, then letters, digits, "_", "." or "-"; at most 100)' })
  entityType: string;

  @ApiPropertyOptional({
    description: 'Index generation to verify (BUILDING, READY or SERVING; see GET /api/ai/migration/generations). Default: the serving one.',
    minimum: 1,
    maximum: 2_147_483_647,
    example: 2,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  generationId?: number;

  @ApiPropertyOptional({
    description: 'Re-queue missing and stale entities (LOW priority, at the job\'s rate limit) and delete orphaned vectors. Default false: report only.',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  fix?: boolean;

  @ApiPropertyOptional({ description: 'Rows (and vectors) read per page. Default: the module\'s defaultBatchSize (500).', minimum: batchSize.min, maximum: batchSize.max, example: 1000 })
  @IsOptional()
  @IsInt()
  @Min(batchSize.min)
  @Max(batchSize.max)
  batchSize?: number;

  @ApiPropertyOptional({
    description: "Embedding-provider requests per minute for the fixes. Default: the module's defaultRateLimit (100).",
    minimum: rateLimit.min,
    maximum: rateLimit.max,
    example: 100,
  })
  @IsOptional()
  @IsInt()
  @Min(rateLimit.min)
  @Max(rateLimit.max)
  rateLimit?: number;
}
