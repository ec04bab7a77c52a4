import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';

/** Body of `PATCH /api/ai/migration/jobs/{id}`: rethrottle a running or paused job. */
export class UpdateMigrationDto {
  @ApiProperty({ description: 'New limit of embedding-provider requests per minute; applies to the next request.', minimum: 1, maximum: 1_000_000, example: 50 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  rateLimit: number;
}
