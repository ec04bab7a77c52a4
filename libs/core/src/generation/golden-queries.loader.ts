import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import type { GoldenQuery } from './generation-quality.interface';
import { IndexGenerationError } from './index-generation.errors';

/** Most golden queries one validation runs (each costs two searches). */
export const MAX_GOLDEN_QUERIES = 1_000;

/**
 * Reads a golden-query file (YAML or JSON, which YAML includes): a list of queries, or `{ queries: [...] }`.
 *
 * ```yaml
 * queries:
 *   - query: waterproof hiking boots
 *     expectedIds: [42, 97]
 *   - query: espresso machine
 *     filter: { category: Kitchen }
 * ```
 */
export function loadGoldenQueries(path: string): GoldenQuery[] {
  const file = resolve(path);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new IndexGenerationError(`Cannot read the golden-query file ${file}: ${(error as Error).message}. Check the path (relative to the working directory).`);
  }
  let parsed: unknown;
  try {
    parsed = parse(source);
  } catch (error) {
    throw new IndexGenerationError(`The golden-query file ${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  return parseGoldenQueries(parsed, file);
}

/** Validates golden queries given as data (`where` names their source in errors). */
export function parseGoldenQueries(value: unknown, where = 'queries'): GoldenQuery[] {
  const list = Array.isArray(value) ? value : isRecord(value) && Array.isArray(value.queries) ? value.queries : undefined;
  if (!list) throw new IndexGenerationError(`${where} must be a list of golden queries, or an object with a "queries" list.`);
  if (list.length > MAX_GOLDEN_QUERIES) throw new IndexGenerationError(`${where} has ${list.length} golden queries; use at most ${MAX_GOLDEN_QUERIES}.`);
  return list.map((entry, index) => {
    const at = `${where}[${index}]`;
    if (!isRecord(entry) || typeof entry.query !== 'string' || entry.query.trim() === '') {
      throw new IndexGenerationError(`${at} needs a "query" text, e.g. { query: "red shoes", expectedIds: [1, 2] }.`);
    }
    const unknown = Object.keys(entry).filter((k) => !['query', 'expectedIds', 'filter'].includes(k));
    if (unknown.length > 0) throw new IndexGenerationError(`${at} has unknown key(s) ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: query, expectedIds, filter.`);
    const expected = entry.expectedIds;
    if (expected !== undefined && (!Array.isArray(expected) || expected.some((id) => typeof id !== 'string' && typeof id !== 'number'))) {
      throw new IndexGenerationError(`${at}.expectedIds must be a list of entity ids (strings or numbers).`);
    }
    if (entry.filter !== undefined && !isRecord(entry.filter)) throw new IndexGenerationError(`${at}.filter must be an object of metadata fields and values.`);
    return { query: entry.query, expectedIds: expected as Array<string | number> | undefined, filter: entry.filter as Record<string, unknown> | undefined };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
