import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Length } from 'class-validator';

/**
 * A list of 1 to 10000 entity ids as strings of 1 to 255 characters. Whether each one is a valid primary
 * key of the entity type is checked by DataMigrationService, which knows the key's type.
 */
export function IsEntityIdList(): PropertyDecorator {
  return applyDecorators(IsArray(), ArrayMinSize(1), ArrayMaxSize(10_000), IsString({ each: true }), Length(1, 255, { each: true }));
}
