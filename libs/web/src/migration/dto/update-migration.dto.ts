import { MIGRATION_REQUEST_LIMITS } from '@ai-infrastructure/migration-core';
import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';

const { rateLimit } = MIGRATION_REQUEST_LIMITS;

/** Body of `PATCH /api/ai/migration/jobs/{id}`: rethrottle a running or paused job. */
export class UpdateMigrationDto {
  @ApiProperty({ description: 'New limit of embedding-provider requests per minute; applies to the next request.', minimum: rateLimit.min, maximum: rateLimit.max, example: 50 })
  @IsInt()
  @Min(rateLimit.min)
  @Max(rateLimit.max)
  rateLimit: number;
}
