import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';
import { ENTITY_TYPE_PATTERN } from '../dto/start-migration.dto';

/** Query of `GET /api/ai/migration/generations`. */
export class ListGenerationsQueryDto {
  @ApiPropertyOptional({ description: 'Only generations of this entity type.', example: 'product' })
  @IsOptional()
  @IsString()
  @IsStorableText()
  @Matches(ENTITY_TYPE_PATTERN, { message: 'entityType must be an entity type name (a letter, then letters, digits, "_", "." or "-")' })
  entityType?: string;
}
