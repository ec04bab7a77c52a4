import { MIGRATION_REQUEST_LIMITS } from '@ai-infrastructure/migration-core';
import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Length } from 'class-validator';
import { IsStorableText } from '../../validation/is-storable-text.decorator';

const { minItems, maxItems, maxLength } = MIGRATION_REQUEST_LIMITS.entityIds;

/**
 * A list of entity ids within `MIGRATION_REQUEST_LIMITS.entityIds` (1 to 10,000 strings of 1 to 255
 * characters) that PostgreSQL can store. Whether each one is a valid primary key of the entity type is
 * checked by DataMigrationService, which knows the key's type.
 */
export function IsEntityIdList(): PropertyDecorator {
  return applyDecorators(
    IsArray(),
    ArrayMinSize(minItems),
    ArrayMaxSize(maxItems),
    IsString({ each: true }),
    Length(1, maxLength, { each: true }),
    IsStorableText(),
  );
}
