import { MigrationStatus } from '@ai-infrastructure/migration-core';
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

  @ApiProperty({ type: String, nullable: true, description: 'ISO-8601 duration from a smoothed rate; null while paused or finished.', example: 'PT45M' })
  estimatedTimeRemaining: string | null;
}

/** Answer of `GET /api/ai/migration/jobs/{id}` and the data of each progress event. */
export class MigrationProgressDto {
  @ApiProperty({ format: 'uuid' })
  jobId: string;

  @ApiProperty({ enum: MigrationStatus })
  status: MigrationStatus;

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
}
