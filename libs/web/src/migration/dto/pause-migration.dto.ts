import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

/** Optional body of `POST /api/ai/migration/jobs/{id}/pause`. */
export class PauseMigrationDto {
  @ApiPropertyOptional({ description: 'Why the job is paused; shown as the job\'s errorMessage until it resumes.', maxLength: 500, example: 'Maintenance window' })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  reason?: string;
}
