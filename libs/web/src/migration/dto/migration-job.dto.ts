import { MIGRATION_MODES, migrationUsage, MigrationPauseReason, MigrationStatus, type MigrationJob, type MigrationJobKind, type MigrationMode } from '@ai-infrastructure/migration-core';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MigrationUsageDto } from './migration-progress.dto';
import { MigrationFiltersDto } from './start-migration.dto';

/** A migration job as the REST API shows it (the spec's fields plus skipped and failed counts). */
export class MigrationJobDto {
  @ApiProperty({ format: 'uuid', example: '3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10' })
  id: string;

  @ApiProperty({ example: 'product' })
  entityType: string;

  @ApiProperty({ enum: MigrationStatus, example: MigrationStatus.RUNNING })
  status: MigrationStatus;

  @ApiProperty({ enum: ['BACKFILL', 'VERIFY'], description: 'BACKFILL embeds entities into its generation; VERIFY compares the generation with the table (see /verify).', example: 'BACKFILL' })
  kind: MigrationJobKind;

  @ApiProperty({ type: Number, nullable: true, description: 'The index generation the job fills or verifies (null for jobs from before generations).', example: 1 })
  generationId: number | null;

  @ApiProperty({
    description:
      'Rows the job covers: those matching the filters when it started, raised to the rows its producer read when more ' +
      '(rows created during the job past its checkpoint); when the job completes, exactly processed + skipped + failed.',
    example: 100000,
  })
  totalEntities: number;

  @ApiProperty({ description: 'Entities whose vectors this job stored.', example: 25000 })
  processedEntities: number;

  @ApiProperty({ description: 'Entities already indexed with their current content.', example: 0 })
  skippedEntities: number;

  @ApiProperty({ description: 'Entities that failed after all retries (see /failures).', example: 0 })
  failedEntities: number;

  @ApiProperty({ example: 500 })
  batchSize: number;

  @ApiProperty({ description: 'Embedding-provider requests per minute.', example: 100 })
  rateLimit: number | null;

  @ApiProperty({ example: false })
  reindexExisting: boolean;

  @ApiPropertyOptional({ type: MigrationFiltersDto, nullable: true })
  filters: MigrationFiltersDto | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  startedAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completedAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time' })
  lastUpdatedAt: Date;

  @ApiProperty({ type: String, nullable: true, description: 'Why the job failed or was paused by the system.' })
  errorMessage: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Name of the API token (or actor) that started the job.', example: 'ci-pipeline' })
  createdBy: string | null;

  @ApiProperty({ enum: MigrationPauseReason, nullable: true, description: 'Why the job is PAUSED; null otherwise.' })
  pauseReason: MigrationPauseReason | null;

  @ApiProperty({ type: MigrationUsageDto, description: 'Provider usage, cost, projection and budget (as in the progress).' })
  usage: MigrationUsageDto;

  @ApiProperty({ enum: MIGRATION_MODES, description: "How the job's texts reach the provider: sync, or batch (the provider's Batch API).", example: 'sync' })
  mode: MigrationMode;
}

/** A page of jobs, newest first. */
export class MigrationJobListDto {
  @ApiProperty({ type: [MigrationJobDto] })
  items: MigrationJobDto[];

  @ApiProperty({ description: 'Jobs matching the filters.', example: 1 })
  total: number;

  @ApiProperty({ example: 50 })
  limit: number;

  @ApiProperty({ example: 0 })
  offset: number;
}

/** @internal The REST view of a job row (internal lease and pacing columns stay private). */
export function toJobDto(job: MigrationJob): MigrationJobDto {
  return {
    id: job.id,
    entityType: job.entityType,
    status: job.status,
    kind: job.kind,
    generationId: job.generationId,
    totalEntities: job.totalEntities,
    processedEntities: job.processedEntities,
    skippedEntities: job.skippedEntities,
    failedEntities: job.failedEntities,
    batchSize: job.batchSize,
    rateLimit: job.rateLimit,
    reindexExisting: job.reindexExisting,
    filters: job.filterConfig,
    startedAt: job.startedAt,
    completedAt: job.completedAt,
    lastUpdatedAt: job.lastUpdatedAt,
    errorMessage: job.errorMessage,
    createdBy: job.createdBy,
    pauseReason: job.status === MigrationStatus.PAUSED ? job.pauseReason : null,
    usage: migrationUsage(job),
    mode: job.mode,
  };
}
