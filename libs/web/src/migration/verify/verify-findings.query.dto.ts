import { VERIFY_FINDING_KINDS, VERIFY_FINDINGS_LIMITS, type VerifyFindingKind } from '@ai-infrastructure/migration-core';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';

/** Query of `GET /api/ai/migration/verify/{jobId}/findings`: one kind or all, paginated. */
export class VerifyFindingsQueryDto {
  @ApiPropertyOptional({ description: 'Only findings of this kind.', enum: VERIFY_FINDING_KINDS, example: 'MISSING' })
  @IsOptional()
  @IsStorableText()
  @IsIn(VERIFY_FINDING_KINDS, { message: `kind must be one of ${VERIFY_FINDING_KINDS.join(', ')}` })
  kind?: VerifyFindingKind;

  @ApiPropertyOptional({ description: 'Page size.', default: VERIFY_FINDINGS_LIMITS.defaultLimit, minimum: 1, maximum: VERIFY_FINDINGS_LIMITS.maxLimit })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(VERIFY_FINDINGS_LIMITS.maxLimit)
  limit?: number;

  @ApiPropertyOptional({ description: 'Findings to skip.', default: 0, minimum: 0, maximum: VERIFY_FINDINGS_LIMITS.maxOffset })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(VERIFY_FINDINGS_LIMITS.maxOffset)
  offset?: number;
}
