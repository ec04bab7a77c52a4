import { MIGRATION_REQUEST_LIMITS } from '@ai-infrastructure/migration-core';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, IsPositive, Max, Min } from 'class-validator';

const { rateLimit, maxTokens, maxCost } = MIGRATION_REQUEST_LIMITS;

/**
 * Body of `PATCH /api/ai/migration/jobs/{id}`: rethrottle a running or paused job and/or change its budget.
 * At least one field; `null` removes a budget limit.
 */
export class UpdateMigrationDto {
  @ApiPropertyOptional({ description: 'New limit of embedding-provider requests per minute; applies to the next request.', minimum: rateLimit.min, maximum: rateLimit.max, example: 50 })
  @IsOptional()
  @IsInt()
  @Min(rateLimit.min)
  @Max(rateLimit.max)
  rateLimit?: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'New token budget (null removes it). A job paused with BUDGET_EXCEEDED stays paused: resume it afterwards.',
    minimum: maxTokens.min,
    maximum: maxTokens.max,
    example: 5000000,
  })
  @IsOptional()
  @IsInt()
  @Min(maxTokens.min)
  @Max(maxTokens.max)
  maxTokens?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'New budget in USD (null removes it).', minimum: 0, exclusiveMinimum: true, maximum: maxCost.max, example: 10 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  @Max(maxCost.max)
  maxCost?: number | null;
}
