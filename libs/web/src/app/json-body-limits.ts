import type { IncomingMessage } from 'node:http';

/** Deepest nesting of objects and arrays accepted in a JSON body. No DTO of the library nests beyond 3. */
export const MAX_JSON_DEPTH = 32;

/**
 * body-parser `verify` hook: rejects a JSON body nested deeper than {@link MAX_JSON_DEPTH} before it is
 * parsed, because validating or transforming thousands of nesting levels overflows the stack (a 500 from
 * a 10 kB request). One pass over the bytes, skipping string contents.
 */
export function verifyJsonDepth(_req: unknown, _res: unknown, buffer: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buffer.length; i++) {
    const c = buffer[i];
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > MAX_JSON_DEPTH) {
        throw Object.assign(new Error(`The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`), { status: 400, type: 'entity.too.deep' });
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
}

/**
 * JSON.parse reviver: rejects `__proto__` and `constructor` keys. class-transformer drops the first and
 * class-validator's whitelist does not see the second (every object has one), so without this a body
 * carrying them would pass `forbidNonWhitelisted` as if they were not there.
 */
export function rejectProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor') throw new SyntaxError(`The key "${key}" is not allowed in a JSON body`);
  return value;
}

/** Largest JSON body in bytes on every route but those of {@link isIdListRoute} (body-parser's default, 100 kB). */
export const JSON_BODY_LIMIT = 100 * 1024;

/**
 * Largest JSON body in bytes on the routes that take a list of entity ids, for the migration module's
 * bounds (`MIGRATION_REQUEST_LIMITS.entityIds`): `maxItems` ids of `maxLength` characters each, at 3 UTF-8
 * bytes per character (the most a UTF-16 code unit needs) plus quotes and comma, and 64 KiB for the rest of
 * the body — 7,745,536 bytes (7.4 MiB) for 10,000 ids of 255 characters. So every list the validation
 * accepts also fits the body limit; with the 100 kB default about 2,500 UUIDs already answered 413.
 */
export function idListJsonBodyLimit(entityIds: { maxItems: number; maxLength: number }): number {
  return entityIds.maxItems * (entityIds.maxLength * 3 + 3) + 64 * 1024;
}

/** `POST …/api/ai/migration/start`, `…/estimate` and `…/jobs/{id}/retry-failed` (any global prefix before). */
const ID_LIST_ROUTE = /\/api\/ai\/migration\/(?:start|estimate|jobs\/[^/]+\/retry-failed)\/?$/;

/**
 * Whether a request goes to one of the routes whose body may carry a list of entity ids
 * (`filters.ids`, `entityIds`), which get {@link idListJsonBodyLimit} instead of {@link JSON_BODY_LIMIT}.
 * Decided on the path because the body is read before Nest routes the request.
 */
export function isIdListRoute(request: Pick<IncomingMessage, 'method' | 'url'>): boolean {
  return request.method === 'POST' && ID_LIST_ROUTE.test((request.url ?? '').split('?', 1)[0]);
}
