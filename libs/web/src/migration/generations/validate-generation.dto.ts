import { MAX_GOLDEN_QUERIES } from '@ai-infrastructure/core';
import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';
import { IsExpectedIdList, MAX_EXPECTED_IDS } from './is-expected-id-list.decorator';

/** Largest integer threshold (an int4 count). */
const MAX_COUNT = 2_147_483_647;

/** One golden query: a search whose good answers are known, or that is only compared between generations. */
export class GoldenQueryDto {
  @ApiProperty({ description: 'The search text.', example: 'waterproof hiking boots', minLength: 1, maxLength: 2000 })
  @IsString()
  @IsStorableText()
  @Length(1, 2000, { message: 'query must be a search text of 1 to 2000 characters' })
  query: string;

  @ApiPropertyOptional({
    description: `Ids that should be in the top k (recall@k); 1 to ${MAX_EXPECTED_IDS} strings or integers. Without them the query only measures overlap with the serving generation.`,
    type: 'array',
    items: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
    example: [42, 97],
  })
  @IsOptional()
  @IsExpectedIdList()
  expectedIds?: Array<string | number>;

  @ApiPropertyOptional({ description: 'Metadata equality filter, as in a search.', type: Object, example: { category: 'Footwear' } })
  @IsOptional()
  @IsObject({ message: 'filter must be an object of metadata fields and values, e.g. {"category":"Footwear"}' })
  @IsStorableText()
  filter?: Record<string, unknown>;
}

/**
 * Body of `POST /api/ai/migration/generations/{id}/validate`; every field is optional. Absent thresholds
 * come from MigrationModule's `generations` options; absent queries from its `goldenQueriesPath` file.
 */
export class ValidateGenerationDto {
  @ApiPropertyOptional({
    description: `Golden queries (at most ${MAX_GOLDEN_QUERIES}); default: the generations.goldenQueriesPath file, or none (coverage only).`,
    type: [GoldenQueryDto],
  })
  @IsOptional()
  @IsArray({ message: 'queries must be a list of golden queries such as [{"query":"red shoes","expectedIds":[42]}]' })
  @ArrayMaxSize(MAX_GOLDEN_QUERIES)
  @ValidateNested({ each: true })
  @Type(() => GoldenQueryDto)
  queries?: GoldenQueryDto[];

  @ApiPropertyOptional({ description: 'Hits compared per query. Default: the module\'s generations.k (10).', minimum: 1, maximum: 100, example: 10 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  k?: number;

  @ApiPropertyOptional({ description: 'Least mean recall@k over the queries with expected ids. Default: generations.minRecall (0.8).', minimum: 0, maximum: 1, example: 0.8 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  minRecall?: number;

  @ApiPropertyOptional({ description: 'Least mean overlap@k with the serving generation. Default: generations.minOverlap (0).', minimum: 0, maximum: 1, example: 0.5 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  minOverlap?: number;

  @ApiPropertyOptional({ description: 'Most source rows without a vector. Default: generations.maxMissing (0).', minimum: 0, maximum: MAX_COUNT, example: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_COUNT)
  maxMissing?: number;

  @ApiPropertyOptional({ description: 'Most vectors whose content hash is not the row\'s current one. Default: generations.maxStale (0).', minimum: 0, maximum: MAX_COUNT, example: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_COUNT)
  maxStale?: number;
}
