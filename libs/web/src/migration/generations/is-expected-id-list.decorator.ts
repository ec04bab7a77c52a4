import { findUnstorableText } from '@ai-infrastructure/core';
import { ValidateBy, type ValidationOptions } from 'class-validator';

/** Most expected ids of one golden query. */
export const MAX_EXPECTED_IDS = 1_000;

/**
 * A golden query's `expectedIds`: a list of 1 to {@link MAX_EXPECTED_IDS} entity ids, each a string of 1 to
 * 255 storable characters or a safe integer (ids are compared as text, so `42` and `"42"` are the same).
 */
export function IsExpectedIdList(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isExpectedIdList',
      validator: {
        validate: (value: unknown) => problemOf(value) === undefined,
        defaultMessage: (args) => `${args?.property ?? 'expectedIds'} ${problemOf(args?.value) ?? 'must be a list of entity ids'}`,
      },
    },
    validationOptions,
  );
}

function problemOf(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be a list of entity ids (strings or integers), e.g. ["6f1c1c52-…", 42]';
  if (value.length === 0 || value.length > MAX_EXPECTED_IDS) return `must hold 1 to ${MAX_EXPECTED_IDS} ids (it holds ${value.length}); leave it out to compare generations only`;
  for (let i = 0; i < value.length; i++) {
    const id: unknown = value[i];
    const ok =
      (typeof id === 'string' && id.length >= 1 && id.length <= 255 && findUnstorableText(id) === undefined) ||
      (typeof id === 'number' && Number.isSafeInteger(id));
    if (!ok) return `[${i}] must be an entity id: a string of 1 to 255 characters or an integer`;
  }
  return undefined;
}
