import { ISO_DATE_PATTERN, MIGRATION_MODES, MIGRATION_REQUEST_LIMITS, type MigrationMode } from '@ai-infrastructure/migration-core';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsBoolean,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';
import { IsEntityIdList } from './is-entity-id-list.decorator';

/** Entity type names as written in ai-entity-config.yml. */
export const ENTITY_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
const ENTITY_TYPE_MESSAGE = 'entityType must be a configured entity type name (a letter, then letters, digits, "_", "." or "-"; at most 100)';

/** Which rows a job covers; all filters are pushed into the SQL that reads the entity table. */
export class MigrationFiltersDto {
  @ApiPropertyOptional({ description: 'Only entities created before this instant (ISO-8601 date or date-time).', example: '2024-01-01' })
  @IsOptional()
  @IsStorableText()
  @IsISO8601({ strict: true }, { message: 'filters.createdBefore must be an ISO-8601 date or date-time, e.g. "2024-01-01"' })
  @Matches(ISO_DATE_PATTERN, { message: 'filters.createdBefore must be YYYY-MM-DD or YYYY-MM-DDTHH:mm[:ss][Z|±HH:mm]' })
  createdBefore?: string;

  @ApiPropertyOptional({ description: 'Only entities created at or after this instant (ISO-8601).', example: '2023-06-01T00:00:00Z' })
  @IsOptional()
  @IsStorableText()
  @IsISO8601({ strict: true }, { message: 'filters.createdAfter must be an ISO-8601 date or date-time, e.g. "2023-06-01T00:00:00Z"' })
  @Matches(ISO_DATE_PATTERN, { message: 'filters.createdAfter must be YYYY-MM-DD or YYYY-MM-DDTHH:mm[:ss][Z|±HH:mm]' })
  createdAfter?: string;

  @ApiPropertyOptional({
    description: "Only these entity ids (the entity's primary key: a uuid or an integer), 1 to 10000 of at most 255 characters each.",
    type: [String],
    example: ['6f1c1c52-8a3b-4b7e-9a1e-2d1f0c9b7a11'],
  })
  @IsOptional()
  @IsEntityIdList()
  ids?: string[];
}

const { batchSize, rateLimit, maxTokens, maxCost } = MIGRATION_REQUEST_LIMITS;

/** Body of `POST /api/ai/migration/start` and `POST /api/ai/migration/estimate`. */
export class StartMigrationDto {
  @ApiProperty({ description: 'Entity type to migrate, as configured in ai-entity-config.yml.', example: 'product' })
  @IsString()
  @IsStorableText()
  @Matches(ENTITY_TYPE_PATTERN, { message: ENTITY_TYPE_MESSAGE })
  entityType: string;

  @ApiPropertyOptional({ description: 'Rows read per page. Default: the module\'s defaultBatchSize (500).', minimum: batchSize.min, maximum: batchSize.max, example: 1000 })
  @IsOptional()
  @IsInt()
  @Min(batchSize.min)
  @Max(batchSize.max)
  batchSize?: number;

  @ApiPropertyOptional({
    description: "Embedding-provider requests per minute for this job. Default: the module's defaultRateLimit (100).",
    minimum: rateLimit.min,
    maximum: rateLimit.max,
    example: 100,
  })
  @IsOptional()
  @IsInt()
  @Min(rateLimit.min)
  @Max(rateLimit.max)
  rateLimit?: number;

  @ApiPropertyOptional({ description: 'Re-embed entities whose stored vector already matches their content. Default false.', default: false })
  @IsOptional()
  @IsBoolean()
  reindexExisting?: boolean;

  @ApiPropertyOptional({ description: 'Row filters.', type: MigrationFiltersDto })
  @IsOptional()
  @IsObject({ message: 'filters must be an object such as {"createdBefore":"2024-01-01"}' })
  @ValidateNested()
  @Type(() => MigrationFiltersDto)
  filters?: MigrationFiltersDto;

  @ApiPropertyOptional({
    description:
      "Token budget: the job pauses with pauseReason BUDGET_EXCEEDED before a provider request that would take its tokensUsed over this. Default: the module's budgets.maxTokensPerJob (none unless set).",
    minimum: maxTokens.min,
    maximum: maxTokens.max,
    example: 2000000,
  })
  @IsOptional()
  @IsInt()
  @Min(maxTokens.min)
  @Max(maxTokens.max)
  maxTokens?: number;

  @ApiPropertyOptional({
    description: "Budget in USD, like maxTokens for the job's estimatedCost. Default: the module's budgets.maxCostPerJob (none unless set).",
    minimum: 0, exclusiveMinimum: true,
    maximum: maxCost.max,
    example: 5,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  @Max(maxCost.max)
  maxCost?: number;

  @ApiPropertyOptional({
    enum: MIGRATION_MODES,
    default: 'sync',
    description:
      "How the texts reach the provider: sync (embeddings requests at the rate limits) or batch (the provider's Batch API: " +
      'results within 24 hours at half the price; needs the OpenAI provider; takes no rateLimit). Live indexing stays synchronous.',
    example: 'batch',
  })
  @IsOptional()
  @IsStorableText()
  @IsIn(MIGRATION_MODES)
  mode?: MigrationMode;
}
