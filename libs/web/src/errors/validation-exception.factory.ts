import { BadRequestException, type ValidationError } from '@nestjs/common';
import type { FieldErrorDto } from './error-response.dto';

/** Flattens class-validator errors (nested objects and arrays included) into field paths. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldErrorDto[] {
  const out: FieldErrorDto[] = [];
  for (const error of errors) {
    const field = parent ? (/^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`) : error.property;
    for (const [rule, message] of Object.entries(error.constraints ?? {})) {
      // class-validator names only the leaf property; the path says where it is.
      out.push({ field, rule, message: parent ? message.replace(new RegExp(`^${escape(error.property)}\\b`), field) : message });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The ValidationPipe's exceptionFactory: a 400 whose message lists every invalid field and rule, with
 * the same facts as structured `details`.
 */
export function validationExceptionFactory(errors: ValidationError[]): BadRequestException {
  const details = flattenValidationErrors(errors);
  const message = `Invalid request: ${details.map((d) => d.message).join('; ')}.`;
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, details });
}
