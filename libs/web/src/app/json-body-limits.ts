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
