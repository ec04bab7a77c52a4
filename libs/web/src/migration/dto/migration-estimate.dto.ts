import { MIGRATION_RATE_BASES, type MigrationRateBasis } from '@ai-infrastructure/migration-core';
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

  @ApiProperty({ description: "Tokens of the texts to embed, counted with the model's tokenizer (cl100k_base for OpenAI embedding models; the byte estimate otherwise).", example: 3600000 })
  estimatedTokens: number;

  @ApiProperty({ description: "estimatedTokens at the model's price (AiCoreModule pricing, else the module's pricePerMillionTokens).", example: 0.072 })
  estimatedCostUsd: number;

  @ApiProperty({ example: 600 })
  estimatedRequests: number;

  @ApiProperty({ type: String, nullable: true, description: 'ISO-8601 duration at the slowest of the limits and the measured rate; null when unknown.', example: 'PT6M' })
  estimatedDuration: string | null;

  @ApiProperty({
    enum: MIGRATION_RATE_BASES,
    description: 'What the duration follows: the binding limit, the rate the last completed backfill of the type reached, or unknown.',
    example: 'job-rate-limit',
  })
  durationBasis: MigrationRateBasis;
}
