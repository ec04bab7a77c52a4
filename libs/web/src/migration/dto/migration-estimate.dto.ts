import { ApiProperty } from '@nestjs/swagger';

/** Answer of `POST /api/ai/migration/estimate`: a dry run without provider calls or writes. */
export class MigrationEstimateDto {
  @ApiProperty({ example: 'product' })
  entityType: string;

  @ApiProperty({ description: 'Rows matching the filters.', example: 100000 })
  matching: number;

  @ApiProperty({ description: 'Rows already indexed with their current content.', example: 40000 })
  wouldSkip: number;

  @ApiProperty({ description: 'Rows that would be embedded.', example: 60000 })
  wouldEmbed: number;

  @ApiProperty({ example: 3600000 })
  estimatedTokens: number;

  @ApiProperty({ description: "estimatedTokens × the module's pricePerMillionTokens.", example: 0.072 })
  estimatedCostUsd: number;

  @ApiProperty({ example: 600 })
  estimatedRequests: number;

  @ApiProperty({ description: 'ISO-8601 duration at the rate limit.', example: 'PT6M' })
  estimatedDuration: string;
}
