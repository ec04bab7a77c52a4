import {
  MIGRATION_MODES,
  MIGRATION_RATE_BASES,
  MIGRATION_TOKEN_COUNT_BASES,
  type MigrationMode,
  type MigrationRateBasis,
  type MigrationTokenCountBasis,
} from '@ai-infrastructure/migration-core';
import { ApiProperty } from '@nestjs/swagger';

/** Cost and duration of the estimated work in one mode. */
export class MigrationModeEstimateDto {
  @ApiProperty({ enum: MIGRATION_MODES, example: 'batch' })
  mode: MigrationMode;

  @ApiProperty({ description: 'Whether this application can run the mode (batch needs a provider with a Batch API).', example: true })
  available: boolean;

  @ApiProperty({ description: 'USD at the mode\'s price (batch: half the synchronous price).', example: 0.036 })
  estimatedCostUsd: number;

  @ApiProperty({ description: 'Embeddings requests (synchronous requests, or lines of the batch files).', example: 30 })
  estimatedRequests: number;

  @ApiProperty({ type: Number, nullable: true, description: 'Provider batches needed; null for sync.', example: 2 })
  estimatedBatches: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'ISO-8601 duration (batch: the completion window, an upper bound).', example: 'PT24H' })
  estimatedDuration: string | null;

  @ApiProperty({ enum: MIGRATION_RATE_BASES, example: 'batch-window' })
  durationBasis: MigrationRateBasis;
}

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

  @ApiProperty({
    description:
      "Tokens of the texts to embed, counted with the model's tokenizer (cl100k_base for OpenAI embedding models); for other models the byte estimate, corrected by the tokens the provider reported for this instance's requests so far (see tokenCountBasis).",
    example: 3600000,
  })
  estimatedTokens: number;

  @ApiProperty({
    enum: MIGRATION_TOKEN_COUNT_BASES,
    description:
      "How estimatedTokens was counted: the model's tokenizer; the byte estimate calibrated by the usage the provider reported; or the byte estimate alone (nothing reported yet; typically a quarter to a third high).",
    example: 'tokenizer',
  })
  tokenCountBasis: MigrationTokenCountBasis;

  @ApiProperty({ description: "estimatedTokens at the model's price (AiCoreModule pricing, else the module's pricePerMillionTokens) in the requested mode (batch: half).", example: 0.072 })
  estimatedCostUsd: number;

  @ApiProperty({ description: 'Embeddings requests in the requested mode.', example: 600 })
  estimatedRequests: number;

  @ApiProperty({ type: String, nullable: true, description: 'ISO-8601 duration in the requested mode: sync — the slowest of the limits and the measured rate, null when unknown; batch — the completion window.', example: 'PT6M' })
  estimatedDuration: string | null;

  @ApiProperty({
    enum: MIGRATION_RATE_BASES,
    description: "What the duration follows: the binding limit, the rate the last completed backfill of the type reached, the provider's batch window, or unknown.",
    example: 'job-rate-limit',
  })
  durationBasis: MigrationRateBasis;

  @ApiProperty({ enum: MIGRATION_MODES, description: 'The mode the figures above are for (the request\'s).', example: 'sync' })
  mode: MigrationMode;

  @ApiProperty({ type: [MigrationModeEstimateDto], description: 'The same work in each mode, to compare cost and duration.' })
  byMode: MigrationModeEstimateDto[];
}
