/**
 * Text that PostgreSQL refuses: NUL (U+0000), which neither `text` nor `jsonb` can hold, and an unpaired
 * UTF-16 surrogate (U+D800–U+DFFF), which `jsonb` refuses as an escape and which the driver would
 * otherwise turn into U+FFFD in `text` (so the row would not hold what the caller sent).
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Where a value holds text that PostgreSQL cannot store, as found by {@link findUnstorableText}. */
export interface UnstorableText {
  /**
   * Path of the offending string below the value examined: `''` for the value itself, then `.key`,
   * `["odd key"]` and `[index]` steps. When {@link key} is set, the path of the object holding that key.
   */
  path: string;
  /** Set when an object key (not a value) holds the character. */
  key?: string;
  /** What PostgreSQL cannot store. */
  problem: 'nul' | 'loneSurrogate';
  /** The code unit (0 for NUL, 0xD800–0xDFFF for a surrogate). */
  codeUnit: number;
  /** Position of that code unit in the string (UTF-16 index, from 0). */
  index: number;
}

/** Whether PostgreSQL can store `text` in a `text` or `jsonb` column: no NUL, no unpaired surrogate. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * The first string in `value` — itself, or any array element, object key or object value at any depth —
 * that PostgreSQL cannot store (see {@link isStorableText}); `undefined` when there is none. Values other
 * than strings, arrays and objects (numbers, booleans, null, dates) are ignored. Iterative, so a deeply
 * nested value cannot overflow the stack.
 *
 * @example
 * ```ts
 * findUnstorableText({ category: 'a\u0000b' }); // { path: '.category', problem: 'nul', codeUnit: 0, index: 1 }
 * ```
 */
export function findUnstorableText(value: unknown): UnstorableText | undefined {
  const pending: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const { value: current, path } = pending.pop()!;
    if (typeof current === 'string') {
      const found = locate(current);
      if (found) return { path, ...found };
      continue;
    }
    if (current === null || typeof current !== 'object' || seen.has(current) || current instanceof Date) continue;
    seen.add(current);
    // Pushed in reverse so that the first offending string in document order is reported.
    const steps: Array<{ value: unknown; path: string }> = [];
    if (Array.isArray(current)) {
      current.forEach((item, index) => steps.push({ value: item, path: `${path}[${index}]` }));
    } else {
      for (const [key, item] of Object.entries(current)) {
        const found = locate(key);
        if (found) return { path, key, ...found };
        steps.push({ value: item, path: `${path}${pathStep(key)}` });
      }
    }
    for (let i = steps.length - 1; i >= 0; i--) pending.push(steps[i]);
  }
  return undefined;
}

/** Options of {@link unstorableTextMessage} and {@link assertStorableText}. */
export interface UnstorableTextMessageOptions {
  /** Put the field path in double quotes, as in `"filter.category" contains …`. Default false. */
  quote?: boolean;
}

/**
 * A sentence (without the final full stop) saying where the text found by {@link findUnstorableText} is,
 * what PostgreSQL cannot store in it and what to do. `field` is the name of the value examined; the
 * finding's path is appended to it.
 *
 * @example
 * ```ts
 * unstorableTextMessage('reason', { path: '', problem: 'nul', codeUnit: 0, index: 3 });
 * // 'reason contains a NUL character (U+0000) at position 3, which PostgreSQL cannot store; remove it'
 * ```
 */
export function unstorableTextMessage(field: string, finding: UnstorableText, options: UnstorableTextMessageOptions = {}): string {
  const path = options.quote ? `"${field}${finding.path}"` : `${field}${finding.path}`;
  const where = finding.key === undefined ? path : `${path} has a key ${JSON.stringify(finding.key)} that`;
  const what =
    finding.problem === 'nul'
      ? `a NUL character (U+0000) at position ${finding.index}, which PostgreSQL cannot store; remove it`
      : `an unpaired UTF-16 surrogate (U+${finding.codeUnit.toString(16).toUpperCase()}) at position ${finding.index}, ` +
        'which PostgreSQL cannot store; send well-formed Unicode text (a surrogate only as half of a pair)';
  return `${where} contains ${what}`;
}

/**
 * Throws when `value` holds text that PostgreSQL cannot store (see {@link findUnstorableText}), before it
 * reaches a query and fails there as a database error. The error comes from `toError` (default: a plain
 * `Error`) with the sentence of {@link unstorableTextMessage} and a full stop, so a caller raises its own
 * request error type.
 *
 * @example
 * ```ts
 * assertStorableText(request.filter, 'filter', { quote: true, toError: (message) => new AiSearchRequestError(message) });
 * // AiSearchRequestError: "filter.category" contains a NUL character (U+0000) at position 0, which PostgreSQL cannot store; remove it.
 * ```
 */
export function assertStorableText(
  value: unknown,
  field: string,
  options: UnstorableTextMessageOptions & { toError?: (message: string) => Error } = {},
): void {
  const finding = findUnstorableText(value);
  if (!finding) return;
  const message = `${unstorableTextMessage(field, finding, options)}.`;
  throw options.toError ? options.toError(message) : new Error(message);
}

function locate(text: string): Omit<UnstorableText, 'path' | 'key'> | undefined {
  const match = UNSTORABLE.exec(text);
  if (!match) return undefined;
  const codeUnit = match[0].charCodeAt(0);
  return { problem: codeUnit === 0 ? 'nul' : 'loneSurrogate', codeUnit, index: match.index };
}

function pathStep(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
