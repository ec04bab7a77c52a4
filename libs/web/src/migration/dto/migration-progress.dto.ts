import { MIGRATION_MODES, MIGRATION_RATE_BASES, MigrationPauseReason, MigrationStatus, type MigrationMode, type MigrationRateBasis } from '@ai-infrastructure/migration-core';
import { ApiProperty } from '@nestjs/swagger';

/** Counters of a job's progress (the spec's `progress` object). */
export class MigrationProgressCountsDto {
  @ApiProperty({ example: 100000 })
  total: number;

  @ApiProperty({ description: 'Entities whose vectors are stored.', example: 25000 })
  processed: number;

  @ApiProperty({ example: 0 })
  failed: number;

  @ApiProperty({ description: '(processed + skipped + failed) / total × 100, rounded down to one decimal, at most 100 (100 only when every row is done).', example: 25 })
  percentComplete: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'ISO-8601 duration at the limit that binds now, or at the recent (smoothed) rate; PT0S once finished; null while paused or before a rate is measured.',
    example: 'PT45M',
  })
  estimatedTimeRemaining: string | null;

  @ApiProperty({
    enum: MIGRATION_RATE_BASES,
    description: "What estimatedTimeRemaining follows: the binding limit, the job's recent measured rate (the machine or provider speed binds), or unknown.",
    example: 'measured',
  })
  estimatedTimeRemainingBasis: MigrationRateBasis;
}

/** What a job has cost at the embedding provider so far, its projection and its budget. */
export class MigrationUsageDto {
  @ApiProperty({ description: "Provider requests sent for the job's items, failed attempts included (a request shared with other items counts by the job's share).", example: 50 })
  requests: number;

  @ApiProperty({ description: 'The part of requests that failed.', example: 0 })
  failedRequests: number;

  @ApiProperty({ description: "Tokens billed: the provider's reported usage (the library's count where it reported none).", example: 1250000 })
  tokensUsed: number;

  @ApiProperty({ description: "The part of tokensUsed that is the library's count rather than the provider's report.", example: 0 })
  estimatedTokens: number;

  @ApiProperty({ description: "USD so far at the configured price of the model (AiCoreModule option pricing).", example: 0.025 })
  estimatedCost: number;

  @ApiProperty({ type: Number, nullable: true, description: 'tokensUsed projected to the whole job by the tokens per entity so far; null before any entity is done.', example: 5000000 })
  projectedTokens: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'estimatedCost projected the same way.', example: 0.1 })
  projectedCost: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Token budget; null for none.', example: null })
  maxTokens: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Budget in USD; null for none.', example: 5 })
  maxCost: number | null;
}

/** A batch job's provider batches. */
export class MigrationBatchesDto {
  @ApiProperty({ description: 'Batches being submitted or running at the provider.', example: 1 })
  inFlight: number;

  @ApiProperty({ description: 'Batches whose results were applied.', example: 3 })
  applied: number;

  @ApiProperty({ description: 'Batches the provider rejected or that were never submitted (their items were re-queued).', example: 0 })
  failed: number;

  @ApiProperty({ description: 'Embedding inputs in the batches in flight.', example: 50000 })
  inputsInFlight: number;
}

/** Answer of `GET /api/ai/migration/jobs/{id}` and the data of each progress event. */
export class MigrationProgressDto {
  @ApiProperty({ format: 'uuid' })
  jobId: string;

  @ApiProperty({ enum: MigrationStatus })
  status: MigrationStatus;

  @ApiProperty({ enum: MIGRATION_MODES, description: "How the job's texts reach the provider: sync, or batch (the provider's Batch API).", example: 'sync' })
  mode: MigrationMode;

  @ApiProperty({ type: MigrationBatchesDto, nullable: true, description: "A batch job's provider batches; null for sync jobs." })
  batches: MigrationBatchesDto | null;

  @ApiProperty({ type: MigrationProgressCountsDto })
  progress: MigrationProgressCountsDto;

  @ApiProperty({ description: 'Entities already indexed with their current content.', example: 0 })
  skipped: number;

  @ApiProperty({ description: 'Entities per second since the start.', example: 812.5 })
  throughput: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time' })
  lastUpdatedAt: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completedAt: Date | null;

  @ApiProperty({ type: String, nullable: true })
  errorMessage: string | null;

  @ApiProperty({ enum: MigrationPauseReason, nullable: true, description: 'Why the job is PAUSED; null otherwise. BUDGET_EXCEEDED: raise the budget (PATCH) and resume.' })
  pauseReason: MigrationPauseReason | null;

  @ApiProperty({ type: MigrationUsageDto })
  usage: MigrationUsageDto;
}
