/**
 * A TypeORM `tablePath` (`table` or `schema.table`) as a regclass literal, each part quoted, so mixed case
 * and unusual names resolve to the table TypeORM created (`to_regclass(...)`, `ANALYZE ...`).
 * @internal
 */
export function quoteTablePath(tablePath: string): string {
  return tablePath
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}
