/**
 * TypeORM's `query()` on PostgreSQL answers an UPDATE/DELETE as `[rows, affectedCount]` and a SELECT or
 * INSERT as plain rows. These helpers read either shape, so callers do not each re-parse it.
 */
function isUpdateResult(result: unknown): result is [unknown[], number] {
  return Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number';
}

/** The rows a query returned (RETURNING rows for UPDATE/DELETE). */
export function returnedRows<T = any>(result: unknown): T[] {
  if (isUpdateResult(result)) return result[0] as T[];
  return Array.isArray(result) ? (result as T[]) : [];
}

/** How many rows an UPDATE/DELETE changed (the number of returned rows otherwise). */
export function affectedCount(result: unknown): number {
  return isUpdateResult(result) ? result[1] : returnedRows(result).length;
}
