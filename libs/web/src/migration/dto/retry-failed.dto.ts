import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsEntityIdList } from './is-entity-id-list.decorator';
import { MigrationJobDto } from './migration-job.dto';

/** Optional body of `POST /api/ai/migration/jobs/{id}/retry-failed`. */
export class RetryFailedDto {
  @ApiPropertyOptional({ description: 'Retry only these failed entities (default: all of the job\'s failures).', type: [String] })
  @IsOptional()
  @IsEntityIdList()
  entityIds?: string[];
}

/** Answer of retry-failed. */
export class RetryFailedResultDto {
  @ApiProperty({ description: 'Failed entities given fresh attempts.', example: 12 })
  retried: number;

  @ApiProperty({ description: 'The job after the retry (a COMPLETED job runs again).', type: () => MigrationJobDto })
  job: MigrationJobDto;
}
