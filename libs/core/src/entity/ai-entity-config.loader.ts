import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { AiEntityConfig, EmbeddableField } from './ai-entity-config.interface';
import { AiEntityConfigError } from './entity-config.errors';

const ENTITY_TYPE_PATTERN = /^[a-z][a-z0-9_-]{0,99}$/;
const MAX_WEIGHT = 10;

/**
 * Reads and structurally validates `ai-entity-config.yml`:
 *
 * ```yaml
 * ai-entities:
 *   product:
 *     embeddable-fields:
 *       - name: name
 *         weight: 2
 *       - name: description
 *     metadata-fields: [category, price]
 * ```
 *
 * Checks against the application's entities (unknown fields, missing entities) happen later, in
 * {@link AiEntityRegistry}, because only the DataSource knows the entity columns.
 */
export function loadAiEntityConfig(path: string): Map<string, AiEntityConfig> {
  const file = resolve(path);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AiEntityConfigError(
      `Cannot read the AI entity configuration file ${file}: ${(error as Error).message}. ` +
        `Create it or set the "entityConfigPath" option of AiCoreModule to its location.`,
    );
  }
  return parseAiEntityConfig(source, file);
}

/** Parses the YAML text of an entity configuration; `file` is only used in error messages. */
export function parseAiEntityConfig(source: string, file: string): Map<string, AiEntityConfig> {
  // uniqueKeys makes a duplicated entity type a parse error instead of a silent override.
  const document = parseDocument(source, { uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const line = source.slice(0, first.pos[0]).split('\n').length;
    if (first.code === 'DUPLICATE_KEY') {
      const key = /^["']?([^"':\s#]+)/.exec(source.slice(first.pos[0]))?.[1] ?? '?';
      throw new AiEntityConfigError(
        `${file}: "${key}" is declared twice (line ${line}); an entity type may appear once under "ai-entities" and a key once per entity. Keep one declaration.`,
      );
    }
    throw new AiEntityConfigError(`${file} is not valid YAML (line ${line}): ${first.message}`);
  }
  const root = document.toJS() as unknown;
  if (!isRecord(root) || !isRecord(root['ai-entities'])) {
    throw new AiEntityConfigError(`${file} must have a top-level "ai-entities" map of entity types.`);
  }
  const configs = new Map<string, AiEntityConfig>();
  for (const [entityType, raw] of Object.entries(root['ai-entities'])) {
    const where = `${file}: entity type "${entityType}"`;
    if (!ENTITY_TYPE_PATTERN.test(entityType)) {
      throw new AiEntityConfigError(
        `${where} has an invalid name; use lower-case letters, digits, "_" or "-", starting with a letter (at most 100 characters).`,
      );
    }
    if (!isRecord(raw)) throw new AiEntityConfigError(`${where} must be a map with "embeddable-fields".`);
    const unknownKeys = Object.keys(raw).filter((k) => k !== 'embeddable-fields' && k !== 'metadata-fields');
    if (unknownKeys.length > 0) {
      throw new AiEntityConfigError(
        `${where} has unknown key(s) ${unknownKeys.map((k) => `"${k}"`).join(', ')}; allowed keys are "embeddable-fields" and "metadata-fields".`,
      );
    }
    const embeddableFields = parseEmbeddableFields(raw['embeddable-fields'], where);
    const metadataFields = parseMetadataFields(raw['metadata-fields'], where);
    configs.set(entityType, { entityType, embeddableFields, metadataFields });
  }
  return configs;
}

function parseEmbeddableFields(raw: unknown, where: string): EmbeddableField[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new AiEntityConfigError(
      `${where} has no embeddable fields; list at least one under "embeddable-fields" (e.g. "- name: description").`,
    );
  }
  const seen = new Set<string>();
  return raw.map((entry, index) => {
    const field: EmbeddableField =
      typeof entry === 'string'
        ? { name: entry, weight: 1 }
        : isRecord(entry)
          ? { name: entry.name as string, weight: (entry.weight ?? 1) as number }
          : { name: '', weight: 1 };
    if (typeof field.name !== 'string' || field.name.length === 0) {
      throw new AiEntityConfigError(`${where}: embeddable-fields[${index}] needs a "name".`);
    }
    if (!Number.isInteger(field.weight) || field.weight < 1 || field.weight > MAX_WEIGHT) {
      throw new AiEntityConfigError(
        `${where}: embeddable field "${field.name}" has weight ${JSON.stringify(field.weight)}; use an integer from 1 to ${MAX_WEIGHT}.`,
      );
    }
    if (seen.has(field.name)) {
      throw new AiEntityConfigError(`${where}: embeddable field "${field.name}" is listed twice; list each field once.`);
    }
    seen.add(field.name);
    return field;
  });
}

function parseMetadataFields(raw: unknown, where: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((f) => typeof f !== 'string' || f.length === 0)) {
    throw new AiEntityConfigError(`${where}: "metadata-fields" must be a list of field names.`);
  }
  return [...new Set(raw as string[])];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
