import { MIGRATION_REQUEST_LIMITS } from '@ai-infrastructure/migration-core';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';

const { pauseReason } = MIGRATION_REQUEST_LIMITS;

/** Optional body of `POST /api/ai/migration/jobs/{id}/pause`. */
export class PauseMigrationDto {
  @ApiPropertyOptional({ description: 'Why the job is paused; shown as the job\'s errorMessage until it resumes.', maxLength: pauseReason.maxLength, example: 'Maintenance window' })
  @IsOptional()
  @IsString()
  @IsStorableText()
  @Length(pauseReason.minLength, pauseReason.maxLength)
  reason?: string;
}
