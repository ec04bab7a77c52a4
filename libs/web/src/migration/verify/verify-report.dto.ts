import { MigrationStatus } from '@ai-infrastructure/migration-core';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Answer of `GET /api/ai/migration/verify/{jobId}`: what a verification job found (exact counts). */
export class VerifyReportDto {
  @ApiProperty({ format: 'uuid' })
  jobId: string;

  @ApiProperty({ enum: MigrationStatus, example: MigrationStatus.COMPLETED })
  status: MigrationStatus;

  @ApiProperty({ type: Number, nullable: true, description: 'The index generation verified.', example: 1 })
  generationId: number | null;

  @ApiProperty({ description: 'Whether the job fixes what it finds.', example: false })
  fix: boolean;

  @ApiProperty({ description: 'Rows of the entity table: at the start (raised to the rows read); once COMPLETED, the rows the job read.', example: 100000 })
  sourceRows: number;

  @ApiPropertyOptional({ description: 'Vectors the generation holds now.', example: 99900 })
  vectors?: number;

  @ApiProperty({ description: 'Rows without a vector in the generation.', example: 100 })
  missing: number;

  @ApiProperty({ description: 'Rows whose vector was computed from other content.', example: 100 })
  stale: number;

  @ApiProperty({ description: 'Vectors whose row does not exist.', example: 100 })
  orphaned: number;

  @ApiProperty({ description: 'Vectors of the entity type filed under a generation that is not maintained (retired, discarded, failed, unknown).', example: 0 })
  foreign: number;

  @ApiProperty({
    description: 'Both passes are over: the counts are final. A fixing job stays RUNNING until the entities it re-queued are processed.',
    example: true,
  })
  done: boolean;
}
