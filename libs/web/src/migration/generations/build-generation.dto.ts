import { MIGRATION_REQUEST_LIMITS } from '@ai-infrastructure/migration-core';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';
import { MigrationJobDto } from '../dto/migration-job.dto';
import { ENTITY_TYPE_PATTERN } from '../dto/start-migration.dto';
import { IndexGenerationDto } from './index-generation.dto';

const { batchSize, rateLimit } = MIGRATION_REQUEST_LIMITS;

/** Body of `POST /api/ai/migration/generations`. */
export class BuildGenerationDto {
  @ApiProperty({ description: 'Entity type whose configured definition (model, dimensions, embeddable fields) is built.', example: 'product' })
  @IsString()
  @IsStorableText()
  @Matches(ENTITY_TYPE_PATTERN, { message: 'entityType must be a configured entity type name (a letter, then letters, digits, "_", "." or "-"; at most 100)' })
  entityType: string;

  @ApiPropertyOptional({ description: 'Start the backfill job of the generation. Default true; false only records the generation.', default: true })
  @IsOptional()
  @IsBoolean()
  startBackfill?: boolean;

  @ApiPropertyOptional({ description: 'Rows read per page by the backfill. Default: the module\'s defaultBatchSize (500).', minimum: batchSize.min, maximum: batchSize.max, example: 1000 })
  @IsOptional()
  @IsInt()
  @Min(batchSize.min)
  @Max(batchSize.max)
  batchSize?: number;

  @ApiPropertyOptional({
    description: "Embedding-provider requests per minute for the backfill. Default: the module's defaultRateLimit (100).",
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

/** Answer of `POST /api/ai/migration/generations`. */
export class BuildGenerationResultDto {
  @ApiProperty({ type: IndexGenerationDto, description: 'The BUILDING generation (the one already being built for this definition, if any).' })
  generation: IndexGenerationDto;

  @ApiProperty({ type: MigrationJobDto, nullable: true, description: 'Its backfill job, RUNNING; null with startBackfill false.' })
  job: MigrationJobDto | null;
}
