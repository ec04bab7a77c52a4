/**
 * Calendar dates and date-times the filters accept: `YYYY-MM-DD`, optionally `THH:mm[:ss[.fraction]]` and
 * `Z` or an offset. Narrower than ISO-8601 on purpose: week dates, ordinal dates and signed years are valid
 * ISO-8601 but JavaScript parses them differently or not at all, which would make a filter silently wrong.
 */
export const ISO_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/** Whether `value` is a date filter we accept and JavaScript reads as the same instant PostgreSQL would. */
export function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && ISO_DATE_PATTERN.test(value) && Number.isFinite(Date.parse(value));
}
