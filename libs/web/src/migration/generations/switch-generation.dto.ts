import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';
import type { GenerationSwitch } from '@ai-infrastructure/core';
import { IsStorableText } from '../../validation/is-storable-text.decorator';
import { ENTITY_TYPE_PATTERN } from '../dto/start-migration.dto';
import { IndexGenerationDto, toGenerationDto } from './index-generation.dto';

/** Optional body of `POST /api/ai/migration/generations/{id}/cutover`. */
export class CutoverGenerationDto {
  @ApiPropertyOptional({
    description: 'Cut over although the quality gate did not pass or never ran; recorded in the audit log. Default false.',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}

/** Body of `POST /api/ai/migration/generations/rollback`. */
export class RollbackGenerationDto {
  @ApiProperty({ description: 'Entity type whose previous generation serves again.', example: 'product' })
  @IsString()
  @IsStorableText()
  @Matches(ENTITY_TYPE_PATTERN, { message: 'entityType must be a configured entity type name (a letter, then letters, digits, "_", "." or "-"; at most 100)' })
  entityType: string;
}

/** Answer of a cutover or a rollback. */
export class GenerationSwitchDto {
  @ApiProperty({ example: 'product' })
  entityType: string;

  @ApiProperty({ type: IndexGenerationDto, description: 'The generation serving from the next query on (SERVING).' })
  serving: IndexGenerationDto;

  @ApiProperty({ type: IndexGenerationDto, description: 'The generation that served before: READY, kept current for a rollback until it is retired.' })
  previous: IndexGenerationDto;

  @ApiProperty({ description: 'The cutover skipped a quality gate that had not passed (force).', example: false })
  forced: boolean;
}

/** @internal */
export function toSwitchDto(result: GenerationSwitch): GenerationSwitchDto {
  return { entityType: result.entityType, serving: toGenerationDto(result.serving), previous: toGenerationDto(result.previous), forced: result.forced };
}
