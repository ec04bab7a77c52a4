import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_DATA_SOURCE } from '../ai-core.constants';
import { affectedCount } from '../common/query-result';
import { SEARCHABLE_ENTITY_HNSW_INDEX } from './searchable-entity.entity';
import { chunkForParameters, encodeVector } from './vector-codec';
import type { PreparedVectorWrite, VectorRecord, VectorSearchHit, VectorSearchQuery, VectorStore } from './vector-store.interface';

const PARAMS_PER_ROW = 7;
const ROWS_PER_STATEMENT = 2_000;

/**
 * {@link VectorStore} on pgvector in the application's database (`ai_searchable_entities`).
 *
 * On PostgreSQL an HNSW (cosine) index over the active embedding space is ensured at startup; on PGlite the
 * search is exact (an HNSW build in WASM is about 6x slower than the scans it would save at embedded sizes).
 */
@Injectable()
export class PgVectorStore implements VectorStore {
  private readonly logger = new Logger(PgVectorStore.name);
  private embedded = false;

  constructor(@Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /**
   * Ensures the HNSW index for the active space. The index is a partial expression index
   * (`embedding::vector(N)` where model and dimensions match), so rows of another model never break it.
   * A model change rebuilds it for the new space.
   */
  async prepare(model: string, dimensions: number): Promise<void> {
    const [{ version }] = await this.dataSource.query(`SELECT version() AS version`);
    this.embedded = /PGlite/i.test(version);
    if (this.embedded) return;
    const predicate = `model = ${quoteLiteral(model)} AND dimensions = ${dimensions}`;
    const [existing] = await this.dataSource.query(
      `SELECT indexdef FROM pg_indexes WHERE indexname = $1`,
      [SEARCHABLE_ENTITY_HNSW_INDEX],
    );
    const expected = `vector(${dimensions})`;
    if (existing && existing.indexdef.includes(expected) && existing.indexdef.includes(quoteLiteral(model))) return;
    if (existing) {
      this.logger.warn(`Embedding space changed to ${model}/${dimensions}; rebuilding ${SEARCHABLE_ENTITY_HNSW_INDEX}.`);
      await this.dataSource.query(`DROP INDEX IF EXISTS ${SEARCHABLE_ENTITY_HNSW_INDEX}`);
    }
    await this.dataSource.query(
      `CREATE INDEX IF NOT EXISTS ${SEARCHABLE_ENTITY_HNSW_INDEX} ON ai_searchable_entities
         USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WHERE ${predicate}`,
    );
  }

  async upsert(records: VectorRecord[], manager?: EntityManager): Promise<void> {
    await this.prepareUpsert(records).run(manager);
  }

  prepareUpsert(records: VectorRecord[]): PreparedVectorWrite {
    const statements = chunkForParameters(records, PARAMS_PER_ROW, ROWS_PER_STATEMENT).map((chunk) => {
      const params: unknown[] = [];
      const values = chunk.map((r) => {
        const b = params.length;
        params.push(r.entityType, r.entityId, encodeVector(r.vector), r.contentHash, r.model, r.dimensions, JSON.stringify(r.metadata));
        return `($${b + 1}, $${b + 2}, $${b + 3}::vector, $${b + 4}, $${b + 5}, $${b + 6}::int, $${b + 7}::jsonb, now())`;
      });
      const sql = `INSERT INTO ai_searchable_entities (entity_type, entity_id, embedding, content_hash, model, dimensions, metadata, indexed_at)
         VALUES ${values.join(', ')}
         ON CONFLICT (entity_type, entity_id) DO UPDATE
           SET embedding = EXCLUDED.embedding, content_hash = EXCLUDED.content_hash, model = EXCLUDED.model,
               dimensions = EXCLUDED.dimensions, metadata = EXCLUDED.metadata, indexed_at = EXCLUDED.indexed_at`;
      return { sql, params };
    });
    return {
      run: async (manager?: EntityManager) => {
        const runner = manager ?? this.dataSource.manager;
        for (const { sql, params } of statements) await runner.query(sql, params);
      },
    };
  }

  async updateMetadata(
    entityType: string,
    items: Array<{ entityId: string; metadata: Record<string, unknown> }>,
    manager?: EntityManager,
  ): Promise<number> {
    if (items.length === 0) return 0;
    const runner = manager ?? this.dataSource.manager;
    const result = await runner.query(
      `UPDATE ai_searchable_entities s SET metadata = u.metadata
         FROM unnest($2::text[], $3::jsonb[]) AS u(entity_id, metadata)
        WHERE s.entity_type = $1 AND s.entity_id = u.entity_id AND s.metadata <> u.metadata`,
      [entityType, items.map((i) => i.entityId), items.map((i) => JSON.stringify(i.metadata))],
    );
    return affectedCount(result);
  }

  async refreshIfCurrent(
    entityType: string,
    entityId: string,
    contentHash: string,
    metadata: Record<string, unknown>,
    manager?: EntityManager,
  ): Promise<boolean> {
    const runner = manager ?? this.dataSource.manager;
    const rows: Array<{ current: boolean }> = await runner.query(
      `WITH stored AS (
         SELECT content_hash = $3 AS current FROM ai_searchable_entities WHERE entity_type = $1 AND entity_id = $2),
       refreshed AS (
         UPDATE ai_searchable_entities SET metadata = $4::jsonb
          WHERE entity_type = $1 AND entity_id = $2 AND content_hash = $3 AND metadata <> $4::jsonb)
       SELECT current FROM stored`,
      [entityType, entityId, contentHash, JSON.stringify(metadata)],
    );
    return rows[0]?.current === true;
  }

  async delete(entityType: string, entityIds: string[], manager?: EntityManager): Promise<number> {
    if (entityIds.length === 0) return 0;
    const runner = manager ?? this.dataSource.manager;
    const result = await runner.query(
      `DELETE FROM ai_searchable_entities WHERE entity_type = $1 AND entity_id = ANY($2::text[])`,
      [entityType, entityIds],
    );
    return affectedCount(result);
  }

  async search(query: VectorSearchQuery): Promise<VectorSearchHit[]> {
    const n = query.dimensions;
    const params: unknown[] = [encodeVector(query.vector), query.entityType, query.limit];
    let filterSql = '';
    if (query.filter && Object.keys(query.filter).length > 0) {
      params.push(JSON.stringify(query.filter));
      filterSql = `AND metadata @> $${params.length}::jsonb`;
    }
    let thresholdSql = '';
    if (query.threshold !== undefined) {
      params.push(query.threshold);
      thresholdSql = `WHERE score >= $${params.length}`;
    }
    // The model literal (from configuration, quoted) lets the planner match the partial HNSW index.
    const sql = `SELECT entity_id, score, metadata FROM (
        SELECT entity_id, metadata, 1 - (embedding::vector(${n}) <=> $1::vector(${n})) AS score
          FROM ai_searchable_entities
         WHERE model = ${quoteLiteral(query.model)} AND dimensions = ${n} AND entity_type = $2 ${filterSql}
         ORDER BY embedding::vector(${n}) <=> $1::vector(${n})
         LIMIT $3) hits ${thresholdSql}
       ORDER BY score DESC`;
    const rows = this.embedded
      ? await this.dataSource.query(sql, params)
      : await this.dataSource.transaction(async (manager) => {
          // Iterative scans keep returning neighbours until LIMIT rows pass the entity-type/metadata filters.
          await manager.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
          return manager.query(sql, params);
        });
    return rows.map((r: { entity_id: string; score: number; metadata: Record<string, unknown> }) => ({
      entityId: r.entity_id,
      score: Number(r.score),
      metadata: r.metadata,
    }));
  }

  async count(entityType?: string): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE $1::text IS NULL OR entity_type = $1`,
      [entityType ?? null],
    );
    return row.n;
  }

  async existsByIds(entityType: string, entityIds: string[], manager?: EntityManager): Promise<Set<string>> {
    return new Set((await this.contentHashes(entityType, entityIds, manager)).keys());
  }

  async contentHashes(entityType: string, entityIds: string[], manager?: EntityManager): Promise<Map<string, string>> {
    if (entityIds.length === 0) return new Map();
    const runner = manager ?? this.dataSource.manager;
    const rows: Array<{ entity_id: string; content_hash: string }> = await runner.query(
      `SELECT entity_id, content_hash FROM ai_searchable_entities WHERE entity_type = $1 AND entity_id = ANY($2::text[])`,
      [entityType, entityIds],
    );
    return new Map(rows.map((r) => [r.entity_id, r.content_hash]));
  }
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
