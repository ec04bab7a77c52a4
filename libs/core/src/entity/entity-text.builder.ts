import { createHash } from 'node:crypto';
import type { AiEntityConfig } from './ai-entity-config.interface';

/**
 * Builds the text embedded for an entity from its embeddable fields, deterministically: fields in
 * configuration order, one `name: value` line each, repeated `weight` times so heavier fields weigh more
 * in the vector. Empty values are left out. Dates are written in ISO-8601 so the text (and its hash)
 * does not depend on the server's time zone.
 */
export function buildEntityText(entity: Record<string, unknown>, config: AiEntityConfig): string {
  const lines: string[] = [];
  for (const field of config.embeddableFields) {
    const value = formatValue(entity[field.name]);
    if (value === '') continue;
    const line = `${field.name}: ${value}`;
    for (let i = 0; i < field.weight; i++) lines.push(line);
  }
  return lines.join('\n');
}

/**
 * The content hash: what "already indexed and unchanged" means everywhere. It covers the text and the
 * embedding space (model and dimensions), so a model or dimension change re-embeds every entity.
 */
export function computeContentHash(text: string, model: string, dimensions: number): string {
  return createHash('sha256').update(`${model}\u0000${dimensions}\u0000${text}`).digest('hex');
}

/** Picks the configured metadata fields of an entity as JSON-safe values. */
export function extractMetadata(entity: Record<string, unknown>, config: AiEntityConfig): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const name of config.metadataFields) {
    const value = entity[name];
    if (value === undefined) continue;
    metadata[name] = value instanceof Date ? value.toISOString() : value;
  }
  return metadata;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (Array.isArray(value)) return value.map(formatValue).filter(Boolean).join(', ');
  // Key order of jsonb values is not the order the application wrote: canonical JSON keeps the hash stable.
  if (typeof value === 'object') return canonicalJson(value);
  // Collapse whitespace so cosmetic reformatting does not change the hash.
  return String(value).replace(/\s+/g, ' ').trim();
}

/** Compares two metadata objects as JSON values, ignoring key order (jsonb does not keep it). */
export function sameMetadata(a: Record<string, unknown> | null, b: Record<string, unknown> | null): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
    .join(',')}}`;
}
