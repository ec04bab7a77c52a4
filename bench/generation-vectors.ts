/**
 * Benchmark helpers for index generations: vectors written in bulk into one generation (the raw ceiling, and
 * a generation seeded without going through the pipeline), the serving generation's id, and a generation row
 * for a database that no application booted on (bench:search).
 */
import { readFileSync } from 'node:fs';
import { HashingEmbeddingProvider } from '@ai-infrastructure/core';
import {
  buildEntityText,
  computeContentHash,
  definitionHash,
  encodeVector,
  parseAiEntityConfig,
  textDefinitionOf,
} from '@ai-infrastructure/core/internal';
import type { DataSource } from 'typeorm';
import { generateProducts } from '../apps/sample/src/cli/product-generator';
import { CONFIG_PATH } from './bench-support';

/** Products built and written per slice, so a 1M-row write never holds every vector in memory at once. */
const SLICE_ROWS = 50_000;

/** The sample's `product` configuration (`ai-entity-config.yml`), which the benchmarks' first generation embeds. */
export function benchProductConfig() {
  return parseAiEntityConfig(readFileSync(CONFIG_PATH, 'utf8'), CONFIG_PATH).get('product')!;
}

/**
 * Writes the vectors of the first `count` benchmark products (seed 7) into generation `generationId` with
 * binary multi-row INSERTs of `chunkRows` rows and nothing else: the texts, hashes and metadata a worker
 * would write for a generation of the sample configuration with the `hashing` provider (384-d). The vectors
 * of each slice are computed before its clock starts; returns the seconds spent in the INSERTs only.
 * Does not empty the table first (see {@link vectorCeiling}).
 */
export async function writeGenerationVectors(dataSource: DataSource, generationId: number, count: number, chunkRows: number): Promise<number> {
  const provider = new HashingEmbeddingProvider(384);
  const config = benchProductConfig();
  let seconds = 0;
  for (let start = 0; start < count; start += SLICE_ROWS) {
    const rows = [...generateProducts(7, start, Math.min(SLICE_ROWS, count - start))].map((p) => {
      const text = buildEntityText(p as unknown as Record<string, unknown>, config);
      return [
        'product',
        p.id,
        encodeVector(provider.embedOne(text)),
        computeContentHash(text, provider.model, provider.dimensions),
        provider.model,
        provider.dimensions,
        JSON.stringify({ category: p.category, price: p.price }),
        generationId,
      ];
    });
    const started = performance.now();
    for (let i = 0; i < rows.length; i += chunkRows) {
      const chunk = rows.slice(i, i + chunkRows);
      const params: unknown[] = [];
      const values = chunk.map((r) => {
        const b = params.length;
        params.push(...r);
        return `($${b + 1}, $${b + 2}, $${b + 3}::vector, $${b + 4}, $${b + 5}, $${b + 6}::int, $${b + 7}::jsonb, $${b + 8}::int)`;
      });
      await dataSource.query(
        `INSERT INTO ai_searchable_entities (entity_type, entity_id, embedding, content_hash, model, dimensions, metadata, generation_id)
         VALUES ${values.join(', ')}`,
        params,
      );
    }
    seconds += (performance.now() - started) / 1000;
  }
  return seconds;
}

/**
 * The raw ceiling: the same products' vectors written to an emptied `ai_searchable_entities` (into
 * generation `generationId`, so through its HNSW index when it has one) with binary multi-row INSERTs and
 * nothing else. Returns seconds.
 */
export async function vectorCeiling(dataSource: DataSource, generationId: number, count: number, chunkRows: number): Promise<number> {
  await dataSource.query(`TRUNCATE ai_searchable_entities`);
  return writeGenerationVectors(dataSource, generationId, count, chunkRows);
}

/** The id of the generation serving `entityType`; throws when the application has not created one. */
export async function servingGenerationId(dataSource: DataSource, entityType = 'product'): Promise<number> {
  const [row]: Array<{ id: number }> = await dataSource.query(`SELECT serving_generation_id AS id FROM ai_index_aliases WHERE entity_type = $1`, [entityType]);
  if (!row) throw new Error(`No index generation serves "${entityType}": boot the application on this database once, or call ensureBenchGeneration.`);
  return row.id;
}

/**
 * The serving `product` generation of a database no application booted on: the one recorded there, or a
 * new SERVING generation (hashing, 384-d, the sample's embeddable fields) with its alias, as the first
 * startup of the application would record it.
 */
export async function ensureBenchGeneration(dataSource: DataSource): Promise<{ id: number; dimensions: number }> {
  const [existing]: Array<{ id: number; dimensions: number }> = await dataSource.query(
    `SELECT g.id, g.dimensions FROM ai_index_aliases a JOIN ai_index_generations g ON g.id = a.serving_generation_id WHERE a.entity_type = 'product'`,
  );
  if (existing) return existing;
  const provider = new HashingEmbeddingProvider(384);
  const textDefinition = textDefinitionOf(benchProductConfig());
  const [created]: Array<{ id: number; dimensions: number }> = await dataSource.query(
    `INSERT INTO ai_index_generations (entity_type, state, provider_name, model, dimensions, text_definition, definition_hash, loaded_at, ready_at, serving_since)
     VALUES ('product', 'SERVING', $1, $2, $3, $4::jsonb, $5, now(), now(), now())
     RETURNING id, dimensions`,
    [provider.name, provider.model, provider.dimensions, JSON.stringify(textDefinition), definitionHash({ model: provider.model, dimensions: provider.dimensions, textDefinition })],
  );
  await dataSource.query(`INSERT INTO ai_index_aliases (entity_type, serving_generation_id) VALUES ('product', $1)`, [created.id]);
  return created;
}
