import { findUnstorableText, unstorableTextMessage } from '@ai-infrastructure/core';
import { ValidateBy, type ValidationOptions } from 'class-validator';

/** Constraint name of {@link IsStorableText} (the `rule` of the error detail). */
export const IS_STORABLE_TEXT = 'isStorableText';

/**
 * Rejects a value holding text that PostgreSQL cannot store: NUL (U+0000), refused by `text` and `jsonb`,
 * and unpaired UTF-16 surrogates, refused by `jsonb`. Strings are checked, and so are the elements of
 * arrays and the keys and values of objects at any depth, so one decorator covers a text field, a list of
 * ids and a filter object. Other values pass (type rules such as `@IsString()` judge them). The message
 * names the field and the position, e.g. `reason contains a NUL character (U+0000) at position 3, …`.
 *
 * Put it on every property of a request DTO that can carry text; without it such a value reaches a query
 * and fails there as a 500.
 *
 * @example
 * ```ts
 * class PauseMigrationDto {
 *   @IsOptional() @IsString() @IsStorableText() @Length(1, 500)
 *   reason?: string;
 * }
 * ```
 */
export function IsStorableText(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: IS_STORABLE_TEXT,
      validator: {
        validate: (value: unknown) => findUnstorableText(value) === undefined,
        defaultMessage: (args) => {
          const finding = findUnstorableText(args?.value);
          const field = args?.property ?? 'value';
          return finding ? unstorableTextMessage(field, finding) : `${field} must be text that PostgreSQL can store`;
        },
      },
    },
    validationOptions,
  );
}
