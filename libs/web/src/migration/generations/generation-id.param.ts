import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** Largest generation id (the column is an int4 identity). */
const MAX_GENERATION_ID = 2_147_483_647;

/**
 * Parses the `id` path parameter of the generation routes: a positive integer of at most 2147483647,
 * written plainly (no sign, leading zeros, exponent, decimals or spaces). Anything else is a 400 naming
 * the field, instead of a lookup that could only fail (or a 500 from an int4 out of range).
 */
export function parseGenerationId(value: unknown): number {
  if (typeof value === 'string' && /^[1-9][0-9]{0,9}$/.test(value) && Number(value) <= MAX_GENERATION_ID) return Number(value);
  throw new BadRequestException({
    message:
      `Path parameter "id" is ${JSON.stringify(String(value).slice(0, 40))}, but it must be an index generation id (a positive integer ` +
      'such as 2); list the generations with GET /api/ai/migration/generations.',
    details: [{ field: 'id', rule: 'isGenerationId', message: `id must be an integer from 1 to ${MAX_GENERATION_ID}` }],
  });
}

/**
 * The generation id of the route (see {@link parseGenerationId}). A parameter decorator rather than a pipe
 * on `@Param('id')`: the global ValidationPipe (transform) would first turn the text into a number with
 * `+value`, so "1e3", "0x10" or " 7" would arrive as valid ids; custom decorators get the raw text.
 */
export const GenerationIdParam = createParamDecorator((_data: unknown, context: ExecutionContext): number =>
  parseGenerationId(context.switchToHttp().getRequest<{ params: Record<string, string | undefined> }>().params.id),
);
