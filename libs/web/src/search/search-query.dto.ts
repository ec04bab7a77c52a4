import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { IsStorableText } from '../validation/is-storable-text.decorator';

/** Query parameters of `GET /api/ai/search`. */
export class SearchQueryDto {
  @ApiProperty({ description: 'Entity type to search, as in ai-entity-config.yml.', example: 'product' })
  @IsString()
  @IsStorableText()
  @Matches(/^[a-z][a-z0-9_-]{0,99}$/, { message: 'entityType must be a configured entity type name (lower-case letters, digits, "_" or "-")' })
  entityType: string;

  @ApiProperty({ description: 'Free-text query.', example: 'waterproof running shoes', maxLength: 2000 })
  @IsString()
  @IsStorableText()
  @Length(1, 2000)
  q: string;

  @ApiPropertyOptional({ description: 'Most results.', default: 10, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'Lowest cosine similarity.', minimum: -1, maximum: 1, example: 0.2 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(-1)
  @Max(1)
  threshold?: number;

  @ApiPropertyOptional({
    description: 'Metadata equality filter as a JSON object over the entity type\'s metadata-fields.',
    example: '{"category":"Footwear"}',
    type: String,
  })
  @IsOptional()
  @Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  })
  @IsObject({ message: 'filter must be a JSON object, e.g. {"category":"Footwear"}' })
  @IsStorableText()
  filter?: Record<string, unknown>;
}
